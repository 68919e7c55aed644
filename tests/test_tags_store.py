"""Rule tags in the store (SQLite and PostgreSQL): re-tagging, curator tags, evidence per claim."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sample_records import corpus_files
from sqlalchemy import Engine, select

from litwatch import triage
from litwatch.article import Article
from litwatch.claims import Catalogue, load_catalogue
from litwatch.cli import cli
from litwatch.sources import read_records
from litwatch.store import save_articles
from litwatch.store._common import ARTICLES
from litwatch.store.tags import TAGS, claim_evidence, count_stale, retag, tagged_hash
from litwatch.tagging import tag_article

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "queries" / "claims.toml"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def records(*, updates: bool) -> list[Article]:
    paths = [p for p in corpus_files() if (p.parent.name == "updates") is updates]
    return [r for p in paths for r in read_records(p) if isinstance(r, Article)]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(SHIPPED)


@pytest.fixture
def stored(engine: Engine) -> Engine:
    save_articles(engine, records(updates=False), now=NOW)
    return engine


def tag_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(TAGS, ARTICLES.c.pmid)
            .join(ARTICLES, ARTICLES.c.id == TAGS.c.article_id)
            .order_by(ARTICLES.c.pmid, TAGS.c.claim_id, TAGS.c.source)
        )
        return [dict(row._mapping) for row in rows]


def article_rows(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.execute(select(ARTICLES)).all()
    return {str(row.pmid): row for row in rows}


def test_retag_fills_tags_and_columns_once(stored: Engine, catalogue: Catalogue) -> None:
    articles = article_rows(stored)
    assert retag(stored, catalogue, now=NOW) == len(articles)
    assert retag(stored, catalogue, now=NOW) == 0
    assert count_stale(stored, catalogue) == 0
    after = article_rows(stored)
    tags = tag_rows(stored)
    for pmid, row in after.items():
        tagging = tag_article(Article.from_dict(row.data), catalogue)
        assert row.evidence_level == tagging.evidence_level
        assert row.is_trial is tagging.is_trial
        assert row.registry_ids == list(tagging.registry_ids)
        assert row.tagged_hash == tagged_hash(row.content_hash, catalogue)
        mine = [t for t in tags if str(t["pmid"]) == pmid]
        assert sorted(t["claim_id"] for t in mine) == sorted(tagging.claim_ids)
        for tag in mine:
            assert tag["source"] == "rule"
            assert tag["catalogue_hash"] == catalogue.content_hash
            assert tag["reason"]["hits"] or tag["reason"]["via"]
    assert any(row.is_trial for row in after.values())
    assert any(t["reason"].get("via") for t in tags)  # parents carried by children


def test_changed_records_are_retagged_alone(stored: Engine, catalogue: Catalogue) -> None:
    retag(stored, catalogue, now=NOW)
    result = save_articles(stored, records(updates=True), now=NOW)
    assert result.updated
    assert count_stale(stored, catalogue) == len(result.updated)
    assert retag(stored, catalogue, now=NOW) == len(result.updated)
    rows = article_rows(stored)
    retracted = [p for p in result.updated if rows[p].is_retracted]
    assert retracted  # the retraction linked in a later version
    for pmid in result.updated:  # In-Process records indexed since: tags follow the new MeSH
        tagging = tag_article(Article.from_dict(rows[pmid].data), catalogue)
        assert rows[pmid].evidence_level == tagging.evidence_level


def test_curator_tags_are_never_touched(stored: Engine, catalogue: Catalogue) -> None:
    retag(stored, catalogue, now=NOW)
    rule_tagged = next(t for t in tag_rows(stored) if t["claim_id"] == "plausible-mechanism")
    pmid = str(rule_tagged["pmid"])
    triage.tag_article(stored, pmid, "plausible-mechanism", actor="curator-a", now=NOW)
    triage.tag_article(stored, "90000102", "established-treatment", actor="curator-a", now=NOW)
    curator_before = [t for t in tag_rows(stored) if t["source"] == "curator"]
    assert len(curator_before) == 2

    assert retag(stored, catalogue, all=True, now=datetime(2026, 12, 1, tzinfo=UTC)) > 0
    after = tag_rows(stored)
    assert [t for t in after if t["source"] == "curator"] == curator_before
    both = [t["source"] for t in after if str(t["pmid"]) == pmid]
    assert Counter(both)["curator"] == 1
    assert any(
        t["source"] == "rule" and t["claim_id"] == "plausible-mechanism"
        for t in after
        if str(t["pmid"]) == pmid
    )


def test_catalogue_changes_trigger_a_recompute(
    stored: Engine, catalogue: Catalogue, tmp_path: Path
) -> None:
    total = retag(stored, catalogue, now=NOW)
    path = tmp_path / "claims.toml"
    text = SHIPPED.read_text(encoding="utf-8")

    path.write_text(text.replace("Not yet", "Still not").replace("Yes", "Yes!"), encoding="utf-8")
    reworded = load_catalogue(path)
    assert retag(stored, reworded, now=NOW) == 0  # labels and statuses do not change tags

    path.write_text(text.replace('OR "writing cramp"[tiab]', ""), encoding="utf-8")
    edited = load_catalogue(path)
    assert edited.content_hash != catalogue.content_hash
    assert retag(stored, edited, now=NOW) == total
    hashes = {t["catalogue_hash"] for t in tag_rows(stored) if t["source"] == "rule"}
    assert hashes == {edited.content_hash}


def test_broken_claims_file_leaves_tags_untouched(
    stored: Engine, catalogue: Catalogue, db_url: str, tmp_path: Path
) -> None:
    retag(stored, catalogue, now=NOW)
    before = tag_rows(stored)
    columns_before = {p: (r.evidence_level, r.tagged_hash) for p, r in article_rows(stored).items()}
    queries = tmp_path / "queries"
    queries.mkdir()
    shutil.copy(SHIPPED, queries / "claims.toml")
    claims_file = queries / "claims.toml"
    text = claims_file.read_text(encoding="utf-8")
    broken = text.replace(
        '(ketamin*[tiab] OR esketamin*[tiab] OR arketamin*[tiab] OR "Ketamine"[mh])',
        "(ketamin*[tiab] OR",
        1,
    )
    claims_file.write_text(broken, encoding="utf-8")
    line = next(
        n for n, row in enumerate(broken.splitlines(), 1) if row.startswith("(ketamin*[tiab] OR")
    )

    result = CliRunner().invoke(
        cli, ["--db", db_url, "--queries", str(queries), "tags", "recompute", "--all"]
    )
    assert result.exit_code == 1
    # The rule breaks where "AND" follows a dangling "OR", on the next line, column 1.
    assert f"claims.toml:{line + 1}:1: rule: expected a search term after OR" in result.output
    assert tag_rows(stored) == before
    assert {p: (r.evidence_level, r.tagged_hash) for p, r in article_rows(stored).items()} == (
        columns_before
    )


def test_claim_evidence_counts(stored: Engine, catalogue: Catalogue) -> None:
    retag(stored, catalogue, now=NOW)
    rows = article_rows(stored)
    taggings = {p: tag_article(Article.from_dict(r.data), catalogue) for p, r in rows.items()}
    tagged = sorted(p for p, t in taggings.items() if "established-treatment" in t.claim_ids)
    triage.record_stance(stored, tagged[0], "established-treatment", "contradicts", actor="a")
    triage.record_stance(stored, tagged[1], "established-treatment", "supports", actor="a")
    triage.record_stance(stored, tagged[1], "established-treatment", "neutral", actor="a")
    triage.record_decision(stored, tagged[0], "include", actor="a")

    evidence = claim_evidence(stored, catalogue)["established-treatment"]
    assert evidence.articles == len(tagged)
    assert sum(evidence.by_level.values()) == len(tagged)
    levels = Counter(taggings[p].evidence_level for p in tagged)
    assert {k: v for k, v in evidence.by_level.items() if v} == dict(levels)
    assert evidence.trials == sum(taggings[p].is_trial for p in tagged)
    assert evidence.stances == {"contradicts": 1, "neutral": 1}  # the latest stance counts
    assert evidence.decisions["include"] == 1
    assert evidence.decisions["untriaged"] == len(tagged) - 1
    assert set(claim_evidence(stored, catalogue)) == set(catalogue.ids)


def test_a_record_changed_while_being_tagged_is_left_for_the_next_run(
    stored: Engine, catalogue: Catalogue
) -> None:
    from litwatch.store.tags import _write_batch
    from litwatch.tag_rows import tagged_row

    rows = article_rows(stored)
    pmid = "90000201"
    row = rows[pmid]
    tagging = tag_article(Article.from_dict(row.data), catalogue)
    newer = records(updates=True)
    save_articles(stored, [a for a in newer if a.pmid == pmid], now=NOW)  # saved meanwhile
    with stored.begin() as conn:
        stored_row = tagged_row(row.id, row.content_hash, tagging)
        assert _write_batch(conn, catalogue, [stored_row], NOW) == 0
    assert article_rows(stored)[pmid].tagged_hash is None
    assert not [t for t in tag_rows(stored) if str(t["pmid"]) == pmid]
    assert retag(stored, catalogue, now=NOW) == len(rows)
