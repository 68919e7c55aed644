"""Import record files into the store: what ``litwatch import`` does.

Each file is imported in one write transaction of its own: a file that turns
out to be bad part-way (truncated, not UTF-8, a broken record) is rolled back
whole, so nothing already stored is touched by it, and the next file still
imports. ``DeleteCitation`` entries flag the stored articles as deleted.

A large PubMed XML file (``PARALLEL_MIN_BYTES`` and up) is cut into pieces
of whole records that worker processes parse (``import_pieces``), one per
CPU by default, while this process writes: parsing holds the GIL, so only
processes spread it. A file that cannot be cut (an unusual shape) or whose
pieces do not parse is imported again in one process, which reports any
error with its line and record; the rolled-back attempt leaves no trace.

In one process, a file is parsed in a thread of its own, a couple of batches
ahead of the writer: SQLite releases the GIL while it writes a batch, so the
next records are parsed meanwhile. Either way, hand-overs are bounded, so
memory stays flat however large the file.
"""

from __future__ import annotations

import logging
import queue
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine

from .article import Article
from .db import write_tx
from .errors import InputError, StoreError
from .import_pieces import ParsedPiece, Piece, parse_piece, pieces
from .parallel import default_jobs, ordered_map
from .pubmed_xml import DeletedCitations
from .sources import find_input_files, read_records
from .store import SaveResult, mark_deleted, save_articles
from .store.articles import save_columns

log = logging.getLogger(__name__)

T = TypeVar("T")

# Records per hand-over to the writer (save_articles' batch size), and how many
# hand-overs may wait: enough to keep the writer busy, few enough to stay flat.
_READ_AHEAD_CHUNK = 500
_READ_AHEAD_CHUNKS = 2

# Files smaller than this are parsed in this process: starting workers costs
# a few tenths of a second, about what parsing 8 MB in one process takes.
PARALLEL_MIN_BYTES = 8 << 20
# Bytes per piece handed to a worker (~100 records): big enough that handing
# over costs little, small enough that a few in flight keep memory flat.
PIECE_BYTES = 1 << 20
# Pieces per worker handed out and not yet saved. The writer takes a piece's
# records in bursts, and a worker that finds the window full idles: 4 per
# worker imported a large file 7-9% faster than 2 (each piece waiting costs
# the writer a few MB).
PIECES_AHEAD = 4


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
    jobs: int | None = None,
) -> ImportSummary:
    """Import every record file in ``paths`` (files or folders).

    A path that does not exist counts as a failed file; so does each bad file.
    ``on_file`` is called after each file (for progress or error lines).
    ``jobs`` is how many processes parse a large file (default: one per CPU).
    """
    jobs = default_jobs() if jobs is None else jobs
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
            _record(summary, import_file(engine, path, now=now, jobs=jobs), on_file)
    return summary


def import_file(engine: Engine, path: Path, *, now: datetime, jobs: int = 1) -> FileResult:
    """Import one file in one transaction; a bad file leaves the store as it was."""
    if jobs > 1 and _size(path) >= PARALLEL_MIN_BYTES:
        try:
            cut = pieces(path, piece_size=PIECE_BYTES)
        except (OSError, InputError):
            cut = None  # unreadable: the one-process import reports it
        if cut is not None:
            try:
                return _import_pieces(engine, path, cut, now=now, jobs=jobs)
            except _PiecesFailed as exc:
                log.info("%s: %s; importing it in one process", path, exc)
    return _import_in_one_process(engine, path, now=now)


def _import_in_one_process(engine: Engine, path: Path, *, now: datetime) -> FileResult:
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
    return _done(path, counter.records, saved, marked)


def _import_pieces(
    engine: Engine, path: Path, cut: Iterator[Piece], *, now: datetime, jobs: int
) -> FileResult:
    """Workers parse the pieces; this process saves their records in file order."""
    deleted: list[str] = []
    counter = _Counter()
    parsed = ordered_map(parse_piece, _unbroken(cut), jobs=jobs, ahead=PIECES_AHEAD * jobs)
    try:
        # The workers start and parse a first piece before the write lock is
        # taken: nobody waits on it meanwhile, and a worker that cannot start (it
        # re-ran a script without a __main__ guard, which imports again and waits
        # for this lock) fails at once instead of after the busy timeout.
        first = next(parsed, None)
        ready = parsed if first is None else chain((first,), parsed)
        with write_tx(engine) as conn:
            records = _columns_only(ready, deleted, counter)
            saved = save_columns(conn, records, now=now, replace_on_tie=False)
            marked = mark_deleted(conn, deleted, now=now) if deleted else []
    except (StoreError, BrokenProcessPool) as exc:
        # A worker that died (killed, or a script without a __main__ guard
        # under "spawn") or a bad value: the one-process import decides.
        raise _PiecesFailed(str(exc) or type(exc).__name__) from exc
    finally:
        parsed.close()
    return _done(path, counter.records, saved, marked)


class _PiecesFailed(Exception):
    """The file could not be imported piecewise (the transaction is rolled back)."""


def _unbroken(cut: Iterator[Piece]) -> Iterator[Piece]:
    """The pieces; a read error (a broken gzip stream, say) ends the piecewise attempt."""
    try:
        yield from cut
    except (InputError, OSError, EOFError, zlib.error) as exc:
        raise _PiecesFailed(f"cannot be read in pieces ({exc})") from exc


def _columns_only(
    parsed: Iterator[ParsedPiece], deleted: list[str], counter: _Counter
) -> Iterator[dict[str, Any]]:
    for piece in parsed:
        if piece.failed is not None:
            raise _PiecesFailed(f"a piece did not parse ({piece.failed})")
        for record in piece.records:
            if isinstance(record, DeletedCitations):
                deleted.extend(record.pmids)
            else:
                counter.records += 1
                yield record


def _done(path: Path, read: int, saved: SaveResult, marked: list[str]) -> FileResult:
    log.info(
        "%s: %d read, %d new, %d updated, %d unchanged, %d deleted",
        path,
        read,
        saved.n_new,
        saved.n_updated,
        saved.n_unchanged,
        len(marked),
    )
    return FileResult(
        path,
        read=read,
        new=saved.n_new,
        updated=saved.n_updated,
        unchanged=saved.n_unchanged,
        deleted=len(marked),
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


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
