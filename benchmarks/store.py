"""How fast ``save_articles`` stores records: articles/s into a fresh SQLite file.

    .venv/bin/python benchmarks/store.py [-n 20000] [--db URL]

Builds N realistic records in memory (about the size of a real MEDLINE record:
structured abstract, a dozen authors with affiliations, MeSH with qualifiers),
then times, on a fresh database: (1) saving them all (new rows), (2) saving
them all again unchanged (the re-import path), (3) saving them with changed
content (the update path). The figures include JSON serialisation and hashing,
which are part of every save. Target (issue 2): at least ~8,000 articles/s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from litwatch.article import (
    AbstractSection,
    Article,
    Author,
    MeshHeading,
    PartialDate,
    PublicationType,
    Qualifier,
    RegistryId,
)
from litwatch.db import open_database
from litwatch.store import SaveResult, save_articles

_SENTENCE = (
    "Ketamine, an N-methyl-D-aspartate receptor antagonist, modulates cortical plasticity "
    "and sensorimotor integration in patients with focal hand dystonia. "
)


def template() -> Article:
    return Article(
        pmid="1",
        status="MEDLINE",
        title="Low-dose ketamine paired with occupational therapy in writer's cramp",
        title_markup="Low-dose ketamine paired with occupational therapy in writer's cramp",
        abstract=tuple(
            AbstractSection(_SENTENCE * 3, _SENTENCE * 3, label, label)
            for label in ("BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS")
        ),
        journal_title="Movement disorders : official journal of the Movement Disorder Society",
        journal_iso="Mov Disord",
        issn="1531-8257",
        volume="39",
        issue="4",
        pages="612-621",
        pub_date=PartialDate("2024 Apr", 2024, 4),
        authors=tuple(
            Author(
                f"Author{i}",
                "Anna Maria",
                "AM",
                None,
                None,
                (f"Department of Neurology, University Hospital {i}, Berlin, Germany.",),
            )
            for i in range(12)
        ),
        languages=("eng",),
        publication_types=(
            PublicationType("Journal Article", "D016428"),
            PublicationType("Randomized Controlled Trial", "D016449"),
        ),
        mesh=tuple(
            MeshHeading(
                f"Descriptor {i}",
                f"D{i:06d}",
                i % 3 == 0,
                (Qualifier("drug therapy", "Q000188", i % 2 == 0),),
            )
            for i in range(15)
        ),
        keywords=("ketamine", "focal dystonia", "writer's cramp", "NMDA", "plasticity"),
        chemicals=("Ketamine",),
        doi="10.1002/mds.29700",
        registry_ids=(RegistryId("ClinicalTrials.gov", "NCT02149199"),),
        history={"entrez": date(2024, 1, 5), "pubmed": date(2024, 1, 6)},
        date_revised=date(2024, 5, 1),
    )


def make_articles(n: int, first_pmid: int = 40_000_000) -> list[Article]:
    base = template()
    return [
        replace(
            base,
            pmid=str(first_pmid + i),
            title=f"{base.title} ({i})",
            doi=f"10.1002/mds.{first_pmid + i}",
        )
        for i in range(n)
    ]


def timed(label: str, n: int, run: Callable[[], SaveResult]) -> None:
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    print(f"{label:<28} {n:>8,} articles  {seconds:7.2f} s  {n / seconds:>9,.0f} articles/s")
    print(f"{'':<28} new={result.n_new} updated={result.n_updated} unchanged={result.n_unchanged}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="number of articles (20,000)")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()

    articles = make_articles(args.n)
    changed = [replace(a, keywords=(*a.keywords, "new keyword")) for a in articles]
    now = datetime(2026, 11, 24, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = open_database(url)
        print(f"database: {engine.url.render_as_string(hide_password=True)}")
        timed("save (new)", args.n, lambda: save_articles(engine, articles, now=now))
        later = now + timedelta(days=1)
        timed(
            "save again (unchanged)",
            args.n,
            lambda: save_articles(engine, articles, now=later),
        )
        timed(
            "save changed (updated)",
            args.n,
            lambda: save_articles(engine, changed, now=later + timedelta(days=1)),
        )
        engine.dispose()


if __name__ == "__main__":
    main()
