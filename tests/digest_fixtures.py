"""A small, fixed monitoring history for the digest tests.

Week 1 (first seen 2026-11-17): two trials, papers on several claims, one
already retracted, one excluded by a curator, one imported (no query found
it), and a ledger with a failed search that recovered and one that did not.
Week 2 (2026-11-24): a results paper from a trial sent in week 1, a
retraction and an erratum for papers sent in week 1, and one new paper.

Articles are saved through the store; tags, evidence levels and trial flags
are written directly (as the tagger would), so these tests do not depend on
the tagging rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, insert, select, update

from litwatch.article import (
    AbstractSection,
    Article,
    Author,
    CommentCorrection,
    MeshHeading,
    PartialDate,
    PublicationType,
    RegistryId,
)
from litwatch.db import write_tx
from litwatch.digest_model import ClaimRef
from litwatch.models import ArticleRow, SearchRun, Tag
from litwatch.store import save_articles
from litwatch.store.ledger import link_hits

ARTICLES = cast(Table, ArticleRow.__table__)
SEARCH_RUNS = cast(Table, SearchRun.__table__)
TAGS = cast(Table, Tag.__table__)

WEEK1 = datetime(2026, 11, 17, 5, 17, tzinfo=UTC)
SEND1 = datetime(2026, 11, 17, 6, 0, tzinfo=UTC)
WEEK2 = datetime(2026, 11, 24, 5, 17, tzinfo=UTC)
SEND2 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)

CLAIMS = (
    ClaimRef(
        "established-treatment",
        "Established treatment for writer's cramp",
        "Not yet",
        "summary",
        "No controlled trial has tested ketamine in focal hand dystonia.",
    ),
    ClaimRef("plausible-mechanism", "Biologically plausible mechanism", "Yes", "summary", None),
    ClaimRef(
        "other-movement-disorders",
        "Experimental use in other movement disorders",
        "Emerging",
        "summary",
        None,
    ),
    ClaimRef("trials-needed", "Needs rigorous clinical trials", "Urgently needed", "summary"),
    ClaimRef("ev-ketamine-crps", "Ketamine relieves CRPS", "Cited (human data)", "evidence"),
)

MESH = (MeshHeading("Ketamine", "D007649", True),)


def article(pmid: str, title: str, **fields: Any) -> Article:
    base = Article(
        pmid=pmid,
        status="MEDLINE",
        title=title,
        title_markup=fields.pop("title_markup", title.replace("&", "&amp;").replace("<", "&lt;")),
        abstract=(
            AbstractSection(
                "Ketamine was given. Patients improved. Larger trials are needed.",
                "Ketamine was given. Patients improved. Larger trials are needed.",
            ),
        ),
        journal_title="Movement Disorders",
        journal_iso="Mov Disord",
        volume="41",
        issue="11",
        pages="1201-1210",
        pub_date=PartialDate("2026 Nov", 2026, 11),
        authors=(
            Author("Example", "Ana", "A"),
            Author("Sample", "Bo", "B"),
        ),
        languages=("eng",),
        publication_types=(PublicationType("Journal Article"),),
        mesh=MESH,
        history={"entrez": date(2026, 11, 14)},
    )
    return replace(base, **fields)


def week1_articles() -> list[Article]:
    structured = (
        AbstractSection("CRPS is painful.", "CRPS is painful.", "BACKGROUND", "BACKGROUND"),
        AbstractSection(
            "We randomised 60 patients.", "We randomised 60 patients.", "METHODS", "METHODS"
        ),
        AbstractSection(
            "Ketamine reduced pain at 12 weeks (p = 0.01). Motor function improved. "
            "Dissociation was common. Follow-up continues.",
            "Ketamine reduced pain at 12 weeks (<i>p</i> = 0.01). Motor function improved. "
            "Dissociation was common. Follow-up continues.",
            "CONCLUSIONS",
            "CONCLUSIONS",
        ),
    )
    return [
        article(
            "90000001",
            "Low-dose S-ketamine for complex regional pain syndrome: a randomised trial",
            title_markup="Low-dose <i>S</i>-ketamine for complex regional pain syndrome: "
            "a randomised trial",
            abstract=structured,
            authors=(
                Author("Example", "Ana", "A"),
                Author("Sample", "Bo", "B"),
                Author("Tester", "Cy", "C"),
                Author("Person", "Di", "D"),
            ),
            publication_types=(PublicationType("Randomized Controlled Trial"),),
            registry_ids=(RegistryId("ClinicalTrials.gov", "NCT01234567"),),
            doi="10.1000/lit.2026.001",
            pmcid="PMC9000001",
        ),
        article(
            "90000002",
            "Ketamine paired with retraining in writer's cramp: protocol of a pilot trial",
            publication_types=(PublicationType("Clinical Trial Protocol"),),
            registry_ids=(RegistryId("ISRCTN", "ISRCTN12345678"),),
            authors=(Author(collective_name="Writer's Cramp Study Group"),),
        ),
        article(
            "90000003",
            "Ketamine infusion in functional movement disorder: a case report",
            status="In-Process",
            mesh=(),
            publication_types=(PublicationType("Case Reports"),),
            authors=(Author("Example", "Ana", "A"),),
        ),
        article(
            "90000004",
            "NMDA blockade normalises motor cortex plasticity in a dystonia mouse model",
            abstract=(
                AbstractSection(
                    "Dystonia involves plasticity. We gave ketamine to mice. "
                    "LTP-like plasticity fell. BDNF rose in motor cortex. "
                    "NMDA blockade may reset maladaptive plasticity.",
                    "Dystonia involves plasticity. We gave ketamine to mice. "
                    "LTP-like plasticity fell. BDNF rose in motor cortex. "
                    "NMDA blockade may reset maladaptive plasticity.",
                ),
            ),
            journal_title="Neurobiology of Disease",
            journal_iso="Neurobiol Dis",
            doi="10.1000/lit.2026.004",
        ),
        article(
            "90000005",
            "A survey of anaesthetists' ketamine habits",
            abstract=(),
            pub_date=PartialDate("2026 Oct 3", 2026, 10, 3),
        ),
        article(
            "90000006",
            "Ketamine for tremor: a narrative review",
            publication_types=(
                PublicationType("Review"),
                PublicationType("Retracted Publication"),
            ),
            comments_corrections=(
                CommentCorrection("RetractionIn", "Mov Disord. 2026", "90000099"),
            ),
        ),
        article("90000007", "Excluded: ketamine in veterinary sedation"),
        article("90000008", "Imported: ketamine history"),
    ]


# (pmid, evidence level, is_trial, registry ids, [(claim, reason JSON)])
WEEK1_TAGS: list[tuple[str, str, bool, list[str], list[tuple[str, Any]]]] = [
    (
        "90000001",
        "rct",
        True,
        ["NCT01234567"],
        [
            (
                "trials-needed",
                {"hits": [{"field": "publication_type", "matched": "Randomized Controlled Trial"}]},
            ),
            (
                "ev-ketamine-crps",
                {"hits": [{"field": "title", "matched": "complex regional pain syndrome"}]},
            ),
        ],
    ),
    (
        "90000002",
        "trial-protocol",
        True,
        ["ISRCTN12345678"],
        [
            ("established-treatment", {"hits": [{"field": "title", "matched": "writer's cramp"}]}),
            (
                "trials-needed",
                {"hits": [{"field": "publication_type", "matched": "Clinical Trial Protocol"}]},
            ),
        ],
    ),
    (
        "90000003",
        "case-report",
        False,
        [],
        [
            (
                "other-movement-disorders",
                {"hits": [{"field": "title", "matched": "functional movement disorder"}]},
            )
        ],
    ),
    (
        "90000004",
        "animal",
        False,
        [],
        [
            (
                "plausible-mechanism",
                {"hits": [{"field": "title", "matched": "motor cortex plasticity"}]},
            ),
            ("other-movement-disorders", "dystonia model (curator note)"),
        ],
    ),
    ("90000005", "observational", False, [], []),
    (
        "90000006",
        "review",
        False,
        [],
        [("other-movement-disorders", {"hits": [{"field": "title", "matched": "tremor"}]})],
    ),
    ("90000007", "other", False, [], []),
    ("90000008", "other", False, [], [("plausible-mechanism", "imported")]),
]


def week2_articles() -> list[Article]:
    first = {a.pmid: a for a in week1_articles()}
    return [
        article(
            "90000010",
            "Ketamine and retraining in writer's cramp: results of the pilot trial",
            publication_types=(PublicationType("Randomized Controlled Trial"),),
            registry_ids=(RegistryId("ISRCTN", "ISRCTN12345678"),),
            history={"entrez": date(2026, 11, 20)},
        ),
        article(
            "90000011",
            "Memantine in tardive dyskinesia",
            history={"entrez": date(2026, 11, 21)},
        ),
        replace(
            first["90000004"],
            version=1,
            date_revised=date(2026, 11, 21),
            comments_corrections=(
                CommentCorrection("RetractionIn", "Neurobiol Dis. 2026", "90000098"),
            ),
        ),
        replace(
            first["90000003"],
            date_revised=date(2026, 11, 21),
            comments_corrections=(CommentCorrection("ErratumIn", "Mov Disord. 2026", "90000097"),),
        ),
    ]


WEEK2_TAGS: list[tuple[str, str, bool, list[str], list[tuple[str, Any]]]] = [
    (
        "90000010",
        "rct",
        True,
        ["ISRCTN12345678"],
        [("established-treatment", {"hits": [{"field": "title", "matched": "writer's cramp"}]})],
    ),
    (
        "90000011",
        "other",
        False,
        [],
        [
            (
                "other-movement-disorders",
                {"hits": [{"field": "title", "matched": "tardive dyskinesia"}]},
            )
        ],
    ),
]


def article_id(engine: Engine, pmid: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(ARTICLES.c.id).where(ARTICLES.c.pmid == int(pmid))).scalar_one()
        )


def tag_articles(
    engine: Engine,
    rows: list[tuple[str, str, bool, list[str], list[tuple[str, Any]]]],
    now: datetime,
) -> None:
    with write_tx(engine) as conn:
        for pmid, level, is_trial, registry_ids, tags in rows:
            conn.execute(
                update(ARTICLES)
                .where(ARTICLES.c.pmid == int(pmid))
                .values(evidence_level=level, is_trial=is_trial, registry_ids=registry_ids)
            )
            aid = conn.execute(
                select(ARTICLES.c.id).where(ARTICLES.c.pmid == int(pmid))
            ).scalar_one()
            for claim, reason in tags:
                source = "curator" if isinstance(reason, str) and "curator" in reason else "rule"
                conn.execute(
                    insert(TAGS).values(
                        article_id=aid,
                        claim_id=claim,
                        source=source,
                        reason=reason,
                        catalogue_hash="test",
                        created_at=now,
                    )
                )


def add_search(
    engine: Engine,
    name: str,
    started: datetime,
    *,
    status: str = "ok",
    count: int = 0,
    new: int = 0,
    error: str | None = None,
    date_field: str = "crdt",
    pmids: Sequence[str] = (),
) -> int:
    with write_tx(engine) as conn:
        run = conn.execute(
            insert(SEARCH_RUNS)
            .values(
                run_id=f"run-{started:%Y%m%d%H%M}",
                query_name=name,
                query_hash="0" * 64,
                term_sent="ketamine",
                date_field=date_field,
                window_start=started.date(),
                window_end=started.date(),
                count=count,
                new_count=new,
                started_at=started,
                finished_at=started,
                status=status,
                error=error,
            )
            .returning(SEARCH_RUNS.c.id)
        ).scalar_one()
        ids = [
            conn.execute(select(ARTICLES.c.id).where(ARTICLES.c.pmid == int(p))).scalar_one()
            for p in pmids
        ]
        # As the pipeline links them: a (query, article) pair once, by its first search.
        link_hits(conn, run, name, ids)
    return int(run)


def seed_week1(engine: Engine) -> None:
    save_articles(engine, week1_articles(), now=WEEK1)
    tag_articles(engine, WEEK1_TAGS, WEEK1)
    with write_tx(engine) as conn:
        conn.execute(update(ARTICLES).where(ARTICLES.c.pmid == 90000007).values(decision="exclude"))
    t = WEEK1
    add_search(
        engine, "ketamine-crps", t.replace(minute=0), count=2, new=2, pmids=["90000001", "90000006"]
    )
    add_search(
        engine,
        "ketamine-focal-dystonia",
        t.replace(minute=1),
        status="failed",
        error="RetriesExhausted: esearch: gave up after 6 attempts: HTTP 502\ntraceback...",
    )
    add_search(
        engine,
        "ketamine-focal-dystonia",
        t.replace(minute=5),
        count=3,
        new=3,
        pmids=["90000002", "90000001", "90000004"],
    )
    add_search(
        engine,
        "nmda-movement-disorders",
        t.replace(minute=2),
        count=4,
        new=3,
        pmids=["90000003", "90000004", "90000005", "90000007"],
    )
    add_search(
        engine,
        "nmda-neurorehabilitation",
        t.replace(minute=3),
        status="failed",
        error="EutilsPermanentError: invalid query",
    )


def seed_week2(engine: Engine) -> None:
    save_articles(engine, week2_articles(), now=WEEK2)
    tag_articles(engine, WEEK2_TAGS, WEEK2)
    t = WEEK2
    add_search(
        engine, "ketamine-focal-dystonia", t.replace(minute=0), count=1, new=1, pmids=["90000010"]
    )
    add_search(
        engine,
        "nmda-movement-disorders",
        t.replace(minute=1),
        count=2,
        new=1,
        pmids=["90000011", "90000004"],
    )
