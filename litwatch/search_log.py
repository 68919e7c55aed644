"""The PRISMA-S search record: every search litwatch ran in a period, exactly as run.

Built from the ledger (``search_runs``). For each search: the database and
platform, the query's name and file version, the search string as sent
(with its date limit), PubMed's own translation, errors and warnings PubMed
returned, the date it ran, and the records it found. Those are split three
ways, disjoint: ``new`` (not in the database before this run), ``known``
(already in it, and unchanged by this run) and ``updated`` (already in it,
and replaced by a newer version in this run); together they make up the
ids found, less any PubMed listed but did not return (named in the
search's warnings). Failed searches are listed too, marked as such: a
search record must not look more complete than the searching was.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sqlalchemy import Connection, Engine

from .eutils.windows import crdt_range, pubmed_date
from .store.ledger import SearchRecord, links_made, list_searches

DATABASE = "PubMed (MEDLINE, PubMed-not-MEDLINE, publisher records)"


def litwatch_version() -> str:
    try:
        return version("litwatch")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def search_as_run(record: SearchRecord) -> str:
    """The search string with its date limit, as the E-utilities client sends it."""
    if record.date_field == "crdt":
        return f"({record.term_sent}) AND {crdt_range(record.window_start, record.window_end)}"
    return (
        f"{record.term_sent} [datetype=mdat, mindate={pubmed_date(record.window_start)}, "
        f"maxdate={pubmed_date(record.window_end)}]"
    )


def limits_of(record: SearchRecord) -> str:
    what = "created (CRDT)" if record.date_field == "crdt" else "modified (MDAT)"
    return f"records {what} {record.window_start.isoformat()} to {record.window_end.isoformat()}"


@dataclass
class QueryLog:
    name: str
    searches: list[SearchRecord] = field(default_factory=list)

    @property
    def versions(self) -> list[str]:
        """The query file versions (content hashes) that ran, oldest first."""
        return list(dict.fromkeys(s.query_hash for s in self.searches))

    identified: int = 0  # records first found by this query (linked to it) in the period


@dataclass
class SearchLog:
    since: date | None
    until: date | None
    platform: str
    queries: list[QueryLog] = field(default_factory=list)

    @property
    def searches(self) -> list[SearchRecord]:
        return [s for q in self.queries for s in q.searches]

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": DATABASE,
            "platform": self.platform,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "queries": [
                {
                    "name": q.name,
                    "versions": q.versions,
                    "identified": q.identified,
                    "searches": [_entry(s) for s in q.searches],
                }
                for q in self.queries
            ],
        }

    def to_text(self) -> str:
        lines = [
            "PRISMA-S search record",
            f"Database: {DATABASE}",
            f"Platform: {self.platform}",
            f"Period: {_day(self.since) or 'beginning'} to {_day(self.until) or 'today'}",
            "",
        ]
        if not self.queries:
            lines.append("No searches were run in this period.")
        for query in self.queries:
            ok = sum(1 for s in query.searches if s.status == "ok")
            lines.append(
                f"Query {query.name} ({ok} of {len(query.searches)} searches completed, "
                f"{query.identified} records first found)"
            )
            for search in query.searches:
                lines.extend("  " + line for line in _search_lines(search))
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"


def search_log(
    bind: Engine | Connection,
    *,
    since: date | None = None,
    until: date | None = None,
    base_url: str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/",
) -> SearchLog:
    """Every search started from ``since`` to ``until`` (whole UTC days, both included)."""
    started_from = datetime.combine(since, time.min, UTC) if since else None
    started_before = datetime.combine(until + timedelta(days=1), time.min, UTC) if until else None
    records = list_searches(
        bind, started_from=started_from, started_before=started_before, newest_first=False
    )
    by_query: dict[str, QueryLog] = defaultdict(lambda: QueryLog(""))
    for record in records:
        log = by_query[record.query_name]
        log.name = record.query_name
        log.searches.append(record)
    linked = links_made(bind, [r.id for r in records])
    for log in by_query.values():
        log.identified = sum(linked.get(s.id, 0) for s in log.searches if s.status == "ok")
    platform = f"NCBI E-utilities ESearch/EFetch at {base_url}, via litwatch {litwatch_version()}"
    return SearchLog(since, until, platform, [by_query[name] for name in sorted(by_query)])


def _entry(record: SearchRecord) -> dict[str, Any]:
    return {
        "search_id": record.id,
        "run_id": record.run_id,
        "date_run": record.started_at.isoformat(),
        "query_file_hash": record.query_hash,
        "search": search_as_run(record),
        "term": record.term_sent,
        "limits": limits_of(record),
        "date_field": record.date_field,
        "window_start": record.window_start.isoformat(),
        "window_end": record.window_end.isoformat(),
        "query_translation": record.query_translation,
        "errors": record.errors,
        "warnings": record.warnings,
        "count": record.count,
        "new": record.new_count,
        "known": record.known_count,
        "updated": record.updated_count,
        "requests": record.request_count,
        "status": record.status,
        "error": record.error,
    }


def _search_lines(record: SearchRecord) -> list[str]:
    when = record.started_at.strftime("%Y-%m-%d %H:%M UTC")
    status = "" if record.status == "ok" else f" [{record.status.upper()}: {record.error}]"
    lines = [
        f"- {when}, {limits_of(record)}{status}",
        f"  searched: {search_as_run(record)}",
        f"  PubMed translation: {record.query_translation or '(none returned)'}",
    ]
    if record.count is not None:
        lines.append(
            f"  records: {record.count} found; {record.new_count or 0} new, "
            f"{record.known_count or 0} already known (unchanged), "
            f"{record.updated_count or 0} updated"
        )
    lines.extend(f"  PubMed error: {message}" for message in record.errors)
    lines.extend(f"  PubMed warning: {message}" for message in record.warnings)
    lines.append(f"  query file version: {record.query_hash[:12]}")
    return lines


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None
