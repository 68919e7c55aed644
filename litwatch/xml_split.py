"""Cutting a large PubmedArticleSet into smaller documents, so several processes parse it.

Only the plain shape efetch and pubmed.gov produce is cut: an optional XML
declaration (UTF-8), an optional DOCTYPE without an internal subset, then the
``<PubmedArticleSet>`` root holding records. Each piece ends just after a
record's end tag and is wrapped into a document of its own (the first keeps
the prolog and the root's start tag, the last keeps the real end tag).

An uncompressed file is not read here at all: ``file_piece`` gives piece
``k`` to whoever asks (a worker process), reading just its bytes. Its cuts
are the first record end after ``k * piece_size`` and after ``(k + 1) *
piece_size``; the neighbours compute the same cut, so the pieces tile the
file without gaps or overlaps. A compressed stream has to be read in order,
so ``split_article_set`` cuts it as it is read.

Cuts are found by byte search for ``</PubmedArticle>`` and its kin. That
string cannot occur in the records' text (``<`` is always escaped there), so
a cut inside a comment or CDATA section is the only way to be wrong, and it
leaves a piece that is not well-formed: the caller then parses the file
whole, so a wrong cut costs time, never records.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from .pubmed_xml import BytesReader

ROOT = b"PubmedArticleSet"
OPEN = b"<" + ROOT + b">"
CLOSE = b"</" + ROOT + b">"
RECORD_ENDS = (b"</PubmedArticle>", b"</PubmedBookArticle>", b"</DeleteCitation>")
_LONGEST_END = max(len(end) for end in RECORD_ENDS)
_TAIL = 1 << 20
_SCAN = 64 << 10  # bytes read at a time while looking for a cut

_PLAIN_HEAD = re.compile(
    rb"""\A(?:<\?xml(?P<decl>[^?>]*)\?>)?\s*
    (?:<!DOCTYPE\s+PubmedArticleSet\b[^\[>]*>)?\s*
    <PubmedArticleSet\s*>""",
    re.VERBOSE,
)
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def is_plain_article_set(head: bytes) -> bool:
    """``head`` (the document's first bytes, after any BOM or blank lines) is a plain set."""
    match = _PLAIN_HEAD.match(head)
    if match is None:
        return False
    encoding = _ENCODING.search(match.group("decl") or b"")
    return encoding is None or encoding.group(1).lower() in (b"utf-8", b"utf8")


def split_article_set(
    head: bytes, rest: BytesReader, *, piece_size: int = 4 << 20
) -> Iterator[bytes]:
    """Well-formed documents of whole records, about ``piece_size`` bytes each, in order.

    ``head`` is the document's beginning (already read, and checked with
    ``is_plain_article_set``); ``rest`` gives the bytes after it. Parsing the
    pieces one after the other gives the records of the whole, in order.
    """
    # A bytearray grows in place and drops a cut prefix cheaply: a record longer
    # than a piece is read on without copying all it holds so far each time.
    buffer = bytearray(head)
    scanned = 0  # buffer[:scanned] holds no record end tag: not searched again
    first = True
    while True:
        data = rest.read(piece_size)
        if data:
            buffer += data
            if len(buffer) < piece_size:
                continue
            cut = _after_last_record(buffer, scanned)
            if cut <= 0:
                scanned = max(0, len(buffer) - _LONGEST_END + 1)
                continue  # one record longer than a piece: read on
            with memoryview(buffer) as view:
                piece = b"".join((b"" if first else OPEN, view[:cut], CLOSE))
            del buffer[:cut]
            scanned = 0
            first = False
            yield piece
            continue
        # End of input: what is left holds the real end tag (or the error, if
        # the document is truncated, which parsing the piece reports).
        yield bytes(buffer) if first else OPEN + buffer
        return


def _after_last_record(buffer: bytearray, searched_from: int = 0) -> int:
    """Offset just after the last record end tag in ``buffer[searched_from:]`` (0 if none)."""
    # Records are rarely over a few hundred kB: look in the tail first.
    for start in (max(searched_from, len(buffer) - _TAIL), searched_from):
        best = 0
        for end in RECORD_ENDS:
            at = buffer.rfind(end, start)
            if at >= 0:
                best = max(best, at + len(end))
        if best or start == searched_from:
            return best
    return 0


def file_piece(file: BinaryIO, index: int, *, piece_size: int, start: int, size: int) -> bytes:
    """Piece ``index`` of a plain set held in ``file`` (``size`` bytes, the document
    beginning at ``start``), as a well-formed document; empty when no record begins in it.

    The pieces ``0, 1, … ⌈size / piece_size⌉ - 1`` together hold every record once,
    in order, and parsing them one after the other gives the records of the whole.
    """
    begin = start if index == 0 else _cut_at(file, max(index * piece_size, start), size)
    end = _cut_at(file, max((index + 1) * piece_size, start), size)
    if end <= begin:
        return b""  # inside one record longer than a piece, or after the last
    file.seek(begin)
    body = file.read(end - begin)
    return b"".join((b"" if index == 0 else OPEN, body, b"" if end >= size else CLOSE))


def _cut_at(file: BinaryIO, offset: int, size: int) -> int:
    """Just after the first record end tag that starts at or after ``offset`` (``size`` if none)."""
    file.seek(offset)
    position = offset
    carried = b""  # the previous block's last bytes: a tag may straddle two blocks
    while position < size:
        block = file.read(min(_SCAN, size - position))
        if not block:
            break
        data = carried + block
        ends = [at + len(end) for end in RECORD_ENDS if (at := data.find(end)) >= 0]
        if ends:
            return position - len(carried) + min(ends)
        carried = data[-(_LONGEST_END - 1) :]
        position += len(block)
    return size
