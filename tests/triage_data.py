"""Articles, hits and tags for the triage, export and report tests.

Tag rows and tagging columns are written directly (as the tagger would), and
query hits with a search run row each (as a monitoring pass would), so these
tests need neither the tagger nor the network.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update

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
from litwatch.models import ArticleRow, QueryHit, SearchRun, Tag
from litwatch.store import save_articles

ARTICLES = ArticleRow.__table__
RUNS = SearchRun.__table__
HITS = QueryHit.__table__
TAGS = Tag.__table__

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

_run_ids = itertools.count(1)


def article(pmid: str, title: str = "", **fields: Any) -> Article:
    """A plausible record; ``fields`` override any Article field."""
    values: dict[str, Any] = {
        "pmid": pmid,
        "status": "MEDLINE",
        "title": title or f"Ketamine in focal hand dystonia: report {pmid}.",
        "abstract": (
            AbstractSection(
                "Writer's cramp is a focal dystonia.", "Writer's cramp …", "BACKGROUND"
            ),
            AbstractSection("Ketamine eased spasms.", "Ketamine eased spasms.", "RESULTS"),
        ),
        "journal_title": "Movement disorders : official journal of the Movement Disorder Society",
        "journal_iso": "Mov Disord",
        "volume": "41",
        "issue": "3",
        "pages": "201-209",
        "pub_date": PartialDate("2026 Mar 14", 2026, 3, 14),
        "authors": (Author("Lindqvist", "Åsa", "Å"), Author("Okafor", "Chidi", "C")),
        "languages": ("eng",),
        "publication_types": (PublicationType("Journal Article", "D016428"),),
        "history": {"entrez": date(2026, 10, 30)},
    }
    values.update(fields)
    return Article(**values)


def trial(pmid: str, nct: str, **fields: Any) -> Article:
    return article(
        pmid,
        f"Low-dose ketamine with occupational therapy for writer's cramp ({nct}).",
        publication_types=(PublicationType("Randomized Controlled Trial", "D016449"),),
        registry_ids=(RegistryId("ClinicalTrials.gov", nct),),
        **fields,
    )


def retracted(pmid: str, notice: str) -> Article:
    return article(
        pmid,
        comments_corrections=(CommentCorrection("RetractionIn", "Mov Disord. 2026", notice),),
        mesh=(MeshHeading("Ketamine", "D007649", True),),
    )


def save(
    engine: Engine, *records: Article, at: datetime = T0, step: timedelta | None = None
) -> None:
    """Save each record first seen at ``at`` (+ ``step`` per record when given)."""
    for index, record in enumerate(records):
        save_articles(engine, [record], now=at + (step or timedelta(0)) * index)


def article_id(engine: Engine, pmid: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(ARTICLES.c.id).where(ARTICLES.c.pmid == int(pmid))).scalar_one()
        )


def set_tagging(
    engine: Engine,
    pmid: str,
    *,
    evidence_level: str | None = None,
    is_trial: bool = False,
    registry_ids: list[str] | None = None,
) -> None:
    with write_tx(engine) as conn:
        conn.execute(
            update(ARTICLES)
            .where(ARTICLES.c.pmid == int(pmid))
            .values(
                evidence_level=evidence_level,
                is_trial=is_trial,
                registry_ids=registry_ids or [],
                tagged_hash="test",
            )
        )


def add_tag(
    engine: Engine, pmid: str, claim_id: str, reason: Any = None, source: str = "rule"
) -> None:
    row_id = article_id(engine, pmid)
    with write_tx(engine) as conn:
        conn.execute(
            insert(TAGS).values(
                article_id=row_id,
                claim_id=claim_id,
                source=source,
                reason=reason if reason is not None else {"rule": claim_id},
                catalogue_hash="cat1" if source == "rule" else None,
                created_at=T0,
            )
        )


def add_hits(engine: Engine, query_name: str, pmids: list[str], *, started: datetime = T0) -> int:
    """One search run of ``query_name`` that found ``pmids``; returns the run's row id."""
    with write_tx(engine) as conn:
        run = conn.execute(
            insert(RUNS)
            .values(
                run_id=f"run-{next(_run_ids)}",
                query_name=query_name,
                query_hash="h",
                term_sent=f"{query_name}[tiab]",
                date_field="crdt",
                window_start=started.date() - timedelta(days=7),
                window_end=started.date(),
                count=len(pmids),
                started_at=started,
                finished_at=started + timedelta(minutes=1),
                status="ok",
            )
            .returning(RUNS.c.id)
        ).scalar_one()
        for pmid in pmids:
            row_id = conn.execute(
                select(ARTICLES.c.id).where(ARTICLES.c.pmid == int(pmid))
            ).scalar_one()
            conn.execute(
                insert(HITS).values(search_run_id=run, article_id=row_id, query_name=query_name)
            )
    return int(run)


def decision_column(engine: Engine, pmid: str) -> tuple[str | None, datetime | None]:
    with engine.connect() as conn:
        row = conn.execute(
            select(ARTICLES.c.decision, ARTICLES.c.decided_at).where(ARTICLES.c.pmid == int(pmid))
        ).one()
    return row.decision, row.decided_at
