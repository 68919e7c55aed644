"""Engines: URL handling, SQLite connection set-up, write transactions.

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
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError

SQLITE_BUSY_TIMEOUT_S = 30.0
# Pages of a new SQLite file. A stored record is ~6 kB (its JSON and search
# text): on 4 kB pages each spills into an overflow page, and a file import
# writes, logs and checkpoints eight times as many pages. 32 kB pages made
# storing 20,000 records a quarter faster and the final checkpoint 2.5x
# faster. An existing file keeps the size it was made with.
SQLITE_PAGE_SIZE = 32 * 1024

_WRITE_OPTION = "litwatch_write_tx"


class RawJson(str):
    """JSON text that is already serialised (e.g. ``Article.to_json()``).

    Put in a JSON column, it is written as is instead of being encoded again as
    a JSON string, so a record is dumped once on the import hot path.
    """


def _dump_json(value: Any) -> str:
    if isinstance(value, RawJson):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def safe_url(url: str | URL) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "<unparsable database URL>"


def parse_url(url: str) -> URL:
    """The parsed URL; a bare ``postgresql://`` gets the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except SQLAlchemyError as exc:
        raise StoreError(f"not a database URL: {url!r} ({exc})") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_engine_for(url: str) -> Engine:
    """An engine for ``url`` with litwatch's connection set-up; the schema is not checked.

    Most code wants ``open_database``; this is for tools that manage the schema.
    """
    parsed = parse_url(url)
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
            cursor.execute(f"PRAGMA page_size = {SQLITE_PAGE_SIZE}")  # before WAL fixes it
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


@contextmanager
def migration_tx(engine: Engine) -> Iterator[Connection]:
    """``write_tx`` with SQLite's foreign keys off, as Alembic's batch mode needs.

    Batch mode rebuilds a table by copying it and dropping the original; with
    foreign keys on, dropping ``articles`` would cascade-delete every hit and
    tag. The pragma only takes effect outside a transaction, so it is set on
    the raw connection before BEGIN; ``schema._migrate`` checks references
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


def first_line(exc: BaseException | None) -> str:
    """The first line of an error (a driver message may go on for lines)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
