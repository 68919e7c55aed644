"""NCBI's rate limit, enforced by the stub, is never hit by the client's own pacing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from litwatch.config import EutilsSettings
from litwatch.eutils import EutilsClient
from litwatch.testing.eutils_stub import EutilsStub

KEY = "0123456789abcdef0123456789abcdef0123"


@pytest.fixture(scope="module")
def real_records(shared_fixtures: Path) -> Path:
    return shared_fixtures / "eutils"


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def test_the_stub_refuses_a_burst_with_ncbis_429(
    real_records: Path, session: requests.Session
) -> None:
    """The control: without pacing, the stub's 3/s limit bites (so the tests below can fail)."""
    with EutilsStub(real_records) as stub:
        replies = [
            session.get(stub.base_url + "esearch.fcgi", params={"db": "pubmed", "term": "lactate"})
            for _ in range(8)
        ]
    statuses = [r.status_code for r in replies]
    assert statuses[:3] == [200, 200, 200]
    assert 429 in statuses
    refused = replies[statuses.index(429)]
    assert refused.headers["Content-Type"] == "application/json"
    body = json.loads(refused.content)
    assert body["error"] == "API rate limit exceeded"
    assert body["api-key"] == "127.0.0.1"
    assert body["limit"] == "3"
    assert int(body["count"]) > 3
    assert replies[0].headers["X-RateLimit-Limit"] == "3"


@pytest.mark.slow
def test_30_calls_from_three_threads_stay_under_3_per_second(
    real_records: Path, session: requests.Session
) -> None:
    """NCBI's real limit and the client's default pace: about 11 s."""
    with EutilsStub(real_records) as stub:
        client = EutilsClient(session, EutilsSettings(base_url=stub.base_url, max_attempts=1))
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                for _ in range(10):
                    client.esearch("lactate")
            except BaseException as exc:  # collected: the assertion below names it
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert len(stub.requests) == 30
    assert [r.status for r in stub.requests] == [200] * 30


@pytest.mark.slow
def test_with_a_key_10_per_second_are_allowed(
    real_records: Path, session: requests.Session
) -> None:
    with EutilsStub(real_records, api_key=KEY) as stub:
        settings = EutilsSettings(base_url=stub.base_url, api_key=KEY, max_attempts=1)
        client = EutilsClient(session, settings)
        for _ in range(25):
            client.esearch("lactate")
    assert [r.status for r in stub.requests] == [200] * 25
