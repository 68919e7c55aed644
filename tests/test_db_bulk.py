"""execute_many writes exactly what ``conn.execute(statement, rows)`` writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from litwatch.article import Article
from litwatch.db import RawJson, open_database, write_tx
from litwatch.db.bulk import execute_many
from litwatch.resources import sample_corpus_dir
from litwatch.sources import read_records
from litwatch.store._common import ARTICLES
from litwatch.stored_form import stored_columns

NOW = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=UTC)


def rows_of(path: Path) -> list[dict[str, Any]]:
    rows = []
    for record in read_records(path):
        if isinstance(record, Article):
            columns = stored_columns(record)
            columns.update(
                data=RawJson(columns["data"]), first_seen=NOW, last_seen=NOW, updated_at=None
            )
            rows.append(columns)
    return rows


def raw_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return list(conn.exec_driver_sql("SELECT * FROM articles ORDER BY id"))


def sample_rows() -> list[dict[str, Any]]:
    """The sample corpus, a row per PMID: dates present and missing, booleans both
    ways, long JSON."""
    latest = {
        row["pmid"]: row
        for path in sorted(sample_corpus_dir().rglob("*.xml"))
        for row in rows_of(path)
    }
    return list(latest.values())


def test_rows_are_stored_byte_for_byte_as_sqlalchemy_stores_them(tmp_path: Path) -> None:
    rows = sample_rows()
    assert {r["is_retracted"] for r in rows} == {True, False}
    assert {r["is_indexed"] for r in rows} == {True, False}
    assert None in {r["doi"] for r in rows}
    engines = [open_database(f"sqlite:///{tmp_path / name}.db") for name in ("plain", "bulk")]
    try:
        with write_tx(engines[0]) as conn:
            conn.execute(insert(ARTICLES), rows)
        with write_tx(engines[1]) as conn:
            execute_many(conn, insert(ARTICLES), rows)
        assert raw_rows(engines[0]) == raw_rows(engines[1])
        assert len(raw_rows(engines[1])) == len(rows)
    finally:
        for engine in engines:
            engine.dispose()


@pytest.mark.parametrize(
    "shared",
    [
        ("first_seen", "updated_at", "last_seen"),  # after the rows' own columns: the quick way
        ("kind", "is_indexed", "pub_date"),  # among them: the general way
    ],
)
def test_values_every_row_shares_are_stored_as_if_each_row_held_them(
    tmp_path: Path, shared: tuple[str, ...]
) -> None:
    rows = sample_rows()
    same = {key: rows[0][key] for key in shared}
    own = [{k: v for k, v in row.items() if k not in same} for row in rows]
    engines = [open_database(f"sqlite:///{tmp_path / name}.db") for name in ("plain", "bulk")]
    try:
        with write_tx(engines[0]) as conn:
            conn.execute(insert(ARTICLES), [{**row, **same} for row in own])
        with write_tx(engines[1]) as conn:
            execute_many(conn, insert(ARTICLES), own, same=same)
        assert raw_rows(engines[0]) == raw_rows(engines[1])
        assert len(raw_rows(engines[1])) == len(rows)
    finally:
        for engine in engines:
            engine.dispose()


def test_nothing_to_write_is_fine(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with write_tx(engine) as conn:
            execute_many(conn, insert(ARTICLES), [])
        assert raw_rows(engine) == []
    finally:
        engine.dispose()


def test_postgresql_keeps_sqlalchemys_own_batching(postgres_url: str) -> None:
    engine = open_database(postgres_url)
    try:
        row = rows_of_one()
        with write_tx(engine) as conn:
            execute_many(conn, insert(ARTICLES), [row])
        with engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT pmid, first_seen FROM articles").one()
        assert stored == (row["pmid"], NOW)
    finally:
        engine.dispose()


def rows_of_one() -> dict[str, Any]:
    columns = stored_columns(Article(pmid="90000001", title="One"))
    columns.update(data=RawJson(columns["data"]), first_seen=NOW, last_seen=NOW, updated_at=None)
    return columns
