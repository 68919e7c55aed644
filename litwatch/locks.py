"""Run locks: one process at a time per job (a query's windows, a digest), across machines.

``hold_lock(engine, "query:NAME")`` is the way in; it raises ``LockHeld``
when another live process has the job.

SQLite: the ``locks`` row is the lock. It names its owner
(``host:pid:token``) and expires ``ttl`` after the last ``refresh``; an
expired row is taken over, and so is a row whose owner is a process on this
machine that no longer exists (a ``kill -9`` then does not block the next run
until expiry). The row is read and written inside ``BEGIN IMMEDIATE``, so two
processes cannot both take it.

PostgreSQL: a session-level ``pg_try_advisory_lock`` is the lock; the
server releases it when its connection ends, also when the worker dies or
its machine goes away. All the advisory locks a process holds on one
database live on ONE connection (``_AdvisorySession``), opened with the
first lock and closed with the last, so a run that locks many queries needs
one connection, not one per query (the pool would run dry). The ``locks``
row is written too, so people (and ``list_locks``) can see who holds what;
on PostgreSQL its expiry is informative only.

Expiries are wall-clock times shared between machines: callers that
simulate time (the demo) must not pass their clock here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import cast

from sqlalchemy import Connection, Engine, Table, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from .db import write_tx
from .errors import LockHeld
from .models import Lock

log = logging.getLogger(__name__)

LOCKS = cast(Table, Lock.__table__)
DEFAULT_TTL = timedelta(minutes=30)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class LockLost(LockHeld):
    """The lock expired and another process took it over while this one still worked."""


@dataclass(frozen=True)
class LockInfo:
    name: str
    owner: str
    acquired_at: datetime
    expires_at: datetime


def default_owner() -> str:
    """``host:pid:token``: unique per holder, and tells whether a local holder is alive."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock``."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class RunLock:
    """A lock held by this process; ``refresh`` it while working, ``release`` when done."""

    def __init__(
        self,
        engine: Engine,
        name: str,
        owner: str,
        ttl: timedelta,
        clock: Clock,
        advisory: _AdvisoryHold | None = None,
    ) -> None:
        self.engine = engine
        self.name = name
        self.owner = owner
        self.ttl = ttl
        self._clock = clock
        self._advisory = advisory  # PostgreSQL: where the advisory lock is held
        self.released = False

    def refresh(self) -> None:
        """Push the expiry ``ttl`` ahead; raises ``LockLost`` if another process took it."""
        if self.released:
            raise LockLost(self.name, "nobody (released)")
        if self._advisory is not None and not self._advisory.alive():
            raise LockLost(self.name, "nobody (its database session was lost)")
        now = self._clock()
        with write_tx(self.engine) as conn:
            result = conn.execute(
                update(LOCKS)
                .where(LOCKS.c.name == self.name, LOCKS.c.owner == self.owner)
                .values(expires_at=now + self.ttl)
            )
            if result.rowcount:
                return
            if self._advisory is not None:
                # The advisory lock is the truth on PostgreSQL; put the visible row back.
                _write_row(conn, self.name, self.owner, now, now + self.ttl)
                return
            holder = conn.execute(
                select(LOCKS.c.owner).where(LOCKS.c.name == self.name)
            ).scalar_one_or_none()
        raise LockLost(self.name, holder or "nobody")

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        try:
            with write_tx(self.engine) as conn:
                conn.execute(
                    delete(LOCKS).where(LOCKS.c.name == self.name, LOCKS.c.owner == self.owner)
                )
        finally:
            if self._advisory is not None:
                self._advisory.release()

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def acquire(
    engine: Engine,
    name: str,
    *,
    owner: str | None = None,
    ttl: timedelta = DEFAULT_TTL,
    clock: Clock = utc_now,
) -> RunLock:
    """Take the lock ``name`` or raise ``LockHeld`` naming who has it."""
    owner = owner or default_owner()
    if engine.dialect.name == "postgresql":
        return _acquire_postgresql(engine, name, owner, ttl, clock)
    now = clock()
    with write_tx(engine) as conn:
        row = conn.execute(select(LOCKS).where(LOCKS.c.name == name)).one_or_none()
        if row is not None and row.owner != owner:
            if row.expires_at > now and owner_alive(row.owner):
                raise LockHeld(name, row.owner)
            reason = "expired" if row.expires_at <= now else "its process is gone"
            log.warning("taking over lock %s from %s (%s)", name, row.owner, reason)
        _write_row(conn, name, owner, now, now + ttl)
    return RunLock(engine, name, owner, ttl, clock)


@contextmanager
def hold_lock(
    engine: Engine,
    name: str,
    *,
    owner: str | None = None,
    ttl: timedelta = DEFAULT_TTL,
    clock: Clock = utc_now,
) -> Iterator[RunLock]:
    """``with hold_lock(engine, "query:x") as lock:`` … ``lock.refresh()`` … (released at exit)."""
    lock = acquire(engine, name, owner=owner, ttl=ttl, clock=clock)
    try:
        yield lock
    finally:
        lock.release()


def list_locks(engine: Engine) -> list[LockInfo]:
    with engine.connect() as conn:
        rows = conn.execute(select(LOCKS).order_by(LOCKS.c.name)).all()
    return [LockInfo(r.name, r.owner, r.acquired_at, r.expires_at) for r in rows]


def owner_alive(owner: str) -> bool:
    """False only when ``owner`` names a process on this machine that no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine: only the expiry can tell
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True


# -- internals ----------------------------------------------------------------------


def _write_row(
    conn: Connection, name: str, owner: str, acquired: datetime, expires: datetime
) -> None:
    updated = conn.execute(
        update(LOCKS)
        .where(LOCKS.c.name == name)
        .values(owner=owner, acquired_at=acquired, expires_at=expires)
    )
    if not updated.rowcount:
        conn.execute(
            insert(LOCKS).values(name=name, owner=owner, acquired_at=acquired, expires_at=expires)
        )


def _acquire_postgresql(
    engine: Engine, name: str, owner: str, ttl: timedelta, clock: Clock
) -> RunLock:
    hold = _advisory_session(engine).try_lock(name)
    if hold is None:
        with engine.connect() as conn:
            holder = conn.execute(
                select(LOCKS.c.owner).where(LOCKS.c.name == name)
            ).scalar_one_or_none()
        raise LockHeld(name, holder or "another session")
    try:
        now = clock()
        with write_tx(engine) as conn:
            previous = conn.execute(
                select(LOCKS.c.owner).where(LOCKS.c.name == name)
            ).scalar_one_or_none()
            if previous is not None and previous != owner:
                log.warning("lock %s: row of %s replaced (its session is gone)", name, previous)
            _write_row(conn, name, owner, now, now + ttl)
    except BaseException:
        hold.release()
        raise
    return RunLock(engine, name, owner, ttl, clock, advisory=hold)


@dataclass(frozen=True)
class _AdvisoryHold:
    """One advisory lock on a session; ``generation`` tells a reconnected session apart."""

    session: _AdvisorySession
    key: int
    generation: int

    def alive(self) -> bool:
        return self.session.holds(self.key, self.generation)

    def release(self) -> None:
        self.session.unlock(self.key, self.generation)


class _AdvisorySession:
    """The one connection on which this process holds its advisory locks on one database.

    Opened with the first lock, closed (back to the pool, nothing held) with
    the last. Session-level advisory locks are re-entrant within a session,
    so the keys held are tracked here and a second holder in this process is
    refused like one elsewhere. A mutex serialises use of the connection
    (``serve`` runs queries and digests in threads). If the connection is
    lost, every lock on it is gone: it is dropped and the next lock opens a
    new one (a new ``generation``), and the old holders' ``refresh`` fails.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._mutex = threading.Lock()
        self._conn: Connection | None = None
        self._generation = 0
        self._schema = ""
        self._held: set[int] = set()

    def try_lock(self, name: str) -> _AdvisoryHold | None:
        with self._mutex:
            conn = self._connect()
            key = self._key(name)
            if key in self._held:
                self._close_if_idle()
                return None
            try:
                got = bool(conn.execute(select(func.pg_try_advisory_lock(key))).scalar())
            except BaseException:
                self._drop()
                raise
            if not got:
                self._close_if_idle()
                return None
            self._held.add(key)
            return _AdvisoryHold(self, key, self._generation)

    def holds(self, key: int, generation: int) -> bool:
        with self._mutex:
            if self._conn is None or generation != self._generation or key not in self._held:
                return False
            try:
                self._conn.execute(select(1))
            except DBAPIError:
                self._drop()
                return False
            return True

    def unlock(self, key: int, generation: int) -> None:
        with self._mutex:
            if self._conn is None or generation != self._generation or key not in self._held:
                return  # lost with its connection: nothing to release
            self._held.discard(key)
            try:
                unlocked = self._conn.execute(select(func.pg_advisory_unlock(key))).scalar()
                if not unlocked:
                    log.warning("advisory lock %d was not held by its session at release", key)
            except DBAPIError:
                # The server frees what a dropped connection held; a pooled
                # connection returned with the lock held would keep it.
                self._drop()
                return
            self._close_if_idle()

    def _connect(self) -> Connection:
        if self._conn is None:
            # Autocommit: the session holds locks for minutes without sitting
            # "idle in transaction" (which would hold back vacuum).
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                self._schema = str(conn.execute(select(func.current_schema())).scalar())
            except BaseException:
                conn.invalidate()
                conn.close()
                raise
            self._conn = conn
            self._generation += 1
        return self._conn

    def _key(self, name: str) -> int:
        # Advisory locks are per database; litwatch stores in different schemas of one
        # database (test runs, separate teams) must not block each other.
        return advisory_key(f"{self._schema}/{name}")

    def _close_if_idle(self) -> None:
        if self._conn is not None and not self._held:
            self._conn.close()
            self._conn = None

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.invalidate()
            self._conn.close()
            self._conn = None
        self._held.clear()


_SESSIONS: weakref.WeakKeyDictionary[Engine, _AdvisorySession] = weakref.WeakKeyDictionary()
_SESSIONS_MUTEX = threading.Lock()


def _advisory_session(engine: Engine) -> _AdvisorySession:
    with _SESSIONS_MUTEX:
        session = _SESSIONS.get(engine)
        if session is None:
            session = _SESSIONS[engine] = _AdvisorySession(engine)
        return session
