"""Render a 1,000-entry digest and print how long it takes (target: under 2 s).

Builds a temporary SQLite database with 1,000 new papers found by four
queries (one in ten a trial with a registry number, most tagged with one or
two claims, structured abstracts with inline markup), then times the
selection from the database and the rendering of both parts separately.

    .venv/bin/python benchmarks/digest.py [--entries 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Table, insert, update

from litwatch.article import (
    AbstractSection,
    Article,
    Author,
    MeshHeading,
    PartialDate,
    PublicationType,
    RegistryId,
)
from litwatch.config import DigestSettings
from litwatch.db import open_database, write_tx
from litwatch.digest_render import render_parts
from litwatch.digest_select import select_digest
from litwatch.digest_send import load_claims
from litwatch.models import ArticleRow, QueryHit, SearchRun, Tag
from litwatch.resources import bundled_dir
from litwatch.store import save_articles

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
QUERIES = ("ketamine-focal-dystonia", "ketamine-crps", "nmda-movement-disorders", "nmda-rehab")
LEVELS = ("rct", "observational", "case-report", "review", "animal", "other")


def _article(n: int) -> Article:
    pmid = str(90_100_000 + n)
    trial = n % 10 == 0
    sections = (
        AbstractSection(
            "Background text. " * 3, "Background text. " * 3, "BACKGROUND", "BACKGROUND"
        ),
        AbstractSection("Methods text. " * 4, "Methods text. " * 4, "METHODS", "METHODS"),
        AbstractSection(
            "Ketamine changed motor cortex excitability (p < 0.05). Effects lasted a week. "
            "Trials are needed.",
            "Ketamine changed motor cortex excitability (<i>p</i> &lt; 0.05). Effects lasted "
            "a week. Trials are needed.",
            "CONCLUSIONS",
            "CONCLUSIONS",
        ),
    )
    return Article(
        pmid=pmid,
        status="MEDLINE" if n % 3 else "In-Process",
        title=f"Ketamine and NMDA receptor plasticity in dystonia, study {n}",
        title_markup=f"Ketamine and <i>NMDA</i> receptor plasticity in dystonia, study {n}",
        abstract=sections,
        journal_title="Movement Disorders",
        journal_iso="Mov Disord",
        volume="41",
        issue=str(n % 12 + 1),
        pages=f"{n}-{n + 9}",
        pub_date=PartialDate("2026 Nov", 2026, 11),
        authors=tuple(Author(f"Author{i}", "Sam", "S") for i in range(5)),
        publication_types=(
            PublicationType("Randomized Controlled Trial" if trial else "Journal Article"),
        ),
        mesh=(MeshHeading("Ketamine", "D007649", True),) if n % 3 else (),
        doi=f"10.1000/bench.{n}",
        pmcid=f"PMC{9_000_000 + n}" if n % 2 else None,
        registry_ids=(RegistryId("ClinicalTrials.gov", f"NCT{10_000_000 + n:08d}"),)
        if trial
        else (),
        history={"entrez": date(2026, 11, 20)},
    )


def _build(url: str, entries: int) -> None:
    engine = open_database(url)
    save_articles(engine, (_article(n) for n in range(entries)), now=NOW)
    claims = [c.id for c in load_claims(bundled_dir("queries"))] or ["plausible-mechanism"]
    articles = cast(Table, ArticleRow.__table__)
    with write_tx(engine) as conn:
        runs = {
            query: conn.execute(
                insert(cast(Table, SearchRun.__table__))
                .values(
                    run_id="bench",
                    query_name=query,
                    query_hash="0" * 64,
                    term_sent="ketamine",
                    date_field="crdt",
                    window_start=NOW.date(),
                    window_end=NOW.date(),
                    started_at=NOW,
                    status="ok",
                    count=entries // 2,
                    new_count=entries // 2,
                )
                .returning(cast(Table, SearchRun.__table__).c.id)
            ).scalar_one()
            for query in QUERIES
        }
        for n in range(entries):
            article_id = n + 1
            conn.execute(
                update(articles)
                .where(articles.c.id == article_id)
                .values(
                    evidence_level="rct" if n % 10 == 0 else LEVELS[n % len(LEVELS)],
                    is_trial=n % 10 == 0,
                    registry_ids=[f"NCT{10_000_000 + n:08d}"] if n % 10 == 0 else [],
                )
            )
            for query in {QUERIES[n % 4], QUERIES[(n + 1) % 4]}:
                conn.execute(
                    insert(cast(Table, QueryHit.__table__)).values(
                        search_run_id=runs[query], article_id=article_id, query_name=query
                    )
                )
            for claim in {claims[n % len(claims)], claims[(n * 7) % len(claims)]}:
                conn.execute(
                    insert(cast(Table, Tag.__table__)).values(
                        article_id=article_id,
                        claim_id=claim,
                        source="rule",
                        reason={"hits": [{"field": "title", "matched": "ketamine"}]},
                        catalogue_hash="bench",
                        created_at=NOW,
                    )
                )
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        _build(url, args.entries)
        engine = open_database(url)
        settings = DigestSettings(max_entries=args.entries, recipients=("a@example.org",))
        claims = load_claims(bundled_dir("queries"))
        started = time.perf_counter()
        with engine.connect() as conn:
            digest = select_digest(conn, settings, now=NOW, claims=claims)
        selected = time.perf_counter()
        rendered = render_parts(digest)
        finished = time.perf_counter()
        engine.dispose()
    entries = len(digest.new_entries)
    print(f"entries:          {entries}")
    print(f"select (db):      {selected - started:.3f} s")
    print(f"render:           {finished - selected:.3f} s  (text + html; target < 2 s)")
    html_kib, text_kib = len(rendered.html) / 1024, len(rendered.text) / 1024
    print(f"size:             html {html_kib:.0f} KiB, text {text_kib:.0f} KiB")
    return 0 if entries == args.entries else 1


if __name__ == "__main__":
    sys.exit(main())
