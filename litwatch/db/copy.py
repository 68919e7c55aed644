"""``litwatch db copy``: move a whole litwatch database to another URL, proven complete.

Typical use is SQLite → PostgreSQL when a team outgrows one machine (and back,
for a local copy). The target must be empty (or hold the schema but no rows);
it gets the current schema by migration, then every table is copied in
foreign-key order with its primary keys, in batches, inside one transaction.
At the end both sides are read again and compared table by table: row count
and a SHA-256 over the rows in key order, with every value in a
dialect-neutral form (UTC timestamps, canonical JSON). Any difference raises
and the target transaction is rolled back, so a copy is all or nothing.

``locks`` is not copied: it only holds the leases of workers running against
the source, which mean nothing on the target.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, select, text

from ..errors import StoreError
from ..models import Base
from .engine import safe_url, write_tx
from .schema import open_database

log = logging.getLogger(__name__)

SKIPPED_TABLES = frozenset({"locks"})
_BATCH = 2000


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int
    source_hash: str
    target_hash: str

    @property
    def matches(self) -> bool:
        return self.source_hash == self.target_hash


@dataclass(frozen=True)
class CopyReport:
    source: str
    target: str
    tables: tuple[TableCopy, ...]

    @property
    def ok(self) -> bool:
        return all(t.matches for t in self.tables)


def copied_tables() -> list[Table]:
    """Every litwatch table except the transient ones, parents before children."""
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def copy_database(source_url: str, target_url: str) -> CopyReport:
    """Copy every row from ``source_url`` to the empty database at ``target_url``."""
    if safe_url(source_url) == safe_url(target_url):
        raise StoreError("db copy: source and target are the same database")
    source = open_database(source_url)
    try:
        target = open_database(target_url)
        try:
            return _copy(source, target)
        finally:
            target.dispose()
    finally:
        source.dispose()


def table_digest(conn: Connection, table: Table) -> tuple[int, str]:
    """Row count and a hash of the rows in primary-key order, the same on every dialect."""
    digest = hashlib.sha256()
    count = 0
    for row in _rows(conn, table):
        digest.update(_canonical(row).encode("utf-8"))
        digest.update(b"\n")
        count += 1
    return count, digest.hexdigest()


def _copy(source: Engine, target: Engine) -> CopyReport:
    tables = copied_tables()
    with source.connect() as src, write_tx(target) as dst:
        _require_empty(dst, tables, safe_url(target.url))
        for table in tables:
            batch: list[dict[str, Any]] = []
            for row in _rows(src, table):
                batch.append(row)
                if len(batch) >= _BATCH:
                    dst.execute(insert(table), batch)
                    batch = []
            if batch:
                dst.execute(insert(table), batch)
        if dst.dialect.name == "postgresql":
            _reset_sequences(dst, tables)
        else:
            # New articles enter SQLite's full-text index through the store
            # (store.search.index_new_articles), not a trigger: index the copy.
            dst.exec_driver_sql("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
        report = CopyReport(
            source=safe_url(source.url),
            target=safe_url(target.url),
            tables=tuple(_compare(src, dst, t) for t in tables),
        )
        bad = [t.table for t in report.tables if not t.matches]
        if bad:
            raise StoreError(
                f"db copy: tables differ after copying ({', '.join(bad)}): rolled back"
            )
    log.info("copied %s to %s", report.source, report.target)
    return report


def _compare(src: Connection, dst: Connection, table: Table) -> TableCopy:
    n_src, h_src = table_digest(src, table)
    n_dst, h_dst = table_digest(dst, table)
    if n_src != n_dst:
        h_dst = f"{h_dst} ({n_dst} rows)"
    return TableCopy(table.name, n_src, h_src, h_dst)


def _require_empty(conn: Connection, tables: list[Table], url: str) -> None:
    for table in tables:
        if conn.execute(select(func.count()).select_from(table)).scalar_one():
            raise StoreError(
                f"db copy: target {url} already has rows in {table.name}: "
                "copy into an empty database"
            )


def _rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    order = list(table.primary_key.columns)
    result = conn.execution_options(yield_per=_BATCH).execute(select(table).order_by(*order))
    for row in result.mappings():
        yield dict(row)


def _canonical(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False, default=_neutral)


def _neutral(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot hash a {type(value).__name__}")


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """Explicit ids were inserted: move each serial sequence past the highest one."""
    for table in tables:
        for column in table.primary_key.columns:
            if not column.autoincrement or len(table.primary_key.columns) != 1:
                continue
            sequence = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"),
                {"t": table.name, "c": column.name},
            ).scalar_one()
            if sequence:
                highest = f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1"
                conn.execute(text(f"SELECT setval('{sequence}', {highest}, false)"))
