"""Small helpers shared by the store modules."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Engine, Table

from ..errors import StoreError
from ..models import ArticleRow
from ..stored_form import pmid_number

ARTICLES = cast(Table, ArticleRow.__table__)
__all__ = ["ARTICLES", "BATCH_SIZE", "chunks", "pmid_number", "reading", "require_aware"]

# Rows per statement and per transaction: large enough to amortise the
# round trips, small enough to keep SQLite's write lock short for other writers.
BATCH_SIZE = 500


def require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(f"{name} must be a timezone-aware datetime, not {value.isoformat()}")


@contextmanager
def reading(bind: Connection | Engine) -> Iterator[Connection]:
    """The caller's connection, or a short-lived one from the engine."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as conn:
        yield conn


def chunks(items: list[int], size: int = BATCH_SIZE) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
