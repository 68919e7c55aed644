"""Choosing what a digest says: the period's new papers, updates, scoreboard and ledger.

"New" means not yet sent in a digest of this name (``digest_items``), not a
time window: a paper stored while a digest failed, or held back by
``max_entries``, is still new for the next one, and nothing is ever sent
twice. Only papers a saved query found are digest material (an imported
reference list is not news), and papers a curator excluded are left out.

The period shown runs from the end of the last sent digest of this name to
``now``; the first digest starts at its oldest paper or the first search.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, exists, func, or_, select

from .article import Article
from .config import DigestSettings
from .digest_claims import DigestClaims, group_by_claim, reading_order
from .digest_format import describe_reason, evidence_rank, registry_ids_of
from .digest_model import (
    ERRATUM,
    LINKED,
    NEW,
    RETRACTED,
    ClaimRef,
    Digest,
    Entry,
    EntryTag,
    FailedSearch,
    ItemKey,
    QueryActivity,
    ScoreRow,
    Update,
    linked_kind,
)
from .models import STANCES, ArticleRow, DigestItem, QueryHit, SearchRun, Tag
from .models import Digest as DigestRow
from .store.ledger import links_made
from .store.tags import count_claim_evidence

ARTICLES = cast(Table, ArticleRow.__table__)
DIGESTS = cast(Table, DigestRow.__table__)
DIGEST_ITEMS = cast(Table, DigestItem.__table__)
QUERY_HITS = cast(Table, QueryHit.__table__)
SEARCH_RUNS = cast(Table, SearchRun.__table__)
TAGS = cast(Table, Tag.__table__)

_CHUNK = 500


def select_digest(
    conn: Connection,
    settings: DigestSettings,
    *,
    now: datetime,
    claims: Sequence[ClaimRef] = (),
    planned: Collection[ItemKey] | None = None,
    period: tuple[datetime, datetime] | None = None,
) -> Digest:
    """The digest ``settings.name`` would send at ``now``.

    ``claims`` is the catalogue in its own order (groups and the scoreboard
    follow it). ``planned`` and ``period`` rebuild a digest that was already
    planned (a resend): exactly those items, over that period.
    """
    name = settings.name
    last_end = _last_period_end(conn, name)
    catalogue = DigestClaims(claims)

    if planned is None:
        candidates = _new_candidates(conn, name, only_trials=settings.only_trials)
        new_ids = candidates[: settings.max_entries]
        held_back = len(candidates) - len(new_ids)
    else:
        new_ids = sorted({article_id for article_id, kind in planned if kind == NEW})
        held_back = 0
    entries = _load_entries(conn, new_ids, catalogue)
    new_entries = [entries[i] for i in new_ids if i in entries]
    updates = _updates(conn, name, new_entries, catalogue, planned)

    if period is not None:
        start, end = period
    else:
        end = now
        start = last_end or _first_start(conn, new_entries, now)

    after = None if last_end is None else start  # a first digest covers every search
    trials = sorted((e for e in new_entries if e.is_trial), key=reading_order)
    others = [e for e in new_entries if not e.is_trial]
    return Digest(
        settings=settings,
        period_start=start,
        period_end=end,
        new_trials=tuple(trials),
        groups=group_by_claim(others, catalogue),
        updates=tuple(updates),
        scoreboard=_scoreboard(conn, catalogue, new_entries),
        queries=_query_activity(conn, after, end),
        failures=_failures(conn, after, end),
        held_back=held_back,
        first=last_end is None,
    )


# -- what is new ------------------------------------------------------------------


def _sent(name: str, kind: str) -> Any:
    """Condition: this article already went out in a digest ``name`` as ``kind``."""
    return exists().where(
        DIGEST_ITEMS.c.digest_name == name,
        DIGEST_ITEMS.c.article_id == ARTICLES.c.id,
        DIGEST_ITEMS.c.item_kind == kind,
    )


def _digest_material() -> Any:
    return and_(
        ARTICLES.c.deleted_at.is_(None),
        or_(ARTICLES.c.decision.is_(None), ARTICLES.c.decision != "exclude"),
    )


def _new_candidates(conn: Connection, name: str, *, only_trials: bool = False) -> list[int]:
    """Article ids not yet sent in ``name``, trials first, then oldest first."""
    found = exists().where(QUERY_HITS.c.article_id == ARTICLES.c.id)
    query = (
        select(ARTICLES.c.id)
        .where(_digest_material(), found, ~_sent(name, NEW))
        .order_by(ARTICLES.c.is_trial.desc(), ARTICLES.c.first_seen, ARTICLES.c.pmid)
    )
    if only_trials:
        query = query.where(ARTICLES.c.is_trial)
    return list(conn.execute(query).scalars())


def _updates(
    conn: Connection,
    name: str,
    new_entries: list[Entry],
    catalogue: DigestClaims,
    planned: Collection[ItemKey] | None,
) -> list[Update]:
    """Retractions, errata and new publications from the same trial, for papers sent before."""
    wanted: list[tuple[int, str, str | None]] = []  # (article id, kind, linked pmid)
    if planned is not None:
        for article_id, kind in planned:
            if kind != NEW and (article_id, NEW) not in planned:
                pmid = kind.split(":", 1)[1] if kind.startswith(LINKED + ":") else None
                wanted.append((article_id, kind, pmid))
    else:
        sent_before = _sent(name, NEW)
        for kind, flag in ((RETRACTED, ARTICLES.c.is_retracted), (ERRATUM, ARTICLES.c.has_erratum)):
            ids = conn.execute(
                select(ARTICLES.c.id)
                .where(ARTICLES.c.deleted_at.is_(None), flag, sent_before, ~_sent(name, kind))
                .order_by(ARTICLES.c.pmid)
            ).scalars()
            wanted.extend((i, kind, None) for i in ids)
        wanted.extend(_same_trial(conn, name, new_entries))

    entries = _load_entries(conn, sorted({w[0] for w in wanted}), catalogue)
    by_pmid = {e.pmid: e for e in new_entries}
    first_sent = _first_sent(conn, name, list(entries))
    updates = []
    for article_id, kind, pmid in wanted:
        entry = entries.get(article_id)
        if entry is None:
            continue
        linked = by_pmid.get(pmid) if pmid else None
        shared = tuple(sorted(set(entry.registry_ids) & set(linked.registry_ids))) if linked else ()
        updates.append(Update(entry, kind, first_sent.get(article_id), linked, shared))
    kind_order = {RETRACTED: 0, ERRATUM: 1, LINKED: 2}
    updates.sort(key=lambda u: (kind_order.get(u.kind, 3), int(u.entry.pmid), u.item_kind))
    return updates


def _same_trial(
    conn: Connection, name: str, new_entries: list[Entry]
) -> list[tuple[int, str, str | None]]:
    """Trial papers sent before that share a registry number with a paper new now."""
    by_registry: dict[str, list[Entry]] = defaultdict(list)
    for entry in new_entries:
        for accession in entry.registry_ids:
            by_registry[accession.upper()].append(entry)
    if not by_registry:
        return []
    rows = conn.execute(
        select(ARTICLES.c.id, ARTICLES.c.registry_ids, ARTICLES.c.data)
        .where(ARTICLES.c.deleted_at.is_(None), ARTICLES.c.is_trial, _sent(name, NEW))
        .order_by(ARTICLES.c.pmid)
    )
    found: list[tuple[int, str, str | None]] = []
    for row in rows:
        accessions = row.registry_ids or [r[1] for r in row.data.get("registry_ids", [])]
        for new in {e.pmid: e for a in accessions for e in by_registry.get(a.upper(), [])}.values():
            found.append((row.id, linked_kind(new.pmid), new.pmid))
    if not found:
        return []
    already = {
        (row.article_id, row.item_kind)
        for row in conn.execute(
            select(DIGEST_ITEMS.c.article_id, DIGEST_ITEMS.c.item_kind).where(
                DIGEST_ITEMS.c.digest_name == name,
                DIGEST_ITEMS.c.article_id.in_([f[0] for f in found]),
            )
        )
    }
    return [f for f in found if (f[0], f[1]) not in already]


def _first_sent(conn: Connection, name: str, ids: list[int]) -> dict[int, datetime]:
    if not ids:
        return {}
    rows = conn.execute(
        select(DIGEST_ITEMS.c.article_id, func.min(DIGESTS.c.sent_at))
        .join(DIGESTS, DIGESTS.c.id == DIGEST_ITEMS.c.digest_id)
        .where(
            DIGEST_ITEMS.c.digest_name == name,
            DIGEST_ITEMS.c.item_kind == NEW,
            DIGEST_ITEMS.c.article_id.in_(ids),
        )
        .group_by(DIGEST_ITEMS.c.article_id)
    )
    return {row[0]: row[1] for row in rows if row[1] is not None}


# -- loading entries -------------------------------------------------------------------


def _load_entries(conn: Connection, ids: list[int], catalogue: DigestClaims) -> dict[int, Entry]:
    entries: dict[int, Entry] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        tags = _tags(conn, chunk, catalogue)
        queries = _queries(conn, chunk)
        rows = conn.execute(
            select(
                ARTICLES.c.id,
                ARTICLES.c.data,
                ARTICLES.c.first_seen,
                ARTICLES.c.evidence_level,
                ARTICLES.c.is_trial,
                ARTICLES.c.registry_ids,
                ARTICLES.c.work_key,
            ).where(ARTICLES.c.id.in_(chunk))
        ).all()
        same_work = _same_work(conn, rows)
        for row in rows:
            article = Article.from_dict(row.data)
            entries[row.id] = Entry(
                article_id=row.id,
                article=article,
                first_seen=row.first_seen,
                evidence_level=row.evidence_level,
                is_trial=bool(row.is_trial),
                registry_ids=registry_ids_of(tuple(row.registry_ids or ()), article),
                tags=tuple(tags.get(row.id, ())),
                queries=tuple(queries.get(row.id, ())),
                same_work=tuple(p for p in same_work.get(row.work_key, ()) if p != article.pmid),
            )
    return entries


def _tags(conn: Connection, ids: list[int], catalogue: DigestClaims) -> dict[int, list[EntryTag]]:
    found: dict[int, list[EntryTag]] = defaultdict(list)
    rows = conn.execute(
        select(TAGS.c.article_id, TAGS.c.claim_id, TAGS.c.source, TAGS.c.reason).where(
            TAGS.c.article_id.in_(ids)
        )
    )
    for row in rows:
        found[row.article_id].append(
            EntryTag(catalogue.ref(row.claim_id), row.source, describe_reason(row.reason))
        )
    for tags in found.values():
        tags += catalogue.lifted_curator_tags(tags)
        tags.sort(key=lambda t: (catalogue.key(t.claim.id), t.source != "rule"))
    return found


def _queries(conn: Connection, ids: list[int]) -> dict[int, list[str]]:
    rows = conn.execute(
        select(QUERY_HITS.c.article_id, QUERY_HITS.c.query_name)
        .where(QUERY_HITS.c.article_id.in_(ids))
        .distinct()
        .order_by(QUERY_HITS.c.article_id, QUERY_HITS.c.query_name)
    )
    found: dict[int, list[str]] = defaultdict(list)
    for article_id, query_name in rows:
        found[article_id].append(query_name)
    return found


def _same_work(conn: Connection, rows: Sequence[Any]) -> dict[str, list[str]]:
    keys = sorted({row.work_key for row in rows if row.work_key})
    if not keys:
        return {}
    found: dict[str, list[str]] = defaultdict(list)
    for pmid, key in conn.execute(
        select(ARTICLES.c.pmid, ARTICLES.c.work_key)
        .where(ARTICLES.c.work_key.in_(keys))
        .order_by(ARTICLES.c.pmid)
    ):
        found[key].append(str(pmid))
    return found


# -- scoreboard and ledger --------------------------------------------------------------


def _scoreboard(
    conn: Connection, catalogue: DigestClaims, new_entries: list[Entry]
) -> tuple[ScoreRow, ...]:
    """Per summary claim: papers by evidence level; excluded left out, retracted counted apart."""
    claims = catalogue.summary()
    if not claims:
        return ()
    counts = count_claim_evidence(
        conn,
        [c.id for c in claims],
        descendants=catalogue.descendants,
        include_retracted=False,
        include_excluded=False,
    )
    result = []
    for claim in claims:
        counted = counts[claim.id]
        counted_as = {claim.id, *catalogue.descendants.get(claim.id, ())}  # as the counts do
        by_level = sorted(
            ((level, n) for level, n in counted.by_level.items() if n),
            key=lambda kv: evidence_rank(kv[0]),
        )
        result.append(
            ScoreRow(
                claim=claim,
                by_level=tuple(by_level),
                total=counted.articles,
                trials=counted.trials,
                new=sum(any(c.id in counted_as for c in e.claims) for e in new_entries),
                retracted=counted.retracted,
                stances=tuple(
                    (stance, n) for stance in STANCES if (n := counted.stances.get(stance, 0))
                ),
            )
        )
    return tuple(result)


def _in_period(after: datetime | None, end: datetime) -> Any:
    """Searches started after ``after`` (None: since the first) up to ``end``."""
    condition = SEARCH_RUNS.c.started_at <= end
    return condition if after is None else and_(SEARCH_RUNS.c.started_at > after, condition)


def _query_activity(
    conn: Connection, after: datetime | None, end: datetime
) -> tuple[QueryActivity, ...]:
    """Per query: its searches in the period, what PubMed returned, what was new to it.

    "New" is what the query found for the first time (``links_made``): a pair
    (query, article) is linked once, so a record found by both windows of a run,
    or again in a later run, counts once. ``search_runs.new_count`` is not used:
    it counts per window what was new to the database, so summing it counts such
    a record twice.
    """
    rows = conn.execute(
        select(
            SEARCH_RUNS.c.id,
            SEARCH_RUNS.c.query_name,
            SEARCH_RUNS.c.started_at,
            SEARCH_RUNS.c.status,
            SEARCH_RUNS.c.count,
        )
        .where(_in_period(after, end))
        .order_by(SEARCH_RUNS.c.query_name, SEARCH_RUNS.c.started_at, SEARCH_RUNS.c.id)
    ).all()
    linked_first = links_made(conn, [row.id for row in rows])
    activity: dict[str, QueryActivity] = {}
    for search_id, name, started, status, count in rows:
        before = activity.get(name)
        activity[name] = QueryActivity(
            name=name,
            searches=(before.searches if before else 0) + 1,
            last_started=started,
            last_status=status,
            found=(before.found if before else 0) + (count or 0),
            new=(before.new if before else 0) + linked_first.get(search_id, 0),
        )
    return tuple(activity.values())


def _failures(conn: Connection, after: datetime | None, end: datetime) -> tuple[FailedSearch, ...]:
    """Searches that failed in the period, each marked if a later search of its query worked."""
    rows = conn.execute(
        select(
            SEARCH_RUNS.c.query_name,
            SEARCH_RUNS.c.started_at,
            SEARCH_RUNS.c.status,
            SEARCH_RUNS.c.error,
        )
        .where(_in_period(after, end), SEARCH_RUNS.c.status.in_(("ok", "failed")))
        .order_by(SEARCH_RUNS.c.started_at, SEARCH_RUNS.c.id)
    ).all()
    last_ok: dict[str, datetime] = {}
    for name, started, status, _ in rows:
        if status == "ok":
            last_ok[name] = started
    failures = []
    for name, started, status, error in rows:
        if status != "failed":
            continue
        lines = (error or "").strip().splitlines()
        failures.append(
            FailedSearch(
                name=name,
                started_at=started,
                error=lines[0] if lines else "failed without a message",
                recovered=name in last_ok and last_ok[name] > started,
            )
        )
    return tuple(failures)


def _last_period_end(conn: Connection, name: str) -> datetime | None:
    value = conn.execute(
        select(func.max(DIGESTS.c.period_end)).where(
            DIGESTS.c.name == name, DIGESTS.c.status == "sent"
        )
    ).scalar_one_or_none()
    return cast(datetime | None, value)


def _first_start(conn: Connection, new_entries: list[Entry], now: datetime) -> datetime:
    """Where a first digest's period begins: its oldest paper or the first search."""
    first_search = conn.execute(select(func.min(SEARCH_RUNS.c.started_at))).scalar_one_or_none()
    candidates = [e.first_seen for e in new_entries]
    if first_search is not None:
        candidates.append(first_search)
    return min([*candidates, now]) if candidates else now
