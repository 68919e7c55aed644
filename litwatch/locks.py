"""Run locks: one process at a time per job (a query's windows, a digest), across machines.

``hold_lock(engine, "query:NAME")`` is the way in; it raises ``LockHeld``
when another live process has the job.

SQLite: the ``locks`` row is the lock. It names its owner
(``host:pid:token``) and expires ``ttl`` after the last ``refresh``; an
expired row is taken over, and so is a row whose owner is a process on this
machine that no longer exists (a ``kill -9`` then does not block the next run
until expiry). The row is read and written inside ``BEGIN IMMEDIATE``, so two
processes cannot both take it.

PostgreSQL: a session-level ``pg_try_advisory_lock`` held on a connection
kept open for the duration is the lock; the server releases it when that
connection ends, also when the worker dies or its machine goes away. The
``locks`` row is written too, so people (and ``list_locks``) can see who
holds what; on PostgreSQL its expiry is informative only.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
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
        session: Connection | None = None,
    ) -> None:
        self.engine = engine
        self.name = name
        self.owner = owner
        self.ttl = ttl
        self._clock = clock
        self._session = session  # PostgreSQL: the connection holding the advisory lock
        self.released = False

    def refresh(self) -> None:
        """Push the expiry ``ttl`` ahead; raises ``LockLost`` if another process took it."""
        if self.released:
            raise LockLost(self.name, "nobody (released)")
        if self._session is not None:
            try:  # the advisory lock lives as long as this connection
                self._session.execute(select(1))
            except DBAPIError as exc:
                raise LockLost(self.name, "nobody (its database session was lost)") from exc
        now = self._clock()
        with write_tx(self.engine) as conn:
            result = conn.execute(
                update(LOCKS)
                .where(LOCKS.c.name == self.name, LOCKS.c.owner == self.owner)
                .values(expires_at=now + self.ttl)
            )
            if result.rowcount:
                return
            if self._session is not None:
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
            if self._session is not None:
                _end_session(self._session, self.name)

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
    # Autocommit: the session holds the lock for minutes without sitting
    # "idle in transaction" (which would hold back vacuum).
    session = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        got = bool(session.execute(select(func.pg_try_advisory_lock(advisory_key(name)))).scalar())
    except BaseException:
        session.invalidate()
        session.close()
        raise
    if not got:
        holder = session.execute(
            select(LOCKS.c.owner).where(LOCKS.c.name == name)
        ).scalar_one_or_none()
        session.close()
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
        _end_session(session, name)
        raise
    return RunLock(engine, name, owner, ttl, clock, session=session)


def _end_session(session: Connection, name: str) -> None:
    """Unlock and close; if unlocking fails, drop the connection so the server frees the lock.

    A pooled connection returned with the lock still held would keep it for
    as long as the pool keeps the connection.
    """
    try:
        unlocked = session.execute(select(func.pg_advisory_unlock(advisory_key(name)))).scalar()
        if not unlocked:
            log.warning("lock %s was not held by its session at release", name)
    except DBAPIError:
        session.invalidate()
    finally:
        session.close()
