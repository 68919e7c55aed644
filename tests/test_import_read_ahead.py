"""Import parses a file in a thread ahead of the writer: same results, errors, rollback."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from litwatch.db import open_database
from litwatch.importing import _READ_AHEAD_CHUNK, _read_ahead, import_file
from litwatch.store import count_articles

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
# More records than the chunks the reader may hold ahead, so the writer has
# committed nothing yet still saved batches when the file turns out bad.
RECORDS = _READ_AHEAD_CHUNK * 2 + 17


def _readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "litwatch-read-ahead"]


@pytest.fixture
def big_xml(shared_fixtures: Path, tmp_path: Path) -> bytes:
    """RECORDS copies of one real record, each with a PMID of its own."""
    source = (shared_fixtures / "real" / "SEEDtk__ncbi.utils" / "data__pubmed.xml").read_text()
    record = re.search(r"<PubmedArticle>.*?</PubmedArticle>", source, re.DOTALL)
    assert record is not None
    pmid = re.search(r"<PMID[^>]*>(\d+)</PMID>", record.group())
    assert pmid is not None
    body = "".join(
        record.group().replace(pmid.group(1), str(40_000_000 + n)) for n in range(RECORDS)
    )
    return f"<PubmedArticleSet>{body}</PubmedArticleSet>".encode()


def test_a_large_file_imports_whole(big_xml: bytes, tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(big_xml)
    engine = open_database(f"sqlite:///{tmp_path / 'lw.db'}")
    try:
        result = import_file(engine, path, now=NOW)
        assert result.error is None
        assert (result.read, result.new) == (RECORDS, RECORDS)
        assert count_articles(engine) == RECORDS
    finally:
        engine.dispose()
    assert _readers() == []


def test_a_file_truncated_after_many_batches_rolls_back_whole(
    big_xml: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "truncated.xml"
    path.write_bytes(big_xml[: len(big_xml) - 3000])
    engine = open_database(f"sqlite:///{tmp_path / 'lw.db'}")
    try:
        result = import_file(engine, path, now=NOW)
        assert result.error is not None
        assert "truncated.xml" in str(result.error)
        assert count_articles(engine) == 0
    finally:
        engine.dispose()
    assert _readers() == []


def _numbers(fail_at: int | None = None, closed: list[bool] | None = None) -> Iterator[int]:
    try:
        n = 0
        while True:
            if n == fail_at:
                raise ValueError(f"bad item {n}")
            yield n
            n += 1
    finally:
        if closed is not None:
            closed.append(True)


def test_an_error_in_the_source_comes_after_the_items_before_it() -> None:
    got: list[int] = []
    with pytest.raises(ValueError, match="bad item 1234"), _read_ahead(_numbers(1234)) as items:
        got.extend(items)
    assert got == list(range(1234))
    assert _readers() == []


def _write_until_failure(items: Iterator[int]) -> None:
    for n in items:  # an endless source: only the writer's error ends this
        if n == 2000:
            raise RuntimeError("disk full")


def test_an_error_in_the_writer_stops_the_reader_and_closes_the_source() -> None:
    closed: list[bool] = []
    with (
        pytest.raises(RuntimeError, match="disk full"),
        _read_ahead(_numbers(None, closed)) as items,
    ):
        _write_until_failure(items)
    assert closed == [True]
    assert _readers() == []
