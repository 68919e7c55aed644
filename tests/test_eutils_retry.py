"""Retry bounds and the classification of what NCBI really sends back."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from litwatch.errors import EutilsPermanentError, EutilsTransientError, RetriesExhausted
from litwatch.eutils import RateLimited, RateLimiter, RetryPolicy
from litwatch.eutils.retry import (
    check_xml_start,
    classify_error_message,
    parse_retry_after,
    with_retries,
)
from litwatch.testing import stub_xml


@pytest.mark.parametrize(
    "message",
    [
        "Search Backend failed: Unable to open connection to #PMQuerySrv?dbaf=taxonomy",
        "Search Backend failed: Database is not supported: pubmed",
    ],
)
def test_backend_outages_are_transient(message: str) -> None:
    error = classify_error_message(message)
    assert isinstance(error, EutilsTransientError)
    assert "Search Backend failed" in str(error)


@pytest.mark.parametrize(
    "message",
    [
        stub_xml.RETSTART_ERROR,
        "Search Backend failed: Exception:\nPosition 15000 is out of acceptable range [9999,9998]",
        "Invalid db name specified: fleegle",
        "Empty ID list; Nothing to store",
        "Empty term and query_key - nothing todo",
    ],
)
def test_request_errors_are_permanent(message: str) -> None:
    assert isinstance(classify_error_message(message), EutilsPermanentError)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (stub_xml.BLOCK_PAGE, "NCBI - WWW Error Blocked Diagnostic"),
        (stub_xml.GATEWAY_TEXT, "Unable to route request!"),
        (b"", "empty"),
        (b"  \n", "empty"),
        (b'{"error":"API rate limit exceeded","count":"11"}', "API rate limit exceeded"),
    ],
)
def test_bodies_that_are_not_xml_are_transient(body: bytes, said: str) -> None:
    with pytest.raises(EutilsTransientError, match=said):
        check_xml_start(body)


def test_xml_passes_the_sniff() -> None:
    check_xml_start(stub_xml.ESEARCH_HEAD)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    when = datetime.now(UTC) + timedelta(seconds=30)
    assert parse_retry_after(format_datetime(when, usegmt=True)) == pytest.approx(30, abs=2)


class Script:
    """An operation that fails with the given errors, then returns "done"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def run(script: Script, attempts: int = 4) -> tuple[str, list[float], RateLimiter]:
    sleeps: list[float] = []
    limiter = RateLimiter(100.0, clock=lambda: 0.0, sleep=sleeps.append)
    result = with_retries(
        script,
        what="test",
        policy=RetryPolicy(max_attempts=attempts, backoff=1.0, max_backoff=30.0, jitter=0.5),
        limiter=limiter,
        sleep=sleeps.append,
        rng=random.Random(1),
    )
    return result, sleeps, limiter


def test_transient_failures_back_off_exponentially_with_jitter() -> None:
    script = Script(*(EutilsTransientError(f"502 #{n}") for n in range(3)))
    result, sleeps, _ = run(script)
    assert result == "done"
    assert script.calls == 4
    for n, pause in enumerate(sleeps):
        assert 0.5 * 2**n <= pause <= 1.5 * 2**n


def test_failures_beyond_the_bound_raise_retries_exhausted() -> None:
    script = Script(*(EutilsTransientError("HTTP 503") for _ in range(10)))
    with pytest.raises(RetriesExhausted) as caught:
        run(script, attempts=3)
    assert caught.value.attempts == 3
    assert script.calls == 3
    assert "HTTP 503" in str(caught.value)


def test_permanent_errors_are_not_retried() -> None:
    script = Script(EutilsPermanentError("Invalid db name specified: fleegle"))
    with pytest.raises(EutilsPermanentError):
        run(script)
    assert script.calls == 1


def test_retry_after_is_honoured_and_slows_the_pace() -> None:
    script = Script(RateLimited("HTTP 429", retry_after=5.0))
    result, sleeps, limiter = run(script)
    assert result == "done"
    # The pause is held by the shared limiter: the next slot is 5 s away.
    assert limiter.acquire() == pytest.approx(5.0)
    assert limiter.interval > 1.0 / 100.0 * 1.1  # slowed down, not yet recovered
    assert sleeps == [5.0]  # the acquire above waited; the retry loop itself did not


def test_429_without_retry_after_backs_off() -> None:
    script = Script(RateLimited("HTTP 429"))
    _, sleeps, _ = run(script)
    assert 0.5 <= sleeps[0] <= 1.5
