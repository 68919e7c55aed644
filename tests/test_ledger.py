"""The search ledger, query watermarks and hit links, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from litwatch.article import Article
from litwatch.db import write_tx
from litwatch.errors import StoreError
from litwatch.store import save_articles
from litwatch.store.ledger import (
    INTERRUPTED,
    QUERY_HITS,
    all_progress,
    article_ids,
    close_interrupted,
    fail_search,
    finish_search,
    get_progress,
    hit_pmids,
    last_term,
    link_hits,
    list_searches,
    record_answer,
    reset_progress,
    save_progress,
    start_search,
)

T0 = datetime(2026, 11, 2, 5, 17, tzinfo=UTC)


def _start(engine: Engine, query: str = "q1", field: str = "crdt", *, at: datetime = T0) -> int:
    with write_tx(engine) as conn:
        return start_search(
            conn,
            run_id="run-1",
            query_name=query,
            query_hash="h" * 64,
            term_sent="ketamin*[tiab] AND dystoni*[tiab]",
            date_field=field,
            window_start=date(2026, 10, 20),
            window_end=date(2026, 11, 2),
            started_at=at,
        )


def test_search_row_lifecycle(engine: Engine) -> None:
    search_id = _start(engine)
    (row,) = list_searches(engine)
    assert (row.id, row.status, row.count, row.errors, row.finished_at) == (
        search_id,
        "running",
        None,
        [],
        None,
    )
    with write_tx(engine) as conn:
        record_answer(
            conn,
            search_id,
            count=12,
            query_translation='"ketamine"[All Fields] AND dystoni*[tiab]',
            errors=["PhraseNotFound: fleegle"],
            warnings=['QuotedPhraseNotFound: "writer\'s cramp"'],
            request_count=1,
        )
    (row,) = list_searches(engine)
    assert (row.status, row.count, row.errors) == ("running", 12, ["PhraseNotFound: fleegle"])
    with write_tx(engine) as conn:
        finish_search(
            conn,
            search_id,
            finished_at=T0 + timedelta(seconds=9),
            new=7,
            known=4,
            updated=1,
            request_count=3,
        )
    (row,) = list_searches(engine)
    assert row.to_dict() | {"started_at": None} == {
        "id": search_id,
        "run_id": "run-1",
        "query_name": "q1",
        "query_hash": "h" * 64,
        "term_sent": "ketamin*[tiab] AND dystoni*[tiab]",
        "query_translation": '"ketamine"[All Fields] AND dystoni*[tiab]',
        "errors": ["PhraseNotFound: fleegle"],
        "warnings": ['QuotedPhraseNotFound: "writer\'s cramp"'],
        "date_field": "crdt",
        "window_start": date(2026, 10, 20),
        "window_end": date(2026, 11, 2),
        "count": 12,
        "new_count": 7,
        "known_count": 4,
        "updated_count": 1,
        "request_count": 3,
        "started_at": None,
        "finished_at": T0 + timedelta(seconds=9),
        "status": "ok",
        "error": None,
    }
    assert row.started_at == T0


def test_failed_and_interrupted_searches(engine: Engine) -> None:
    failed = _start(engine, "q1")
    left_running = _start(engine, "q1", "mdat")
    other_query = _start(engine, "q2")
    with write_tx(engine) as conn:
        fail_search(conn, failed, finished_at=T0, error="efetch: gave up after 6 attempts")
        assert close_interrupted(conn, "q1", now=T0 + timedelta(hours=1)) == 1
    rows = {r.id: r for r in list_searches(engine)}
    assert (rows[failed].status, rows[failed].error) == (
        "failed",
        "efetch: gave up after 6 attempts",
    )
    assert (rows[left_running].status, rows[left_running].error) == ("failed", INTERRUPTED)
    assert rows[left_running].finished_at == T0 + timedelta(hours=1)
    assert rows[other_query].status == "running"  # another query's row is not ours to close


def test_a_watermark_is_never_stored_after_today(engine: Engine) -> None:
    today = datetime.now(UTC).date()
    with write_tx(engine) as conn:
        save_progress(
            conn,
            "q1",
            run_at=T0,
            status="ok",
            file_hash="a",
            watermark=today + timedelta(days=60),
            mdat_watermark=today + timedelta(days=60),
        )
        save_progress(
            conn, "q1", run_at=T0, status="ok", file_hash="a", watermark=today + timedelta(days=1)
        )
    progress = get_progress(engine, "q1")
    assert progress is not None
    assert (progress.watermark, progress.mdat_watermark) == (today, today)


def test_watermarks_only_move_forward(engine: Engine) -> None:
    assert get_progress(engine, "q1") is None
    with write_tx(engine) as conn:
        save_progress(conn, "q1", run_at=T0, status="failed", file_hash="a")
    progress = get_progress(engine, "q1")
    assert progress is not None
    assert (progress.watermark, progress.mdat_watermark, progress.last_status) == (
        None,
        None,
        "failed",
    )
    with write_tx(engine) as conn:
        save_progress(
            conn,
            "q1",
            run_at=T0,
            status="ok",
            file_hash="b",
            watermark=date(2026, 11, 2),
            mdat_watermark=date(2026, 11, 2),
        )
        save_progress(
            conn,
            "q1",
            run_at=T0 + timedelta(days=1),
            status="ok",
            file_hash="b",
            watermark=date(2026, 10, 1),
        )
    progress = all_progress(engine)["q1"]
    assert progress.watermark == date(2026, 11, 2)  # an earlier --until never moves it back
    assert progress.mdat_watermark == date(2026, 11, 2)
    assert (progress.file_hash, progress.last_run_at) == ("b", T0 + timedelta(days=1))
    with write_tx(engine) as conn:
        assert reset_progress(conn, "q1")
    progress = get_progress(engine, "q1")
    assert progress is not None
    assert progress.watermark is None


def test_hits_are_linked_once_per_query(engine: Engine) -> None:
    save_articles(engine, [Article(pmid=p, title=f"Title {p}") for p in ("11", "12", "13")], now=T0)
    ids = article_ids(engine, ["11", "12", "13", "99"])
    assert set(ids) == {"11", "12", "13"}
    first = _start(engine, "q1")
    second = _start(engine, "q1", at=T0 + timedelta(days=7))
    other = _start(engine, "q2")
    with write_tx(engine) as conn:
        assert link_hits(conn, first, "q1", [ids["11"], ids["12"], ids["12"]]) == 2
        # A later search of the same query meets 12 again: not a new hit.
        assert link_hits(conn, second, "q1", [ids["12"], ids["13"]]) == 1
        assert link_hits(conn, other, "q2", [ids["12"]]) == 1
    assert hit_pmids(engine) == {("q1", "11"), ("q1", "12"), ("q1", "13"), ("q2", "12")}
    assert hit_pmids(engine, "q2") == {("q2", "12")}
    with engine.connect() as conn:
        by_search = dict(
            conn.execute(
                select(QUERY_HITS.c.search_run_id, func.count()).group_by(
                    QUERY_HITS.c.search_run_id
                )
            ).all()
        )
    assert by_search == {first: 2, second: 1, other: 1}


def test_listing_filters_and_last_term(engine: Engine) -> None:
    ids = [_start(engine, q, at=T0 + timedelta(days=n)) for n, q in enumerate(("a", "b", "a"))]
    with write_tx(engine) as conn:
        finish_search(conn, ids[0], finished_at=T0, new=0, known=0, updated=0)
    assert [r.id for r in list_searches(engine)] == ids[::-1]
    assert [r.id for r in list_searches(engine, newest_first=False)] == ids
    assert [r.id for r in list_searches(engine, query="a")] == [ids[2], ids[0]]
    assert [r.id for r in list_searches(engine, query=["a", "b"], limit=1)] == [ids[2]]
    assert [r.id for r in list_searches(engine, status="ok")] == [ids[0]]
    assert [
        r.id
        for r in list_searches(
            engine, started_from=T0 + timedelta(days=1), started_before=T0 + timedelta(days=2)
        )
    ] == [ids[1]]
    assert last_term(engine, "a") == "ketamin*[tiab] AND dystoni*[tiab]"
    assert last_term(engine, "b") is None  # never completed


def test_naive_times_are_refused(engine: Engine) -> None:
    with pytest.raises(StoreError, match="timezone-aware"), write_tx(engine) as conn:
        save_progress(conn, "q", run_at=datetime(2026, 1, 1), status="ok", file_hash="x")
