"""Streaming reader for PubMed XML (``PubmedArticleSet``), as efetch returns it.

``parse_pubmed_xml`` yields one ``Article`` per ``PubmedArticle`` /
``PubmedBookArticle`` and one ``DeletedCitations`` per ``DeleteCitation``,
in file order, holding one record in memory at a time: lxml ``iterparse``
stops only at record elements, and each record is cleared (with the siblings
before it) once read, so memory stays flat however large the file.

Lenient about the wrapper: any root element will do (``PubmedArticleSet``,
``MedlineCitationSet``, a foreign root around ``PubmedArticle``s, a bare record
as root), with or without a DOCTYPE of any year. Strict about the records: a
record without a usable PMID, or a document that is not well-formed, raises
``InputError`` naming the file, line and record, after every good record
before it was yielded. A document with no records at all is an error unless
its root is an (empty) ``PubmedArticleSet``, which efetch sends for unknown ids.

Safety: no DTD is ever loaded or fetched (``load_dtd=False``,
``no_network=True``), entities are not expanded (``resolve_entities=False``),
a DOCTYPE that declares entities is refused outright ("billion laughs"), and
``huge_tree=False`` keeps libxml2's limits on text and depth.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypedDict, cast

from lxml import etree

from .article import Article, is_pmid
from .errors import InputError
from .inline_markup import BlankDroppingParser, BlankTextDropped
from .pubmed_fields import RecordError, article_from_book, article_from_pubmed_article

# Elements iterparse stops at. MedlineCitation only counts outside a
# PubmedArticle (MedlineCitationSet files from the MEDLINE leasing era).
# The records a PubmedArticleSet holds as its children.
SET_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation")
RECORD_TAGS = (*SET_RECORD_TAGS, "MedlineCitation")
# Roots that may legitimately hold no records (efetch of unknown ids).
EMPTY_OK_ROOTS = frozenset({"PubmedArticleSet", "MedlineCitationSet", "PubmedBookArticleSet"})

GZIP_MAGIC = b"\x1f\x8b"


# Every parse: no DTD loaded or fetched, no entity expanded, libxml2's size
# limits kept, comments and processing instructions dropped.
class _ParseOptions(TypedDict):
    load_dtd: bool
    no_network: bool
    resolve_entities: bool
    huge_tree: bool
    remove_comments: bool
    remove_pis: bool


SAFE_PARSING: _ParseOptions = {
    "load_dtd": False,
    "no_network": True,
    "resolve_entities": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}

_HEAD_SIZE = 64 * 1024


class BytesReader(Protocol):
    """Anything with ``read(size) -> bytes``: a file, a response body, a wrapper."""

    def read(self, size: int = -1, /) -> bytes: ...


XmlSource = str | Path | bytes | BinaryIO | BytesReader


@dataclass(frozen=True)
class DeletedCitations:
    """PMIDs PubMed has deleted (a ``DeleteCitation`` element)."""

    pmids: tuple[str, ...]


def parse_pubmed_xml(
    source: XmlSource, *, name: str | None = None
) -> Iterator[Article | DeletedCitations]:
    """Records of a PubMed XML document (plain or gzip-compressed), one at a time.

    ``source`` is a path, the document's bytes, or a binary file object (not
    closed here). ``name`` labels errors; it defaults to the path.
    """
    label = name or (str(source) if isinstance(source, str | Path) else "<xml>")
    owned: BinaryIO | None = None
    stream: BytesReader
    if isinstance(source, str | Path):
        try:
            owned = stream = open(source, "rb")  # noqa: SIM115 - closed in finally
        except OSError as exc:
            raise InputError(label, f"cannot read: {exc.strerror or exc}") from exc
    elif isinstance(source, bytes):
        stream = io.BytesIO(source)
    else:
        stream = source
    try:
        yield from _parse_stream(stream, label)
    finally:
        if owned is not None:
            owned.close()


def _parse_stream(stream: BytesReader, label: str) -> Iterator[Article | DeletedCitations]:
    head = read_head(stream, label, _HEAD_SIZE)
    if not head:
        raise InputError(label, "empty file")
    if head.startswith(GZIP_MAGIC):
        stream = gzip.GzipFile(fileobj=cast(BinaryIO, PrefixedReader(head, stream)), mode="rb")
        head = read_head(stream, label, _HEAD_SIZE)
        if not head:
            raise InputError(label, "empty file (the gzip archive holds no data)")
    check_xml_head(head, label)
    # A byte-order mark or blank lines before the XML declaration make libxml2
    # refuse the file; they are a saving accident, not content, so skip them
    # (and count the lines skipped so error line numbers stay true).
    start = head.removeprefix(b"\xef\xbb\xbf")
    start = start.lstrip(b" \t\r\n")
    skipped_lines = head[: len(head) - len(start)].count(b"\n")
    yield from _iter_records(PrefixedReader(start, stream), label, skipped_lines)


def parse_article_set(document: bytes, *, name: str) -> list[Article | DeletedCitations]:
    """Every record of a ``PubmedArticleSet`` held in memory, such as a piece of a large file.

    Parsed in one call rather than streamed (a piece is a couple of MB, and
    this is a fifth faster than ``iterparse``), with the same safety settings,
    and without the blanks that indent the elements: libxml2 then builds a
    fifth fewer nodes. Where a blank between words may have gone with them
    (``BlankTextDropped``: about one record in a thousand), that record is
    read again from its own bytes keeping every blank (or, if they cannot be
    told apart, the whole piece), so the records are always those
    ``parse_pubmed_xml`` reads. A blank dropped before a comment, CDATA
    section or processing instruction leaves no trace in the tree, so a piece
    holding one keeps every blank. Records must be children of the root;
    anything else is an ``InputError`` (the import then parses the whole file
    with ``parse_pubmed_xml``).
    """
    if not _holds_hidden_markup(document):
        try:
            return _read_article_set(document, name, BlankDroppingParser(**SAFE_PARSING))
        except BlankTextDropped:
            pass
    return _read_article_set(document, name, etree.XMLParser(**SAFE_PARSING))


def _holds_hidden_markup(document: bytes) -> bool:
    """A comment, CDATA section or processing instruction after the document's start.

    Found by the rare ``!`` and ``?`` rather than by ``<``, which is everywhere.
    """
    for mark in (b"!", b"?"):
        at = document.find(mark, 2)  # 2: past the XML declaration's "<?"
        while at >= 0:
            if document[at - 1] == ord("<") and not document.startswith(b"DOCTYPE", at + 1):
                return True
            at = document.find(mark, at + 1)
    return False


def _read_article_set(
    document: bytes, name: str, parser: etree.XMLParser
) -> list[Article | DeletedCitations]:
    # A parser per call: lxml parsers must not be shared between threads.
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(name, f"not well-formed XML: {_syntax_message(exc)}") from None
    if root.tag != "PubmedArticleSet":
        raise InputError(name, f"not a PubmedArticleSet (root element <{root.tag}>)")
    _refuse_entity_declarations(root, name)
    records: list[Article | DeletedCitations] = []
    last_pmid: str | None = None
    starts: list[int] | None = None  # where each record begins, found when first needed
    for elem in root:
        tag = elem.tag
        if tag not in SET_RECORD_TAGS:
            raise InputError(name, f"unexpected <{tag}> in PubmedArticleSet")
        try:
            item = _record(elem, tag, name, len(records), last_pmid, 0)
        except BlankTextDropped:
            starts = _record_starts(document) if starts is None else starts
            alone = _keeping_blanks(document, starts, root, len(records))
            line_offset = (source_line(elem) or 1) - 1
            item = _record(alone, tag, name, len(records), last_pmid, line_offset)
        if isinstance(item, Article):
            last_pmid = item.pmid
        records.append(item)
    return records


_RECORD_START_TAGS = tuple(b"<" + tag.encode() for tag in SET_RECORD_TAGS)
_AFTER_TAG_NAME = frozenset(b"> /\t\n\r")  # what may follow the name in a start tag


def _record_starts(document: bytes) -> list[int]:
    """Offsets of every record start tag in a document without hidden markup.

    With no comment, CDATA section or processing instruction, a ``<`` always
    opens markup, so each of these is a start tag.
    """
    starts = []
    for opening in _RECORD_START_TAGS:
        at = document.find(opening)
        while at >= 0:
            after = at + len(opening)
            if after < len(document) and document[after] in _AFTER_TAG_NAME:
                starts.append(at)
            at = document.find(opening, at + 1)
    return sorted(starts)


def _keeping_blanks(
    document: bytes, starts: list[int], root: etree._Element, index: int
) -> etree._Element:
    """Record ``index`` of ``root`` parsed again from its own bytes, every blank kept.

    They run from the index-th record start tag to its end tag, when the bytes
    hold exactly as many start tags as the root has records (a record nested
    in another would not be its child). Otherwise ``BlankTextDropped``, and the
    whole document is parsed again; so too if the bytes read as another record.
    """
    record = root[index]
    if len(starts) != len(root):
        raise BlankTextDropped("records not found in the bytes")
    begin = starts[index]
    closing = b"</" + record.tag.encode() + b">"
    end = document.find(closing, begin)  # a later record's: the slice will not parse
    if end < 0:
        raise BlankTextDropped("record's end not found")
    try:
        alone = etree.fromstring(
            document[begin : end + len(closing)], etree.XMLParser(**SAFE_PARSING)
        )
    except etree.XMLSyntaxError:
        raise BlankTextDropped("record's bytes do not parse alone") from None
    if alone.tag != record.tag or _pmid(alone) != _pmid(record):
        raise BlankTextDropped("record's bytes read as another record")
    return alone


def _pmid(record: etree._Element) -> tuple[str | None, str | None]:
    """The first PMID in a record, its own (MedlineCitation's or BookDocument's), and version."""
    first = next(record.iter("PMID"), None)
    return (first.text, first.get("Version")) if first is not None else (None, None)


def check_xml_head(head: bytes, label: str) -> None:
    """Refuse what is plainly not PubMed XML before parsing it."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start:
        raise InputError(label, "empty file" if not head else "file holds only whitespace")
    lowered = start[:200].lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        raise InputError(label, "an HTML page, not PubMed XML (a web page saved as a file?)")
    if not start.startswith(b"<"):
        raise InputError(label, "not XML (does not start with '<')")
    if b"<!DOCTYPE" in head and b"<!ENTITY" in head:
        raise InputError(
            label,
            "DOCTYPE declares entities; refused (entity expansion attacks such as "
            "'billion laughs' are not parsed)",
        )


def _iter_records(
    stream: BytesReader, label: str, line_offset: int = 0
) -> Iterator[Article | DeletedCitations]:
    context = etree.iterparse(
        cast(BinaryIO, stream),
        events=("end",),
        tag=RECORD_TAGS,
        **SAFE_PARSING,
    )
    count = 0
    last_pmid: str | None = None
    checked_dtd = False
    try:
        for _event, elem in context:
            tag = elem.tag
            parent = elem.getparent()
            if tag == "MedlineCitation" and parent is not None and parent.tag == "PubmedArticle":
                continue  # read with its PubmedArticle
            if not checked_dtd:
                _refuse_entity_declarations(elem, label)
                checked_dtd = True
            item = _record(elem, tag, label, count, last_pmid, line_offset)
            count += 1
            if isinstance(item, Article):
                last_pmid = item.pmid
            # Free the record and everything before it: memory stays flat.
            elem.clear(keep_tail=False)
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]
            yield item
    except etree.XMLSyntaxError as exc:
        raise InputError(
            label,
            f"not well-formed XML: {_syntax_message(exc)}",
            line=exc.lineno + line_offset if exc.lineno else None,
            record=_position(count, last_pmid),
        ) from None
    except (OSError, EOFError, zlib.error) as exc:  # gzip stream broken mid-way
        raise InputError(
            label, f"cannot read compressed data: {exc}", record=_position(count, last_pmid)
        ) from None
    if count == 0:
        root = context.root
        root_tag = root.tag if root is not None else None
        if root_tag not in EMPTY_OK_ROOTS:
            raise InputError(label, _no_records_message(root))


def _record(
    elem: etree._Element,
    tag: str,
    label: str,
    count: int,
    last_pmid: str | None,
    line_offset: int,
) -> Article | DeletedCitations:
    try:
        if tag == "DeleteCitation":
            return _deleted(elem)
        if tag == "PubmedBookArticle":
            return article_from_book(elem)
        return article_from_pubmed_article(elem)
    except RecordError as exc:
        record = f"PMID {exc.pmid}" if exc.pmid else _position(count, last_pmid)
        line = source_line(elem)
        line = line + line_offset if line is not None else None
        raise InputError(label, str(exc), line=line, record=record) from None


def _deleted(elem: etree._Element) -> DeletedCitations:
    pmids = []
    for pmid_elem in elem.iterfind("PMID"):
        pmid = (pmid_elem.text or "").strip()
        if not is_pmid(pmid):
            raise RecordError(f"DeleteCitation PMID is not a number: {pmid!r}")
        pmids.append(pmid)
    return DeletedCitations(tuple(pmids))


def _refuse_entity_declarations(elem: etree._Element, label: str) -> None:
    dtd = elem.getroottree().docinfo.internalDTD
    # lxml-stubs lack DTD.iterentities.
    if dtd is not None and any(True for _ in cast(Any, dtd).iterentities()):
        raise InputError(label, "DOCTYPE declares entities; refused (not a PubMed file)")


def source_line(elem: etree._Element) -> int | None:
    """Line where ``elem`` starts (lxml-stubs type ``sourceline`` loosely)."""
    line: object = elem.sourceline
    return line if isinstance(line, int) else None


def _position(count: int, last_pmid: str | None) -> str:
    if last_pmid is None:
        return f"record {count + 1}"
    return f"record {count + 1} (after PMID {last_pmid})"


def _syntax_message(exc: etree.XMLSyntaxError) -> str:
    message = (exc.msg or str(exc)).strip()
    # libxml2 appends ", line N, column M"; the line is reported separately.
    return message.split(", line ")[0].rstrip(".")


def _no_records_message(root: etree._Element | None) -> str:
    if root is None:
        return "no PubMed records found"
    error = root.findtext("ERROR")
    if error:
        return f"no PubMed records: <{root.tag}> reports ERROR {' '.join(error.split())!r}"
    return f"no PubMed records found (root element <{root.tag}>)"


def read_head(stream: BytesReader, label: str, size: int) -> bytes:
    """Up to ``size`` bytes (fewer only at the end of the stream)."""
    chunks: list[bytes] = []
    wanted = size
    try:
        while wanted > 0:
            chunk = stream.read(wanted)
            if not chunk:
                break
            chunks.append(chunk)
            wanted -= len(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(label, f"cannot read compressed data: {exc}") from None
    return b"".join(chunks)


class PrefixedReader(io.RawIOBase):
    """A stream with bytes already read (for sniffing) put back in front."""

    def __init__(self, head: bytes, rest: BytesReader) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                data, self._head = self._head + self._rest.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._rest.read(-1 if size is None else size)

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
