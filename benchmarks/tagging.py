"""Tagging: how right (per claim, on the sample corpus) and how fast (``tags recompute``).

    .venv/bin/python benchmarks/tagging.py [-n 100000] [--corpus sample|real] [--db URL]
                                           [--jobs N] [--skip-speed]

1. Precision and recall per claim over the bundled sample corpus (latest
   version of each record) against tests/data/sample_expectations.toml, the
   table written by hand before the tagger ran. Evidence level and trial flag
   accuracy too.
2. ``tags recompute`` speed: N stored articles in a fresh SQLite file (or
   ``--db``), copied under fresh PMIDs, each copy's title and abstract made
   unique, from ``--corpus``: ``sample`` (default), the sample corpus, nearly
   all on-topic so every rule runs deep, but with short synthetic abstracts;
   ``real``, every real record in ../shared/fixtures/real, full-length
   abstracts on many topics. Then ``retag(all=True)``
   timed end to end (read, tag, replace tags, update articles, commit), and
   the pure tagger alone for comparison. Target (issue 5): >= 5,000 articles/s.
   CPU time counts the worker processes too (``--jobs``, default one per CPU).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tomllib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from litwatch.article import Article
from litwatch.claims import Catalogue, load_catalogue
from litwatch.db import open_database
from litwatch.errors import InputError
from litwatch.querylang import IndexedArticle
from litwatch.resources import sample_corpus_dir
from litwatch.sources import read_records
from litwatch.store import save_articles
from litwatch.store.tags import TAGS, retag
from litwatch.tagging import tag_article

REPO = Path(__file__).resolve().parent.parent
REAL_FIXTURES = REPO.parent / "shared" / "fixtures" / "real"
EXPECTATIONS = REPO / "tests" / "data" / "sample_expectations.toml"


def corpus() -> dict[str, Article]:
    root = sample_corpus_dir()
    latest: dict[str, Article] = {}
    for path in sorted(root.glob("*.xml")) + sorted((root / "updates").glob("*.xml")):
        for record in read_records(path):
            if isinstance(record, Article):
                latest[record.pmid] = record
    return latest


def real_records(root: Path = REAL_FIXTURES) -> list[Article]:
    """Every real record (PubMed XML and MEDLINE) saved under ``root``, each PMID once."""
    found: dict[str, Article] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix != ".tsv"):
        try:
            for record in read_records(path):
                if isinstance(record, Article):
                    found.setdefault(record.pmid, record)
        except InputError:
            continue  # the deliberately broken files the import tests use
    if not found:
        raise SystemExit(f"no real records found under {root}")
    return list(found.values())


def accuracy(catalogue: Catalogue, articles: dict[str, Article]) -> None:
    table = tomllib.loads(EXPECTATIONS.read_text(encoding="utf-8"))["records"]
    tagged = {pmid: tag_article(articles[pmid], catalogue) for pmid in table}
    print(f"Sample corpus: {len(table)} records, {len(catalogue)} claims")
    header = f"{'claim':38} {'expected':>8} {'tagged':>6} {'TP':>4} {'FP':>4} {'FN':>4}"
    print(f"{header}  precision  recall")
    for claim in catalogue:
        want = {p for p, e in table.items() if claim.id in e["claims"] + e["other_claims"]}
        got = {p for p, t in tagged.items() if claim.id in t.claim_ids}
        tp, fp, fn = len(want & got), len(got - want), len(want - got)
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn) if tp + fn else float("nan")
        print(
            f"{claim.id:38} {len(want):8} {len(got):6} {tp:4} {fp:4} {fn:4}"
            f"  {precision:9.2f}  {recall:6.2f}"
        )
        for pmid in sorted(got - want):
            print(f"{'':40}false positive: {pmid} {articles[pmid].title[:60]}")
        for pmid in sorted(want - got):
            print(f"{'':40}false negative: {pmid} {articles[pmid].title[:60]}")
    level_ok = sum(t.evidence_level == table[p]["evidence"] for p, t in tagged.items())
    trial_ok = sum(t.is_trial is table[p]["trial"] for p, t in tagged.items())
    print(
        f"evidence level right: {level_ok}/{len(table)}; trial flag right: {trial_ok}/{len(table)}"
    )


def cpu_time() -> float:
    """CPU seconds of this process and of its finished children (retag's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def distinct_copy(article: Article, pmid: int) -> Article:
    """``article`` under a fresh PMID, its title and abstract made unique by a number
    no rule looks for: real records differ, and caches keyed on the text (word
    offsets, folded headings) must not see the same 64 texts over and over."""
    mark = f" ({pmid})"
    abstract = article.abstract
    if abstract:
        last = abstract[-1]
        abstract = (*abstract[:-1], replace(last, text=last.text + mark, markup=last.markup + mark))
    return replace(
        article,
        pmid=str(pmid),
        doi=None,
        title=article.title + mark,
        title_markup=article.title_markup + mark,
        abstract=abstract,
    )


def speed(
    catalogue: Catalogue,
    records: list[Article],
    n: int,
    db_url: str | None,
    jobs: int | None,
) -> None:
    words = sum(len(r.abstract_text.split()) for r in records) / len(records)
    print(f"\nSpeed over {len(records)} distinct records, {words:.0f} abstract words on average")
    copies = [distinct_copy(records[i % len(records)], 10_000_000 + i) for i in range(n)]
    sample = copies[: min(n, 20_000)]
    start = time.process_time()
    for article in sample:
        tag_article(article, catalogue)
    pure = len(sample) / (time.process_time() - start)
    start = time.process_time()
    for article in sample:
        doc = IndexedArticle.from_article(article)
        for claim in catalogue:
            claim.matcher.matches(doc)
    matching = len(sample) / (time.process_time() - start)

    with tempfile.TemporaryDirectory() as folder:
        url = db_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = open_database(url)
        try:
            start = time.perf_counter()
            save_articles(engine, copies, now=datetime.now(UTC))
            saved = time.perf_counter() - start
            start, cpu, main_cpu = time.perf_counter(), cpu_time(), time.process_time()
            count = retag(engine, catalogue, all=True, jobs=jobs)
            elapsed, cpu = time.perf_counter() - start, cpu_time() - cpu
            main_cpu = time.process_time() - main_cpu
            with engine.connect() as conn:
                tags = conn.execute(select(func.count()).select_from(TAGS)).scalar_one()
        finally:
            engine.dispose()
    print(f"Stored {n} articles in {saved:.1f} s ({engine.url.get_backend_name()})")
    print(f"rules alone (fold + match, no reasons): {matching:,.0f} articles/s of CPU")
    print(f"tagger alone (claims with reasons, evidence, trials): {pure:,.0f} articles/s of CPU")
    print(
        f"tags recompute --all: {count} articles, {tags} rule tags in {elapsed:.1f} s"
        f" = {count / elapsed:,.0f} articles/s wall, {count / cpu:,.0f} articles/s of CPU"
        " (target >= 5,000)"
    )
    print(f"  of which the main process (read, write): {count / main_cpu:,.0f} articles/s of CPU")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="stored articles to re-tag")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--jobs", type=int, help="tagging processes (default: one per CPU)")
    parser.add_argument(
        "--corpus", choices=("sample", "real"), default="sample", help="records to copy"
    )
    parser.add_argument("--skip-speed", action="store_true", help="accuracy only")
    args = parser.parse_args()
    catalogue = load_catalogue(REPO / "queries" / "claims.toml")
    articles = corpus()
    accuracy(catalogue, articles)
    if not args.skip_speed:
        records = list(articles.values()) if args.corpus == "sample" else real_records()
        speed(catalogue, records, args.n, args.db, args.jobs)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
