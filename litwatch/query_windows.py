"""Which date windows a saved query searches next, and whether it is due.

A query keeps two watermarks (``query_state``): the day up to which its
create-date window is complete and the same for its modification-date
window. Its next create-date window reaches back ``lookback_days`` before the
first (records PubMed adds late get a second chance); the modification
window starts on the last day the previous run covered. A query that never
completed a run, or whose term changed since its last successful search,
starts over from ``start_date``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .queries import SavedQuery
from .schedules import is_due
from .store.ledger import QueryProgress


@dataclass(frozen=True)
class WindowPlan:
    fresh: bool  # searches from start_date; stored hits are fetched again (may be stale)
    windows: tuple[tuple[str, date, date], ...]  # (date field, first day, last day)


def plan_windows(
    query: SavedQuery, progress: QueryProgress | None, previous_term: str | None, until: date
) -> WindowPlan:
    """The windows a query searches next, from how far it got and what it searched last."""
    term_changed = previous_term is not None and previous_term != query.term_sent
    if progress is None or progress.watermark is None or term_changed:
        return WindowPlan(True, (("crdt", min(query.start_date, until), until),))
    crdt_start = progress.watermark - timedelta(days=query.lookback_days)
    mdat_start = progress.mdat_watermark or progress.watermark
    return WindowPlan(
        False,
        (
            ("crdt", min(crdt_start, until), until),
            ("mdat", min(mdat_start, until), until),
        ),
    )


def is_query_due(query: SavedQuery, progress: QueryProgress | None, now: datetime) -> bool:
    """Due: never ran, its last run failed, or its schedule came round since its last run."""
    if progress is None or progress.last_status != "ok" or progress.last_run_at is None:
        return True
    return is_due(query.schedule, progress.last_run_at, now)
