"""Date-window searches that get every id, however many there are.

PubMed's ESearch returns at most 9,999 ids per query (retmax is clamped and
retstart > 9998 is an error), so a window with more hits is split in two by
date, recursively, until every slice fits. Windows are on the create date
(``[crdt]``, added to the term as a range: what "new since" means) or on the
modification date (``datetype=mdat``). A single mdat day can hold hundreds of
thousands of records (NCBI's yearly MeSH reload), so such a day is split
again by create date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from ..errors import EutilsError
from .esearch import SearchResult

MAX_IDS = 9999  # what one ESearch can return for PubMed
# Earliest create date to split from: PubMed's oldest records were created
# when they were loaded, never before MEDLINE existed.
CRDT_EPOCH = date(1900, 1, 1)

NOTHING_FOUND = "OutputMessage: No items found."

WindowField = Literal["crdt", "mdat"]
# (term, mindate, maxdate, datetype) -> result with up to MAX_IDS ids
Search = Callable[[str, date | None, date | None, str | None], SearchResult]


@dataclass
class WindowResult:
    """Every id in the window, each once.

    ``count`` sums the counts PubMed gave for the slices that were read, so a
    count above ``len(ids)`` means records moved between slices while the
    search ran. ``slices`` is how many slices the ids came from; ``requests``
    how many ESearch calls were made (retries not counted).
    """

    ids: list[str] = field(default_factory=list)
    count: int = 0
    query_translation: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    slices: int = 0
    requests: int = 0


def pubmed_date(day: date) -> str:
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


def crdt_range(start: date, end: date) -> str:
    return f"{pubmed_date(start)}:{pubmed_date(end)}[crdt]"


def search_window(
    search: Search, term: str, field: WindowField, start: date, end: date
) -> WindowResult:
    """All ids matching ``term`` whose ``field`` date lies in ``start``..``end`` (inclusive)."""
    if field not in ("crdt", "mdat"):
        raise ValueError(f"window field must be crdt or mdat, not {field!r}")
    if end < start:
        raise ValueError(f"window ends ({end}) before it starts ({start})")
    result = WindowResult()
    slicer = _Slicer(search, term, field, result, set())
    slicer.run(start, end, None)
    if not result.ids and slicer.nothing_found:
        result.warnings.append(NOTHING_FOUND)  # said once for the window, not per empty slice
    return result


@dataclass
class _Slicer:
    search: Search
    term: str
    field: WindowField
    result: WindowResult
    seen: set[str]
    nothing_found: bool = False

    def run(self, start: date, end: date, created: tuple[date, date] | None) -> None:
        answer = self._ask(start, end, created)
        if answer.count <= MAX_IDS:
            self._keep(answer)
            return
        if start < end:
            middle = start + (end - start) // 2
            self.run(start, middle, created)
            self.run(middle + timedelta(days=1), end, created)
            return
        # One day holds more than 9,999: only mdat days can be split further.
        if self.field == "mdat":
            low, high = created or (CRDT_EPOCH, end)
            if low < high:
                middle = low + (high - low) // 2
                self.run(start, end, (low, middle))
                self.run(start, end, (middle + timedelta(days=1), high))
                return
        raise EutilsError(
            f"{answer.count} records for {self.term!r} on {pubmed_date(start)} "
            f"({self.field}): more than {MAX_IDS} cannot be split further by date"
        )

    def _ask(self, start: date, end: date, created: tuple[date, date] | None) -> SearchResult:
        self.result.requests += 1
        if self.field == "crdt":
            answer = self.search(f"({self.term}) AND {crdt_range(start, end)}", None, None, None)
        else:
            term = self.term if created is None else f"({self.term}) AND {crdt_range(*created)}"
            answer = self.search(term, start, end, "mdat")
        if self.result.query_translation is None:
            self.result.query_translation = answer.query_translation
        return answer

    def _keep(self, answer: SearchResult) -> None:
        result = self.result
        result.slices += 1
        result.count += answer.count
        for pmid in answer.ids:
            if pmid not in self.seen:
                self.seen.add(pmid)
                result.ids.append(pmid)
        for message in answer.errors:
            if message not in result.errors:
                result.errors.append(message)
        for message in answer.warnings:
            if message == NOTHING_FOUND:
                self.nothing_found = True
            elif message not in result.warnings:
                result.warnings.append(message)
