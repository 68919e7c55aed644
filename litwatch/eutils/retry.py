"""Bounded retries and the classification of what NCBI sends back.

NCBI fails in many shapes, several of them with HTTP 200: a 429 with a JSON
body, 5xx, an HTML block page, a plain-text gateway error ("Unable to route
request!"), an empty or truncated body, or an XML ``<ERROR>``. Each is
classified here as transient (retry after a pause) or permanent (raise now).
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests

from ..errors import EutilsError, EutilsPermanentError, EutilsTransientError, RetriesExhausted
from .pacing import RateLimiter, Sleep

log = logging.getLogger(__name__)
T = TypeVar("T")


class RateLimited(EutilsTransientError):
    """HTTP 429; ``retry_after`` is the server's Retry-After in seconds, if it sent one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` tries in all; pauses grow ``backoff * 2**n`` up to ``max_backoff``.

    Jitter spreads each pause over ±``jitter`` of its length so that many
    clients that failed together do not come back together.
    """

    max_attempts: int = 6
    backoff: float = 1.0
    max_backoff: float = 60.0
    jitter: float = 0.5

    def delay(self, failures: int, rng: random.Random) -> float:
        base = min(self.max_backoff, self.backoff * 2.0 ** (failures - 1))
        spread = 1.0 + rng.uniform(-self.jitter, self.jitter)
        return float(max(0.0, base * spread))


# ERROR texts that retrying cannot fix, even under the "Search Backend failed"
# prefix: NCBI wraps the 9,999 window limit in that prefix too.
_PERMANENT_ERROR = re.compile(
    r"cannot be larger than 9998|out of acceptable range|invalid|unknown|not allowed|"
    r"empty term|nothing to ?do|too many uids|must be",
    re.IGNORECASE,
)
_TRANSIENT_ERROR = re.compile(
    r"search backend failed|unable to open connection|temporarily unavailable|"
    r"timed? ?out|try again|service unavailable|internal error",
    re.IGNORECASE,
)


def classify_error_message(message: str) -> EutilsError:
    """An HTTP-200 ``<ERROR>`` text as a transient or permanent error."""
    text = " ".join(message.split())
    if _PERMANENT_ERROR.search(text):
        return EutilsPermanentError(f"NCBI error: {text}")
    if _TRANSIENT_ERROR.search(text):
        return EutilsTransientError(f"NCBI error: {text}")
    return EutilsPermanentError(f"NCBI error: {text}")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def check_status(response: requests.Response) -> None:
    """Raise for any status but 200, transient or permanent as the status says."""
    status = response.status_code
    if status == 200:
        return
    snippet = _snippet(response.content)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise RateLimited(f"HTTP 429 rate limit: {snippet}", retry_after)
    if status >= 500 or status == 408:
        raise EutilsTransientError(f"HTTP {status}: {snippet}")
    if status == 414:
        raise EutilsPermanentError("HTTP 414: request URL too long (send ids by POST)")
    raise EutilsPermanentError(f"HTTP {status}: {snippet}")


def check_xml_start(prefix: bytes) -> None:
    """Reject bodies that are not XML before anyone tries to parse them.

    ``prefix`` is the first bytes of the body (a few hundred suffice).
    """
    text = prefix.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        raise EutilsTransientError("empty response body")
    if text.startswith(b"<?xml"):
        return
    lowered = text[:200].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered:
        title = re.search(rb"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        what = title.group(1).decode("utf-8", "replace").strip() if title else "HTML page"
        raise EutilsTransientError(f"HTML page instead of XML: {what}")
    raise EutilsTransientError(f"not XML: {_snippet(text)}")


def transport_error(exc: requests.RequestException, redact: Callable[[str], str]) -> EutilsError:
    """A requests failure as an Eutils error; the message never carries the API key."""
    message = redact(f"{type(exc).__name__}: {exc}")
    transient = (
        requests.Timeout,
        requests.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    )
    if isinstance(exc, transient):
        return EutilsTransientError(message)
    return EutilsPermanentError(message)


def with_retries(
    attempt: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy,
    limiter: RateLimiter,
    sleep: Sleep,
    rng: random.Random,
) -> T:
    """Call ``attempt`` until it succeeds, fails permanently or runs out of attempts."""
    failures = 0
    while True:
        try:
            result = attempt()
        except EutilsPermanentError:
            raise
        except EutilsTransientError as exc:
            failures += 1
            if failures >= policy.max_attempts:
                raise RetriesExhausted(what, failures, exc) from exc
            retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
            if retry_after is not None:
                # The server said how long: hold every caller of the limiter
                # (this one included, at its next slot) rather than sleep here.
                pause = min(retry_after, policy.max_backoff)
                limiter.penalise(pause)
            else:
                if isinstance(exc, RateLimited):
                    limiter.penalise()
                pause = policy.delay(failures, rng)
            log.warning(
                "%s: attempt %d of %d failed (%s); retrying in %.2f s",
                what,
                failures,
                policy.max_attempts,
                exc,
                pause,
            )
            if retry_after is None:
                sleep(pause)
        else:
            limiter.succeeded()
            return result


def _snippet(body: bytes, limit: int = 160) -> str:
    text = " ".join(body[: limit * 2].decode("utf-8", "replace").split())
    return text[:limit] + ("…" if len(text) > limit else "")
