"""The monitoring pass against the local E-utilities stub, with a corpus that grows between runs.

See ``stub_scenario`` for the two weeks of records. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from stub_scenario import (
    START,
    T1,
    T2,
    A,
    B,
    C,
    E,
    F,
    H,
    I,
    R,
    client_for,
    db_state,
    fetched_pmids,
    grow,
)

from litwatch.eutils import EutilsClient
from litwatch.locks import hold_lock
from litwatch.pipeline import ProgressEvent, load_catalogue, run_monitoring
from litwatch.queries import SavedQuery
from litwatch.query_windows import plan_windows
from litwatch.resources import bundled_dir
from litwatch.store import get_article
from litwatch.store.ledger import QueryProgress, get_progress, hit_pmids, list_searches
from litwatch.testing.eutils_stub import EutilsStub


def pmids(*records: object) -> set[str]:
    return {str(r.pmid) for r in records}  # type: ignore[attr-defined]


def test_first_run_stores_the_window_then_only_what_is_new_or_changed(
    engine: Engine, queries: list[SavedQuery], stub: EutilsStub, client: EutilsClient
) -> None:
    # -- run 1: everything created from start_date to T1 ------------------------------
    first = run_monitoring(engine, queries, client, until=T1)
    assert first.ok
    assert [stub_request.endpoint for stub_request in stub.requests] == [
        "esearch",
        "esearch",
        "efetch",
        "efetch",
    ]
    assert sorted(fetched_pmids(stub)) == sorted(pmids(A, B, C, F))  # C once, for both queries
    assert (first.found, first.new, first.updated, first.requests) == (4, 4, 0, 4)
    assert hit_pmids(engine) == {("dystonia", p) for p in pmids(A, C, F)} | {
        ("crps", p) for p in pmids(B, C)
    }
    rows = list_searches(engine, run_id=first.run_id, newest_first=False)
    assert [(r.query_name, r.date_field, r.window_start, r.window_end) for r in rows] == [
        ("crps", "crdt", START, T1),
        ("dystonia", "crdt", START, T1),
    ]
    assert [(r.status, r.count, r.new_count, r.known_count, r.updated_count) for r in rows] == [
        ("ok", 2, 2, 0, 0),
        ("ok", 3, 3, 0, 0),
    ]
    assert all(r.request_count == 1 and r.finished_at is not None for r in rows)
    assert rows[1].term_sent == queries[1].term_sent
    assert rows[1].query_hash == queries[1].content_hash
    assert "[MeSH Terms]" in (rows[1].query_translation or "")
    progress = get_progress(engine, "dystonia")
    assert progress is not None
    assert (progress.watermark, progress.mdat_watermark, progress.last_status) == (T1, T1, "ok")

    # -- the corpus grows: a week of new records and new versions ------------------------
    grow(stub)
    stub.today = T2
    seen = len(stub.requests)
    second = run_monitoring(engine, queries, client, until=T2)
    assert second.ok
    endpoints = [r.endpoint for r in stub.requests[seen:]]
    assert endpoints.count("esearch") == 4  # 2 windows x 2 queries
    assert endpoints.count("efetch") == 3  # ceil(6 / batch of 2), one set for both queries
    # Only what is new or changed; C and F are stored and current.
    assert sorted(fetched_pmids(stub, seen)) == sorted(pmids(A, B, E, H, I, R))
    assert (second.new, second.updated, second.to_fetch, second.requests) == (4, 2, 6, 7)
    rows = list_searches(engine, run_id=second.run_id, newest_first=False)
    windows = {(r.query_name, r.date_field): r for r in rows}
    lookback = timedelta(days=queries[0].lookback_days)
    assert {(k, r.window_start, r.window_end) for k, r in windows.items()} == {
        (("crps", "crdt"), T1 - lookback, T2),
        (("crps", "mdat"), T1, T2),
        (("dystonia", "crdt"), T1 - lookback, T2),
        (("dystonia", "mdat"), T1, T2),
    }
    counts = {k: (r.count, r.new_count, r.known_count, r.updated_count) for k, r in windows.items()}
    assert counts == {
        # new = not stored before this run (in every window that met it), known =
        # stored and unchanged, updated = stored and replaced: disjoint, adding up.
        ("dystonia", "crdt"): (3, 2, 1, 0),  # H, I new (I was late); F known
        ("dystonia", "mdat"): (3, 2, 0, 1),  # E (newly matches), H new; A updated
        ("crps", "crdt"): (1, 1, 0, 0),  # the retraction notice
        ("crps", "mdat"): (2, 1, 0, 1),  # R new; B updated (retracted)
    }
    assert all(r.new_count + r.known_count + r.updated_count == r.count for r in windows.values())
    assert hit_pmids(engine) == {("dystonia", p) for p in pmids(A, C, E, F, H, I)} | {
        ("crps", p) for p in pmids(B, C, R)
    }
    a = get_article(engine, str(A.pmid))
    b = get_article(engine, str(B.pmid))
    assert a is not None
    assert b is not None
    assert "Dystonia" in {m.descriptor for m in a.article.mesh}
    assert a.article.status == "MEDLINE"
    assert b.article.is_retracted
    assert a.updated_at is not None
    progress = get_progress(engine, "crps")
    assert progress is not None
    assert (progress.watermark, progress.mdat_watermark) == (T2, T2)

    # -- nothing changed: nothing is fetched --------------------------------------------
    seen = len(stub.requests)
    before = db_state(engine)
    third = run_monitoring(engine, queries, client, until=T2)
    assert third.ok
    assert [r.endpoint for r in stub.requests[seen:]] == ["esearch"] * 4
    assert (third.to_fetch, third.new, third.updated) == (0, 0, 0)
    assert db_state(engine) == before


def test_changed_term_searches_again_from_start_date(
    engine: Engine, queries: list[SavedQuery], stub: EutilsStub, client: EutilsClient
) -> None:
    dystonia = queries[1]
    assert run_monitoring(engine, [dystonia], client, until=T1).ok
    grow(stub)
    stub.today = T2
    # The maintainer widens the search: the whole history is searched with the new term,
    # and stored records it finds are fetched again (they may be stale).
    wider = replace(dystonia, term=dystonia.term + ' OR "motor cortex"[tiab]', content_hash="new")
    seen = len(stub.requests)
    summary = run_monitoring(engine, [wider], client, until=T2)
    assert summary.ok
    (outcome,) = summary.queries
    assert outcome.first_run
    assert [(w.date_field, w.start, w.end) for w in outcome.windows] == [("crdt", START, T2)]
    assert sorted(fetched_pmids(stub, seen)) == sorted(pmids(A, C, E, F, H, I))
    progress = get_progress(engine, "dystonia")
    assert progress is not None
    assert (progress.watermark, progress.mdat_watermark, progress.file_hash) == (T2, T2, "new")


def test_dry_run_searches_but_writes_nothing(
    engine: Engine, queries: list[SavedQuery], stub: EutilsStub, client: EutilsClient
) -> None:
    summary = run_monitoring(engine, queries, client, until=T1, dry_run=True)
    assert summary.ok
    assert summary.dry_run
    assert [q.status for q in summary.queries] == ["dry-run", "dry-run"]
    assert (summary.found, summary.to_fetch, summary.fetched) == (4, 4, 0)
    assert [r.endpoint for r in stub.requests] == ["esearch", "esearch"]
    assert list_searches(engine) == []
    assert db_state(engine)["articles"] == {}
    assert get_progress(engine, "crps") is None


def test_a_locked_query_is_skipped_and_the_others_run(
    engine: Engine, queries: list[SavedQuery], client: EutilsClient
) -> None:
    with hold_lock(engine, "query:crps", owner="other-host:1:worker"):
        summary = run_monitoring(engine, queries, client, until=T1)
    assert summary.ok  # skipped is not failed
    assert summary.skipped == ["crps"]
    assert "other-host:1:worker" in (summary.queries[0].error or "")
    assert {r.query_name for r in list_searches(engine)} == {"dystonia"}
    assert get_progress(engine, "crps") is None


def test_progress_events_and_stop(
    engine: Engine, queries: list[SavedQuery], client: EutilsClient
) -> None:
    events: list[ProgressEvent] = []
    stop = threading.Event()

    def on_progress(event: ProgressEvent) -> None:
        events.append(event)
        if event.stage == "fetch" and event.done == 2:
            stop.set()  # a shutdown arrives after the first batch is stored

    summary = run_monitoring(engine, queries, client, until=T1, progress=on_progress, stop=stop)
    assert [(e.stage, e.done, e.total) for e in events] == [
        ("search", 0, 2),
        ("search", 1, 2),
        ("search", 2, 2),
        ("fetch", 0, 4),
        ("fetch", 2, 4),
    ]
    assert sorted(summary.failed) == ["crps", "dystonia"]
    assert all("stopped" in (q.error or "") for q in summary.queries)
    rows = list_searches(engine)
    assert {r.status for r in rows} == {"failed"}
    assert db_state(engine)["hits"] == []  # nothing linked, no watermark moved
    assert get_progress(engine, "crps") is None  # the first run never completed
    # The next run completes the same windows.
    again = run_monitoring(engine, queries, client, until=T1)
    assert again.ok
    assert again.queries[0].first_run
    assert len(db_state(engine)["hits"]) == 5


def _query(**changes: object) -> SavedQuery:
    base = SavedQuery(
        name="q", term="x[tiab]", path=Path("q.toml"), content_hash="h", start_date=START
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _progress(watermark: date | None, mdat: date | None = None) -> QueryProgress:
    return QueryProgress("q", watermark, mdat, "h", datetime(2026, 1, 1, tzinfo=UTC), "ok")


def test_window_plans() -> None:
    query = _query(lookback_days=3)
    first = plan_windows(query, None, None, T1)
    assert first.fresh
    assert first.windows == (("crdt", START, T1),)
    # A failed first run leaves no watermark: the next run starts over.
    assert plan_windows(query, _progress(None), None, T1).windows == (("crdt", START, T1),)
    later = plan_windows(query, _progress(T1, T1), "x[tiab]", T2)
    assert not later.fresh
    assert later.windows == (("crdt", date(2026, 10, 2), T2), ("mdat", T1, T2))
    # The term changed since the last successful search: from start_date again.
    assert plan_windows(query, _progress(T1, T1), "y[tiab]", T2).fresh
    # --until before the watermark: windows shrink to the day, never run backwards.
    early = plan_windows(query, _progress(T2, T2), "x[tiab]", T1)
    assert early.windows == (("crdt", T1, T1), ("mdat", T1, T1))
    # A start date after --until: just that day.
    assert plan_windows(_query(start_date=T2), None, None, T1).windows == (("crdt", T1, T1),)


def test_new_and_changed_records_are_tagged(
    engine: Engine, queries: list[SavedQuery], stub: EutilsStub, client: EutilsClient
) -> None:
    catalogue = load_catalogue(bundled_dir("queries"))
    assert catalogue is not None
    first = run_monitoring(engine, queries, client, until=T1, catalogue=catalogue)
    assert first.retagged == 4
    b = get_article(engine, str(B.pmid))
    assert b is not None
    assert (b.is_trial, b.evidence_level) == (True, "rct")
    grow(stub)
    stub.today = T2
    second = run_monitoring(engine, queries, client, until=T2, catalogue=catalogue)
    assert second.retagged == 6  # 4 new, 2 changed; C and F keep their tags
    assert run_monitoring(engine, queries, client, until=T2, catalogue=catalogue).retagged == 0
    assert run_monitoring(engine, queries, client, until=T2).retagged is None


def test_a_broken_catalogue_does_not_stop_monitoring(tmp_path: Path) -> None:
    (tmp_path / "claims.toml").write_text("[[claim]]\nid = \n", encoding="utf-8")
    assert load_catalogue(tmp_path) is None
    assert load_catalogue(tmp_path / "elsewhere") is None


def test_a_second_worker_started_mid_run_skips_the_windows_in_progress(
    engine: Engine, queries: list[SavedQuery], stub: EutilsStub, client: EutilsClient
) -> None:
    others: list[Any] = []

    def start_another_worker(event: ProgressEvent) -> None:
        if event.stage == "search" and event.done == 1 and not others:
            with client_for(stub) as second_client:
                others.append(run_monitoring(engine, queries, second_client, until=T1))

    first = run_monitoring(engine, queries, client, until=T1, progress=start_another_worker)
    (second,) = others
    assert first.ok
    assert second.skipped == ["crps", "dystonia"]
    assert second.requests == 0
    # Each window was searched and fetched once.
    assert len(list_searches(engine)) == 2
    assert sorted(fetched_pmids(stub)) == sorted(pmids(A, B, C, F))
