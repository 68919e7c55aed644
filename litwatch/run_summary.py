"""What one monitoring pass did: per window, per query and in total (JSON-able).

``RunSummary`` is what ``run_monitoring`` returns, what ``litwatch run``
prints (``--json`` prints ``to_dict()``) and what the worker logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

WindowStatus = Literal["pending", "ok", "failed"]
QueryStatus = Literal["ok", "failed", "skipped", "dry-run"]


@dataclass
class WindowOutcome:
    """One date-window search of one query."""

    date_field: str  # "crdt" (new records) or "mdat" (modified records)
    start: date
    end: date
    search_id: int | None = None  # its ledger row (None in a dry run)
    ids: list[str] = field(default_factory=list, repr=False)
    count: int = 0
    query_translation: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    requests: int = 0
    # Of the ids found (disjoint; with any found but not stored, they add up to them):
    new: int = 0  # not stored before this run
    known: int = 0  # stored before, and unchanged by this run
    updated: int = 0  # stored before, and replaced by a newer version in this run
    linked: int = 0  # linked to this query for the first time (any of the above)
    status: WindowStatus = "pending"
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "date_field": self.date_field,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "search_id": self.search_id,
            "count": self.count,
            "ids_found": len(self.ids),
            "query_translation": self.query_translation,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "requests": self.requests,
            "new": self.new,
            "known": self.known,
            "updated": self.updated,
            "linked": self.linked,
            "status": self.status,
            "error": self.error,
        }


@dataclass
class QueryOutcome:
    name: str
    status: QueryStatus = "ok"
    windows: list[WindowOutcome] = field(default_factory=list)
    error: str | None = None
    first_run: bool = False  # searched from its start date (new query, or its term changed)
    found: int = 0  # distinct PMIDs over its windows
    new: int = 0  # of those, stored for the first time by this run
    updated: int = 0  # of those, replaced by a newer version by this run
    to_fetch: int = 0  # of those, not stored or possibly changed (fetched, or would be)
    linked: int = 0  # of those, linked to this query for the first time by this run

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "error": self.error,
            "first_run": self.first_run,
            "found": self.found,
            "new": self.new,
            "updated": self.updated,
            "to_fetch": self.to_fetch,
            "linked": self.linked,
            "windows": [w.to_dict() for w in self.windows],
        }


@dataclass
class RunSummary:
    run_id: str
    until: date
    started_at: datetime
    dry_run: bool = False
    finished_at: datetime | None = None
    queries: list[QueryOutcome] = field(default_factory=list)
    found: int = 0  # distinct PMIDs over every query
    to_fetch: int = 0  # distinct PMIDs that needed fetching
    fetched: int = 0  # PMIDs asked for in efetch batches that completed
    new: int = 0
    updated: int = 0
    unchanged: int = 0  # fetched but identical to (or older than) the stored copy
    deleted: list[str] = field(default_factory=list)  # PubMed sent DeleteCitation
    missing: list[str] = field(default_factory=list)  # asked for, not returned
    requests: int = 0  # every HTTP request, retries included
    search_requests: int = 0  # ESearch calls (slices included, retries not)
    fetch_batches: int = 0  # EFetch batches that completed
    retagged: int | None = None  # None: no claim catalogue given
    fetch_error: str | None = None

    @property
    def failed(self) -> list[str]:
        return [q.name for q in self.queries if q.status == "failed"]

    @property
    def skipped(self) -> list[str]:
        return [q.name for q in self.queries if q.status == "skipped"]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def seconds(self) -> float:
        if self.finished_at is None:
            return 0.0
        return (self.finished_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "until": self.until.isoformat(),
            "dry_run": self.dry_run,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
            "failed": self.failed,
            "skipped": self.skipped,
            "totals": {
                "found": self.found,
                "to_fetch": self.to_fetch,
                "fetched": self.fetched,
                "new": self.new,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "deleted": len(self.deleted),
                "missing": len(self.missing),
                "requests": self.requests,
                "search_requests": self.search_requests,
                "fetch_batches": self.fetch_batches,
                "retagged": self.retagged,
            },
            "deleted": list(self.deleted),
            "missing": list(self.missing),
            "fetch_error": self.fetch_error,
            "queries": [q.to_dict() for q in self.queries],
        }

    def log_line(self) -> str:
        """One line for the worker's log."""
        names = ",".join(q.name for q in self.queries) or "-"
        status = "ok" if self.ok else "FAILED " + ",".join(self.failed)
        if self.skipped:
            status += " skipped " + ",".join(self.skipped)
        return (
            f"run {self.run_id[:8]} [{names}] until {self.until}: {status}; "
            f"found {self.found}, new {self.new}, updated {self.updated}, "
            f"requests {self.requests}, {self.seconds:.1f}s"
        )
