"""``retag`` in worker processes gives what it gives in-process; catalogues cross to workers."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sample_records import corpus_files
from sqlalchemy import Engine, select

from litwatch.article import Article
from litwatch.claims import Catalogue, catalogue_hash, load_catalogue
from litwatch.cli import cli
from litwatch.parallel import ordered_map
from litwatch.sources import read_records
from litwatch.store import save_articles
from litwatch.store import tags as store_tags
from litwatch.store._common import ARTICLES
from litwatch.store.tags import TAGS, count_stale, retag
from litwatch.tag_rows import tag_rows, tagged_row, to_json
from litwatch.tagging import tag_article

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "queries" / "claims.toml"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(SHIPPED)


def articles() -> list[Article]:
    paths = [p for p in corpus_files() if p.parent.name != "updates"]
    return [r for p in paths for r in read_records(p) if isinstance(r, Article)]


def stored_state(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        tags = conn.execute(
            select(TAGS.c.article_id, TAGS.c.claim_id, TAGS.c.source, TAGS.c.reason).order_by(
                TAGS.c.article_id, TAGS.c.claim_id
            )
        ).all()
        columns = conn.execute(
            select(
                ARTICLES.c.id,
                ARTICLES.c.evidence_level,
                ARTICLES.c.is_trial,
                ARTICLES.c.registry_ids,
                ARTICLES.c.tagged_hash,
            ).order_by(ARTICLES.c.id)
        ).all()
    return [tuple(t) for t in tags], [tuple(c) for c in columns]


def test_a_catalogue_pickles_to_the_same_rules(catalogue: Catalogue) -> None:
    copy = pickle.loads(pickle.dumps(catalogue))
    assert copy is not catalogue
    assert copy.ids == catalogue.ids
    assert catalogue_hash(copy.claims) == catalogue.content_hash == copy.content_hash
    assert [c.rule_text for c in copy] == [c.rule_text for c in catalogue]
    assert pickle.loads(pickle.dumps(catalogue)) is copy  # compiled once per process
    records = articles()
    assert [tag_article(a, copy) for a in records] == [tag_article(a, catalogue) for a in records]


def test_tag_rows_reads_the_stored_json(catalogue: Catalogue) -> None:
    records = articles()
    rows = [(i, f"hash{i}", a.to_json()) for i, a in enumerate(records)]
    expected = [tagged_row(i, f"hash{i}", tag_article(a, catalogue)) for i, a in enumerate(records)]
    assert tag_rows(catalogue, rows) == expected
    assert any(row.tags for row in expected)
    assert any(row.is_trial for row in expected)


def test_workers_store_what_one_process_stores(
    engine: Engine, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_articles(engine, articles(), now=NOW)
    assert retag(engine, catalogue, now=NOW, jobs=1) > 0
    in_process = stored_state(engine)

    monkeypatch.setattr(store_tags, "PARALLEL_FROM", 0)
    spread: list[int] = []

    def spy(function: Any, items: Any, *, jobs: int) -> Any:
        spread.append(jobs)
        return ordered_map(function, items, jobs=jobs)

    monkeypatch.setattr(store_tags, "ordered_map", spy)
    counts: list[int] = []
    total = retag(
        engine, catalogue, all=True, now=NOW, jobs=2, batch_size=7, progress=counts.append
    )
    assert total == len(in_process[1])
    assert spread == [2]
    assert counts == sorted(counts)
    assert counts[-1] == total
    assert len(counts) > 2
    assert stored_state(engine) == in_process
    assert count_stale(engine, catalogue) == 0


def test_recompute_takes_jobs(tmp_path: Path) -> None:
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "claims.toml").write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'litwatch.db'}"
    base = ["--db", db, "--queries", str(queries), "tags", "recompute"]
    result = CliRunner().invoke(cli, [*base, "--jobs", "1", "--all", "--json"])
    assert result.exit_code == 0, result.output
    refused = CliRunner().invoke(cli, [*base, "--jobs", "0"])
    assert refused.exit_code == 2
    assert "--jobs" in refused.output


def test_reasons_are_written_as_the_engine_writes_json(catalogue: Catalogue) -> None:
    def engine_json(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    awkward = ["é 😀 \u2028 \x7f", '\x00\x1f\n\t"\\', "lone \ud800 surrogate"]
    assert to_json({"hits": awkward}) == engine_json({"hits": awkward})
    reasons = [tag.reason() for a in articles() for tag in tag_article(a, catalogue).claims]
    assert reasons
    assert [to_json(r) for r in reasons] == [engine_json(r) for r in reasons]


def test_a_record_saved_while_workers_tag_it_is_left_for_the_next_run(
    engine: Engine, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = articles()
    save_articles(engine, records, now=NOW)
    with engine.connect() as conn:
        ids = conn.execute(select(ARTICLES.c.id, ARTICLES.c.pmid).order_by(ARTICLES.c.id)).all()
    # Batches of 7, four in flight: when the first is written, the second was read
    # (and sent to a worker) already. A record of the second is saved again then.
    article_id, pmid = ids[9]
    old = next(a for a in records if a.pmid == str(pmid))
    newer = replace(old, version=old.version + 1, title=f"{old.title} (revised)")
    saved: list[int] = []

    def save_once(done: int) -> None:
        if not saved:
            saved.append(done)
            save_articles(engine, [newer], now=NOW)

    monkeypatch.setattr(store_tags, "PARALLEL_FROM", 0)
    total = retag(engine, catalogue, now=NOW, jobs=2, batch_size=7, progress=save_once)
    assert saved == [7]
    assert total == len(ids) - 1
    with engine.connect() as conn:
        row = conn.execute(select(ARTICLES).where(ARTICLES.c.id == article_id)).one()
        tags = conn.execute(select(TAGS).where(TAGS.c.article_id == article_id)).all()
    assert row.tagged_hash is None
    assert row.data["title"].endswith("(revised)")
    assert tags == []
    assert count_stale(engine, catalogue) == 1
    assert retag(engine, catalogue, now=NOW, jobs=2) == 1
    assert count_stale(engine, catalogue) == 0


UNGUARDED_RETAG = """
from datetime import UTC, datetime
from pathlib import Path
from litwatch.claims import load_catalogue
from litwatch.db import open_database
from litwatch.importing import import_paths
from litwatch.store import tags
engine = open_database({url!r})
import_paths(engine, [Path(p) for p in {paths!r}], now=datetime.now(UTC), jobs=1)
tags.PARALLEL_FROM = 0
print("tagged", tags.retag(engine, load_catalogue(Path({claims!r})), all=True, jobs=2,
                           batch_size=10))
"""


@pytest.mark.slow
def test_workers_that_cannot_start_leave_the_tagging_to_this_process(tmp_path: Path) -> None:
    """A worker that dies (here: a script without a __main__ guard, which every
    spawned worker re-runs and which cannot start workers of its own) breaks the
    pool; retag then tags the rest in-process instead of failing."""
    paths = [str(p) for p in corpus_files() if p.parent.name != "updates"]
    script = tmp_path / "unguarded.py"
    script.write_text(
        UNGUARDED_RETAG.format(
            url=f"sqlite:///{tmp_path / 'x.db'}", paths=paths, claims=str(SHIPPED)
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"tagged {len(articles())}"
    assert "tagging the rest in this process" in done.stderr
