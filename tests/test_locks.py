"""Run locks on SQLite and PostgreSQL: one holder at a time, taken over when the holder is gone."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select, text

from litwatch.db import open_database, write_tx
from litwatch.errors import LockHeld
from litwatch.locks import (
    LOCKS,
    LockLost,
    acquire,
    advisory_key,
    hold_lock,
    list_locks,
    owner_alive,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_second_holder_is_refused_until_release(engine: Engine) -> None:
    with hold_lock(engine, "query:a", owner="w1") as lock:
        with pytest.raises(LockHeld) as caught:
            acquire(engine, "query:a", owner="w2")
        assert "query:a is being run by" in str(caught.value)
        # Another name is independent.
        with hold_lock(engine, "query:b", owner="w2"):
            assert {i.name for i in list_locks(engine)} == {"query:a", "query:b"}
        lock.refresh()
    assert list_locks(engine) == []
    with hold_lock(engine, "query:a", owner="w2"):
        pass


def test_row_names_holder_and_expiry(engine: Engine) -> None:
    clock = FakeClock(T0)
    with hold_lock(
        engine, "digest:weekly", owner="w1", ttl=timedelta(minutes=5), clock=clock
    ) as lk:
        (info,) = list_locks(engine)
        assert (info.owner, info.acquired_at, info.expires_at) == (
            "w1",
            T0,
            T0 + timedelta(minutes=5),
        )
        clock.now = T0 + timedelta(minutes=3)
        lk.refresh()
        assert list_locks(engine)[0].expires_at == T0 + timedelta(minutes=8)


def test_expired_lock_is_taken_over_on_sqlite(sqlite_url: str) -> None:
    engine = open_database(sqlite_url)
    try:
        clock = FakeClock(T0)
        stale = acquire(
            engine, "query:a", owner="other-host:1:abc", ttl=timedelta(minutes=5), clock=clock
        )
        clock.now = T0 + timedelta(minutes=4)
        with pytest.raises(LockHeld):
            acquire(engine, "query:a", owner="w2", clock=clock)
        clock.now = T0 + timedelta(minutes=6)
        taker = acquire(engine, "query:a", owner="w2", clock=clock)
        assert list_locks(engine)[0].owner == "w2"
        # The old holder finds out at its next refresh and must stop.
        with pytest.raises(LockLost):
            stale.refresh()
        stale.release()  # releasing a lost lock leaves the new holder's row alone
        assert list_locks(engine)[0].owner == "w2"
        taker.release()
    finally:
        engine.dispose()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_lock_of_a_dead_local_process_is_taken_over_at_once(sqlite_url: str) -> None:
    engine = open_database(sqlite_url)
    try:
        dead = f"{socket.gethostname()}:{_dead_pid()}:feed"
        assert not owner_alive(dead)
        assert owner_alive(f"{socket.gethostname()}:{os.getpid()}:beef")
        assert owner_alive(f"elsewhere.example:{_dead_pid()}:feed")  # cannot tell: trust expiry
        with write_tx(engine) as conn:
            conn.execute(
                insert(LOCKS).values(
                    name="query:a", owner=dead, acquired_at=T0, expires_at=T0 + timedelta(days=999)
                )
            )
        with hold_lock(engine, "query:a", owner="w2"):
            assert list_locks(engine)[0].owner == "w2"
    finally:
        engine.dispose()


HOLDER = """
import sys, time
from litwatch.db import open_database
from litwatch.locks import acquire
engine = open_database(sys.argv[1])
lock = acquire(engine, "query:a")
print(lock.owner, flush=True)
time.sleep(60)
"""


def test_lock_held_by_another_process_until_it_is_killed(db_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, db_url], stdout=subprocess.PIPE, text=True
    )
    engine = open_database(db_url)
    try:
        assert holder.stdout is not None
        owner = holder.stdout.readline().strip()
        assert owner.split(":")[1] == str(holder.pid)
        with pytest.raises(LockHeld) as caught:
            acquire(engine, "query:a")
        assert caught.value.owner == owner
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        # SQLite: the owner's process is gone; PostgreSQL: its session ended.
        with hold_lock(engine, "query:a", owner="w2"), engine.connect() as conn:
            assert conn.execute(select(LOCKS.c.owner)).scalars().all() == ["w2"]
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_advisory_lock_outlives_an_expired_row(postgres_url: str) -> None:
    engine = open_database(postgres_url)
    try:
        clock = FakeClock(T0)
        first = acquire(engine, "query:a", owner="w1", ttl=timedelta(minutes=1), clock=clock)
        clock.now = T0 + timedelta(hours=1)  # the row says expired; the session still holds it
        with pytest.raises(LockHeld):
            acquire(engine, "query:a", owner="w2", clock=clock)
        first.refresh()  # still ours
        first.release()
        with hold_lock(engine, "query:a", owner="w2", clock=clock):
            pass
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_locks_of_a_process_share_one_session(postgres_url: str) -> None:
    engine = open_database(postgres_url)
    try:
        held = [acquire(engine, f"query:q{i:02d}", owner="w1") for i in range(25)]
        assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        with pytest.raises(LockHeld):  # re-entrant on the server, refused here
            acquire(engine, "query:q07", owner="w2")
        for lock in held:
            lock.refresh()
            lock.release()
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert list_locks(engine) == []
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_locks_are_lost_with_their_session(postgres_url: str) -> None:
    engine = open_database(postgres_url)
    try:
        first, second = acquire(engine, "query:a"), acquire(engine, "digest:weekly")
        with engine.connect() as conn:  # the server ends the session (a restart, a network cut)
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            key = advisory_key(f"{schema}/query:a") & 0xFFFFFFFFFFFFFFFF
            (pid,) = conn.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' "
                    "AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1"
                ),
                {"high": key >> 32, "low": key & 0xFFFFFFFF},
            ).scalars()
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for lost in (first, second):
            with pytest.raises(LockLost):
                lost.refresh()
        # A new session takes the locks again; the old holders' release leaves them alone.
        with hold_lock(engine, "query:a", owner="w2") as again:
            first.release()
            second.release()
            again.refresh()
    finally:
        engine.dispose()
