"""EutilsClient: PubMed ESearch, EFetch and EPost the way NCBI asks.

Every request carries tool, email and api_key, waits for its slot in the
process-wide pace (3/s, 10/s with a key), and is retried within a bound when
NCBI or the network fails in a way that may pass. The API key is sent but
never logged: with a key every request goes by POST (no URL holds it), and
error messages are redacted before anyone sees them.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date
from functools import partial
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from .. import __version__
from ..article import Article
from ..config import EutilsSettings, Settings
from ..errors import EutilsPermanentError
from .efetch import (
    ChunkStream,
    FetchedBatch,
    PostResult,
    batched,
    clean_pmids,
    parse_epost,
    read_fetch_response,
    reconcile,
)
from .esearch import SearchResult, parse_esearch
from .pacing import Clock, RateLimiter, Sleep, default_rate, shared_limiter
from .retry import RetryPolicy, check_status, transport_error, with_retries
from .windows import MAX_IDS, WindowField, WindowResult, pubmed_date, search_window

log = logging.getLogger(__name__)

# Longer query strings go by POST: NCBI answers 414 to over-long GETs.
MAX_GET_QUERY = 1800
_STREAM_CHUNK = 64 * 1024


class EutilsClient:
    """A PubMed E-utilities client over an injected ``requests.Session``.

    ``rate`` (requests/s) defaults to NCBI's 3/s, 10/s with an API key. With
    the real clock and sleep the pace is shared by every client in the
    process talking to the same server with the same key; an injected clock
    or sleep gets a limiter of its own (tests).
    """

    def __init__(
        self,
        session: requests.Session,
        settings: EutilsSettings,
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        rate: float | None = None,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        rng: random.Random | None = None,
        limiter: RateLimiter | None = None,
        owns_session: bool = False,
    ) -> None:
        self.session = session
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/") + "/"
        self.rate = rate if rate is not None else default_rate(settings.api_key)
        self.policy = RetryPolicy(
            max_attempts=settings.max_attempts, backoff=backoff, max_backoff=max_backoff
        )
        self._sleep = sleep
        self._rng = rng or random.Random()
        if limiter is None:
            if sleep is time.sleep and clock is time.monotonic:
                server = urlsplit(self.base_url).netloc
                limiter = shared_limiter(server, settings.api_key, self.rate)
            else:
                limiter = RateLimiter(self.rate, clock=clock, sleep=sleep)
        self.limiter = limiter
        if not settings.email and urlsplit(self.base_url).netloc.endswith("ncbi.nlm.nih.gov"):
            log.warning(
                "no contact email set: NCBI asks every E-utilities request to carry one "
                "(set email in [eutils] of litwatch.toml, or LITWATCH_EMAIL)"
            )
        self._count_lock = threading.Lock()
        self.request_count = 0
        self._owns_session = owns_session  # close() closes the session too

    # -- public API -----------------------------------------------------------

    def esearch(
        self,
        term: str,
        *,
        mindate: date | str | None = None,
        maxdate: date | str | None = None,
        datetype: str | None = None,
        retstart: int = 0,
        retmax: int = MAX_IDS,
        usehistory: bool = False,
        webenv: str | None = None,
        query_key: str | None = None,
        sort: str | None = None,
    ) -> SearchResult:
        """One ESearch call. ``mindate``/``maxdate`` go together (NCBI's rule)."""
        if (mindate is None) != (maxdate is None):
            raise EutilsPermanentError("esearch: mindate and maxdate must be given together")
        params: dict[str, str] = {"term": term, "retstart": str(retstart), "retmax": str(retmax)}
        if mindate is not None and maxdate is not None:
            params["mindate"] = _date_param(mindate)
            params["maxdate"] = _date_param(maxdate)
            params["datetype"] = datetype or "edat"
        elif datetype:
            params["datetype"] = datetype
        if usehistory:
            params["usehistory"] = "y"
        if webenv:
            params["WebEnv"] = webenv  # the one parameter NCBI spells in mixed case
        if query_key:
            params["query_key"] = query_key
        if sort:
            params["sort"] = sort
        return with_retries(
            lambda: parse_esearch(self._call("esearch.fcgi", params)),
            what=f"esearch {_short(term)}",
            policy=self.policy,
            limiter=self.limiter,
            sleep=self._sleep,
            rng=self._rng,
        )

    def search_window(self, term: str, field: WindowField, start: date, end: date) -> WindowResult:
        """Every PMID for ``term`` created (crdt) or modified (mdat) from ``start`` to ``end``."""

        def search(
            query: str, mindate: date | None, maxdate: date | None, datetype: str | None
        ) -> SearchResult:
            return self.esearch(
                query, mindate=mindate, maxdate=maxdate, datetype=datetype, retmax=MAX_IDS
            )

        return search_window(search, term, field, start, end)

    def fetch(
        self,
        pmids: Iterable[str | int],
        *,
        batch_size: int | None = None,
        webenv: str | None = None,
        query_key: str | None = None,
    ) -> Iterator[FetchedBatch]:
        """PubMed records for ``pmids``, one reconciled batch per efetch POST.

        With ``webenv``/``query_key`` (a history set holding exactly these
        PMIDs in this order, from ``esearch(usehistory=True)`` or ``epost``)
        each batch names its slice by ``retstart``/``retmax`` instead of
        sending the ids; reconciliation is still by PMID.
        """
        if (webenv is None) != (query_key is None):
            raise EutilsPermanentError("fetch: webenv and query_key must be given together")
        ids = clean_pmids(pmids)
        size = batch_size or self.settings.batch_size
        for number, (start, batch) in enumerate(_offsets(batched(ids, size)), start=1):
            if webenv is not None and query_key is not None:
                params = {"WebEnv": webenv, "query_key": query_key}
                params |= {"retstart": str(start), "retmax": str(len(batch))}
            else:
                params = {"id": ",".join(batch)}
            params |= {"retmode": "xml"}
            what = f"efetch batch {number} ({len(batch)} PMIDs from {batch[0]})"
            articles, deleted = with_retries(
                partial(self._fetch_once, params, what),
                what=what,
                policy=self.policy,
                limiter=self.limiter,
                sleep=self._sleep,
                rng=self._rng,
            )
            yield reconcile(batch, articles, deleted)

    def epost(self, pmids: Iterable[str | int], *, webenv: str | None = None) -> PostResult:
        """Store ``pmids`` on the History server; returns its WebEnv and query_key."""
        params = {"id": ",".join(clean_pmids(pmids))}
        if webenv:
            params["WebEnv"] = webenv
        return with_retries(
            lambda: parse_epost(self._call("epost.fcgi", params, post=True)),
            what="epost",
            policy=self.policy,
            limiter=self.limiter,
            sleep=self._sleep,
            rng=self._rng,
        )

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> EutilsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- HTTP -----------------------------------------------------------------

    def _common(self) -> dict[str, str]:
        params = {"db": "pubmed", "tool": self.settings.tool}
        if self.settings.email:
            params["email"] = self.settings.email
        if self.settings.api_key:
            params["api_key"] = self.settings.api_key
        return params

    def _redact(self, text: str) -> str:
        key = self.settings.api_key
        return text.replace(key, "<api_key>") if key else text

    def _send(
        self, endpoint: str, params: dict[str, str], *, post: bool, stream: bool
    ) -> requests.Response:
        full = self._common() | params
        # A URL is logged by urllib3 at debug level, and by proxies: a request
        # carrying the API key goes by POST so the key stays in the body.
        if not post and (self.settings.api_key or len(urlencode(full)) > MAX_GET_QUERY):
            post = True
        self.limiter.acquire()
        with self._count_lock:
            self.request_count += 1
        log.debug(
            "%s %s %s",
            "POST" if post else "GET",
            endpoint,
            _short(self._redact(urlencode({k: v for k, v in full.items() if k != "api_key"}))),
        )
        url = self.base_url + endpoint
        timeout = self.settings.timeout
        try:
            if post:
                return self.session.post(url, data=full, timeout=timeout, stream=stream)
            return self.session.get(url, params=full, timeout=timeout, stream=stream)
        except requests.RequestException as exc:
            raise transport_error(exc, self._redact) from None

    def _call(self, endpoint: str, params: dict[str, str], *, post: bool = False) -> bytes:
        with self._send(endpoint, params, post=post, stream=False) as response:
            check_status(response)
            return response.content

    def _fetch_once(self, params: dict[str, str], what: str) -> tuple[list[Article], list[str]]:
        with self._send("efetch.fcgi", params, post=True, stream=True) as response:
            check_status(response)
            chunks = response.iter_content(_STREAM_CHUNK)
            try:
                return read_fetch_response(ChunkStream(chunks), what=what)
            except requests.RequestException as exc:
                raise transport_error(exc, self._redact) from None


def client_from_settings(
    settings: Settings, *, session: requests.Session | None = None
) -> EutilsClient:
    """A client for ``settings.eutils``; ``LITWATCH_EUTILS_URL`` and ``NCBI_API_KEY`` win.

    The session is created here when none is given, and closed with the client.
    """
    eutils = settings.eutils
    overrides: dict[str, Any] = {}
    if os.environ.get("LITWATCH_EUTILS_URL"):
        overrides["base_url"] = os.environ["LITWATCH_EUTILS_URL"]
    if os.environ.get("NCBI_API_KEY") and not eutils.api_key:
        overrides["api_key"] = os.environ["NCBI_API_KEY"]
    if overrides:
        eutils = replace(eutils, **overrides)
    owned = session is None
    if session is None:
        session = requests.Session()
        session.headers["User-Agent"] = f"litwatch/{__version__} (+{eutils.tool})"
    return EutilsClient(session, eutils, owns_session=owned)


def _date_param(value: date | str) -> str:
    return pubmed_date(value) if isinstance(value, date) else value


def _offsets(batches: Iterable[tuple[str, ...]]) -> Iterator[tuple[int, tuple[str, ...]]]:
    start = 0
    for batch in batches:
        yield start, batch
        start += len(batch)


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
