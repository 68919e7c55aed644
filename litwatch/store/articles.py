"""Saving articles: dedupe by PMID, keep the newest version, remember first sight.

The unique PMID and ``INSERT … ON CONFLICT DO UPDATE`` do the dedupe, so two
writers saving the same record at once cannot make two rows or lose the newer
copy. (On SQLite, rows the batch's read found absent take a plain ``INSERT``:
SQLite has one writer, so nobody can add them in between.) The update
replaces the stored record only when the incoming one is not older
(``(Version, modified)`` compared) and its content hash differs; then
``updated_at`` moves and ``tagged_hash`` is cleared so the tagger redoes it.
Every save moves ``last_seen``; nothing ever moves ``first_seen``.

A read of the stored versions before each batch only sorts the PMIDs into
new / updated / unchanged for the counts. On SQLite it runs under the write
lock taken at BEGIN, so the counts are exact; on PostgreSQL a concurrent
writer may make them off by the records both saved (the rows stay right).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, and_, case, insert, null, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert

from ..article import Article, is_pmid
from ..db import RawJson, upsert, write_tx
from ..db.bulk import execute_many
from ..errors import StoreError
from ..stored_form import stored_columns
from ._common import ARTICLES, BATCH_SIZE, chunks, pmid_number, reading, require_aware
from .records import SaveResult, StoredVersion
from .search import index_new_articles

T = TypeVar("T")

# One statement object, so its compiled form is cached once (caches key on it).
_PLAIN_INSERT = insert(ARTICLES)

# Columns copied from the record; replaced together when a newer copy arrives.
_CONTENT_COLUMNS = (
    "version",
    "kind",
    "status",
    "title",
    "doi",
    "doi_norm",
    "pmcid",
    "journal",
    "journal_iso",
    "pub_date",
    "pub_year",
    "language",
    "created",
    "modified",
    "is_retracted",
    "has_erratum",
    "is_indexed",
    "work_key",
    "search_text",
    "data",
    "content_hash",
)


def save_articles(
    target: Connection | Engine,
    articles: Iterable[Article],
    *,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    replace_on_tie: bool = True,
) -> SaveResult:
    """Store ``articles`` (any iterable, consumed lazily in batches).

    With an ``Engine`` each batch is committed in its own write transaction;
    with a ``Connection`` everything happens in the caller's transaction.
    A PMID given twice is handled in order, as if saved one after the other.
    If iterating ``articles`` raises, the records it gave before are saved and
    the error propagates (wrap the source to keep the counts of a partial file).

    A copy with the same PubMed Version and revision date as the stored one but
    other content replaces it when ``replace_on_tie`` (the default: a record
    fetched from PubMed now is the truth, even if its date did not move). Files
    imported by hand pass False: two saved copies of one record would otherwise
    replace each other on every import.
    """
    # Whole batches are converted before any is written: a bad record refuses its batch.
    batches = _batches(articles, batch_size, key=_row_key)
    converted = ([stored_columns(article) for article in batch] for batch in batches)
    return _save_batches(target, converted, now=now, replace_on_tie=replace_on_tie)


def save_columns(
    target: Connection | Engine,
    records: Iterable[dict[str, Any]],
    *,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    replace_on_tie: bool = True,
) -> SaveResult:
    """``save_articles`` for records already turned into ``stored_columns`` (import workers).

    The dicts are taken over: their ``data`` is marked in place as JSON text.
    """
    batches = _batches(records, batch_size, key=lambda columns: columns["pmid"])
    return _save_batches(target, batches, now=now, replace_on_tie=replace_on_tie)


def _save_batches(
    target: Connection | Engine,
    batches: Iterable[list[dict[str, Any]]],
    *,
    now: datetime,
    replace_on_tie: bool,
) -> SaveResult:
    require_aware(now, "now")
    result = SaveResult(new=[], updated=[], unchanged=[])
    statement: Insert | None = None
    times = {"first_seen": now, "updated_at": None, "last_seen": now}
    for rows in batches:
        for columns in rows:  # already JSON text: written as is, not encoded again
            columns["data"] = RawJson(columns["data"])
        if isinstance(target, Engine):
            with write_tx(target) as conn:
                if statement is None:
                    statement = _upsert_statement(conn, replace_on_tie)
                _save_batch(conn, statement, rows, times, result, replace_on_tie)
        else:
            if statement is None:
                statement = _upsert_statement(target, replace_on_tie)
            _save_batch(target, statement, rows, times, result, replace_on_tie)
    return result


def stored_versions(bind: Connection | Engine, pmids: Collection[str]) -> dict[str, StoredVersion]:
    """``pmid -> StoredVersion`` for those of ``pmids`` already stored."""
    numbers = sorted({pmid_number(p) for p in pmids})
    found: dict[str, StoredVersion] = {}
    with reading(bind) as conn:
        for chunk in chunks(numbers):
            for pmid, content_hash, version, modified in conn.execute(
                select(
                    ARTICLES.c.pmid,
                    ARTICLES.c.content_hash,
                    ARTICLES.c.version,
                    ARTICLES.c.modified,
                ).where(ARTICLES.c.pmid.in_(chunk))
            ):
                found[str(pmid)] = StoredVersion(content_hash, version, modified)
    return found


def mark_deleted(target: Connection | Engine, pmids: Iterable[str], *, now: datetime) -> list[str]:
    """Record that PubMed deleted these citations (``DeleteCitation``).

    The rows are kept (hits, triage and digests refer to them) and flagged;
    returns the PMIDs that were stored and not flagged before.
    """
    require_aware(now, "now")
    numbers = sorted({pmid_number(p) for p in pmids})

    def run(conn: Connection) -> list[str]:
        marked: list[str] = []
        for chunk in chunks(numbers):
            rows = conn.execute(
                update(ARTICLES)
                .where(ARTICLES.c.pmid.in_(chunk), ARTICLES.c.deleted_at.is_(None))
                .values(deleted_at=now)
                .returning(ARTICLES.c.pmid)
            )
            marked.extend(str(pmid) for (pmid,) in rows)
        return sorted(marked, key=int)

    if isinstance(target, Engine):
        with write_tx(target) as conn:
            return run(conn)
    return run(target)


# -- internals ----------------------------------------------------------------


def _row_key(article: Article) -> object:
    """The row a record lands in: "01906085" and "1906085" are one PMID, one row."""
    text = article.pmid.strip()
    return int(text) if is_pmid(text) else text


def _batches(items: Iterable[T], size: int, *, key: Callable[[T], object]) -> Iterator[list[T]]:
    """Batches of at most ``size`` with no PMID twice (a repeat starts a new batch).

    One statement cannot upsert a row twice (PostgreSQL refuses it), and
    splitting keeps "saved one after the other" semantics for repeats.
    """
    batch: list[T] = []
    seen: set[object] = set()
    try:
        for item in items:
            pmid = key(item)
            if len(batch) >= size or pmid in seen:
                yield batch
                batch, seen = [], set()
            batch.append(item)
            seen.add(pmid)
    except Exception:
        # The source failed (e.g. a truncated file): the records it gave are
        # still saved, then its error goes on to the caller.
        if batch:
            yield batch
        raise
    if batch:
        yield batch


def _upsert_statement(bind: Connection, replace_on_tie: bool) -> Insert:
    t = ARTICLES

    def changes(excluded: Any) -> dict[str, Any]:
        not_older = or_(
            excluded.version > t.c.version,
            and_(
                excluded.version == t.c.version,
                _later_date(excluded.modified, t.c.modified, or_equal=replace_on_tie),
            ),
        )
        replace = and_(not_older, excluded.content_hash != t.c.content_hash)
        values: dict[str, Any] = {
            name: case((replace, excluded[name]), else_=t.c[name]) for name in _CONTENT_COLUMNS
        }
        values["updated_at"] = case((replace, excluded.last_seen), else_=t.c.updated_at)
        values["tagged_hash"] = case((replace, null()), else_=t.c.tagged_hash)
        values["last_seen"] = excluded.last_seen
        return values

    return upsert(bind, t, conflict=["pmid"], update=changes)


def _later_date(new: Any, stored: Any, *, or_equal: bool) -> Any:
    """SQL: the new copy's modification date is later than (or, with ``or_equal``, the
    same as) the stored one's; a stored copy without a date ranks lowest."""
    if or_equal:
        return or_(stored.is_(None), and_(new.is_not(None), new >= stored))
    return or_(
        and_(stored.is_(None), new.is_not(None)),
        and_(new.is_not(None), stored.is_not(None), new > stored),
    )


def _rank(version: int, modified: date | None) -> tuple[int, date]:
    """Order of record versions: PubMed Version first, then the modification date."""
    return (version, modified or date.min)


def _save_batch(
    conn: Connection,
    statement: Insert,
    rows: list[dict[str, Any]],
    times: dict[str, Any],
    result: SaveResult,
    replace_on_tie: bool,
) -> None:
    stored = {
        pmid: (content_hash, _rank(version, modified))
        for pmid, content_hash, version, modified in conn.execute(
            select(
                ARTICLES.c.pmid, ARTICLES.c.content_hash, ARTICLES.c.version, ARTICLES.c.modified
            ).where(ARTICLES.c.pmid.in_([row["pmid"] for row in rows]))
        )
    }
    new_rows: list[dict[str, Any]] = []
    known_rows: list[dict[str, Any]] = []
    for row in rows:
        pmid = str(row["pmid"])
        before = stored.get(row["pmid"])
        if before is None:
            new_rows.append(row)
            result.new.append(pmid)
            continue
        known_rows.append(row)
        if before[0] != row["content_hash"] and (
            _rank(row["version"], row["modified"]) > before[1]
            or (replace_on_tie and _rank(row["version"], row["modified"]) == before[1])
        ):
            result.updated.append(pmid)
        else:
            result.unchanged.append(pmid)
    try:
        if conn.dialect.name == "sqlite":
            # No other writer can add these PMIDs before we commit (SQLite has one
            # writer, and a stale read fails to write), so new rows take a plain
            # INSERT: an upsert makes SQLite keep a statement journal of every
            # page it touches, a fifth of the cost of saving a record.
            execute_many(conn, _PLAIN_INSERT, new_rows, same=times)
            execute_many(conn, statement, known_rows, same=times)
        else:
            execute_many(conn, statement, rows, same=times)
        index_new_articles(conn, [row["pmid"] for row in new_rows])
    except DBAPIError as exc:
        first, last = rows[0]["pmid"], rows[-1]["pmid"]
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else repr(exc.orig)
        raise StoreError(f"saving PMIDs {first}…{last} failed: {reason}") from exc
