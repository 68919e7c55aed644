"""The stub's HTTP layer: a threaded server on 127.0.0.1 and its request handler.

Keep-alive HTTP/1.1 with chunked, gzip-compressed bodies as NCBI sends them;
the handler applies the API-key check, the rate limit, canned replies and
faults, in that order, before asking ``stub_handlers`` for the real answer.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from . import stub_xml
from .stub_handlers import HANDLERS, XML, Reply

if TYPE_CHECKING:
    from .eutils_stub import EutilsStub

log = logging.getLogger(__name__)

PREFIX = "/entrez/eutils/"
_API_KEY = re.compile(r"(api_key=)[^&\s]+")


@dataclass(frozen=True)
class RequestLog:
    """One request as the stub saw it: ``params`` merges the query string and the form."""

    method: str
    path: str
    params: dict[str, str]
    status: int
    fault: str | None = None
    at: float = 0.0  # time.monotonic() on arrival

    @property
    def endpoint(self) -> str:
        """``esearch``, ``efetch``, ``epost`` (or the path when it is none of them)."""
        name = self.path.rsplit("/", 1)[-1]
        return name.removesuffix(".fcgi")


class StubServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins them: nothing outlives the stub
    block_on_close = True
    stub: EutilsStub

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def close_connections(self) -> None:
        """Unblock keep-alive handlers waiting for a next request."""
        with self.connections_lock:
            for conn in list(self.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


class StubRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked bodies, as NCBI serves them
    server_version = "Finatra"
    sys_version = ""
    timeout = 60
    # Headers and chunks are written separately: without TCP_NODELAY, Nagle's
    # algorithm and the client's delayed ACK add 40 ms to each keep-alive reply.
    disable_nagle_algorithm = True
    server: StubServer
    _entry: RequestLog

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):  # the client hung up first
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        line = _API_KEY.sub(r"\1<api_key>", format % args)
        log.debug("%s %s", self.address_string(), line)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    # -- one request -------------------------------------------------------------

    def _serve(self, method: str) -> None:
        stub = self.server.stub
        arrived = time.monotonic()
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            form = self.rfile.read(length).decode("utf-8", "replace")
            params.update(parse_qsl(form, keep_blank_values=True))
        endpoint = url.path.removeprefix(PREFIX).removesuffix(".fcgi")
        # Logged on arrival, so the log keeps arrival order even when a slow
        # answer finishes after the client's retry; the status is filled in after.
        self._entry = stub.record(RequestLog(method, url.path, params, 0, None, arrived))
        try:
            status, fault = self._answer(stub, method, url.path, endpoint, params)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up first
            status, fault = 0, self._entry.fault
            self.close_connection = True
        except Exception as exc:  # a bug in the stub: say so in the reply, keep serving
            log.exception("stub failed on %s %s", method, url.path)
            status, fault = 500, None
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._plain(500, f"litwatch stub error: {type(exc).__name__}: {exc}\n".encode())
        stub.settle(self._entry, status, fault)

    def _answer(
        self, stub: EutilsStub, method: str, path: str, endpoint: str, params: dict[str, str]
    ) -> tuple[int, str | None]:
        if not path.startswith(PREFIX) or endpoint not in HANDLERS:
            return self._plain(404, b"Not Found\n"), None
        if method == "GET" and len(self.path) > stub.max_url_length:
            body = b"<html><body><h1>414 Request-URI Too Large</h1></body></html>\n"
            return self._plain(414, body, "text/html"), None
        key = params.get("api_key") or None
        if key is not None and stub.api_key is not None and key != stub.api_key:
            return self._plain(400, stub_xml.invalid_key_json(key), "application/json"), None
        who = key or self.client_address[0]
        limit, count, allowed = stub.rate_check(who, key is not None)
        rate_headers = {}
        if limit:
            rate_headers = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(max(0, limit - count)),
            }
        if not allowed:
            self._mark("rate-limit")
            self._plain(429, stub_xml.rate_limit_json(who, count, limit), "application/json")
            return 429, "rate-limit"
        canned = stub.next_canned(endpoint)
        if canned is not None:
            self._mark("canned")
            body = b"".join(canned.chunks)
            return self._plain(canned.status, body, canned.content_type, canned.headers), "canned"
        fault = stub.faults.next_fault(endpoint)
        if fault is not None:
            self._mark(fault)  # logged before it plays out: a slow answer shows at once
            return self._fault(stub, fault, endpoint, who, params), fault
        reply = HANDLERS[endpoint](stub.state, params)
        reply.headers.update(rate_headers)
        self._send(reply)
        return reply.status, None

    def _fault(
        self, stub: EutilsStub, fault: str, endpoint: str, who: str, params: dict[str, str]
    ) -> int:
        if fault == "429":
            extra = {}
            if stub.retry_after is not None:
                extra["Retry-After"] = f"{stub.retry_after:g}"
            return self._plain(429, stub_xml.rate_limit_json(who, 4, 3), "application/json", extra)
        if fault in ("500", "502", "503"):
            body = f"<html><body><h1>{fault} Server Error</h1></body></html>\n".encode()
            return self._plain(int(fault), body, "text/html")
        if fault == "html":
            return self._plain(200, stub_xml.BLOCK_PAGE, "text/html")
        if fault == "text":
            return self._plain(200, stub_xml.GATEWAY_TEXT, "text/plain")
        if fault == "empty":
            return self._plain(200, b"", XML)
        if fault == "backend":
            return self._plain(200, _backend_error(endpoint), XML)
        if fault == "slow":
            if stub.wait(stub.slow_seconds):
                self.close_connection = True
                return 0
            reply = HANDLERS[endpoint](stub.state, params)
            self._send(reply)
            return reply.status
        body = b"".join(HANDLERS[endpoint](stub.state, params).chunks)
        if fault == "truncated":
            return self._plain(200, body[: len(body) // 2], XML)
        # drop: promise the whole body, send half, hang up
        self._settle(200)
        self.send_response(200)
        self.send_header("Content-Type", XML)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        return 200

    # -- writing -----------------------------------------------------------------

    def _mark(self, fault: str) -> None:
        self._entry = self.server.stub.settle(self._entry, 0, fault)

    def _settle(self, status: int) -> None:
        """Log the status before the body goes out: a client that has the body sees it logged."""
        self._entry = self.server.stub.settle(self._entry, status, self._entry.fault)

    def _plain(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/plain",
        headers: dict[str, str] | None = None,
    ) -> int:
        self._settle(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        return status

    def _send(self, reply: Reply) -> None:
        """A chunked body, gzip-compressed when the client accepts it (as NCBI sends)."""
        self._settle(reply.status)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        compress = "gzip" in self.headers.get("Accept-Encoding", "")
        if compress:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunks: Iterable[bytes] = reply.chunks
        if compress:
            chunks = _gzipped(chunks)
        for chunk in chunks:
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")


def _gzipped(chunks: Iterable[bytes]) -> Iterator[bytes]:
    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip container
    for chunk in chunks:
        yield packer.compress(chunk)
    yield packer.flush()


def _backend_error(endpoint: str) -> bytes:
    if endpoint == "efetch":
        return stub_xml.efetch_error_xml(stub_xml.BACKEND_FAILED)
    if endpoint == "epost":
        return stub_xml.epost_error_xml([stub_xml.BACKEND_FAILED])
    return stub_xml.esearch_error_xml(stub_xml.BACKEND_FAILED)
