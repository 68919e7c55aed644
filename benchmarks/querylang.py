"""How fast a rule catalogue runs over stored records: articles/s, indexing included.

    .venv/bin/python benchmarks/querylang.py [-n 100000] [--rules 30]

The catalogue is the shipped one: every rule in queries/claims.toml and every
saved search in queries/*.toml, topped up to ``--rules`` with well-formed real
strategies from ../shared/fixtures/queries/queries.tsv (shortest first). The
records are every real PubMed record in ../shared/fixtures/real, repeated to
``-n``. Timed per record: ``IndexedArticle.from_article`` plus every rule's
``matches``. Target (contracts.md): at least 5,000 articles/s for 30 rules.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
import time
import tomllib
from pathlib import Path

from litwatch.article import Article
from litwatch.errors import LitwatchError
from litwatch.pubmed_xml import parse_pubmed_xml
from litwatch.querylang import IndexedArticle, Matcher, compile_query

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "fixtures"


def catalogue(size: int) -> list[tuple[str, Matcher]]:
    rules: list[tuple[str, str]] = []
    claims = tomllib.loads((REPO / "queries" / "claims.toml").read_text("utf-8"))
    rules.extend((c["id"], c["rule"]) for c in claims.get("claim", []) if "rule" in c)
    for path in sorted((REPO / "queries").glob("*.toml")):
        data = tomllib.loads(path.read_text("utf-8"))
        if "term" in data:
            rules.append((path.stem, data["term"]))
    csv.field_size_limit(10**7)
    with (SHARED / "queries" / "queries.tsv").open(newline="", encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle, delimiter="\t"), key=lambda r: len(r["query"]))
    compiled = []
    for name, text in rules:
        compiled.append((name, compile_query(text)))
    for row in rows:
        if len(compiled) >= size:
            break
        try:
            compiled.append((row["id"], compile_query(row["query"])))
        except LitwatchError:
            continue  # the malformed strategies
    return compiled[:size]


def real_records() -> list[Article]:
    records: list[Article] = []
    for path in sorted((SHARED / "real").rglob("*.xml")):
        try:
            records.extend(r for r in parse_pubmed_xml(path) if isinstance(r, Article))
        except LitwatchError:
            continue  # E-utilities responses that are not PubMed records
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="records to evaluate")
    parser.add_argument("--rules", type=int, default=30, help="rules in the catalogue")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"shared fixtures not found at {SHARED}")
    rules = catalogue(args.rules)
    records = real_records()
    print(f"{len(rules)} rules, {len(records)} distinct real records, {args.n:,} evaluations")

    hits = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for article in itertools.islice(itertools.cycle(records), args.n):
        doc = IndexedArticle.from_article(article)
        for _, matcher in rules:
            if matcher.matches(doc):
                hits += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{hits:,} rule matches")
    # CPU time is the figure to compare on a shared machine; wall time is what a user waits.
    print(f"{args.n / wall:,.0f} articles/s wall ({wall:.2f} s)")
    print(f"{args.n / cpu:,.0f} articles/s CPU ({cpu:.2f} s)")


if __name__ == "__main__":
    main()
