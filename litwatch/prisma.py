"""PRISMA 2020 flow counts from the search ledger and the triage log.

Counted over the searches run since a date (an update of the review) or over
all of them:

- identified: for each query, the articles its searches found (an article
  found by two runs of one query counts once for that query); total = the sum;
- removed before screening: the same article found by more than one query;
  the same work under another PMID (``articles.work_key``: same DOI, or same
  title + year + first author); with ``since``, works already identified by
  earlier searches (screened in an earlier update); works whose every record
  PubMed has since deleted, never triaged;
- one record per remaining work, whose decision is the strongest of its
  records' current decisions (include > maybe > exclude): screened when it
  has one (excluded, with counts per reason; maybe; included), awaiting
  screening when none of its records has a decision yet.

So identified = duplicates removed + other removals + screened + awaiting,
and screened = excluded + maybe + included; ``checks`` says whether both hold.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, func, select

from .models import QueryHit, SearchRun
from .store._common import chunks, reading
from .triage_log import ARTICLES, current_decisions

RUNS = cast(Table, SearchRun.__table__)
QUERY_HITS = cast(Table, QueryHit.__table__)

NO_REASON = "(no reason given)"
_STRENGTH = {"include": 3, "maybe": 2, "exclude": 1}


@dataclass(frozen=True)
class QueryCount:
    name: str
    records: int  # distinct articles its searches found
    searches: int  # esearch calls in the ledger


@dataclass(frozen=True)
class PrismaFlow:
    since: datetime | None
    first_search: datetime | None
    last_search: datetime | None
    queries: tuple[QueryCount, ...]
    identified: int
    duplicates_across_queries: int
    duplicates_same_work: int
    duplicates_previously_identified: int
    removed_deleted: int
    screened: int
    excluded: int
    excluded_by_reason: dict[str, int] = field(default_factory=dict)
    maybe: int = 0
    included: int = 0
    awaiting: int = 0

    @property
    def duplicates_removed(self) -> int:
        return (
            self.duplicates_across_queries
            + self.duplicates_same_work
            + self.duplicates_previously_identified
        )

    @property
    def removed_before_screening(self) -> int:
        return self.duplicates_removed + self.removed_deleted

    @property
    def checks(self) -> dict[str, bool]:
        """The sums that must hold, by what they say."""
        return {
            "identified = duplicates removed + other removals + screened + awaiting": (
                self.identified == self.removed_before_screening + self.screened + self.awaiting
            ),
            "screened = excluded + maybe + included": self.screened
            == self.excluded + self.maybe + self.included,
            "excluded = sum of excluded per reason": self.excluded
            == sum(self.excluded_by_reason.values()),
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["queries"] = [asdict(q) for q in self.queries]
        data["duplicates_removed"] = self.duplicates_removed
        data["removed_before_screening"] = self.removed_before_screening
        data["checks"] = self.checks
        for key in ("since", "first_search", "last_search"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        return data


def prisma_flow(bind: Connection | Engine, *, since: date | datetime | None = None) -> PrismaFlow:
    """The flow counts for the searches started at or after ``since`` (all when None)."""
    start = _start_of(since) if since is not None else None
    in_scope = [RUNS.c.started_at >= start] if start is not None else []
    with reading(bind) as conn:
        searches = conn.execute(
            select(
                RUNS.c.query_name,
                func.count(),
                func.min(RUNS.c.started_at),
                func.max(RUNS.c.started_at),
            )
            .where(*in_scope)
            .group_by(RUNS.c.query_name)
            .order_by(RUNS.c.query_name)
        ).all()
        found = conn.execute(
            select(QUERY_HITS.c.query_name, QUERY_HITS.c.article_id)
            .join(RUNS, RUNS.c.id == QUERY_HITS.c.search_run_id)
            .where(*in_scope)
            .distinct()
        ).all()
        by_query: dict[str, set[int]] = defaultdict(set)
        for name, article_id in found:
            by_query[name].add(article_id)
        unique = sorted({article_id for _name, article_id in found})
        articles = _articles(conn, unique)
        earlier = _identified_before(conn, articles, start) if start is not None else set()
        decisions = current_decisions(conn, [a["pmid"] for a in articles])

    queries = tuple(
        QueryCount(name, len(by_query.get(name, ())), int(n)) for name, n, _first, _last in searches
    )
    identified = sum(len(ids) for ids in by_query.values())
    works: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for article in articles:
        works[article["work"]].append(article)

    same_work = previously = deleted = 0
    outcomes: list[tuple[str | None, str | None]] = []  # (decision, reason) per remaining work
    for key, records in works.items():
        if key in earlier:
            previously += len(records)
            continue
        same_work += len(records) - 1
        decided = [(r["pmid"], decisions[r["pmid"]]) for r in records if r["pmid"] in decisions]
        if not decided and all(r["deleted"] for r in records):
            deleted += 1
            continue
        if not decided:
            outcomes.append((None, None))
            continue
        _pmid, best = max(decided, key=lambda d: (_STRENGTH[d[1].decision], -int(d[0])))
        outcomes.append((best.decision, best.reason))

    reasons = Counter(reason or NO_REASON for decision, reason in outcomes if decision == "exclude")
    firsts = [first for _n, _c, first, _last in searches]
    lasts = [last for _n, _c, _first, last in searches]
    return PrismaFlow(
        since=start,
        first_search=min(firsts) if firsts else None,
        last_search=max(lasts) if lasts else None,
        queries=queries,
        identified=identified,
        duplicates_across_queries=identified - len(unique),
        duplicates_same_work=same_work,
        duplicates_previously_identified=previously,
        removed_deleted=deleted,
        screened=sum(1 for d, _r in outcomes if d is not None),
        excluded=sum(reasons.values()),
        excluded_by_reason=dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        maybe=sum(1 for d, _r in outcomes if d == "maybe"),
        included=sum(1 for d, _r in outcomes if d == "include"),
        awaiting=sum(1 for d, _r in outcomes if d is None),
    )


def _start_of(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.min, tzinfo=UTC)


def _articles(conn: Connection, ids: list[int]) -> list[dict[str, Any]]:
    """PMID, work (work key, or the PMID when there is none), first sight, deleted flag."""
    found = []
    for chunk in chunks(ids):
        for row in conn.execute(
            select(
                ARTICLES.c.pmid,
                ARTICLES.c.work_key,
                ARTICLES.c.first_seen,
                ARTICLES.c.deleted_at,
            ).where(ARTICLES.c.id.in_(chunk))
        ):
            found.append(
                {
                    "pmid": str(row.pmid),
                    "work": row.work_key or f"pmid:{row.pmid}",
                    "first_seen": row.first_seen,
                    "deleted": row.deleted_at is not None,
                }
            )
    return found


def _identified_before(
    conn: Connection, articles: list[dict[str, Any]], start: datetime
) -> set[str]:
    """Works with a record first seen before ``start`` (found by an earlier search)."""
    earlier = {a["work"] for a in articles if a["first_seen"] < start}
    keys = sorted({a["work"] for a in articles if not a["work"].startswith("pmid:")} - earlier)
    for chunk in (keys[i : i + 500] for i in range(0, len(keys), 500)):
        earlier |= set(
            conn.execute(
                select(ARTICLES.c.work_key)
                .where(ARTICLES.c.work_key.in_(chunk), ARTICLES.c.first_seen < start)
                .distinct()
            ).scalars()
        )
    return earlier


# -- the plain-text diagram -------------------------------------------------------

_ARROW = " ──▶ "


def render_flow(flow: PrismaFlow) -> str:
    """The PRISMA 2020 flow diagram as boxes of plain text, then the checks."""
    scope = (
        f"update: searches since {flow.since:%Y-%m-%d}"
        if flow.since is not None
        else "all searches"
    )
    if flow.first_search is not None and flow.last_search is not None:
        scope += f", run {flow.first_search:%Y-%m-%d} to {flow.last_search:%Y-%m-%d}"
    lines = [f"PRISMA 2020 flow ({scope})", ""]

    identified = [f"Records identified from PubMed: {flow.identified}"]
    identified += [f"  {q.name}: {q.records}" for q in flow.queries]
    removed = [f"Records removed before screening: {flow.removed_before_screening}"]
    removed += [f"  Found by more than one query: {flow.duplicates_across_queries}"]
    removed += [f"  Same work under another PMID: {flow.duplicates_same_work}"]
    if flow.since is not None:
        removed += [f"  Identified by earlier searches: {flow.duplicates_previously_identified}"]
    removed += [f"  Deleted from PubMed: {flow.removed_deleted}"]
    lines += ["Identification", *_beside(_box(identified), _box(removed)), *_down()]

    excluded = [f"Records excluded: {flow.excluded}"]
    excluded += [f"  {reason}: {n}" for reason, n in flow.excluded_by_reason.items()]
    to_screen = _box([f"Records to screen: {flow.screened + flow.awaiting}"])
    awaiting = _box([f"Awaiting screening (no decision yet): {flow.awaiting}"])
    lines += ["Screening", *_beside(to_screen, awaiting), *_down()]
    lines += [*_beside(_box([f"Records screened: {flow.screened}"]), _box(excluded)), *_down()]
    lines += _box([f"Maybe (to be decided): {flow.maybe}"])
    lines += _down()
    lines += ["Included", *_box([f"Records included: {flow.included}"]), ""]

    for what, ok in flow.checks.items():
        lines.append(f"Check: {what}: {'ok' if ok else 'DOES NOT ADD UP'}")
    lines.append(
        f"       {flow.identified} = {flow.duplicates_removed} + {flow.removed_deleted} "
        f"+ {flow.screened} + {flow.awaiting}; {flow.screened} = {flow.excluded} "
        f"+ {flow.maybe} + {flow.included}"
    )
    return "\n".join(lines)


def _box(content: list[str]) -> list[str]:
    width = max(len(line) for line in content)
    return (
        ["┌" + "─" * (width + 2) + "┐"]
        + [f"│ {line.ljust(width)} │" for line in content]
        + ["└" + "─" * (width + 2) + "┘"]
    )


def _beside(left: list[str], right: list[str]) -> list[str]:
    """Two boxes side by side, an arrow from the left one's first line to the right one."""
    width = len(left[0])
    rows = max(len(left), len(right))
    joined = []
    for index in range(rows):
        a = left[index] if index < len(left) else " " * width
        b = right[index] if index < len(right) else ""
        gap = _ARROW if index == 1 else " " * len(_ARROW)
        joined.append((a + gap + b).rstrip())
    return joined


def _down() -> list[str]:
    return ["        │", "        ▼"]
