"""``execute_many``: one statement for many rows, handed to the driver as they are.

SQLAlchemy processes every bound value of every row (type lookups, bind
processors, parameter dictionaries); for the thousands of rows ``retag``
writes per second that costs more than the database does. Here the statement
is compiled once per dialect and the rows, already in the driver's form (the
caller applies the few type conversions needed), go straight to the DB-API
``executemany``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql.expression import UpdateBase

# (statement, dialect name) -> SQL, and the order of the bound names in it
# (None for a named paramstyle). Statements are module constants: a few entries.
_compiled: dict[tuple[UpdateBase, str], tuple[str, tuple[str, ...] | None]] = {}


def execute_many(
    conn: Connection,
    statement: UpdateBase,
    names: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """Run ``statement`` once per row; each row holds the values of its bound parameters
    ``names``, in that order, in the form the driver takes."""
    if not rows:
        return
    sql, positions = _compile(conn, statement)
    if positions is None:
        conn.exec_driver_sql(sql, [dict(zip(names, row, strict=True)) for row in rows])
        return
    if positions != names:
        order = [names.index(name) for name in positions]
        rows = [tuple(row[i] for i in order) for row in rows]
    conn.exec_driver_sql(sql, list(rows))


def _compile(conn: Connection, statement: UpdateBase) -> tuple[str, tuple[str, ...] | None]:
    key = (statement, conn.dialect.name)
    found = _compiled.get(key)
    if found is None:
        compiled = statement.compile(dialect=conn.dialect)
        positions = tuple(compiled.positiontup or ()) if compiled.positional else None
        found = _compiled[key] = (str(compiled), positions)
    return found
