"""The monitoring pass at its edges: a future ``until``, many queries, simulated time, counts.

Each test runs on SQLite and PostgreSQL (the ``engine`` fixture).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine
from stub_scenario import (
    T1,
    T2,
    A,
    C,
    E,
    F,
    H,
    I,
    grow,
)

from litwatch.eutils import EutilsClient
from litwatch.locks import list_locks
from litwatch.pipeline import ProgressEvent, run_monitoring
from litwatch.queries import SavedQuery
from litwatch.store.ledger import get_progress, hit_pmids, list_searches
from litwatch.testing.eutils_stub import EutilsStub


def real_today() -> date:
    return datetime.now(UTC).date()


def test_a_future_until_never_moves_a_watermark_past_today(
    engine: Engine, queries: list[SavedQuery], stub: EutilsStub, client: EutilsClient
) -> None:
    today = real_today()
    stub.today = today
    summary = run_monitoring(engine, queries, client, until=today + timedelta(days=40))
    assert summary.ok
    assert summary.until == today
    for query in queries:
        progress = get_progress(engine, query.name)
        assert progress is not None
        assert (progress.watermark, progress.mdat_watermark) == (today, today)
    assert {r.window_end for r in list_searches(engine)} == {today}


def test_locks_expire_in_real_time_whatever_the_run_clock_says(
    engine: Engine, queries: list[SavedQuery], client: EutilsClient
) -> None:
    simulated = datetime.combine(T1, time(5), UTC)  # weeks ago, like the demo's clock
    expiries: list[datetime] = []

    def on_progress(event: ProgressEvent) -> None:
        expiries.extend(lock.expires_at for lock in list_locks(engine))

    before = datetime.now(UTC)
    summary = run_monitoring(
        engine, queries, client, until=T1, clock=lambda: simulated, progress=on_progress
    )
    assert summary.ok
    assert expiries
    assert all(expiry > before for expiry in expiries)
    assert list_locks(engine) == []
    # The ledger keeps the simulated time.
    assert {r.started_at for r in list_searches(engine)} == {simulated}


def test_twenty_queries_share_one_lock_connection(
    engine: Engine, queries: list[SavedQuery], client: EutilsClient
) -> None:
    many = [replace(queries[i % 2], name=f"q{i:02d}") for i in range(20)]
    checked_out: list[int] = []

    def on_progress(event: ProgressEvent) -> None:
        assert len(list_locks(engine)) == 20
        if engine.dialect.name == "postgresql":
            checked_out.append(engine.pool.checkedout())  # type: ignore[attr-defined]

    summary = run_monitoring(engine, many, client, until=T1, progress=on_progress)
    assert summary.ok, [q.error for q in summary.queries if q.error]
    assert sorted(q.name for q in summary.queries) == [q.name for q in many]
    assert list_locks(engine) == []
    if engine.dialect.name == "postgresql":
        assert checked_out
        assert max(checked_out) == 1


def test_ledger_counts_are_disjoint_when_a_stored_record_is_updated_and_first_linked(
    engine: Engine, queries: list[SavedQuery], stub: EutilsStub, client: EutilsClient
) -> None:
    # Another query (as an import would) stores week 1's A, C, F; then A changes.
    dystonia = next(q for q in queries if q.name == "dystonia")
    assert run_monitoring(engine, [replace(dystonia, name="earlier")], client, until=T1).ok
    grow(stub)
    stub.today = T2
    summary = run_monitoring(engine, [dystonia], client, until=T2)
    assert summary.ok
    (window,) = list_searches(engine, query="dystonia")  # a first run: one crdt window
    assert window.count == 6  # A C E F H I
    assert (window.new_count, window.known_count, window.updated_count) == (3, 2, 1)
    (outcome,) = summary.queries
    assert (outcome.new, outcome.updated, outcome.linked) == (3, 1, 6)
    assert {p for _, p in hit_pmids(engine, "dystonia")} == {
        str(r.pmid) for r in (A, C, E, F, H, I)
    }
