"""Import record files into the store: what ``litwatch import`` does.

Each file is imported in one write transaction of its own: a file that turns
out to be bad part-way (truncated, not UTF-8, a broken record) is rolled back
whole, so nothing already stored is touched by it, and the next file still
imports. ``DeleteCitation`` entries flag the stored articles as deleted.

A file is parsed in a thread of its own, a couple of batches ahead of the
writer: SQLite releases the GIL while it writes a batch (rows, indexes, the
full-text index), so the next records are parsed meanwhile. The hand-over
queue is bounded, so memory stays flat however large the file.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine

from .article import Article
from .db import write_tx
from .errors import InputError, StoreError
from .pubmed_xml import DeletedCitations
from .sources import find_input_files, read_records
from .store import mark_deleted, save_articles

log = logging.getLogger(__name__)

T = TypeVar("T")

# Records per hand-over to the writer (save_articles' batch size), and how many
# hand-overs may wait: enough to keep the writer busy, few enough to stay flat.
_READ_AHEAD_CHUNK = 500
_READ_AHEAD_CHUNKS = 2


@dataclass(frozen=True)
class FileResult:
    """What one file gave (all zero with ``error`` set when it failed)."""

    path: Path
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    error: InputError | None = None


@dataclass
class ImportSummary:
    """Totals over the files of one import; ``failed`` lists the files that failed."""

    files: list[FileResult] = field(default_factory=list)

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def new(self) -> int:
        return sum(f.new for f in self.files)

    @property
    def updated(self) -> int:
        return sum(f.updated for f in self.files)

    @property
    def unchanged(self) -> int:
        return sum(f.unchanged for f in self.files)

    @property
    def deleted(self) -> int:
        return sum(f.deleted for f in self.files)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.error is not None]

    def to_dict(self) -> dict[str, object]:
        return {
            "files": len(self.files),
            "read": self.read,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "failed": len(self.failed),
            "errors": [str(f.error) for f in self.failed],
        }


def import_paths(
    engine: Engine,
    paths: Iterable[Path],
    *,
    now: datetime,
    on_file: Callable[[FileResult], None] | None = None,
) -> ImportSummary:
    """Import every record file in ``paths`` (files or folders).

    A path that does not exist counts as a failed file; so does each bad file.
    ``on_file`` is called after each file (for progress or error lines).
    """
    summary = ImportSummary()
    seen: set[Path] = set()
    for given in paths:
        try:
            files = find_input_files([given])
        except InputError as exc:
            files = []
            _record(summary, FileResult(given, error=exc), on_file)
        for path in files:
            if path.resolve() in seen:
                continue  # named twice (a file and its folder)
            seen.add(path.resolve())
            _record(summary, import_file(engine, path, now=now), on_file)
    return summary


def import_file(engine: Engine, path: Path, *, now: datetime) -> FileResult:
    """Import one file in one transaction; a bad file leaves the store as it was."""
    deleted: list[str] = []
    counter = _Counter()
    try:
        source = _articles_only(read_records(path), deleted, counter)
        with _read_ahead(source) as articles, write_tx(engine) as conn:
            # Two saved copies of one record must not replace each other on every import.
            saved = save_articles(conn, articles, now=now, replace_on_tie=False)
            marked = mark_deleted(conn, deleted, now=now) if deleted else []
    except InputError as exc:
        log.debug("import of %s rolled back", path, exc_info=True)
        return FileResult(path, error=exc)
    except StoreError as exc:  # e.g. a PMID beyond what any database column holds
        log.debug("import of %s rolled back", path, exc_info=True)
        return FileResult(path, error=InputError(path, str(exc)))
    log.info(
        "%s: %d read, %d new, %d updated, %d unchanged, %d deleted",
        path,
        counter.records,
        saved.n_new,
        saved.n_updated,
        saved.n_unchanged,
        len(marked),
    )
    return FileResult(
        path,
        read=counter.records,
        new=saved.n_new,
        updated=saved.n_updated,
        unchanged=saved.n_unchanged,
        deleted=len(marked),
    )


@dataclass
class _Counter:
    records: int = 0


def _articles_only(
    records: Iterator[Article | DeletedCitations], deleted: list[str], counter: _Counter
) -> Iterator[Article]:
    for record in records:
        if isinstance(record, DeletedCitations):
            deleted.extend(record.pmids)
        else:
            counter.records += 1
            yield record


@contextmanager
def _read_ahead(items: Iterator[T]) -> Iterator[Iterator[T]]:
    """``items``, produced by a thread of their own up to a few chunks ahead.

    The consumer sees the same sequence, and an error raised by ``items`` at the
    same point (after the items before it). Leaving the block stops the thread
    (it drops what it read ahead) and waits for it; ``items`` is closed there.
    """
    handover: queue.Queue[list[T] | BaseException | None] = queue.Queue(_READ_AHEAD_CHUNKS)
    stop = threading.Event()

    def offer(item: list[T] | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                handover.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False  # the consumer has gone

    def produce() -> None:
        chunk: list[T] = []
        try:
            for item in items:
                chunk.append(item)
                if len(chunk) >= _READ_AHEAD_CHUNK:
                    if not offer(chunk):
                        return
                    chunk = []
            if offer(chunk):
                offer(None)
        except BaseException as exc:  # handed to the consumer, raised there
            if offer(chunk):
                offer(exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def consume() -> Iterator[T]:
        while True:
            got = handover.get()
            if got is None:
                return
            if isinstance(got, BaseException):
                raise got
            yield from got

    thread = threading.Thread(target=produce, name="litwatch-read-ahead", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        thread.join()


def _record(
    summary: ImportSummary, result: FileResult, on_file: Callable[[FileResult], None] | None
) -> None:
    summary.files.append(result)
    if on_file is not None:
        on_file(result)
