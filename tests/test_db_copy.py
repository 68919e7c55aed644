"""``litwatch db copy``: every table moved with nothing lost, SQLite ↔ PostgreSQL.

The source database holds a row in every copied table (articles with
non-ASCII JSON, a ledger row, hits, tags, triage events referring to each
other, a digest), so a type that does not survive a dialect change shows up
as a hash mismatch.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from litwatch.article import Article, Author, PartialDate
from litwatch.cli import cli
from litwatch.db import open_database, write_tx
from litwatch.db.copy import copied_tables, copy_database, table_digest
from litwatch.demo import run_demo
from litwatch.errors import StoreError
from litwatch.models import (
    Digest,
    DigestItem,
    QueryHit,
    QueryState,
    SearchRun,
    Tag,
    TriageEvent,
)
from litwatch.store import get_article, list_articles, save_articles

NOW = datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=UTC)


def fill(url: str) -> None:
    engine = open_database(url)
    articles = [
        Article(
            pmid=str(90000100 + n),
            title=f"Kétamine et crampe de l’écrivain {n} <i>in vivo</i>",
            authors=(Author("Müller", "Zoë", "Z"),),
            pub_date=PartialDate("2026 Oct", 2026, 10),
            history={"entrez": date(2026, 10, n + 1)},
        )
        for n in range(5)
    ]
    save_articles(engine, articles, now=NOW)
    first = get_article(engine, "90000100")
    assert first is not None
    with write_tx(engine) as conn:
        run = conn.execute(
            insert(SearchRun.__table__).returning(SearchRun.__table__.c.id),
            {
                "run_id": "r1", "query_name": "ketamine-crps", "query_hash": "abc",
                "term_sent": "ketamine[tiab]", "query_translation": '"ketamine"[All Fields]',
                "errors": [], "warnings": ["PhraseIgnored: the"], "date_field": "crdt",
                "window_start": date(2026, 10, 1), "window_end": date(2026, 10, 8), "count": 5,
                "new_count": 5, "known_count": 0, "updated_count": 0, "request_count": 2,
                "started_at": NOW, "finished_at": NOW, "status": "ok",
            },
        ).scalar_one()  # fmt: skip
        conn.execute(
            insert(QueryHit.__table__),
            {"search_run_id": run, "article_id": first.id, "query_name": "ketamine-crps"},
        )
        conn.execute(
            insert(QueryState.__table__),
            {"name": "ketamine-crps", "watermark": date(2026, 10, 8), "last_run_at": NOW},
        )
        conn.execute(
            insert(Tag.__table__),
            {"article_id": first.id, "claim_id": "trials-needed", "source": "rule",
             "reason": {"field": "title", "words": ["kétamine"]}, "created_at": NOW},
        )  # fmt: skip
        decided = conn.execute(
            insert(TriageEvent.__table__).returning(TriageEvent.__table__.c.id),
            {"article_id": first.id, "kind": "decision", "decision": "include",
             "actor": "zoë", "at": NOW},
        ).scalar_one()  # fmt: skip
        conn.execute(
            insert(TriageEvent.__table__),
            {"article_id": first.id, "kind": "decision", "decision": None,
             "previous_decision": "include", "undoes_event_id": decided, "actor": "zoë",
             "at": NOW},
        )  # fmt: skip
        digest = conn.execute(
            insert(Digest.__table__).returning(Digest.__table__.c.id),
            {"name": "weekly", "message_id": "<x@litwatch>", "subject": "s",
             "recipients": ["a@example.org"], "period_start": NOW, "period_end": NOW,
             "status": "sent", "transport": "outbox", "created_at": NOW, "sent_at": NOW},
        ).scalar_one()  # fmt: skip
        conn.execute(
            insert(DigestItem.__table__),
            {"digest_id": digest, "article_id": first.id, "item_kind": "new",
             "digest_name": "weekly"},
        )  # fmt: skip
    engine.dispose()


def digests(url: str) -> dict[str, tuple[int, str]]:
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            return {t.name: table_digest(conn, t) for t in copied_tables()}
    finally:
        engine.dispose()


def test_sqlite_to_sqlite_copies_every_row(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path}/a.db"
    target = f"sqlite:///{tmp_path}/b.db"
    fill(source)
    report = copy_database(source, target)
    assert report.ok
    assert {t.table: t.rows for t in report.tables}["articles"] == 5
    assert all(t.rows > 0 for t in report.tables)
    assert digests(source) == digests(target)
    # The copy is usable: new rows get fresh ids after the copied ones.
    engine = open_database(target)
    save_articles(engine, [Article(pmid="90000999", title="later")], now=NOW)
    later = get_article(engine, "90000999")
    engine.dispose()
    assert later is not None
    assert later.id == 6


def test_a_sqlite_copy_is_searchable(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path}/a.db"
    target = f"sqlite:///{tmp_path}/b.db"
    fill(source)
    copy_database(source, target)
    engine = open_database(target)
    try:
        found = list_articles(engine, search="ketamine crampe")
    finally:
        engine.dispose()
    assert len(found) == 5


def test_refuses_a_target_with_rows(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path}/a.db"
    target = f"sqlite:///{tmp_path}/b.db"
    fill(source)
    fill(target)
    before = digests(target)
    with pytest.raises(StoreError, match="already has rows in articles"):
        copy_database(source, target)
    assert digests(target) == before


@pytest.mark.postgres
def test_round_trip_through_postgresql(tmp_path: Path, postgres_url: str) -> None:
    source = f"sqlite:///{tmp_path}/a.db"
    back = f"sqlite:///{tmp_path}/back.db"
    fill(source)
    assert copy_database(source, postgres_url).ok
    assert digests(postgres_url) == digests(source)
    # Sequences moved past the copied ids: a new article gets a fresh id on PostgreSQL.
    engine = open_database(postgres_url)
    save_articles(engine, [Article(pmid="90000999", title="later")], now=NOW)
    later = get_article(engine, "90000999")
    engine.dispose()
    assert later is not None
    assert later.id == 6
    assert copy_database(postgres_url, back).ok
    assert digests(back)["articles"][0] == 6


def test_cli_copy_and_check(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path}/a.db"
    target = f"sqlite:///{tmp_path}/b.db"
    fill(source)
    runner = CliRunner()
    copied = runner.invoke(cli, ["--db", source, "db", "copy", "--to", target])
    assert copied.exit_code == 0, copied.output
    assert "5 rows" in copied.output
    checked = runner.invoke(cli, ["--db", target, "db", "check"])
    assert checked.exit_code == 0, checked.output
    assert "schema:" in checked.output
    missing = runner.invoke(
        cli, ["--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "db", "check"]
    )
    assert missing.exit_code == 1
    assert "unreachable" in missing.output


@pytest.mark.postgres
@pytest.mark.slow
def test_the_demo_database_round_trips_through_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    run_demo(tmp_path / "demo", weeks=3)
    demo = f"sqlite:///{tmp_path / 'demo' / 'litwatch.db'}"
    back = f"sqlite:///{tmp_path}/back.db"
    before = digests(demo)
    assert before["articles"][0] > 0
    assert before["search_runs"][0] > 0
    assert before["digests"][0] > 0
    assert before["tags"][0] > 0
    assert copy_database(demo, postgres_url).ok
    assert digests(postgres_url) == before
    assert copy_database(postgres_url, back).ok
    assert digests(back) == before
