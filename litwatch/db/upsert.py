"""Upserts: ``INSERT … ON CONFLICT`` for SQLite and PostgreSQL, chosen in one place."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.dml import Insert

from ..errors import StoreError

Excluded = Any  # the ``excluded`` pseudo-table of the statement: ``excluded.col``


def upsert(
    bind: Connection | Engine,
    table: Table,
    *,
    conflict: Sequence[str],
    update: Callable[[Excluded], Mapping[str, Any]] | None = None,
    where: Callable[[Excluded], ColumnElement[bool]] | None = None,
) -> Insert:
    """``INSERT … ON CONFLICT (conflict) DO UPDATE SET update(excluded) [WHERE …]``.

    The one place that picks the dialect's insert construct. ``update=None``
    gives ``DO NOTHING``. Execute the statement with a list of row dicts.
    """
    dialect = bind.dialect.name
    if dialect == "postgresql":
        pg_stmt = postgresql.insert(table)
        if update is None:
            return pg_stmt.on_conflict_do_nothing(index_elements=list(conflict))
        return pg_stmt.on_conflict_do_update(
            index_elements=list(conflict),
            set_=dict(update(pg_stmt.excluded)),
            where=where(pg_stmt.excluded) if where else None,
        )
    if dialect == "sqlite":
        lite_stmt = sqlite.insert(table)
        if update is None:
            return lite_stmt.on_conflict_do_nothing(index_elements=list(conflict))
        return lite_stmt.on_conflict_do_update(
            index_elements=list(conflict),
            set_=dict(update(lite_stmt.excluded)),
            where=where(lite_stmt.excluded) if where else None,
        )
    raise StoreError(f"upsert is not supported on {dialect}")
