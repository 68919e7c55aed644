"""Many rows through one statement, without SQLAlchemy's per-row parameter machinery.

``conn.execute(statement, rows)`` rebuilds every row's parameters through
SQLAlchemy's generic path (~90 µs per 33-column article row, more than
SQLite needs to store it). ``execute_many`` compiles the statement once, takes
each column type's own bind processor (the public ``TypeEngine.bind_processor``,
so the values written are exactly those SQLAlchemy would write), and hands
plain tuples to the driver's ``executemany``.

SQLite only: on PostgreSQL, SQLAlchemy's "insertmanyvalues" batching (many
rows per INSERT) is faster than a driver-level executemany, so it is kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeDecorator, TypeEngine

_Processor = Callable[[Any], Any] | None  # None: the value goes to the driver as it is


def execute_many(conn: Connection, statement: Insert, rows: Sequence[Mapping[str, Any]]) -> None:
    """Execute ``statement`` once per row; every row must have the same keys."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(statement, list(rows))
        return
    sql, order = _compiled(conn.dialect, statement, tuple(rows[0]))
    params = [tuple(p(row[k]) if p else row[k] for k, p in order) for row in rows]
    conn.exec_driver_sql(sql, params)


def _repeats(kind: TypeEngine[Any]) -> bool:
    stored = kind.impl_instance if isinstance(kind, TypeDecorator) else kind
    try:
        return stored.python_type in (datetime, date, bool)
    except NotImplementedError:
        return False


@functools.lru_cache(maxsize=32)
def _compiled(
    dialect: Dialect, statement: Insert, keys: tuple[str, ...]
) -> tuple[str, list[tuple[str, _Processor]]]:
    """SQL and per-column processors, once per statement (an upsert takes ~40 ms to compile)."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    if not compiled.positional or compiled.positiontup is None:
        raise TypeError("execute_many needs a positional paramstyle (SQLite's qmark)")
    columns = statement.table.columns
    order: list[tuple[str, _Processor]] = []
    for key in compiled.positiontup:
        # The dialect's own variant of the type (SQLite's DATE, DATETIME…) converts.
        kind = columns[key].type.dialect_impl(dialect)
        processor = kind.bind_processor(dialect)
        if processor is not None and _repeats(columns[key].type):
            # A batch's timestamps are one value (its "now"), dates and flags
            # few: formatting each distinct value once saves ~40 µs a row.
            processor = functools.lru_cache(maxsize=4096)(processor)
        order.append((key, processor))
    return compiled.string, order
