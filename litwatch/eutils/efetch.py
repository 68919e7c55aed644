"""EFetch and EPost responses: PubMed XML batches reconciled by PMID set.

efetch returns the records it has, in any order: deleted PMIDs are absent or
listed in ``DeleteCitation``. Each batch is therefore reconciled against the
PMIDs it asked for, and what did not come back is reported, never ignored.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..article import Article
from ..errors import EutilsPermanentError, EutilsTransientError, InputError
from ..pubmed_xml import DeletedCitations, parse_pubmed_xml
from .dtds import entrez_read
from .retry import check_xml_start, classify_error_message

_HEAD_BYTES = 1024
_PMID = re.compile(r"^[1-9][0-9]{0,9}$")


@dataclass(frozen=True)
class FetchedBatch:
    """One efetch batch: what was asked for, the records, and what did not come back.

    ``deleted`` are PMIDs efetch listed in DeleteCitation; ``missing`` were
    asked for and neither returned nor listed as deleted.
    """

    requested: tuple[str, ...]
    articles: list[Article]
    missing: tuple[str, ...]
    deleted: tuple[str, ...]


@dataclass(frozen=True)
class PostResult:
    webenv: str
    query_key: str


def clean_pmids(pmids: Iterable[str | int]) -> list[str]:
    """PMIDs as strings, duplicates dropped (first kept); a malformed one is refused."""
    seen: dict[str, None] = {}
    for raw in pmids:
        pmid = str(raw).strip()
        if not _PMID.match(pmid):
            raise EutilsPermanentError(f"not a PMID: {raw!r}")
        seen.setdefault(pmid, None)
    return list(seen)


def batched(items: list[str], size: int) -> Iterator[tuple[str, ...]]:
    if size <= 0:
        raise ValueError(f"batch size must be positive, not {size}")
    for start in range(0, len(items), size):
        yield tuple(items[start : start + size])


def read_fetch_response(
    stream: io.RawIOBase | io.BufferedIOBase, *, what: str
) -> tuple[list[Article], list[str]]:
    """Articles and deleted PMIDs from a streamed efetch body.

    The body is sniffed before parsing: an HTML block page, plain text or an
    empty body is transient; an ``<eFetchResult><ERROR>`` is classified. A
    body cut short (truncated, connection dropped) surfaces as the parser's
    InputError and is transient: the batch is fetched again whole.
    """
    head = _read_at_least(stream, _HEAD_BYTES)
    check_xml_start(head)
    if b"<eFetchResult" in head or (b"<ERROR>" in head and b"<PubmedArticleSet" not in head):
        body = head + stream.read()
        raise _error_from(entrez_read(body, what=what), what)
    articles: list[Article] = []
    deleted: list[str] = []
    try:
        for item in parse_pubmed_xml(_Prefixed(head, stream), name=what):
            if isinstance(item, DeletedCitations):
                deleted.extend(item.pmids)
            else:
                articles.append(item)
    except InputError as exc:
        raise EutilsTransientError(f"{what}: incomplete or corrupt response: {exc}") from exc
    return articles, deleted


def reconcile(
    requested: tuple[str, ...], articles: list[Article], deleted: list[str]
) -> FetchedBatch:
    returned = {a.pmid for a in articles}
    deleted_set = set(deleted)
    return FetchedBatch(
        requested=requested,
        articles=articles,
        missing=tuple(p for p in requested if p not in returned and p not in deleted_set),
        deleted=tuple(dict.fromkeys(deleted)),
    )


def parse_epost(body: bytes) -> PostResult:
    check_xml_start(body[:512])
    record = entrez_read(body, what="epost")
    if not isinstance(record, Mapping):
        raise EutilsTransientError("epost: unexpected document")
    if "WebEnv" not in record or "QueryKey" not in record:
        raise _error_from(record, "epost")
    return PostResult(webenv=str(record["WebEnv"]), query_key=str(record["QueryKey"]))


def _error_from(record: Any, what: str) -> Exception:
    message = record.get("ERROR") if isinstance(record, Mapping) else None
    if message is None:
        return EutilsTransientError(f"{what}: response holds neither records nor an ERROR")
    return classify_error_message(str(message))


def _read_at_least(stream: io.RawIOBase | io.BufferedIOBase, size: int) -> bytes:
    parts: list[bytes] = []
    have = 0
    while have < size:
        chunk = stream.read(size - have)
        if not chunk:
            break
        parts.append(chunk)
        have += len(chunk)
    return b"".join(parts)


class ChunkStream(io.RawIOBase):
    """A readable file over an iterator of byte chunks (``Response.iter_content``)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            data = self._buffer + b"".join(self._chunks)
            self._buffer = b""
            return data
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._buffer = chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _Prefixed(ChunkStream):
    def __init__(self, head: bytes, rest: io.RawIOBase | io.BufferedIOBase) -> None:
        super().__init__(iter(lambda: rest.read(65536), b""))
        self._buffer = head
