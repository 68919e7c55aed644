"""Shared fixtures: paths to the real fixtures, a fresh database per test.

Database tests take ``db_url`` (or ``engine``), which runs them twice: on a
fresh SQLite file in ``tmp_path`` and on PostgreSQL. The PostgreSQL run needs
``LITWATCH_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
and is skipped with that reason when it is not set. Each test gets a schema of
its own (named after this run, so parallel runs never meet), dropped afterwards.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from stub_scenario import client_for, corpus_dir, saved_queries, stub_for, write_queries

from litwatch.db import create_engine_for, open_database
from litwatch.eutils import EutilsClient
from litwatch.queries import SavedQuery
from litwatch.testing.eutils_stub import EutilsStub

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"
POSTGRES_ENV = "LITWATCH_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """``../shared/fixtures`` beside the checkout: real NCBI responses and exports."""
    path = SHARED / "fixtures"
    if not path.is_dir():
        pytest.skip(f"shared fixtures not found at {path}")
    return path


# -- databases --------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the test server; skips when none is configured."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL tests skipped")
    engine = create_engine_for(url).execution_options(isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _postgres_schemas(postgres_server: Engine) -> Iterator[Iterator[str]]:
    """Schema names unique to this test run; any left behind are dropped at the end."""
    prefix = f"lwtest_{os.getpid()}_{secrets.token_hex(3)}"
    yield (f"{prefix}_{n}" for n in itertools.count(1))
    with postgres_server.connect() as conn:
        leftovers = conn.execute(
            text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"), {"p": f"{prefix}_%"}
        ).scalars()
        for schema in list(leftovers):
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def postgres_url(postgres_server: Engine, _postgres_schemas: Iterator[str]) -> Iterator[str]:
    """A URL whose tables live in a fresh, empty schema of their own."""
    schema = next(_postgres_schemas)
    with postgres_server.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(os.environ[POSTGRES_ENV]).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    yield url.render_as_string(hide_password=False)
    with postgres_server.connect() as conn:
        conn.execute(text("SET lock_timeout = '10s'"))
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'litwatch.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database: SQLite, then PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """``db_url`` opened (and so migrated to the current schema)."""
    engine = open_database(db_url)
    yield engine
    engine.dispose()


# -- the growing PubMed of tests/stub_scenario.py, shared by the monitoring tests --------


@pytest.fixture
def stub(tmp_path: Path) -> Iterator[EutilsStub]:
    """The local E-utilities server on week 1 of ``stub_scenario`` (modules may override)."""
    with stub_for(corpus_dir(tmp_path / "corpus")) as running:
        yield running


@pytest.fixture
def queries(tmp_path: Path) -> list[SavedQuery]:
    """The two saved queries of ``stub_scenario`` (dystonia, crps; modules may override)."""
    return saved_queries(write_queries(tmp_path / "queries"))


@pytest.fixture
def client(stub: EutilsStub) -> Iterator[EutilsClient]:
    """A client for ``stub`` with the fast test pacing."""
    with client_for(stub) as made:
        yield made
