"""The database: engine factory, SQLite set-up, write transactions, upserts, schema version.

``open_database(url)`` is the way in. It returns an engine for SQLite
(``sqlite:///litwatch.db``) or PostgreSQL (``postgresql+psycopg://…``) whose
schema is known to be the one this code needs: a brand-new database is created
by running the migrations; an older one is refused with the command that fixes
it (or migrated with ``upgrade=True``); one written by a newer litwatch is
refused.

Concurrency on SQLite: WAL lets readers run beside one writer, and every
connection waits up to ``SQLITE_BUSY_TIMEOUT_S`` for a lock. That wait only
helps if a writer asks for the write lock when its transaction begins: a
deferred transaction that reads and then writes cannot wait (SQLite returns
SQLITE_BUSY at once to avoid a deadlock). So writes go through ``write_tx``,
which begins with ``BEGIN IMMEDIATE``; reads use ``engine.connect()`` or
``engine.begin()`` (plain ``BEGIN``).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, Table, create_engine, event, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.dml import Insert

from .errors import StoreError

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_S = 30.0
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_WRITE_OPTION = "litwatch_write_tx"
# pg_advisory_xact_lock key ("litwatch" in ASCII): one migrating process at a time.
_PG_MIGRATION_LOCK = 0x6C69747761746368


class RawJson(str):
    """JSON text that is already serialised (e.g. ``Article.to_json()``).

    Put in a JSON column, it is written as is instead of being encoded again as
    a JSON string, so a record is dumped once on the import hot path.
    """


def _dump_json(value: Any) -> str:
    if isinstance(value, RawJson):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# -- engine ---------------------------------------------------------------------


def safe_url(url: str | URL) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "<unparsable database URL>"


def _parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except SQLAlchemyError as exc:
        raise StoreError(f"not a database URL: {url!r} ({exc})") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we ship
    return parsed


def create_engine_for(url: str) -> Engine:
    """An engine for ``url`` with litwatch's connection set-up; the schema is not checked.

    Most code wants ``open_database``; this is for tools that manage the schema.
    """
    parsed = _parse_url(url)
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            engine = create_engine(
                parsed,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
                json_serializer=_dump_json,
            )
            _configure_sqlite(engine)
        elif backend == "postgresql":
            # pre_ping: a long-running worker survives a server restart between runs.
            engine = create_engine(parsed, pool_pre_ping=True, json_serializer=_dump_json)
        else:
            raise StoreError(
                f"unsupported database {safe_url(parsed)}: use sqlite:///FILE "
                "or postgresql+psycopg://USER@HOST/DB"
            )
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"cannot use database {safe_url(parsed)}: {exc}") from exc
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would BEGIN only before DML and
        # never IMMEDIATE; SQLAlchemy emits BEGIN itself (``_on_begin``).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, much faster commits
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _enable_wal(cursor: Any) -> None:
    """Switch a new database file to WAL (it stays so); wait while another process does.

    The switch needs an exclusive lock and SQLite may refuse it at once with
    "database is locked" instead of calling the busy handler, e.g. when two
    processes open a brand-new file together, so retry until the busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
            if mode in ("wal", "memory"):  # in-memory databases have no WAL
                return
            cursor.execute("PRAGMA journal_mode = WAL").fetchone()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction, committed on success, rolled back on error.

    On SQLite the write lock is taken at BEGIN (waiting up to the busy timeout
    for another writer), so a transaction that reads before it writes cannot
    fail with "database is locked". On PostgreSQL it is a plain transaction.
    """
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE_OPTION: True})
        with conn.begin():
            yield conn


# -- upserts --------------------------------------------------------------------

Excluded = Any  # the ``excluded`` pseudo-table of the statement: ``excluded.col``


def upsert(
    bind: Connection | Engine,
    table: Table,
    *,
    conflict: Sequence[str],
    update: Callable[[Excluded], Mapping[str, Any]] | None = None,
    where: Callable[[Excluded], ColumnElement[bool]] | None = None,
) -> Insert:
    """``INSERT … ON CONFLICT (conflict) DO UPDATE SET update(excluded) [WHERE …]``.

    The one place that picks the dialect's insert construct. ``update=None``
    gives ``DO NOTHING``. Execute the statement with a list of row dicts.
    """
    dialect = bind.dialect.name
    if dialect == "postgresql":
        pg_stmt = postgresql.insert(table)
        if update is None:
            return pg_stmt.on_conflict_do_nothing(index_elements=list(conflict))
        return pg_stmt.on_conflict_do_update(
            index_elements=list(conflict),
            set_=dict(update(pg_stmt.excluded)),
            where=where(pg_stmt.excluded) if where else None,
        )
    if dialect == "sqlite":
        lite_stmt = sqlite.insert(table)
        if update is None:
            return lite_stmt.on_conflict_do_nothing(index_elements=list(conflict))
        return lite_stmt.on_conflict_do_update(
            index_elements=list(conflict),
            set_=dict(update(lite_stmt.excluded)),
            where=where(lite_stmt.excluded) if where else None,
        )
    raise StoreError(f"upsert is not supported on {dialect}")


# -- schema version -------------------------------------------------------------


def _ini(path: Path) -> str:
    return str(path).replace("%", "%%")  # Alembic's config is a ConfigParser


@dataclass(frozen=True)
class Migrations:
    """Where the migration scripts live (tests add a folder of extra revisions)."""

    extra_version_locations: tuple[Path, ...] = ()

    def config(self, connection: Connection | None = None) -> Config:
        """An Alembic config built in code (there is no alembic.ini)."""
        cfg = Config()
        cfg.set_main_option("script_location", _ini(MIGRATIONS_DIR))
        cfg.set_main_option("path_separator", "os")
        locations = (MIGRATIONS_DIR / "versions", *self.extra_version_locations)
        cfg.set_main_option("version_locations", os.pathsep.join(_ini(p) for p in locations))
        if connection is not None:
            cfg.attributes["connection"] = connection
        return cfg

    def script(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self.config())


@dataclass(frozen=True)
class DatabaseStatus:
    """What ``litwatch db check`` reports."""

    url: str  # password hidden
    backend: str  # "sqlite" or "postgresql"
    reachable: bool
    head: str  # the schema revision this litwatch needs
    current: str | None = None  # the database's revision; None: no litwatch schema
    pending: tuple[str, ...] = ()  # what `litwatch db upgrade` would apply, oldest first
    empty: bool = False  # no tables at all: the schema is created on first use
    newer: bool = False  # written by a newer litwatch (unknown revision)
    foreign: bool = False  # has tables but no litwatch schema version
    error: str | None = None

    @property
    def up_to_date(self) -> bool:
        return self.reachable and self.current == self.head


def _read_status(conn: Connection, script: ScriptDirectory, url: str) -> DatabaseStatus:
    head = script.get_current_head()
    if head is None:
        raise StoreError(f"no migrations found in {MIGRATIONS_DIR}")
    current = MigrationContext.configure(conn).get_current_revision()
    base = DatabaseStatus(
        url=url, backend=conn.dialect.name, reachable=True, head=head, current=current
    )
    if current is None:
        everything = _all_revisions(script, head)
        tables = inspect(conn).get_table_names()
        return replace(base, pending=everything, empty=not tables, foreign=bool(tables))
    try:
        script.get_revision(current)
    except CommandError:
        return replace(base, newer=True)
    pending = tuple(reversed([r.revision for r in script.iterate_revisions(head, current)]))
    return replace(base, pending=pending)


def _all_revisions(script: ScriptDirectory, head: str) -> tuple[str, ...]:
    return tuple(reversed([r.revision for r in script.iterate_revisions(head, "base")]))


def _status(engine: Engine, migrations: Migrations) -> DatabaseStatus:
    url = safe_url(engine.url)
    try:
        with engine.connect() as conn:
            return _read_status(conn, migrations.script(), url)
    except DBAPIError as exc:
        raise StoreError(f"cannot open database {url}: {_first_line(exc.orig)}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open database {url}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException | None) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _refusal(status: DatabaseStatus) -> StoreError | None:
    if status.newer:
        return StoreError(
            f"database {status.url} is at schema {status.current}, written by a newer litwatch "
            f"(this one knows up to {status.head}): upgrade litwatch"
        )
    if status.foreign:
        return StoreError(
            f"database {status.url} has tables but no litwatch schema version: "
            "not a litwatch database? Use another file or URL"
        )
    return None


def _migrate(engine: Engine, migrations: Migrations) -> list[str]:
    """Run the pending migrations in one write transaction; returns what was applied."""
    with _migration_tx(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
        # Read again under the write lock: another process may have just migrated.
        status = _read_status(conn, migrations.script(), safe_url(engine.url))
        refusal = _refusal(status)
        if refusal is not None:
            raise refusal
        if status.up_to_date:
            return []
        command.upgrade(migrations.config(conn), "head")
        if conn.dialect.name == "sqlite":
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
            if broken is not None:
                raise StoreError(
                    f"migrating database {status.url} would break a reference from "
                    f"table {broken[0]} to {broken[2]}: nothing was changed"
                )
    log.info("database %s migrated to schema %s", status.url, status.head)
    return list(status.pending)


@contextmanager
def _migration_tx(engine: Engine) -> Iterator[Connection]:
    """``write_tx`` with SQLite's foreign keys off, as Alembic's batch mode needs.

    Batch mode rebuilds a table by copying it and dropping the original; with
    foreign keys on, dropping ``articles`` would cascade-delete every hit and
    tag. The pragma only takes effect outside a transaction, so it is set on
    the raw connection before BEGIN; ``_migrate`` checks the references
    itself before committing.
    """
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection if conn.dialect.name == "sqlite" else None
        _sqlite_pragma(raw, "foreign_keys = OFF")
        try:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn
        finally:
            _sqlite_pragma(raw, "foreign_keys = ON")


def _sqlite_pragma(raw_connection: Any, setting: str) -> None:
    if raw_connection is not None:
        cursor = raw_connection.cursor()
        try:
            cursor.execute(f"PRAGMA {setting}")
        finally:
            cursor.close()


def open_database(
    url: str, *, upgrade: bool = False, migrations: Migrations | None = None
) -> Engine:
    """An engine on ``url`` whose schema is the current one.

    A brand-new (empty) database gets the whole schema. A database at an older
    schema is refused (``StoreError`` naming ``litwatch db upgrade``) unless
    ``upgrade`` is true; one at an unknown, newer schema is always refused.
    """
    migrations = migrations or Migrations()
    engine = create_engine_for(url)
    try:
        status = _status(engine, migrations)
        refusal = _refusal(status)
        if refusal is not None:
            raise refusal
        if not status.up_to_date:
            if not status.empty and not upgrade:
                raise StoreError(
                    f"database {status.url} is at schema {status.current}, this litwatch needs "
                    f"{status.head}: run `litwatch db upgrade`"
                )
            _migrate_or_explain(engine, migrations)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _migrate_or_explain(engine: Engine, migrations: Migrations) -> list[str]:
    try:
        return _migrate(engine, migrations)
    except DBAPIError as exc:
        raise StoreError(
            f"migrating database {safe_url(engine.url)} failed: {_first_line(exc.orig)}"
        ) from exc


def upgrade_database(url: str, *, migrations: Migrations | None = None) -> list[str]:
    """Apply pending migrations (``litwatch db upgrade``); returns the revisions applied."""
    migrations = migrations or Migrations()
    engine = create_engine_for(url)
    try:
        refusal = _refusal(_status(engine, migrations))
        if refusal is not None:
            raise refusal
        return _migrate_or_explain(engine, migrations)
    finally:
        engine.dispose()


def check_database(url: str, *, migrations: Migrations | None = None) -> DatabaseStatus:
    """Connectivity, schema revision and pending migrations (``litwatch db check``).

    Problems are reported in the status, not raised; a missing SQLite file is
    reported as empty and not created.
    """
    migrations = migrations or Migrations()
    parsed = _parse_url(url)
    script = migrations.script()
    head = script.get_current_head() or ""
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database))
        if not path.exists():
            return DatabaseStatus(
                url=safe_url(parsed),
                backend="sqlite",
                reachable=True,
                head=head,
                pending=_all_revisions(script, head),
                empty=True,
            )
    engine = create_engine_for(url)
    try:
        return _status(engine, migrations)
    except StoreError as exc:
        return DatabaseStatus(
            url=safe_url(parsed),
            backend=parsed.get_backend_name(),
            reachable=False,
            head=head,
            error=str(exc),
        )
    finally:
        engine.dispose()
