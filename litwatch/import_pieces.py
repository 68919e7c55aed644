"""A large PubMed XML file imported by several processes: cut here, parsed in workers.

The main process reads the file (decompressing it if gzipped) and cuts it
into pieces of whole records (``xml_split``); worker processes parse each
piece and compute the stored columns of its records (``parse_piece``); the
main process saves them in file order. Parsing is where an import spends its
time, and it holds the GIL, so only processes spread it over the cores.

No database is imported here: a spawned worker imports this module and what
parsing needs, nothing more.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

from .errors import InputError, StoreError
from .pubmed_xml import (
    GZIP_MAGIC,
    DeletedCitations,
    check_xml_head,
    parse_article_set,
    read_head,
)
from .stored_form import stored_columns
from .xml_split import is_plain_article_set, split_article_set

_HEAD_SIZE = 64 * 1024


@dataclass(frozen=True)
class ParsedPiece:
    """The records of one piece, in order: stored columns, or PMIDs PubMed deleted.

    ``failed`` holds the error when the piece did not parse; the caller then
    imports the file in one process, which reports it with its line and record.
    """

    records: list[dict[str, Any] | DeletedCitations] = field(default_factory=list)
    failed: str | None = None


def pieces(path: Path, *, piece_size: int = 4 << 20) -> Iterator[bytes] | None:
    """The file cut into documents of whole records, or None if it is not a plain set.

    Only a plain ``PubmedArticleSet`` (what efetch and pubmed.gov save) is
    cut; anything else is for the one-process parser, which knows every shape.
    """
    with open(path, "rb") as raw:
        head = read_head(raw, str(path), _HEAD_SIZE)
        if head.startswith(GZIP_MAGIC):
            return _gzip_pieces(path, piece_size)
    if not _may_cut(head, str(path)):
        return None
    return _plain_pieces(path, piece_size, compressed=False)


def _gzip_pieces(path: Path, piece_size: int) -> Iterator[bytes] | None:
    try:
        with gzip.open(path, "rb") as unpacked:
            head = read_head(cast(BinaryIO, unpacked), str(path), _HEAD_SIZE)
    except InputError:
        return None  # broken archive: the one-process import says what is wrong
    if not _may_cut(head, str(path)):
        return None
    return _plain_pieces(path, piece_size, compressed=True)


def _plain_pieces(path: Path, piece_size: int, *, compressed: bool) -> Iterator[bytes]:
    with open(path, "rb") as raw:
        stream: BinaryIO = cast(BinaryIO, gzip.GzipFile(fileobj=raw)) if compressed else raw
        head = _document_start(read_head(stream, str(path), _HEAD_SIZE))
        yield from split_article_set(head, stream, piece_size=piece_size)


def _may_cut(head: bytes, label: str) -> bool:
    """A plain set whose head the one-process parser accepts too: a head it refuses
    (entity declarations ...) is left to it, so both paths refuse the same files."""
    try:
        check_xml_head(head, label)
    except InputError:
        return False
    return is_plain_article_set(_document_start(head))


def _document_start(head: bytes) -> bytes:
    """The bytes from the first ``<`` on (a BOM and blank lines are a saving accident)."""
    return head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")


def parse_piece(piece: bytes) -> ParsedPiece:
    """What a worker does with one piece: parse it, compute every record's stored columns."""
    records: list[dict[str, Any] | DeletedCitations] = []
    try:
        for record in parse_article_set(piece, name="piece"):
            if isinstance(record, DeletedCitations):
                records.append(record)
            else:
                records.append(stored_columns(record))
    except (InputError, StoreError) as exc:
        return ParsedPiece(failed=str(exc))
    return ParsedPiece(records)
