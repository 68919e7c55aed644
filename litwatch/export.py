"""Exports for reference managers and screening tools: RIS, BibTeX, CSV, JSON Lines, MEDLINE.

``export_records`` selects articles (by current decision, claim, first-seen
date) with what litwatch knows of them: claims, queries, the current
decision and its reason, stances and notes. ``write_export`` writes them in
one format. Records stream in batches, so a large export never holds the
whole database in memory. The citation formats live in
``litwatch.export_citations``.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, TextIO, cast

from sqlalchemy import Connection, Engine, Table, false, or_, select

from .article import Article
from .errors import InputError
from .links import article_links, pubmed_url
from .models import QueryHit
from .store._common import BATCH_SIZE, reading
from .triage_log import ARTICLES, TAGS, TriageState, triage_states

QUERY_HITS = cast(Table, QueryHit.__table__)

FORMATS = ("ris", "bibtex", "csv", "jsonl", "medline")
UNTRIAGED = "untriaged"
DECISION_FILTERS = ("include", "exclude", "maybe", UNTRIAGED)


@dataclass(frozen=True)
class ExportRecord:
    """One article as exported: the record plus litwatch's tags and triage state."""

    article: Article
    first_seen: datetime
    evidence_level: str | None
    is_trial: bool
    registry_ids: tuple[str, ...]
    claims: tuple[str, ...]  # rule and curator tags, each claim once
    queries: tuple[str, ...]
    state: TriageState

    @property
    def decision(self) -> str | None:
        return self.state.decision.decision if self.state.decision else None

    @property
    def reason(self) -> str | None:
        return self.state.decision.reason if self.state.decision else None

    @property
    def trial_ids(self) -> tuple[str, ...]:
        return self.registry_ids or tuple(r.accession for r in self.article.registry_ids)

    def triage_notes(self) -> list[str]:
        """The decision, claims, stances and notes as lines a screener reads."""
        lines = []
        if self.state.decision is not None:
            decided = self.state.decision
            reason = f" ({decided.reason})" if decided.reason else ""
            lines.append(
                f"litwatch decision: {decided.decision}{reason}, "
                f"by {decided.actor} on {decided.at:%Y-%m-%d}"
            )
        else:
            lines.append("litwatch decision: untriaged")
        if self.claims:
            lines.append("litwatch claims: " + ", ".join(self.claims))
        if self.state.stances:
            lines.append(
                "litwatch stances: "
                + ", ".join(f"{c} {s}" for c, s in sorted(self.state.stances.items()))
            )
        lines += [f"litwatch note: {note}" for note in self.state.notes]
        return lines

    def triage_keywords(self) -> list[str]:
        """Decision, reason, claims and evidence as keywords (screening tools filter on them)."""
        words = [f"litwatch decision: {self.decision or UNTRIAGED}"]
        if self.reason:
            words.append(f"litwatch reason: {self.reason}")
        words += [f"litwatch claim: {claim}" for claim in self.claims]
        if self.evidence_level:
            words.append(f"litwatch evidence: {self.evidence_level}")
        return words


def export_records(
    bind: Connection | Engine,
    *,
    decisions: Collection[str] = (),
    claims: Collection[str] = (),
    since: date | datetime | None = None,
    include_deleted: bool = False,
) -> Iterator[ExportRecord]:
    """Articles in PMID order, filtered by current decision (or ``untriaged``),
    by claim (tagged by a rule or a curator with any of ``claims``) and by first sight."""
    for value in decisions:
        if value not in DECISION_FILTERS:
            allowed = ", ".join(DECISION_FILTERS)
            raise InputError("--decision", f"{value!r} is not one of {allowed}")
    query = select(
        ARTICLES.c.id,
        ARTICLES.c.pmid,
        ARTICLES.c.data,
        ARTICLES.c.first_seen,
        ARTICLES.c.evidence_level,
        ARTICLES.c.is_trial,
        ARTICLES.c.registry_ids,
    )
    if decisions:
        chosen = [d for d in decisions if d != UNTRIAGED]
        query = query.where(
            or_(
                ARTICLES.c.decision.in_(chosen),
                ARTICLES.c.decision.is_(None) if UNTRIAGED in decisions else false(),
            )
        )
    if claims:
        tagged = select(TAGS.c.article_id).where(
            TAGS.c.article_id == ARTICLES.c.id, TAGS.c.claim_id.in_(list(claims))
        )
        query = query.where(tagged.exists())
    if since is not None:
        query = query.where(ARTICLES.c.first_seen >= _start_of(since))
    if not include_deleted:
        query = query.where(ARTICLES.c.deleted_at.is_(None))
    last_pmid = 0
    with reading(bind) as conn:
        while True:
            rows = conn.execute(
                query.where(ARTICLES.c.pmid > last_pmid).order_by(ARTICLES.c.pmid).limit(BATCH_SIZE)
            ).all()
            if not rows:
                return
            yield from _records(conn, rows)
            last_pmid = rows[-1].pmid


def write_export(records: Iterable[ExportRecord], fmt: str, out: TextIO) -> int:
    """Write ``records`` to ``out`` in ``fmt``; returns how many were written."""
    from . import export_citations

    writers: dict[str, Callable[[Iterable[ExportRecord], TextIO], int]] = {
        "ris": export_citations.write_ris,
        "bibtex": export_citations.write_bibtex,
        "medline": export_citations.write_medline,
        "csv": write_csv,
        "jsonl": write_jsonl,
    }
    if fmt not in writers:
        raise InputError("--format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    return writers[fmt](records, out)


# -- CSV and JSON Lines ---------------------------------------------------------------

CSV_COLUMNS = (
    "pmid",
    "title",
    "authors",
    "journal",
    "journal_iso",
    "year",
    "pub_date",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmcid",
    "language",
    "status",
    "publication_types",
    "mesh",
    "keywords",
    "evidence_level",
    "is_trial",
    "registry_ids",
    "retracted",
    "erratum",
    "claims",
    "decision",
    "reason",
    "decided_by",
    "decided_at",
    "stances",
    "notes",
    "queries",
    "first_seen",
    "pubmed_url",
    "abstract",
)


def csv_row(record: ExportRecord) -> dict[str, str]:
    """One CSV row: every field a screener filters on; lists joined with "; "."""
    a = record.article
    decided = record.state.decision
    values: dict[str, Any] = {
        "pmid": a.pmid,
        "title": a.title,
        "authors": [x.display_name for x in a.authors],
        "journal": a.journal_title,
        "journal_iso": a.journal_iso,
        "year": a.pub_year,
        "pub_date": a.pub_date.text if a.pub_date else None,
        "volume": a.volume,
        "issue": a.issue,
        "pages": a.pages,
        "doi": a.doi,
        "pmcid": a.pmcid,
        "language": list(a.languages),
        "status": a.status,
        "publication_types": [p.name for p in a.publication_types],
        "mesh": [m.descriptor + ("*" if m.is_major else "") for m in a.mesh],
        "keywords": list(a.keywords),
        "evidence_level": record.evidence_level,
        "is_trial": "yes" if record.is_trial else "no",
        "registry_ids": list(record.trial_ids),
        "retracted": "yes" if a.is_retracted else "no",
        "erratum": "yes" if a.has_erratum else "no",
        "claims": list(record.claims),
        "decision": record.decision or UNTRIAGED,
        "reason": record.reason,
        "decided_by": decided.actor if decided else None,
        "decided_at": decided.at.isoformat() if decided else None,
        "stances": [f"{c} {s}" for c, s in sorted(record.state.stances.items())],
        "notes": record.state.notes,
        "queries": list(record.queries),
        "first_seen": record.first_seen.isoformat(),
        "pubmed_url": pubmed_url(a.pmid),
        "abstract": a.abstract_text,
    }
    return {key: _cell(values[key]) for key in CSV_COLUMNS}


def write_csv(records: Iterable[ExportRecord], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow(csv_row(record))
        count += 1
    return count


def jsonl_object(record: ExportRecord) -> dict[str, Any]:
    """The whole record (``Article.from_dict`` reads it back) plus a ``litwatch`` part."""
    decided = record.state.decision
    data = record.article.to_dict()
    data["litwatch"] = {
        "decision": record.decision,
        "reason": record.reason,
        "decided_by": decided.actor if decided else None,
        "decided_at": decided.at.isoformat() if decided else None,
        "notes": record.state.notes,
        "stances": dict(sorted(record.state.stances.items())),
        "claims": list(record.claims),
        "evidence_level": record.evidence_level,
        "is_trial": record.is_trial,
        "registry_ids": list(record.trial_ids),
        "retracted": record.article.is_retracted,
        "queries": list(record.queries),
        "first_seen": record.first_seen.isoformat(),
        "links": dict(article_links(record.article, record.trial_ids)),
    }
    return data


def write_jsonl(records: Iterable[ExportRecord], out: TextIO) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(jsonl_object(record), ensure_ascii=False, sort_keys=False) + "\n")
        count += 1
    return count


# -- internals ----------------------------------------------------------------------


def _start_of(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InputError("--since", f"{value.isoformat()} has no time zone")
        return value
    return datetime.combine(value, time.min, tzinfo=UTC)


def _records(conn: Connection, rows: Sequence[Any]) -> Iterator[ExportRecord]:
    ids = [row.id for row in rows]
    claims: dict[int, set[str]] = defaultdict(set)
    for article_id, claim in conn.execute(
        select(TAGS.c.article_id, TAGS.c.claim_id).where(TAGS.c.article_id.in_(ids))
    ):
        claims[article_id].add(claim)
    queries: dict[int, set[str]] = defaultdict(set)
    for article_id, name in conn.execute(
        select(QUERY_HITS.c.article_id, QUERY_HITS.c.query_name)
        .where(QUERY_HITS.c.article_id.in_(ids))
        .distinct()
    ):
        queries[article_id].add(name)
    states = triage_states(conn, [str(row.pmid) for row in rows])
    for row in rows:
        yield ExportRecord(
            article=Article.from_dict(row.data),
            first_seen=row.first_seen,
            evidence_level=row.evidence_level,
            is_trial=bool(row.is_trial),
            registry_ids=tuple(row.registry_ids or ()),
            claims=tuple(sorted(claims[row.id])),
            queries=tuple(sorted(queries[row.id])),
            state=states.get(str(row.pmid), TriageState()),
        )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)
