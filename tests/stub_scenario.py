"""A growing PubMed for the monitoring tests: two saved queries, two weeks of records.

Week 1 (``T1``): records A, B, C, F are on topic (A, C, F for the dystonia
query; B, C for the CRPS query; C for both); D is off topic; E is on ketamine
and motor plasticity but not (yet) on dystonia.

Week 2 (``T2``), added to the stub's corpus between the runs:
- A gains MeSH (indexing completed) and becomes MEDLINE;
- B is retracted (RetractionIn R) and the notice R appears;
- E is indexed with the MeSH heading Dystonia, so the dystonia query finds it;
- H is new; I is new but created before T1 (it became visible late: PubMed's
  create date can be earlier than the day a record shows up);
- C and F do not change, and must not be fetched again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import requests
from pubmed_records import Rec, document
from sqlalchemy import Engine, func, select

from litwatch.config import EutilsSettings
from litwatch.eutils import EutilsClient
from litwatch.models import ArticleRow, QueryHit, QueryState, SearchRun
from litwatch.queries import SavedQuery, load_queries
from litwatch.testing.eutils_stub import EutilsStub

START = date(2026, 9, 1)
T1 = date(2026, 10, 5)
T2 = date(2026, 10, 12)

DYSTONIA_TERM = 'ketamin*[tiab] AND (dystoni*[tiab] OR "writer\'s cramp"[tiab] OR "Dystonia"[mh])'
CRPS_TERM = 'ketamin*[tiab] AND (CRPS[tiab] OR "Complex Regional Pain Syndromes"[mh])'

A = Rec(90000001, "Ketamine for writer's cramp: a case report.", date(2026, 9, 10))
B = Rec(
    90000002,
    "Ketamine infusion in CRPS: a randomised trial.",
    date(2026, 9, 15),
    pub_types=("Journal Article", "Randomized Controlled Trial"),
)
C = Rec(
    90000003,
    "Dystonia in CRPS treated with ketamine.",
    date(2026, 9, 20),
    status="MEDLINE",
    mesh=("Ketamine", "Complex Regional Pain Syndromes", "Dystonia"),
)
D = Rec(90000004, "Ketamine for treatment-resistant depression.", date(2026, 9, 22))
E = Rec(
    90000005,
    "Ketamine and motor cortex plasticity in a mouse model.",
    date(2026, 9, 25),
    abstract="Motor learning after a single dose of ketamine.",
)
F = Rec(90000006, "Ketamine and occupational therapy in writer's cramp.", date(2026, 10, 3))

A2 = A.revise(date(2026, 10, 7), status="MEDLINE", mesh=("Ketamine", "Dystonia", "Humans"))
B2 = B.revise(date(2026, 10, 9), retraction_in=90000010)
E2 = E.revise(date(2026, 10, 8), status="MEDLINE", mesh=("Ketamine", "Dystonia", "Mice"))
H = Rec(90000008, "Low-dose ketamine in musician's dystonia.", date(2026, 10, 10))
I = Rec(90000009, "Ketamine in cervical dystonia: two cases.", date(2026, 10, 4))  # noqa: E741
R = Rec(
    90000010,
    "Retraction: Ketamine infusion in CRPS: a randomised trial.",
    date(2026, 10, 9),
    pub_types=("Retraction of Publication",),
    retraction_of=90000002,
)

WEEK1 = (A, B, C, D, E, F)
WEEK2 = (A2, B2, E2, H, I, R)

API_KEY = "stubkey0123456789"


def write_queries(folder: Path, *, extra: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "dystonia.toml": (
            'title = "Ketamine and dystonia"\nschedule = "daily"\n'
            f"start_date = {START.isoformat()}\nterm = '''\n{DYSTONIA_TERM}\n'''\n"
        ),
        "crps.toml": (
            'title = "Ketamine and CRPS"\nschedule = "weekly"\n'
            f"start_date = {START.isoformat()}\nterm = '''\n{CRPS_TERM}\n'''\n"
        ),
    }
    for name, text in {**files, **(extra or {})}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def saved_queries(folder: Path) -> list[SavedQuery]:
    loaded = load_queries(folder)
    assert not loaded.problems, [str(p) for p in loaded.problems]
    return loaded.queries


def corpus_dir(folder: Path) -> Path:
    """Week 1's records as a corpus folder (week 2 is added with ``grow``)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "week1.xml").write_bytes(document(WEEK1))
    return folder


def grow(stub: EutilsStub) -> None:
    """Week 2 arrives: new records and new versions of old ones."""
    stub.corpus.add(document(WEEK2), name="week2.xml")


def stub_for(corpus: Path, *, faults: str | None = None, today: date = T1) -> EutilsStub:
    """The stub with NCBI's limits raised so tests run fast (10x keyed rate)."""
    return EutilsStub(
        corpus,
        today=today,
        faults=faults,
        api_key=API_KEY,
        rate_limit=(300.0, 300.0),
        slow_seconds=0.6,
    )


def client_for(
    stub: EutilsStub, *, batch_size: int = 2, max_attempts: int = 6, timeout: float = 10.0
) -> EutilsClient:
    settings = EutilsSettings(
        base_url=stub.base_url,
        api_key=API_KEY,
        batch_size=batch_size,
        timeout=timeout,
        max_attempts=max_attempts,
        email="tests@example.org",
    )
    return EutilsClient(
        requests.Session(), settings, rate=200.0, backoff=0.001, max_backoff=0.01, owns_session=True
    )


def fetched_pmids(stub: EutilsStub, since: int = 0) -> list[str]:
    """PMIDs asked for by successful EFetch requests, in order."""
    found: list[str] = []
    for entry in stub.requests[since:]:
        if entry.endpoint == "efetch" and entry.status == 200 and entry.fault is None:
            found.extend(p for p in entry.params.get("id", "").split(",") if p)
    return found


def db_state(engine: Engine) -> dict[str, Any]:
    """What must be equal between two databases after the same runs."""
    with engine.connect() as conn:
        articles = {
            str(pmid): (content_hash, str(deleted) if deleted else None)
            for pmid, content_hash, deleted in conn.execute(
                select(ArticleRow.pmid, ArticleRow.content_hash, ArticleRow.deleted_at)
            )
        }
        hits = sorted(
            (name, str(pmid))
            for name, pmid in conn.execute(
                select(QueryHit.query_name, ArticleRow.pmid).join(
                    ArticleRow, ArticleRow.id == QueryHit.article_id
                )
            )
        )
        state = {
            name: (str(watermark), str(mdat))
            for name, watermark, mdat in conn.execute(
                select(QueryState.name, QueryState.watermark, QueryState.mdat_watermark)
            )
        }
        running = conn.execute(
            select(func.count()).select_from(SearchRun).where(SearchRun.status == "running")
        ).scalar_one()
    return {"articles": articles, "hits": hits, "state": state, "running": running}


def duplicate_hits(engine: Engine) -> int:
    with engine.connect() as conn:
        pairs = conn.execute(
            select(QueryHit.query_name, QueryHit.article_id, func.count())
            .group_by(QueryHit.query_name, QueryHit.article_id)
            .having(func.count() > 1)
        ).all()
    return len(pairs)


def summary_json(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value


def each_line(text: str) -> Iterator[str]:
    yield from (line for line in text.splitlines() if line.strip())
