"""Input files for ``litwatch import``: find them, tell what they are, read records.

A file may be PubMed XML, MEDLINE text, or either one gzip-compressed; the
content decides, not the name. In a folder only files whose names say they may
be records are taken (``.xml``, ``.nbib``, ``.txt``, ``.medline``, and those
with ``.gz`` added), hidden files and folders skipped; a file named on the
command line is always read.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO, cast

from .article import Article
from .errors import InputError
from .medline import is_medline_start, parse_medline
from .pubmed_xml import (
    GZIP_MAGIC,
    BytesReader,
    DeletedCitations,
    PrefixedReader,
    parse_pubmed_xml,
    read_head,
)

RECORD_SUFFIXES = frozenset({".xml", ".nbib", ".txt", ".medline"})
_SNIFF_SIZE = 64 * 1024


def find_input_files(paths: Iterable[Path]) -> list[Path]:
    """Files to import: files as given, folders searched recursively; sorted, no repeats.

    A path that does not exist raises ``InputError``.
    """
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(p for p in path.rglob("*") if _looks_like_records(p, path))
        elif path.is_file():
            found.add(path)
        else:
            raise InputError(path, "no such file or folder")
    return sorted(found)


def _looks_like_records(path: Path, root: Path) -> bool:
    if not path.is_file():
        return False
    if any(part.startswith(".") for part in path.relative_to(root).parts):
        return False
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return bool(suffixes) and suffixes[-1] in RECORD_SUFFIXES


def read_records(path: Path) -> Iterator[Article | DeletedCitations]:
    """Records of one file, whatever of the supported formats it is in.

    Raises ``InputError`` naming the file (and line/record where known) for a
    file that is empty, of another kind, or broken part-way; records before
    the problem have been yielded by then.
    """
    label = str(path)
    with ExitStack() as stack:
        try:
            raw = stack.enter_context(open(path, "rb"))
        except OSError as exc:
            raise InputError(label, f"cannot read: {exc.strerror or exc}") from None
        stream: BytesReader = raw
        head = read_head(stream, label, _SNIFF_SIZE)
        if not head:
            raise InputError(label, "empty file")
        if head.startswith(GZIP_MAGIC):
            stream = stack.enter_context(
                gzip.GzipFile(fileobj=cast(BinaryIO, PrefixedReader(head, raw)), mode="rb")
            )
            head = read_head(stream, label, _SNIFF_SIZE)
            if not head:
                raise InputError(label, "empty file (the gzip archive holds no data)")
        body = PrefixedReader(head, stream)
        kind = sniff(head, label)
        if kind == "xml":
            yield from parse_pubmed_xml(body, name=label)
        else:
            yield from parse_medline(_lines(body), name=label)


def sniff(head: bytes, label: str) -> str:
    """``"xml"`` or ``"medline"`` from the first bytes; anything else is an InputError."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start:
        raise InputError(label, "file holds only whitespace")
    if start.startswith(b"<"):
        return "xml"
    first_line = start.split(b"\n", 1)[0].decode("utf-8", "replace")
    if is_medline_start(first_line):
        return "medline"
    if start.startswith((b"{", b"[")):
        raise InputError(label, "JSON, not PubMed XML or MEDLINE text")
    raise InputError(
        label, f"neither PubMed XML nor MEDLINE text (starts with {first_line[:40]!r})"
    )


def _lines(stream: BytesReader) -> Iterator[bytes]:
    """Byte lines of a stream, read in large blocks."""
    pending = b""
    while True:
        block = stream.read(1 << 20)
        if not block:
            break
        lines = (pending + block).split(b"\n")
        pending = lines.pop()
        for line in lines:
            yield line + b"\n"
    if pending:
        yield pending
