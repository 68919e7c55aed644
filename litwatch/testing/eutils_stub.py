"""A local E-utilities server: NCBI as the client meets it, on 127.0.0.1.

``EutilsStub`` serves ``esearch.fcgi``, ``efetch.fcgi`` and ``epost.fcgi``
under ``/entrez/eutils/`` from a folder of PubMed XML files (or a
``StubCorpus``), by GET and form POST, in a background thread::

    with EutilsStub(corpus_dir, today=date(2026, 5, 1)) as stub:
        client = EutilsClient(session, EutilsSettings(base_url=stub.base_url))

It enforces NCBI's rate limit per key or IP (3/s, 10/s with a key; NCBI's
429 JSON body), answers 414 to over-long GETs, injects faults on demand
(faults.py) and logs every request for tests to count.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import TracebackType

from .faults import FaultPlan, fault_plan
from .stub_corpus import StubCorpus
from .stub_handlers import XML, History, Reply, StubState
from .stub_http import PREFIX, RequestLog, StubRequestHandler, StubServer

NCBI_RATES = (3.0, 10.0)  # requests per second: without, with an API key
MAX_GET_URL = 4096


class EutilsStub:
    """A real HTTP server answering like NCBI E-utilities; see the module docs."""

    def __init__(
        self,
        corpus: Path | str | Iterable[Path | str] | StubCorpus,
        *,
        today: date | None = None,
        faults: str | FaultPlan | None = None,
        api_key: str | None = None,
        rate_limit: bool | tuple[float, float] = True,
        port: int = 0,
        slow_seconds: float = 2.0,
        retry_after: float | None = None,
        max_url_length: int = MAX_GET_URL,
    ) -> None:
        self.corpus = corpus if isinstance(corpus, StubCorpus) else StubCorpus(corpus)
        self.state = StubState(self.corpus, History(), today)
        self.faults = fault_plan(faults)
        self.api_key = api_key
        self.rates: tuple[float, float] | None = (
            NCBI_RATES if rate_limit is True else None if rate_limit is False else rate_limit
        )
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.max_url_length = max_url_length
        self.requests: list[RequestLog] = []
        self._port = port
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._canned: dict[str, deque[Reply]] = {}
        self._stopping = threading.Event()
        self._server: StubServer | None = None
        self._thread: threading.Thread | None = None

    # -- settings tests change while the stub runs ----------------------------

    @property
    def today(self) -> date | None:
        """The stub's "now": records created or revised later do not exist yet."""
        return self.state.today

    @today.setter
    def today(self, value: date | None) -> None:
        self.state.today = value

    def set_faults(self, faults: str | FaultPlan | None) -> FaultPlan:
        self.faults = fault_plan(faults)
        return self.faults

    def reload(self) -> None:
        self.corpus.reload()

    def enqueue(
        self,
        endpoint: str,
        body: bytes,
        *,
        status: int = 200,
        content_type: str = XML,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next request to ``endpoint`` gets exactly this reply (real NCBI bodies in tests).

        Replies queue up in order and come before faults and the corpus.
        """
        with self._lock:
            self._canned.setdefault(endpoint, deque()).append(
                Reply(status, [body], content_type, dict(headers or {}))
            )

    def next_canned(self, endpoint: str) -> Reply | None:
        with self._lock:
            queue = self._canned.get(endpoint)
            return queue.popleft() if queue else None

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def log_for(self, endpoint: str) -> list[RequestLog]:
        with self._lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    # -- running ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the stub is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}{PREFIX}"

    def start(self) -> EutilsStub:
        server = StubServer(("127.0.0.1", self._port), StubRequestHandler)
        server.stub = self
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="eutils-stub"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wakes slow faults
        server.shutdown()
        server.close_connections()
        server.server_close()  # joins the handler threads
        if self._thread is not None:
            self._thread.join()

    def serve_until_interrupted(self) -> None:
        """Block (the CLI); Ctrl-C stops the server."""
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> EutilsStub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what a request gets ---------------------------------------------------

    def rate_check(self, who: str, keyed: bool) -> tuple[int, int, bool]:
        """(limit, count in the last second, allowed); counts refused requests too, as NCBI does."""
        if self.rates is None:
            return 0, 0, True
        limit = int(self.rates[1] if keyed else self.rates[0])
        now = time.monotonic()
        with self._lock:
            window = self._windows.setdefault(who, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            window.append(now)
            count = len(window)
        return limit, count, count <= limit

    def record(self, entry: RequestLog) -> RequestLog:
        """Log a request as it arrives; ``settle`` adds the status it got."""
        with self._lock:
            self.requests.append(entry)
        return entry

    def settle(self, entry: RequestLog, status: int, fault: str | None) -> RequestLog:
        """The status a logged request was answered with (0: not yet, or the client hung up)."""
        settled = replace(entry, status=status, fault=fault)
        with self._lock:
            for index in range(len(self.requests) - 1, -1, -1):
                if self.requests[index] is entry:  # gone if clear_log() ran meanwhile
                    self.requests[index] = settled
                    break
        return settled

    def wait(self, seconds: float) -> bool:
        """Sleep unless the stub is stopping; True when it is."""
        return self._stopping.wait(seconds)


__all__ = ["EutilsStub", "FaultPlan", "RequestLog", "StubCorpus"]
