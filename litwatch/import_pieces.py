"""A large PubMed XML file imported by several processes: cut here, parsed in workers.

Worker processes read each piece, parse it and compute the stored columns
of its records (``parse_piece``); the main process saves them in file order.
A piece of an uncompressed file is read by the worker that parses it
(``xml_split.file_piece``), so the file's bytes never pass through the main
process; a gzipped file has to be decompressed in order, so the main process
does that and cuts it. Parsing is where an import spends its time, and it
holds the GIL, so only processes spread it over the cores.

No database is imported here: a spawned worker imports this module and what
parsing needs, nothing more.
"""

from __future__ import annotations

import gzip
import os
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
from .xml_split import file_piece, is_plain_article_set, split_article_set

_HEAD_SIZE = 64 * 1024


@dataclass(frozen=True)
class ParsedPiece:
    """The records of one piece, in order: stored columns, or PMIDs PubMed deleted.

    ``failed`` holds the error when the piece did not parse; the caller then
    imports the file in one process, which reports it with its line and record.
    """

    records: list[dict[str, Any] | DeletedCitations] = field(default_factory=list)
    failed: str | None = None


@dataclass(frozen=True)
class FilePiece:
    """Piece ``index`` of an uncompressed plain set: cheap to send, read by its worker."""

    path: str  # absolute: a worker's working directory is not the caller's concern
    index: int
    piece_size: int
    start: int  # where the document begins (after a BOM or blank lines)
    identity: FileIdentity  # of the file when the import began

    def document(self) -> bytes:
        with open(self.path, "rb") as file:
            # Neighbouring pieces must cut the same bytes: a file replaced or
            # rewritten meanwhile could lose or repeat records at a cut, so the
            # piece fails and the one-process import reads the file whole.
            if FileIdentity.of(file) != self.identity:
                raise OSError(f"{self.path} changed while it was being imported")
            return file_piece(
                file,
                self.index,
                piece_size=self.piece_size,
                start=self.start,
                size=self.identity.size,
            )


@dataclass(frozen=True)
class FileIdentity:
    """Which file, and which version of it: device, inode, size, modification time."""

    device: int
    inode: int
    size: int
    modified_ns: int

    @classmethod
    def of(cls, file: BinaryIO) -> FileIdentity:
        stat = os.fstat(file.fileno())
        return cls(stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


Piece = bytes | FilePiece


def document_of(piece: Piece) -> bytes:
    """The piece as a document of its own (empty when no record begins in it)."""
    return piece.document() if isinstance(piece, FilePiece) else piece


def pieces(path: Path, *, piece_size: int = 4 << 20) -> Iterator[Piece] | None:
    """The file cut into pieces of whole records, or None if it is not a plain set.

    Only a plain ``PubmedArticleSet`` (what efetch and pubmed.gov save) is
    cut; anything else is for the one-process parser, which knows every shape.
    """
    with open(path, "rb") as raw:
        head = read_head(raw, str(path), _HEAD_SIZE)
        if head.startswith(GZIP_MAGIC):
            return _gzip_pieces(path, piece_size)
        identity = FileIdentity.of(raw)
    if not _may_cut(head, str(path)):
        return None
    start = len(head) - len(_document_start(head))
    count = -(-identity.size // piece_size)
    where = os.path.abspath(path)
    return (FilePiece(where, k, piece_size, start, identity) for k in range(count))


def _gzip_pieces(path: Path, piece_size: int) -> Iterator[bytes] | None:
    try:
        with gzip.open(path, "rb") as unpacked:
            head = read_head(cast(BinaryIO, unpacked), str(path), _HEAD_SIZE)
    except InputError:
        return None  # broken archive: the one-process import says what is wrong
    if not _may_cut(head, str(path)):
        return None
    return _unpacked_pieces(path, piece_size)


def _unpacked_pieces(path: Path, piece_size: int) -> Iterator[bytes]:
    with gzip.open(path, "rb") as stream:
        head = _document_start(read_head(cast(BinaryIO, stream), str(path), _HEAD_SIZE))
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


def parse_piece(piece: Piece) -> ParsedPiece:
    """What a worker does with one piece: parse it, compute every record's stored columns."""
    records: list[dict[str, Any] | DeletedCitations] = []
    try:
        document = document_of(piece)
        if not document:
            return ParsedPiece()  # no record begins in this stretch of the file
        for record in parse_article_set(document, name="piece"):
            if isinstance(record, DeletedCitations):
                records.append(record)
            else:
                records.append(stored_columns(record))
    except (InputError, StoreError, OSError) as exc:
        return ParsedPiece(failed=str(exc))
    return ParsedPiece(records)
