"""Requests a monitoring run makes, against the minimum and against a naive per-query fetch.

For Q queries and U new-or-changed PMIDs the minimum is one ESearch per
window (Q on a query's first run, which has only its create-date window;
2Q afterwards: create date and modification date) plus ceil(U / batch)
EFetch calls. A naive monitor fetches each query's hits on its own: the
same searches, plus ceil(hits_q / batch) EFetch calls per query, fetching
again what is stored and what another query already fetched.

Scenario: the four shipped queries (ketamine + focal dystonia, ketamine +
CRPS, NMDA antagonists in movement disorders, NMDA neurorehabilitation),
which overlap (a paper on ketamine for dystonia in CRPS matches three), over
a synthetic PubMed that grows week by week: new records every day, and
records revised after first sight (MeSH added on indexing, some retracted).
Everything runs against the local E-utilities stub; requests are counted in
its log.

    .venv/bin/python benchmarks/run_requests.py [--records-per-day 40] [--weeks 6] [--batch 200]
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import requests

from litwatch.config import EutilsSettings
from litwatch.db import open_database
from litwatch.eutils import EutilsClient
from litwatch.pipeline import run_monitoring
from litwatch.queries import load_queries
from litwatch.resources import bundled_dir
from litwatch.run_summary import RunSummary
from litwatch.testing.eutils_stub import EutilsStub
from litwatch.testing.stub_corpus import StubCorpus

FIRST_DAY = date(2026, 1, 5)  # a Monday; the first run covers the weeks before it

# Title fragments by topic: a record takes one to three, so queries overlap.
DRUGS = ("Ketamine", "Esketamine", "Amantadine", "Memantine", "Dextromethorphan")
TOPICS = {
    "dystonia": ("writer's cramp", "focal hand dystonia", "cervical dystonia"),
    "crps": ("complex regional pain syndrome", "CRPS type 1"),
    "movement": ("levodopa-induced dyskinesia", "Parkinson's disease", "essential tremor"),
    "rehab": ("motor rehabilitation", "occupational therapy", "motor learning"),
    "off-topic": ("treatment-resistant depression", "postoperative analgesia"),
}
MESH = {
    "dystonia": "Dystonia",
    "crps": "Complex Regional Pain Syndromes",
    "movement": "Movement Disorders",
    "rehab": "Neurological Rehabilitation",
    "off-topic": "Depressive Disorder, Treatment-Resistant",
}


def record_xml(
    pmid: int,
    title: str,
    created: date,
    mesh: tuple[str, ...],
    revised: date | None,
    retracted: bool,
) -> bytes:
    def day(tag: str, value: date, attrs: str = "") -> str:
        return (
            f"<{tag}{attrs}><Year>{value.year}</Year><Month>{value.month:02d}</Month>"
            f"<Day>{value.day:02d}</Day></{tag}>"
        )

    headings = "".join(
        f'<MeshHeading><DescriptorName UI="D{900000 + n}" MajorTopicYN="N">{escape(m)}'
        "</DescriptorName></MeshHeading>"
        for n, m in enumerate(mesh)
    )
    comments = (
        '<CommentsCorrectionsList><CommentsCorrections RefType="RetractionIn">'
        "<RefSource>J Synth Rec. 2026</RefSource></CommentsCorrections></CommentsCorrectionsList>"
        if retracted
        else ""
    )
    status = "MEDLINE" if mesh else "Publisher"
    return (
        f'<PubmedArticle><MedlineCitation Status="{status}" Owner="NLM">'
        f'<PMID Version="1">{pmid}</PMID>'
        + (day("DateRevised", revised) if revised else "")
        + '<Article PubModel="Electronic"><Journal><JournalIssue CitedMedium="Internet">'
        f"<PubDate><Year>{created.year}</Year></PubDate></JournalIssue>"
        "<Title>Journal of synthetic records</Title></Journal>"
        f"<ArticleTitle>{escape(title)}</ArticleTitle><Language>eng</Language>"
        '<PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType>'
        "</PublicationTypeList></Article>"
        + (f"<MeshHeadingList>{headings}</MeshHeadingList>" if headings else "")
        + comments
        + "</MedlineCitation><PubmedData><History>"
        + day("PubMedPubDate", created, ' PubStatus="entrez"')
        + day("PubMedPubDate", created, ' PubStatus="pubmed"')
        + f'</History><ArticleIdList><ArticleId IdType="pubmed">{pmid}</ArticleId>'
        "</ArticleIdList></PubmedData></PubmedArticle>"
    ).encode()


def build_corpus(records_per_day: int, days: int, seed: int = 7) -> StubCorpus:
    """Records created over ``days`` days before and after FIRST_DAY, some revised later."""
    rng = random.Random(seed)
    corpus = StubCorpus()
    versions: list[bytes] = []
    pmid = 95_000_000  # synthetic range
    start = FIRST_DAY - timedelta(days=28)  # four weeks before the first run
    for offset in range(days + 28):
        created = start + timedelta(days=offset)
        for _ in range(records_per_day):
            pmid += 1
            topics = rng.sample(sorted(TOPICS), k=rng.choice((1, 1, 2, 3)))
            drug = rng.choice(DRUGS)
            title = f"{drug} in " + " and ".join(rng.choice(TOPICS[t]) for t in topics) + "."
            versions.append(record_xml(pmid, title, created, (), None, False))
            # Two records in five are indexed (MeSH) 2-10 days later; 1 in 100 is retracted.
            if rng.random() < 0.4:
                revised = created + timedelta(days=rng.randint(2, 10))
                mesh = (drug, *(MESH[t] for t in topics))
                versions.append(
                    record_xml(pmid, title, created, mesh, revised, rng.random() < 0.025)
                )
    document = b"<PubmedArticleSet>" + b"\n".join(versions) + b"</PubmedArticleSet>"
    corpus.add(document, name="synthetic-benchmark")
    return corpus


def naive_requests(summary: RunSummary, batch: int) -> int:
    searches = sum(w.requests for q in summary.queries for w in q.windows)
    fetches = sum(
        math.ceil(len({p for w in q.windows for p in w.ids}) / batch) for q in summary.queries
    )
    return searches + fetches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records-per-day", type=int, default=40)
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()

    queries = load_queries(bundled_dir("queries")).queries
    corpus = build_corpus(args.records_per_day, args.weeks * 7)
    print(
        f"{len(queries)} queries; {len(corpus)} synthetic PMIDs created from "
        f"{FIRST_DAY - timedelta(days=28)} to {FIRST_DAY + timedelta(days=args.weeks * 7 - 1)}, "
        f"{args.records_per_day}/day, 40% revised later; EFetch batch {args.batch}"
    )
    header = (
        f"{'run until':<11} {'searches':>8} {'U':>6} {'fetched':>7} {'efetch':>6} "
        f"{'made':>6} {'minimum':>7} {'naive':>7}  made/min  naive/made"
    )
    print(header)
    print("-" * len(header))
    totals = {"made": 0, "minimum": 0, "naive": 0}
    with tempfile.TemporaryDirectory() as folder:
        engine = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        with EutilsStub(corpus, today=FIRST_DAY, rate_limit=False) as stub:
            settings = EutilsSettings(base_url=stub.base_url, batch_size=args.batch)
            with EutilsClient(
                requests.Session(), settings, rate=10_000.0, owns_session=True
            ) as client:
                for week in range(args.weeks):
                    until = FIRST_DAY + timedelta(days=7 * week)
                    stub.today = until
                    seen = len(stub.requests)
                    summary = run_monitoring(engine, queries, client, until=until)
                    made_log = stub.requests[seen:]
                    searches = sum(1 for r in made_log if r.endpoint == "esearch")
                    efetch = sum(1 for r in made_log if r.endpoint == "efetch")
                    changed = summary.new + summary.updated
                    windows = sum(len(q.windows) for q in summary.queries)
                    minimum = windows + math.ceil(changed / args.batch)
                    naive = naive_requests(summary, args.batch)
                    made = searches + efetch
                    totals["made"] += made
                    totals["minimum"] += minimum
                    totals["naive"] += naive
                    print(
                        f"{until.isoformat():<11} {searches:>8} {changed:>6} {summary.fetched:>7} "
                        f"{efetch:>6} {made:>6} {minimum:>7} {naive:>7}  "
                        f"{made / minimum:>8.2f}  {naive / made:>10.2f}"
                    )
        engine.dispose()
    print("-" * len(header))
    print(
        f"{'total':<11} {'':>8} {'':>6} {'':>7} {'':>6} {totals['made']:>6} "
        f"{totals['minimum']:>7} {totals['naive']:>7}  "
        f"{totals['made'] / totals['minimum']:>8.2f}  {totals['naive'] / totals['made']:>10.2f}"
    )
    print(
        "searches: ESearch calls (one per window; first runs have no modification window); "
        "U: records new or changed; fetched: PMIDs fetched (U plus records whose latest "
        "version is dated the previous run's last day, which a date cannot tell apart); "
        "minimum: windows + ceil(U / batch); naive: the same searches + ceil(hits / batch) "
        "per query"
    )


if __name__ == "__main__":
    main()
