"""The database: engine factory, SQLite set-up, write transactions, upserts, schema version.

``open_database(url)`` is the way in. It returns an engine for SQLite
(``sqlite:///litwatch.db``) or PostgreSQL (``postgresql+psycopg://…``) whose
schema is known to be the one this code needs: a brand-new database is created
by running the migrations; an older one is refused with the command that fixes
it (or migrated with ``upgrade=True``); one written by a newer litwatch is
refused.

Writes go through ``write_tx`` (on SQLite it takes the write lock at BEGIN, so
a curator's CLI and the worker never see "database is locked"); reads use
``engine.connect()`` or ``engine.begin()``.

Modules: ``engine`` (URLs, SQLite set-up, ``write_tx``), ``upsert`` (the one
dialect switch for ``ON CONFLICT``), ``schema`` (migrations and the version
check).
"""

from .engine import SQLITE_BUSY_TIMEOUT_S, RawJson, create_engine_for, safe_url, write_tx
from .schema import (
    MIGRATIONS_DIR,
    DatabaseStatus,
    Migrations,
    check_database,
    open_database,
    upgrade_database,
)
from .upsert import upsert

__all__ = [
    "MIGRATIONS_DIR",
    "SQLITE_BUSY_TIMEOUT_S",
    "DatabaseStatus",
    "Migrations",
    "RawJson",
    "check_database",
    "create_engine_for",
    "open_database",
    "safe_url",
    "upgrade_database",
    "upsert",
    "write_tx",
]
