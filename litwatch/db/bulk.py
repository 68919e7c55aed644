"""Many rows through one statement, without SQLAlchemy's per-row parameter machinery.

``conn.execute(statement, rows)`` rebuilds every row's parameters through
SQLAlchemy's generic path (~90 µs per 33-column article row, more than
SQLite needs to store it). Here a statement is compiled once, each column
type's own bind processor is taken (the public ``TypeEngine.bind_processor``,
so the values written are exactly those SQLAlchemy would write), and plain
tuples go to the driver's ``executemany``.

- ``execute_rows``: rows already in the driver's form, as tuples (the tagger's
  writes, which convert their few typed values themselves);
- ``execute_many``: rows as dicts of Python values, converted here (article
  upserts). SQLite only: on PostgreSQL SQLAlchemy's "insertmanyvalues"
  batching (many rows per INSERT) is faster, so it is kept there.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Dialect
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.expression import UpdateBase
from sqlalchemy.types import TypeDecorator, TypeEngine

Processor = Callable[[Any], Any]
# A row's own values in statement order, the (index, processor) of those that
# convert, and the shared columns that follow them.
_Plan = tuple[
    Callable[[Mapping[str, Any]], tuple[Any, ...]], list[tuple[int, Processor]], tuple[str, ...]
]


def execute_rows(
    conn: Connection,
    statement: UpdateBase,
    names: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """Run ``statement`` once per row; each row holds the values of its bound parameters
    ``names``, in that order, in the form the driver takes."""
    if not rows:
        return
    sql, positions = _compiled(conn.dialect, statement, None)
    if positions is None:  # a named paramstyle (psycopg)
        conn.exec_driver_sql(sql, [dict(zip(names, row, strict=True)) for row in rows])
        return
    if positions != names:
        order = [names.index(name) for name in positions]
        rows = [tuple(row[i] for i in order) for row in rows]
    conn.exec_driver_sql(sql, list(rows))


def execute_many(
    conn: Connection,
    statement: Insert,
    rows: Sequence[Mapping[str, Any]],
    *,
    same: Mapping[str, Any] | None = None,
) -> None:
    """``conn.execute(statement, [{**row, **same} for row in rows])`` for rows of one table.

    Every row has the same keys; ``same`` holds the values every row shares
    (a batch's timestamps), converted once.
    """
    if not rows:
        return
    shared = dict(same or {})
    if conn.dialect.name != "sqlite":
        conn.execute(statement, [{**row, **shared} for row in rows])
        return
    keys = tuple(rows[0])
    sql, positions = _compiled(conn.dialect, statement, keys + tuple(shared))
    assert positions is not None  # SQLite's qmark paramstyle is positional
    plan = _plan(conn.dialect, statement, positions, frozenset(shared))
    if plan is None:  # a shared column amid the row's: the general way
        order = _processors(conn.dialect, statement, positions)
        full = [{**row, **shared} for row in rows]
        params = [tuple(p(row[k]) if p else row[k] for k, p in order) for row in full]
    else:
        pick, converted, tail_keys = plan
        columns = statement.table.columns
        tail = tuple(bind_processor(columns[key], conn.dialect)(shared[key]) for key in tail_keys)
        params = []
        for row in rows:
            values = list(pick(row))
            for index, process in converted:
                values[index] = process(values[index])
            params.append((*values, *tail))
    conn.exec_driver_sql(sql, params)


def bind_processor(column: ColumnElement[Any], dialect: Dialect) -> Processor:
    """The column type's conversion to the driver's form (identity when there is none)."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else _same


def _same(value: Any) -> Any:
    return value


@functools.lru_cache(maxsize=64)
def _compiled(
    dialect: Dialect, statement: UpdateBase, keys: tuple[str, ...] | None
) -> tuple[str, tuple[str, ...] | None]:
    """SQL and the order of its bound names (None when named), once per statement:
    an upsert takes ~40 ms to compile."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys else None)
    positions = tuple(compiled.positiontup or ()) if compiled.positional else None
    return compiled.string, positions


@functools.lru_cache(maxsize=64)
def _processors(
    dialect: Dialect, statement: Insert, positions: tuple[str, ...]
) -> list[tuple[str, Processor | None]]:
    columns = statement.table.columns
    order: list[tuple[str, Processor | None]] = []
    for key in positions:
        # The dialect's own variant of the type (SQLite's DATE, DATETIME…) converts.
        processor = columns[key].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None and _repeats(columns[key].type):
            # A batch's timestamps are one value (its "now"), dates and flags
            # few: formatting each distinct value once saves ~40 µs a row.
            processor = functools.lru_cache(maxsize=4096)(processor)
        order.append((key, processor))
    return order


@functools.lru_cache(maxsize=64)
def _plan(
    dialect: Dialect, statement: Insert, positions: tuple[str, ...], shared: frozenset[str]
) -> _Plan | None:
    """How to turn a row into its parameters quickly, when the shared columns come
    last: one C-level pick of the row's values, then only the columns whose type
    converts (dates, flags, JSON) through their processor; None otherwise."""
    own = positions[: len(positions) - len(shared)]
    if frozenset(positions[len(own) :]) != shared:
        return None
    order = _processors(dialect, statement, own)
    converted = [(i, p) for i, (_key, p) in enumerate(order) if p is not None]
    pick = operator.itemgetter(*own) if len(own) > 1 else _one_tuple(own[0])
    return pick, converted, positions[len(own) :]


def _one_tuple(key: str) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    return lambda row: (row[key],)


def _repeats(kind: TypeEngine[Any]) -> bool:
    stored = kind.impl_instance if isinstance(kind, TypeDecorator) else kind
    try:
        return stored.python_type in (datetime, date, bool)
    except NotImplementedError:
        return False
