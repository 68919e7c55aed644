"""One monitoring pass: search each query's windows, fetch what is new or changed once, store.

For each query (under its run lock, see ``litwatch.locks``):

1. Its create-date window ``[watermark - lookback_days, until]`` (the first
   run, or the first after its term changed, reaches back to ``start_date``)
   and its modification-date window ``[mdat_watermark, until]``, restricted to
   the same term. Each search is a ledger row before it is sent.
2. The PMIDs of every query are pooled. A PMID is fetched if it is not stored,
   or if a modification-date window found it (it changed since the day the
   last run covered), or if a query meets it for the first time and it was
   stored by something else (an import, another query) and may be stale. Every
   other PMID is stored and current: it is linked, not fetched.
3. One set of batched EFetch calls for the whole run; each batch is stored
   (and deletions flagged) in its own transaction as it arrives.
4. Per query, in one transaction: its hits are linked, its ledger rows become
   ``ok`` with their counts and its watermarks move to ``until``. A window
   whose search or fetch failed stays behind its watermark and is searched
   again next run.
5. With a claim catalogue, records that changed are re-tagged.

Why the modification window does not overlap by ``lookback_days`` like the
create-date window: ESearch returns ids, not modification dates, so a
record that the last run fetched could not be told apart from one that
changed since; the window starts on the last day the previous run covered
(that day is searched again, so a change made later that day is not lost)
and everything it finds is fetched.

Crash safety: nothing is linked and no watermark moves until a window's
records are all committed. A process killed at any point leaves stored
batches (harmless: the upsert keeps one row per PMID) and ``running`` ledger
rows that the next run of the query closes as failed before searching the
same windows again.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from .claims import Catalogue
from .claims import load_catalogue as read_catalogue
from .db import write_tx
from .errors import LitwatchError, LockHeld, StoreError
from .eutils import EutilsClient
from .fetching import fetch_and_store
from .locks import LockLost, RunLock, acquire, default_owner
from .queries import CLAIMS_FILE, SavedQuery
from .query_windows import WindowPlan, plan_windows
from .run_summary import QueryOutcome, RunSummary, WindowOutcome
from .store import stored_versions
from .store.ledger import (
    article_ids,
    close_interrupted,
    fail_running,
    fail_search,
    finish_search,
    get_progress,
    last_term,
    link_hits,
    record_answer,
    save_progress,
    start_search,
)
from .store.tags import retag

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Stage = Literal["search", "fetch"]


@dataclass(frozen=True)
class ProgressEvent:
    """``done`` of ``total`` windows searched, or PMIDs fetched."""

    stage: Stage
    done: int
    total: int
    detail: str = ""


ProgressCallback = Callable[[ProgressEvent], None]


class Stopped(LitwatchError):
    """The run was asked to stop (worker shutdown) before its windows were stored."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _QueryRun:
    query: SavedQuery
    outcome: QueryOutcome
    lock: RunLock | None
    plan: WindowPlan | None = None


def run_monitoring(
    engine: Engine,
    queries: Sequence[SavedQuery],
    client: EutilsClient,
    *,
    until: date | None = None,
    dry_run: bool = False,
    catalogue: Catalogue | None = None,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    clock: Clock = utc_now,
) -> RunSummary:
    """Run each of ``queries`` once (see the module docstring); never raises for a failed query.

    A query whose lock another process holds is reported ``skipped``. With
    ``dry_run`` the searches are made but nothing is fetched or written.
    ``stop`` (set by a worker's signal handler) ends the run at the next
    request boundary, leaving the unfinished windows for the next run.
    """
    started = clock()
    summary = RunSummary(
        run_id=uuid.uuid4().hex,
        until=_bounded_until(until or started.date()),
        started_at=started,
        dry_run=dry_run,
    )
    requests_before = client.request_count
    owner = default_owner()
    try:
        with ExitStack() as locks:
            runs = _lock_queries(engine, queries, owner, summary, locks, dry_run=dry_run)
            try:
                _run(engine, runs, client, summary, catalogue, progress, stop, clock)
            except (Stopped, LockLost) as exc:
                _abandon(engine, summary, runs, str(exc), clock)
            except BaseException as exc:
                reason = database_problem(exc) if isinstance(exc, SQLAlchemyError) else repr(exc)
                _abandon(engine, summary, runs, f"run aborted: {reason}", clock)
                raise
            finally:
                summary.requests = client.request_count - requests_before
                summary.finished_at = clock()
    except SQLAlchemyError as exc:
        # What is stored stays consistent (see the module docstring); say what happened in
        # one line, not as a driver traceback.
        raise StoreError(f"database error: {database_problem(exc)}") from exc
    log.debug("%s", summary.log_line())
    return summary


def database_problem(exc: SQLAlchemyError) -> str:
    """One line for a database failure: the driver's first line, without SQLAlchemy's link."""
    source = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(source).strip().splitlines() or [type(exc).__name__]
    return _BACKGROUND.sub("", lines[0]).strip()


_BACKGROUND = re.compile(r"\s*\(Background on this error at: [^)]*\)")


def _bounded_until(until: date) -> date:
    """``until``, but never after today (real time, UTC, whatever ``clock`` says).

    Windows reaching into the future would move watermarks past days PubMed
    has not yet filled, and later runs would skip them.
    """
    today = utc_now().date()
    if until > today:
        log.warning("windows end today (%s), not on %s: that day has not come", today, until)
        return today
    return until


def _lock_queries(
    engine: Engine,
    queries: Sequence[SavedQuery],
    owner: str,
    summary: RunSummary,
    locks: ExitStack,
    *,
    dry_run: bool,
) -> list[_QueryRun]:
    """Take each query's lock; locks expire in real time, so the injected clock is not used."""
    runs = []
    for query in queries:
        outcome = QueryOutcome(query.name, status="dry-run" if dry_run else "ok")
        summary.queries.append(outcome)
        if dry_run:
            runs.append(_QueryRun(query, outcome, None))
            continue
        try:
            lock = acquire(engine, f"query:{query.name}", owner=owner)
        except LockHeld as exc:
            outcome.status, outcome.error = "skipped", str(exc)
            log.info("query %s skipped: %s", query.name, exc)
            continue
        locks.callback(lock.release)
        runs.append(_QueryRun(query, outcome, lock))
    return runs


def _run(
    engine: Engine,
    runs: list[_QueryRun],
    client: EutilsClient,
    summary: RunSummary,
    catalogue: Catalogue | None,
    progress: ProgressCallback | None,
    stop: threading.Event | None,
    clock: Clock,
) -> None:
    def refresh_locks() -> None:
        for run in runs:
            if run.lock is not None:
                run.lock.refresh()

    def checkpoint() -> None:
        if stop is not None and stop.is_set():
            raise Stopped("stopped by shutdown before its windows were stored")
        refresh_locks()

    def report(stage: Stage, done: int, total: int, detail: str = "") -> None:
        if progress is not None:
            progress(ProgressEvent(stage, done, total, detail))

    _plan(engine, runs, summary, clock)
    _search(engine, runs, client, summary, checkpoint, report, clock)
    to_fetch = _select_for_fetch(engine, runs, summary)
    if summary.dry_run:
        return
    fetched, new, updated = fetch_and_store(
        engine, sorted(to_fetch, key=int), client, summary, checkpoint, report, clock
    )
    refresh_locks()  # everything is stored: finish even if a shutdown was asked for
    for run in runs:
        _complete(engine, run, to_fetch, fetched, new, updated, summary, clock)
    if catalogue is not None:
        summary.retagged = retag_changed(engine, catalogue)


def _plan(engine: Engine, runs: list[_QueryRun], summary: RunSummary, clock: Clock) -> None:
    for run in runs:
        name = run.query.name
        if not summary.dry_run:
            with write_tx(engine) as conn:
                closed = close_interrupted(conn, name, now=clock())
            if closed:
                log.warning(
                    "query %s: %d search(es) left by an interrupted run closed", name, closed
                )
        run.plan = plan_windows(
            run.query, get_progress(engine, name), last_term(engine, name), summary.until
        )
        run.outcome.first_run = run.plan.fresh
        run.outcome.windows = [WindowOutcome(f, start, end) for f, start, end in run.plan.windows]


def _search(
    engine: Engine,
    runs: list[_QueryRun],
    client: EutilsClient,
    summary: RunSummary,
    checkpoint: Callable[[], None],
    report: Callable[..., None],
    clock: Clock,
) -> None:
    total = sum(len(run.outcome.windows) for run in runs)
    done = 0
    report("search", done, total)
    for run in runs:
        query = run.query
        for window in run.outcome.windows:
            checkpoint()
            if not summary.dry_run:
                with write_tx(engine) as conn:
                    window.search_id = start_search(
                        conn,
                        run_id=summary.run_id,
                        query_name=query.name,
                        query_hash=query.content_hash,
                        term_sent=query.term_sent,
                        date_field=window.date_field,
                        window_start=window.start,
                        window_end=window.end,
                        started_at=clock(),
                    )
            try:
                result = client.search_window(
                    query.term_sent,
                    "crdt" if window.date_field == "crdt" else "mdat",
                    window.start,
                    window.end,
                )
            except LitwatchError as exc:
                _window_failed(engine, run, window, str(exc), clock)
            else:
                window.ids = list(result.ids)
                window.count = result.count
                window.query_translation = result.query_translation
                window.errors = list(result.errors)
                window.warnings = list(result.warnings)
                window.requests = result.requests
                summary.search_requests += result.requests
                if window.search_id is not None:
                    with write_tx(engine) as conn:
                        record_answer(
                            conn,
                            window.search_id,
                            count=result.count,
                            query_translation=result.query_translation,
                            errors=result.errors,
                            warnings=result.warnings,
                            request_count=result.requests,
                        )
            done += 1
            report("search", done, total, f"{query.name} {window.date_field}")


def _window_failed(
    engine: Engine, run: _QueryRun, window: WindowOutcome, error: str, clock: Clock
) -> None:
    window.status, window.error = "failed", error
    run.outcome.status = "failed"
    run.outcome.error = run.outcome.error or f"{window.date_field} window: {error}"
    log.info(
        "query %s, %s window %s..%s: %s",
        run.query.name,
        window.date_field,
        window.start,
        window.end,
        error,
    )
    if window.search_id is not None:
        with write_tx(engine) as conn:
            fail_search(conn, window.search_id, finished_at=clock(), error=error)


def _select_for_fetch(engine: Engine, runs: list[_QueryRun], summary: RunSummary) -> set[str]:
    """The pooled PMIDs that must be fetched (see the module docstring)."""
    found: set[str] = set()
    for run in runs:
        for window in run.outcome.windows:
            found.update(window.ids)
    stored = stored_versions(engine, found)
    to_fetch: set[str] = set()
    for run in runs:
        assert run.plan is not None
        mine: set[str] = set()
        for window in run.outcome.windows:
            for pmid in window.ids:
                if pmid not in stored or window.date_field == "mdat" or run.plan.fresh:
                    mine.add(pmid)
        run.outcome.found = len({p for w in run.outcome.windows for p in w.ids})
        run.outcome.to_fetch = len(mine)
        to_fetch |= mine
    summary.found = len(found)
    summary.to_fetch = len(to_fetch)
    return to_fetch


def _complete(
    engine: Engine,
    run: _QueryRun,
    to_fetch: set[str],
    fetched: set[str],
    new: set[str],
    updated: set[str],
    summary: RunSummary,
    clock: Clock,
) -> None:
    """Link, count and close the query's windows and move its watermarks, in one transaction."""
    outcome, query = run.outcome, run.query
    assert run.plan is not None
    watermarks: dict[str, date] = {}
    with write_tx(engine) as conn:
        for window in outcome.windows:
            if window.status != "pending":
                continue
            unfetched = (set(window.ids) & to_fetch) - fetched
            if unfetched:
                error = summary.fetch_error or "its records were not fetched"
                window.status, window.error = (
                    "failed",
                    f"{len(unfetched)} PMIDs not fetched: {error}",
                )
                outcome.status = "failed"
                outcome.error = outcome.error or f"{window.date_field} window: {window.error}"
                if window.search_id is not None:
                    fail_search(conn, window.search_id, finished_at=clock(), error=window.error)
                continue
            ids = list(dict.fromkeys(window.ids))
            stored = article_ids(conn, ids)
            assert window.search_id is not None
            window.linked = link_hits(conn, window.search_id, query.name, stored.values())
            # Disjoint, and with ``absent`` they add up to the window's ids (see search_log).
            absent = [p for p in ids if p not in stored]
            window.new = sum(1 for p in ids if p in new)
            window.updated = sum(1 for p in ids if p in updated)
            window.known = len(ids) - window.new - window.updated - len(absent)
            if absent:
                window.warnings.append(
                    f"{len(absent)} PMID(s) found but not stored (deleted, or not returned "
                    f"by EFetch): {', '.join(absent[:20])}"
                )
            finish_search(
                conn,
                window.search_id,
                finished_at=clock(),
                new=window.new,
                known=window.known,
                updated=window.updated,
                warnings=window.warnings,
            )
            window.status = "ok"
            watermarks[window.date_field] = window.end
        if run.plan.fresh and "crdt" in watermarks:
            # Everything the query matches was fetched (or is current) as of ``until``.
            watermarks["mdat"] = watermarks["crdt"]
        save_progress(
            conn,
            query.name,
            run_at=clock(),
            status=outcome.status,
            file_hash=query.content_hash,
            watermark=watermarks.get("crdt"),
            mdat_watermark=watermarks.get("mdat"),
        )
    found = {p for w in outcome.windows if w.status == "ok" for p in w.ids}
    outcome.new = len(found & new)
    outcome.updated = len(found & updated)
    outcome.linked = sum(w.linked for w in outcome.windows)
    log.debug(
        "query %s: %s; found %d, new %d, updated %d",
        query.name,
        outcome.status,
        outcome.found,
        outcome.new,
        outcome.updated,
    )


def _abandon(
    engine: Engine, summary: RunSummary, runs: Iterable[_QueryRun], reason: str, clock: Clock
) -> None:
    """The run stops early: its open ledger rows are closed, its queries reported failed."""
    for run in runs:
        if run.outcome.status in ("ok", "dry-run"):
            run.outcome.status = "failed"
            run.outcome.error = run.outcome.error or reason
        for window in run.outcome.windows:
            if window.status == "pending":
                window.status, window.error = "failed", reason
    if summary.dry_run:
        return
    try:
        with write_tx(engine) as conn:
            fail_running(conn, summary.run_id, now=clock(), reason=reason)
    except Exception:  # the next run closes them anyway (close_interrupted)
        log.exception("could not close the ledger rows of run %s", summary.run_id)


def load_catalogue(queries_dir: Path) -> Catalogue | None:
    """The claim catalogue beside the queries (``claims.toml``), for re-tagging.

    None when there is none, or when it is broken (logged: monitoring goes
    on, the changed records stay marked for tagging until it is fixed).
    """
    path = queries_dir / CLAIMS_FILE
    if not path.is_file():
        return None
    try:
        return read_catalogue(path)
    except LitwatchError as exc:
        log.error("%s (records are stored untagged until it is fixed)", exc)
        return None


def retag_changed(engine: Engine, catalogue: Catalogue) -> int:
    """Re-tag the records whose tags are stale: new, changed, or tagged by an older catalogue."""
    return retag(engine, catalogue)
