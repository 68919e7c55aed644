"""Reading articles back: one by PMID, listings, and the other PMIDs of a work."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    false,
    func,
    or_,
    select,
    true,
)

from ..article import STATUSES, Article
from ..errors import StoreError
from ..models import QueryHit, Tag
from ._common import ARTICLES, pmid_number, reading
from .records import StoredArticle
from .search import search_clause

ORDERS = ("newest", "oldest", "published", "pmid", "decided")
DECISION_FILTERS = ("include", "exclude", "maybe", "untriaged")

_TAGS = cast(Table, Tag.__table__)
_QUERY_HITS = cast(Table, QueryHit.__table__)

_COLUMNS = (
    ARTICLES.c.id,
    ARTICLES.c.pmid,
    ARTICLES.c.data,
    ARTICLES.c.content_hash,
    ARTICLES.c.first_seen,
    ARTICLES.c.updated_at,
    ARTICLES.c.last_seen,
    ARTICLES.c.work_key,
    ARTICLES.c.evidence_level,
    ARTICLES.c.is_trial,
    ARTICLES.c.registry_ids,
    ARTICLES.c.decision,
    ARTICLES.c.deleted_at,
)


def get_article(bind: Connection | Engine, pmid: str) -> StoredArticle | None:
    """The stored record for ``pmid``, or None if it was never stored."""
    number = pmid_number(pmid)
    with reading(bind) as conn:
        row = conn.execute(select(*_COLUMNS).where(ARTICLES.c.pmid == number)).one_or_none()
        if row is None:
            return None
        return _stored(row, _same_work(conn, [row]))


def list_articles(
    bind: Connection | Engine,
    *,
    since: datetime | date | None = None,
    status: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    order: str = "newest",
    untriaged: bool = False,
    include_deleted: bool = False,
    search: str | None = None,
    decisions: Collection[str] = (),
    claims: Collection[str] = (),
    evidence: Collection[str] = (),
    trial: bool | None = None,
    retracted: bool | None = None,
    queries: Collection[str] = (),
) -> list[StoredArticle]:
    """Stored records, newest first by default.

    ``since`` keeps records first seen at or after it (a date means its
    midnight UTC); ``status`` is the MedlineCitation status (``MEDLINE``,
    ``In-Process`` …, any case). ``untriaged`` keeps records with no curator
    decision yet. ``search`` keeps records containing every word of it
    (``store.search``). ``decisions`` keeps any of these current decisions
    (``untriaged`` for none); ``claims`` records tagged (by a rule or a
    curator) with any of these claims; ``evidence`` any of these evidence
    levels; ``trial`` / ``retracted`` trials or not, retracted or not;
    ``queries`` records found by any of these saved queries. ``order``:
    newest / oldest (first seen), published (publication date, newest
    first), pmid, decided (latest decision first).
    """
    filters = _Filters(
        since=since,
        status=status,
        untriaged=untriaged,
        include_deleted=include_deleted,
        search=search,
        decisions=tuple(decisions),
        claims=tuple(claims),
        evidence=tuple(evidence),
        trial=trial,
        retracted=retracted,
        queries=tuple(queries),
    )
    query = select(*_COLUMNS).order_by(*_order_by(order)).offset(max(offset, 0))
    if limit is not None:
        query = query.limit(max(limit, 0))
    with reading(bind) as conn:
        rows = conn.execute(query.where(*_conditions(filters, conn.dialect.name))).all()
        same_work = _same_work(conn, rows)
    return [_stored(row, same_work) for row in rows]


def count_articles(
    bind: Connection | Engine,
    *,
    since: datetime | date | None = None,
    status: str | None = None,
    untriaged: bool = False,
    include_deleted: bool = False,
    search: str | None = None,
    decisions: Collection[str] = (),
    claims: Collection[str] = (),
    evidence: Collection[str] = (),
    trial: bool | None = None,
    retracted: bool | None = None,
    queries: Collection[str] = (),
) -> int:
    """How many records ``list_articles`` would return without a limit."""
    filters = _Filters(
        since=since,
        status=status,
        untriaged=untriaged,
        include_deleted=include_deleted,
        search=search,
        decisions=tuple(decisions),
        claims=tuple(claims),
        evidence=tuple(evidence),
        trial=trial,
        retracted=retracted,
        queries=tuple(queries),
    )
    with reading(bind) as conn:
        conditions = _conditions(filters, conn.dialect.name)
        return int(
            conn.execute(select(func.count()).select_from(ARTICLES).where(*conditions)).scalar_one()
        )


def same_work_pmids(bind: Connection | Engine, pmid: str) -> list[str]:
    """Other stored PMIDs of the same work (same DOI, or same title + year + first author)."""
    number = pmid_number(pmid)
    key = select(ARTICLES.c.work_key).where(ARTICLES.c.pmid == number).scalar_subquery()
    with reading(bind) as conn:
        pmids = conn.execute(
            select(ARTICLES.c.pmid)
            .where(ARTICLES.c.work_key == key, ARTICLES.c.pmid != number)
            .order_by(ARTICLES.c.pmid)
        ).scalars()
        return [str(p) for p in pmids]


# -- internals ----------------------------------------------------------------


@dataclass(frozen=True)
class _Filters:
    since: datetime | date | None
    status: str | None
    untriaged: bool
    include_deleted: bool
    search: str | None
    decisions: tuple[str, ...]
    claims: tuple[str, ...]
    evidence: tuple[str, ...]
    trial: bool | None
    retracted: bool | None
    queries: tuple[str, ...]


def _conditions(f: _Filters, dialect: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.since is not None:
        conditions.append(ARTICLES.c.first_seen >= _as_utc(f.since))
    if f.status is not None:
        conditions.append(ARTICLES.c.status == _canonical_status(f.status))
    if f.untriaged:
        # Served by the partial index on untriaged rows: no search through the event log.
        conditions.append(ARTICLES.c.decision.is_(None))
    if f.decisions:
        conditions.append(_decision_clause(f.decisions))
    if f.claims:
        conditions.append(
            select(_TAGS.c.article_id)
            .where(_TAGS.c.article_id == ARTICLES.c.id, _TAGS.c.claim_id.in_(f.claims))
            .exists()
        )
    if f.evidence:
        conditions.append(ARTICLES.c.evidence_level.in_([e.lower() for e in f.evidence]))
    if f.trial is not None:
        conditions.append(ARTICLES.c.is_trial.is_(true() if f.trial else false()))
    if f.retracted is not None:
        conditions.append(ARTICLES.c.is_retracted.is_(true() if f.retracted else false()))
    if f.queries:
        conditions.append(
            select(_QUERY_HITS.c.article_id)
            .where(
                _QUERY_HITS.c.article_id == ARTICLES.c.id,
                _QUERY_HITS.c.query_name.in_(f.queries),
            )
            .exists()
        )
    if f.search:
        conditions.append(search_clause(dialect, f.search))
    if not f.include_deleted:
        conditions.append(ARTICLES.c.deleted_at.is_(None))
    return conditions


def _decision_clause(decisions: tuple[str, ...]) -> ColumnElement[bool]:
    unknown = [d for d in decisions if d not in DECISION_FILTERS]
    if unknown:
        raise StoreError(f"unknown decision {unknown[0]!r}: one of {', '.join(DECISION_FILTERS)}")
    chosen = [d for d in decisions if d != "untriaged"]
    clauses = [ARTICLES.c.decision.in_(chosen)] if chosen else []
    if "untriaged" in decisions:
        clauses.append(ARTICLES.c.decision.is_(None))
    return or_(*clauses)


def _as_utc(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise StoreError(f"since must be timezone-aware, not {value.isoformat()}")
        return value
    return datetime.combine(value, time.min, tzinfo=UTC)


def _canonical_status(status: str) -> str:
    for known in STATUSES:
        if known.lower() == status.strip().lower():
            return known
    raise StoreError(f"unknown PubMed status {status!r}: one of {', '.join(STATUSES)}")


def _order_by(order: str) -> tuple[Any, ...]:
    if order == "newest":
        return (ARTICLES.c.first_seen.desc(), ARTICLES.c.id.desc())
    if order == "oldest":
        return (ARTICLES.c.first_seen.asc(), ARTICLES.c.id.asc())
    if order == "published":
        return (ARTICLES.c.pub_date.desc().nulls_last(), ARTICLES.c.id.desc())
    if order == "pmid":
        return (ARTICLES.c.pmid.asc(),)
    if order == "decided":
        return (ARTICLES.c.decided_at.desc().nulls_last(), ARTICLES.c.id.desc())
    raise StoreError(f"unknown order {order!r}: one of {', '.join(ORDERS)}")


def _same_work(conn: Connection, rows: Any) -> dict[str, list[str]]:
    """work key -> stored PMIDs with that key, for the keys of ``rows``."""
    keys = sorted({row.work_key for row in rows if row.work_key is not None})
    found: dict[str, list[str]] = defaultdict(list)
    for start in range(0, len(keys), 500):
        for pmid, key in conn.execute(
            select(ARTICLES.c.pmid, ARTICLES.c.work_key)
            .where(ARTICLES.c.work_key.in_(keys[start : start + 500]))
            .order_by(ARTICLES.c.pmid)
        ):
            found[key].append(str(pmid))
    return found


def _stored(row: Any, same_work: dict[str, list[str]]) -> StoredArticle:
    pmid = str(row.pmid)
    others = same_work.get(row.work_key, []) if row.work_key else []
    return StoredArticle(
        article=Article.from_dict(row.data),
        id=row.id,
        content_hash=row.content_hash,
        first_seen=row.first_seen,
        updated_at=row.updated_at,
        last_seen=row.last_seen,
        work_key=row.work_key,
        same_work=tuple(p for p in others if p != pmid),
        evidence_level=row.evidence_level,
        is_trial=bool(row.is_trial),
        registry_ids=tuple(row.registry_ids or ()),
        decision=row.decision,
        deleted_at=row.deleted_at,
    )
