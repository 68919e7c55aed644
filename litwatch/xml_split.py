"""Cutting a large PubmedArticleSet into smaller documents, so several processes parse it.

Only the plain shape efetch and pubmed.gov produce is cut: an optional XML
declaration (UTF-8), an optional DOCTYPE without an internal subset, then the
``<PubmedArticleSet>`` root holding records. Each piece ends just after a
record's end tag and is wrapped into a document of its own (the first keeps
the prolog and the root's start tag, the last keeps the real end tag).

Cuts are found by byte search for ``</PubmedArticle>`` and its kin. That
string cannot occur in the records' text (``<`` is always escaped there), so
a cut inside a comment or CDATA section is the only way to be wrong, and it
leaves a piece that is not well-formed: the caller then parses the file
whole, so a wrong cut costs time, never records.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .pubmed_xml import BytesReader

ROOT = b"PubmedArticleSet"
OPEN = b"<" + ROOT + b">"
CLOSE = b"</" + ROOT + b">"
RECORD_ENDS = (b"</PubmedArticle>", b"</PubmedBookArticle>", b"</DeleteCitation>")
_LONGEST_END = max(len(end) for end in RECORD_ENDS)
_TAIL = 1 << 20

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
