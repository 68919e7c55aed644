"""What the stub answers to esearch, efetch and epost, as NCBI would.

Pure request -> ``Reply`` functions over the corpus and the History server
(WebEnv/query_key); the HTTP layer (eutils_stub.py) adds rate limits and
faults around them.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..querylang.dates import DateValueError, parse_date_value, resolve
from . import stub_xml
from .stub_corpus import StubCorpus
from .stub_search import DateWindow, StubQueryError, search_term

MAX_IDS = 9999
MAX_RETSTART = 9998
DEFAULT_RETMAX = 20
XML = "text/xml; charset=UTF-8"
_ID = re.compile(r"^[1-9][0-9]{0,9}$")
_DATETYPES = {"crdt": "crdt", "edat": "edat", "mdat": "mdat", "pdat": "pdat"}


@dataclass
class Reply:
    status: int
    chunks: list[bytes] | Iterator[bytes]
    content_type: str = XML
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def xml(cls, body: bytes) -> Reply:
        return cls(200, [body])


class History:
    """NCBI's History server: WebEnv sessions holding id sets under query keys."""

    def __init__(self, ttl: float = 8 * 3600.0, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._envs: dict[str, tuple[float, list[list[str]]]] = {}

    def store(self, webenv: str | None, ids: list[str]) -> tuple[str, str]:
        """Keep ``ids``; returns (WebEnv, query_key), a new WebEnv unless a live one was given."""
        with self._lock:
            now = self._clock()
            live = webenv is not None and webenv in self._envs
            if not live or webenv is None:
                webenv = "MCID_" + secrets.token_hex(12)
                self._envs[webenv] = (now, [])
            sets = self._envs[webenv][1]
            sets.append(list(ids))
            self._envs[webenv] = (now, sets)
            return webenv, str(len(sets))

    def get(self, webenv: str | None, query_key: str | None) -> list[str] | None:
        with self._lock:
            entry = self._envs.get(webenv or "")
            if entry is None or self._clock() - entry[0] > self.ttl:
                return None
            if not query_key or not query_key.isdigit():
                return None
            index = int(query_key) - 1
            return list(entry[1][index]) if 0 <= index < len(entry[1]) else None


@dataclass
class StubState:
    corpus: StubCorpus
    history: History
    today: date | None = None
    pubmed_edition: str = "250101"

    @property
    def day(self) -> date:
        return self.today or date.today()


def _int(params: Mapping[str, str], name: str, default: int) -> int:
    value = params.get(name, "").strip()
    if not value:
        return default
    if not value.lstrip("-").isdigit():
        raise StubQueryError(f"Invalid {name} value: {value}")
    return int(value)


def _window(params: Mapping[str, str], today: date) -> DateWindow | None:
    datetype = _DATETYPES.get(params.get("datetype", "").lower(), "pdat")
    reldate = params.get("reldate", "").strip()
    if reldate.isdigit():
        return DateWindow(datetype, today - timedelta(days=int(reldate)), today)
    low, high = params.get("mindate", "").strip(), params.get("maxdate", "").strip()
    if not low or not high:
        return None  # NCBI uses the two only together
    try:
        first, last = parse_date_value(low), parse_date_value(high)
    except DateValueError as exc:
        raise StubQueryError(f"Invalid date: {exc}") from None
    return DateWindow(datetype, resolve(first, today).first, resolve(last, today).last)


def esearch(state: StubState, params: Mapping[str, str]) -> Reply:
    as_json = params.get("retmode", "").lower() == "json"
    try:
        return _esearch(state, params, as_json)
    except StubQueryError as exc:
        if as_json:
            return Reply(200, [stub_xml.esearch_error_json(str(exc))], "application/json")
        return Reply.xml(stub_xml.esearch_error_xml(str(exc)))


def _esearch(state: StubState, params: Mapping[str, str], as_json: bool) -> Reply:
    db = params.get("db", "pubmed").strip().lower() or "pubmed"
    if db != "pubmed":
        raise StubQueryError(f"Invalid db name specified: {db}")
    term = params.get("term", "").strip()
    query_key = params.get("query_key", "").strip() or None
    webenv = params.get("WebEnv", "").strip() or None
    if not term and not query_key:
        raise StubQueryError("Empty term and query_key - nothing todo")
    within: set[str] | None = None
    if query_key:
        stored = state.history.get(webenv, query_key)
        if stored is None:
            raise StubQueryError(f"Unable to obtain query #{query_key}")
        within = set(stored)
    retstart = max(0, _int(params, "retstart", 0))
    retmax = max(0, _int(params, "retmax", DEFAULT_RETMAX))
    if retstart > MAX_RETSTART:
        raise StubQueryError(stub_xml.RETSTART_ERROR)
    today = state.day
    window = _window(params, today)
    snapshot = state.corpus.snapshot(state.today)
    outcome = search_term(
        state.corpus,
        snapshot,
        term,
        today=today,
        windows=[window] if window else [],
        within=within,
    )
    ids = outcome.ids
    if params.get("sort", "").lower() in ("pub_date", "pub+date", "pub date"):
        by_pmid = snapshot.by_pmid
        ids = sorted(ids, key=lambda p: by_pmid[p].date_of("pdat") or date.min, reverse=True)
    messages: list[str] = []
    shown = min(retmax, MAX_IDS - retstart)
    if shown < retmax:
        messages.append(f"Restrictions achieved. start and count adjusted to {retstart}, {shown}")
    if not ids:
        messages.append("No items found.")
    new_key: tuple[str, str] | None = None
    if params.get("usehistory", "").lower() == "y":
        new_key = state.history.store(webenv, ids)
    if params.get("rettype", "").lower() == "count":
        body = (
            stub_xml.ESEARCH_HEAD
            + f"<eSearchResult><Count>{len(ids)}</Count></eSearchResult>\n".encode()
        )
        return Reply.xml(body)
    write = stub_xml.esearch_json if as_json else stub_xml.esearch_xml
    body = write(
        count=len(ids),
        ids=ids[retstart : retstart + shown],
        retstart=retstart,
        query_translation=outcome.translation,
        query_key=new_key[1] if new_key else None,
        webenv=new_key[0] if new_key else None,
        phrases_not_found=outcome.phrases_not_found,
        fields_not_found=outcome.fields_not_found,
        output_messages=messages,
    )
    return Reply(200, [body], "application/json" if as_json else XML)


def _requested_ids(state: StubState, params: Mapping[str, str]) -> list[str] | str:
    """The ids asked for, or an error message."""
    raw = params.get("id", "").strip()
    if raw:
        return [i for i in (p.strip() for p in raw.replace(" ", ",").split(",")) if _ID.match(i)]
    query_key = params.get("query_key", "").strip()
    if not query_key:
        return "Empty id list - nothing todo"
    stored = state.history.get(params.get("WebEnv"), query_key)
    if stored is None:
        return f"Unable to obtain query #{query_key}"
    start = max(0, _int(params, "retstart", 0))
    count = max(0, _int(params, "retmax", len(stored)))
    return stored[start : start + count]


def efetch(state: StubState, params: Mapping[str, str]) -> Reply:
    db = params.get("db", "pubmed").strip().lower() or "pubmed"
    if db != "pubmed":
        return Reply.xml(stub_xml.efetch_error_xml(f"Invalid db name specified: {db}"))
    rettype = params.get("rettype", "").lower()
    retmode = params.get("retmode", "xml").lower() or "xml"
    try:
        ids = _requested_ids(state, params)
    except StubQueryError as exc:
        return Reply.xml(stub_xml.efetch_error_xml(str(exc)))
    if isinstance(ids, str):
        return Reply.xml(stub_xml.efetch_error_xml(ids))
    if not ids:
        return Reply.xml(stub_xml.efetch_error_xml("Empty id list - nothing todo"))
    snapshot = state.corpus.snapshot(state.today)
    found = [snapshot.by_pmid[i] for i in dict.fromkeys(ids) if i in snapshot.by_pmid]
    if rettype == "uilist":
        return Reply(200, ["".join(f"{r.pmid}\n" for r in found).encode()], "text/plain")
    if rettype not in ("", "xml", "full") or retmode != "xml":
        message = (
            f"rettype={rettype or 'null'} retmode={retmode} is not served by the litwatch stub"
        )
        return Reply.xml(stub_xml.efetch_error_xml(message))
    deleted = [i for i in dict.fromkeys(ids) if i in snapshot.deleted]

    def chunks() -> Iterator[bytes]:
        yield stub_xml.pubmed_set_start(state.pubmed_edition)
        for record in found:
            yield record.xml + b"\n"
        if deleted:
            yield stub_xml.delete_citation(deleted)
        yield stub_xml.PUBMED_SET_END

    return Reply(200, chunks())


def epost(state: StubState, params: Mapping[str, str]) -> Reply:
    db = params.get("db", "pubmed").strip().lower() or "pubmed"
    if db != "pubmed":
        return Reply.xml(stub_xml.epost_error_xml([f"Invalid db name specified: {db}"]))
    raw = [p.strip() for p in params.get("id", "").replace(" ", ",").split(",") if p.strip()]
    valid = [i for i in raw if _ID.match(i)]
    if not valid:
        messages = ["Empty ID list; Nothing to store"]
        if raw:
            messages.append(
                "Some IDs have invalid value and were omitted. "
                "Maximum ID value 18446744073709551615"
            )
        return Reply.xml(stub_xml.epost_error_xml(messages))
    webenv, query_key = state.history.store(params.get("WebEnv"), list(dict.fromkeys(valid)))
    return Reply.xml(stub_xml.epost_xml(query_key, webenv))


HANDLERS: dict[str, Callable[[StubState, Mapping[str, str]], Reply]] = {
    "esearch": esearch,
    "efetch": efetch,
    "epost": epost,
}
