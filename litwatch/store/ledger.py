"""The search ledger (PRISMA-S): what each search sent, what PubMed said, what it added.

Three tables work together here:

- ``search_runs``: one row per date-window search. A row is written as
  ``running`` before the search starts (so a crash still leaves a trace), gets
  PubMed's answer (count, QueryTranslation, errors, warnings) as soon as it
  comes, and becomes ``ok`` only in the transaction that links its hits and
  moves the watermark, or ``failed`` with the reason. Rows left ``running``
  by a process that died are closed as failed by the next run of that query
  (``close_interrupted``), under the query's lock.
- ``query_state``: per query, the day up to which each window is complete.
- ``query_hits``: which query found which article, and in which search. A
  pair (query, article) is linked once, by the first search that found it,
  so overlapping windows and reruns never duplicate hits (``links_made``
  counts what each search linked first).

A finished search's counts split the PMIDs it found three ways, disjoint:
``new_count`` (not in the database before the run), ``known_count`` (in it,
and unchanged by the run) and ``updated_count`` (in it, and replaced by a
newer version in the run). They add up to the PMIDs found, less any PubMed
listed but did not return (named in the search's ``warnings``).

Writes take the caller's ``Connection`` (inside ``litwatch.db.write_tx``) so
the pipeline decides what commits together; reads take an engine or a
connection.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Row, Table, and_, func, insert, select, update

from ..models import QueryHit, QueryState, SearchRun
from ._common import ARTICLES, chunks, pmid_number, reading, require_aware

SEARCH_RUNS = cast(Table, SearchRun.__table__)
QUERY_STATE = cast(Table, QueryState.__table__)
QUERY_HITS = cast(Table, QueryHit.__table__)

INTERRUPTED = "interrupted: the run ended before this window was stored"


@dataclass(frozen=True)
class SearchRecord:
    """One row of the ledger."""

    id: int
    run_id: str
    query_name: str
    query_hash: str
    term_sent: str
    query_translation: str | None
    errors: list[str]
    warnings: list[str]
    date_field: str
    window_start: date
    window_end: date
    count: int | None
    new_count: int | None
    known_count: int | None
    updated_count: int | None
    request_count: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class QueryProgress:
    """``query_state``: how far a query's windows are complete."""

    name: str
    watermark: date | None  # create-date window complete up to this day
    mdat_watermark: date | None  # modification-date window complete up to this day
    file_hash: str | None  # the query file's hash when it last ran
    last_run_at: datetime | None  # when it last ran, whatever the outcome
    last_status: str | None  # "ok" or "failed"


# -- search rows ------------------------------------------------------------------


def start_search(
    conn: Connection,
    *,
    run_id: str,
    query_name: str,
    query_hash: str,
    term_sent: str,
    date_field: str,
    window_start: date,
    window_end: date,
    started_at: datetime,
) -> int:
    """Open a ledger row (status ``running``) and return its id."""
    require_aware(started_at, "started_at")
    result = conn.execute(
        insert(SEARCH_RUNS)
        .values(
            run_id=run_id,
            query_name=query_name,
            query_hash=query_hash,
            term_sent=term_sent,
            errors=[],
            warnings=[],
            date_field=date_field,
            window_start=window_start,
            window_end=window_end,
            request_count=0,
            started_at=started_at,
            status="running",
        )
        .returning(SEARCH_RUNS.c.id)
    )
    return int(result.scalar_one())


def record_answer(
    conn: Connection,
    search_id: int,
    *,
    count: int,
    query_translation: str | None,
    errors: Sequence[str],
    warnings: Sequence[str],
    request_count: int,
) -> None:
    """What PubMed said to the search; the row stays ``running`` until its hits are stored."""
    conn.execute(
        update(SEARCH_RUNS)
        .where(SEARCH_RUNS.c.id == search_id)
        .values(
            count=count,
            query_translation=query_translation,
            errors=list(errors),
            warnings=list(warnings),
            request_count=request_count,
        )
    )


def finish_search(
    conn: Connection,
    search_id: int,
    *,
    finished_at: datetime,
    new: int,
    known: int,
    updated: int,
    request_count: int | None = None,
    warnings: Sequence[str] | None = None,
) -> None:
    """The window's hits are stored and linked: the row becomes ``ok``."""
    require_aware(finished_at, "finished_at")
    values: dict[str, Any] = {
        "new_count": new,
        "known_count": known,
        "updated_count": updated,
        "finished_at": finished_at,
        "status": "ok",
        "error": None,
    }
    if request_count is not None:
        values["request_count"] = request_count
    if warnings is not None:
        values["warnings"] = list(warnings)
    conn.execute(update(SEARCH_RUNS).where(SEARCH_RUNS.c.id == search_id).values(**values))


def fail_search(
    conn: Connection,
    search_id: int,
    *,
    finished_at: datetime,
    error: str,
    request_count: int | None = None,
) -> None:
    """The window could not be completed; its watermark stays where it was."""
    require_aware(finished_at, "finished_at")
    values: dict[str, Any] = {"finished_at": finished_at, "status": "failed", "error": error}
    if request_count is not None:
        values["request_count"] = request_count
    conn.execute(update(SEARCH_RUNS).where(SEARCH_RUNS.c.id == search_id).values(**values))


def close_interrupted(
    conn: Connection, query_name: str, *, now: datetime, reason: str = INTERRUPTED
) -> int:
    """Mark ``running`` rows of ``query_name`` failed: call only while holding its lock.

    Under the lock no other process can be running that query, so a row still
    ``running`` belongs to a process that died (or was killed) mid-window.
    """
    require_aware(now, "now")
    result = conn.execute(
        update(SEARCH_RUNS)
        .where(SEARCH_RUNS.c.query_name == query_name, SEARCH_RUNS.c.status == "running")
        .values(status="failed", error=reason, finished_at=now)
    )
    return int(result.rowcount or 0)


def fail_running(conn: Connection, run_id: str, *, now: datetime, reason: str) -> int:
    """Mark the rows of ``run_id`` still ``running`` failed (the run is stopping early)."""
    require_aware(now, "now")
    result = conn.execute(
        update(SEARCH_RUNS)
        .where(SEARCH_RUNS.c.run_id == run_id, SEARCH_RUNS.c.status == "running")
        .values(status="failed", error=reason, finished_at=now)
    )
    return int(result.rowcount or 0)


# -- query state ------------------------------------------------------------------


def get_progress(bind: Connection | Engine, name: str) -> QueryProgress | None:
    with reading(bind) as conn:
        row = conn.execute(select(QUERY_STATE).where(QUERY_STATE.c.name == name)).one_or_none()
    return _progress(row) if row is not None else None


def all_progress(bind: Connection | Engine) -> dict[str, QueryProgress]:
    with reading(bind) as conn:
        rows = conn.execute(select(QUERY_STATE).order_by(QUERY_STATE.c.name)).all()
    return {row.name: _progress(row) for row in rows}


def save_progress(
    conn: Connection,
    name: str,
    *,
    run_at: datetime,
    status: str,
    file_hash: str,
    watermark: date | None = None,
    mdat_watermark: date | None = None,
) -> None:
    """Record a run of ``name``; a watermark given moves forward (never back).

    A watermark is never stored later than today (real time, UTC): a window
    cannot be complete for days that have not come, and a watermark in the
    future would make later runs skip the days in between.
    """
    require_aware(run_at, "run_at")
    today = datetime.now(UTC).date()
    watermark = None if watermark is None else min(watermark, today)
    mdat_watermark = None if mdat_watermark is None else min(mdat_watermark, today)
    current = conn.execute(select(QUERY_STATE).where(QUERY_STATE.c.name == name)).one_or_none()
    values: dict[str, Any] = {"last_run_at": run_at, "last_status": status, "file_hash": file_hash}
    if current is None:
        values |= {"name": name, "watermark": watermark, "mdat_watermark": mdat_watermark}
        conn.execute(insert(QUERY_STATE).values(**values))
        return
    if watermark is not None:
        values["watermark"] = _later(current.watermark, watermark)
    if mdat_watermark is not None:
        values["mdat_watermark"] = _later(current.mdat_watermark, mdat_watermark)
    conn.execute(update(QUERY_STATE).where(QUERY_STATE.c.name == name).values(**values))


def reset_progress(conn: Connection, name: str) -> bool:
    """Forget how far ``name`` got: its next run searches again from its start date."""
    result = conn.execute(
        update(QUERY_STATE)
        .where(QUERY_STATE.c.name == name)
        .values(watermark=None, mdat_watermark=None)
    )
    return bool(result.rowcount)


def last_term(bind: Connection | Engine, name: str) -> str | None:
    """The term of the query's last successful create-date search (None: never ran)."""
    with reading(bind) as conn:
        return conn.execute(
            select(SEARCH_RUNS.c.term_sent)
            .where(
                SEARCH_RUNS.c.query_name == name,
                SEARCH_RUNS.c.status == "ok",
                SEARCH_RUNS.c.date_field == "crdt",
            )
            .order_by(SEARCH_RUNS.c.started_at.desc(), SEARCH_RUNS.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()


# -- hits ---------------------------------------------------------------------------


def article_ids(bind: Connection | Engine, pmids: Collection[str]) -> dict[str, int]:
    """``pmid -> articles.id`` for those of ``pmids`` that are stored."""
    numbers = sorted({pmid_number(p) for p in pmids})
    found: dict[str, int] = {}
    with reading(bind) as conn:
        for chunk in chunks(numbers):
            for pmid, article_id in conn.execute(
                select(ARTICLES.c.pmid, ARTICLES.c.id).where(ARTICLES.c.pmid.in_(chunk))
            ):
                found[str(pmid)] = int(article_id)
    return found


def link_hits(conn: Connection, search_id: int, query_name: str, article_ids: Iterable[int]) -> int:
    """Link the articles to the query through this search, unless already linked to it.

    Returns how many links were made. Only one process runs a query at a time
    (its lock), so checking before inserting cannot race.
    """
    wanted = sorted(set(article_ids))
    made = 0
    for chunk in chunks(wanted):
        linked = set(
            conn.execute(
                select(QUERY_HITS.c.article_id).where(
                    and_(QUERY_HITS.c.query_name == query_name, QUERY_HITS.c.article_id.in_(chunk))
                )
            ).scalars()
        )
        rows = [
            {"search_run_id": search_id, "article_id": a, "query_name": query_name}
            for a in chunk
            if a not in linked
        ]
        if rows:
            conn.execute(insert(QUERY_HITS), rows)
            made += len(rows)
    return made


def links_made(bind: Connection | Engine, search_ids: Collection[int]) -> dict[int, int]:
    """``search id -> how many articles it linked to its query first`` (those with any)."""
    counts: dict[int, int] = {}
    with reading(bind) as conn:
        for chunk in chunks(sorted(set(search_ids))):
            rows = conn.execute(
                select(QUERY_HITS.c.search_run_id, func.count())
                .where(QUERY_HITS.c.search_run_id.in_(chunk))
                .group_by(QUERY_HITS.c.search_run_id)
            )
            counts.update({int(search): int(n) for search, n in rows})
    return counts


def hit_pmids(bind: Connection | Engine, query_name: str | None = None) -> set[tuple[str, str]]:
    """Every (query name, PMID) link, optionally for one query."""
    statement = select(QUERY_HITS.c.query_name, ARTICLES.c.pmid).join(
        ARTICLES, ARTICLES.c.id == QUERY_HITS.c.article_id
    )
    if query_name is not None:
        statement = statement.where(QUERY_HITS.c.query_name == query_name)
    with reading(bind) as conn:
        return {(name, str(pmid)) for name, pmid in conn.execute(statement)}


# -- listing ------------------------------------------------------------------------


def list_searches(
    bind: Connection | Engine,
    *,
    query: str | Collection[str] | None = None,
    run_id: str | None = None,
    started_from: datetime | None = None,
    started_before: datetime | None = None,
    status: str | None = None,
    limit: int | None = None,
    newest_first: bool = True,
) -> list[SearchRecord]:
    """Ledger rows, filtered; newest first unless asked otherwise."""
    statement = select(SEARCH_RUNS)
    if isinstance(query, str):
        statement = statement.where(SEARCH_RUNS.c.query_name == query)
    elif query is not None:
        statement = statement.where(SEARCH_RUNS.c.query_name.in_(sorted(query)))
    if run_id is not None:
        statement = statement.where(SEARCH_RUNS.c.run_id == run_id)
    if started_from is not None:
        require_aware(started_from, "started_from")
        statement = statement.where(SEARCH_RUNS.c.started_at >= started_from)
    if started_before is not None:
        require_aware(started_before, "started_before")
        statement = statement.where(SEARCH_RUNS.c.started_at < started_before)
    if status is not None:
        statement = statement.where(SEARCH_RUNS.c.status == status)
    if newest_first:
        statement = statement.order_by(SEARCH_RUNS.c.started_at.desc(), SEARCH_RUNS.c.id.desc())
    else:
        statement = statement.order_by(SEARCH_RUNS.c.started_at, SEARCH_RUNS.c.id)
    if limit is not None:
        statement = statement.limit(limit)
    with reading(bind) as conn:
        return [_search(row) for row in conn.execute(statement)]


def _search(row: Row[Any]) -> SearchRecord:
    values = row._mapping  # ``row.count`` would be the tuple method
    return SearchRecord(
        id=int(row.id),
        run_id=row.run_id,
        query_name=row.query_name,
        query_hash=row.query_hash,
        term_sent=row.term_sent,
        query_translation=row.query_translation,
        errors=list(row.errors or []),
        warnings=list(row.warnings or []),
        date_field=row.date_field,
        window_start=row.window_start,
        window_end=row.window_end,
        count=values["count"],
        new_count=row.new_count,
        known_count=row.known_count,
        updated_count=row.updated_count,
        request_count=int(row.request_count or 0),
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=row.status,
        error=row.error,
    )


def _progress(row: Row[Any]) -> QueryProgress:
    return QueryProgress(
        name=row.name,
        watermark=row.watermark,
        mdat_watermark=row.mdat_watermark,
        file_hash=row.file_hash,
        last_run_at=row.last_run_at,
        last_status=row.last_status,
    )


def _later(current: date | None, new: date) -> date:
    return new if current is None or new > current else current
