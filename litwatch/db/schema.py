"""Schema versions: Alembic migrations run in code, and the check made at start.

A brand-new database is created by running the migrations to head; an older
one is refused with the command that fixes it (or migrated when asked); one
written by a newer litwatch is refused.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, func, inspect, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..errors import StoreError
from .engine import create_engine_for, first_line, migration_tx, parse_url, safe_url

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# pg_advisory_xact_lock key ("litwatch" in ASCII): one migrating process at a time.
_PG_MIGRATION_LOCK = 0x6C69747761746368


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
        raise StoreError(f"cannot open database {url}: {first_line(exc.orig)}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open database {url}: {first_line(exc)}") from exc


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
    with migration_tx(engine) as conn:
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
            f"migrating database {safe_url(engine.url)} failed: {first_line(exc.orig)}"
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
    parsed = parse_url(url)
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
