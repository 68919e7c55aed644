"""Stored articles as plain JSON-able records: what ``hits list/show --json`` print.

One function builds every view of a hit so the CLI, exports and tests agree
on field names. Tags and query links are read in one query per listing, not
one per article.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, select

from .links import record_links
from .models import QueryHit, Tag
from .store import StoredArticle

TAGS = cast(Table, Tag.__table__)
QUERY_HITS = cast(Table, QueryHit.__table__)

# Columns of the terminal table (``--json`` prints every field).
TABLE_COLUMNS = ("pmid", "pub_year", "journal", "title", "evidence_level", "claims", "decision")


def hit_records(conn: Connection, stored: Sequence[StoredArticle]) -> list[dict[str, Any]]:
    """One dict per stored article, in the order given."""
    ids = [s.id for s in stored]
    tags = _tags_by_article(conn, ids)
    queries = _queries_by_article(conn, ids)
    return [_record(s, tags.get(s.id, []), queries.get(s.id, [])) for s in stored]


def hit_record(conn: Connection, stored: StoredArticle) -> dict[str, Any]:
    return hit_records(conn, [stored])[0]


def _record(s: StoredArticle, tags: list[Any], queries: list[str]) -> dict[str, Any]:
    a = s.article
    rule_tags = [t for t in tags if t.source == "rule"]
    return {
        "pmid": a.pmid,
        "version": a.version,
        "title": a.title,
        "title_markup": a.title_markup,
        "abstract": a.abstract_text,
        "abstract_sections": [
            {"label": sec.label, "category": sec.category, "text": sec.text} for sec in a.abstract
        ],
        "doi": a.doi,
        "pmcid": a.pmcid,
        "journal": a.journal_title,
        "journal_iso": a.journal_iso,
        "volume": a.volume,
        "issue": a.issue,
        "pages": a.pages,
        "pub_date": a.pub_date.sortable if a.pub_date else None,
        "pub_date_text": a.pub_date.text if a.pub_date else None,
        "pub_year": a.pub_year,
        "authors": [au.display_name for au in a.authors],
        "language": a.languages[0] if a.languages else None,
        "publication_types": [pt.name for pt in a.publication_types],
        "mesh": [m.descriptor for m in a.mesh],
        "keywords": list(a.keywords),
        "nct_ids": [r.accession for r in a.registry_ids if r.accession.upper().startswith("NCT")],
        "status": a.status,
        "retracted": a.is_retracted,
        "erratum": a.has_erratum,
        "indexed": a.is_indexed,
        "created": a.created,
        "first_seen": s.first_seen,
        "updated": s.updated_at,
        "same_work": list(s.same_work),
        "deleted": s.deleted_at is not None,
        "claims": sorted({t.claim_id for t in rule_tags}),
        "curator_tags": sorted({t.claim_id for t in tags if t.source == "curator"}),
        "tag_reasons": {t.claim_id: t.reason for t in rule_tags},
        "evidence_level": s.evidence_level,
        "is_trial": s.is_trial,
        "registry_ids": list(s.registry_ids),
        "queries": queries,
        "decision": s.decision,
        "links": {label.lower(): url for label, url in record_links(a)},
    }


def _tags_by_article(conn: Connection, ids: list[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = defaultdict(list)
    for chunk in _chunks(ids):
        rows = conn.execute(
            select(TAGS.c.article_id, TAGS.c.claim_id, TAGS.c.source, TAGS.c.reason)
            .where(TAGS.c.article_id.in_(chunk))
            .order_by(TAGS.c.article_id, TAGS.c.claim_id)
        )
        for row in rows:
            found[row.article_id].append(row)
    return found


def _queries_by_article(conn: Connection, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for chunk in _chunks(ids):
        rows = conn.execute(
            select(QUERY_HITS.c.article_id, QUERY_HITS.c.query_name)
            .where(QUERY_HITS.c.article_id.in_(chunk))
            .distinct()
        )
        for row in rows:
            found[row.article_id].add(row.query_name)
    return {k: sorted(v) for k, v in found.items()}


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
