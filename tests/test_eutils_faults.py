"""Every way NCBI fails, injected by the stub: recovered within the bound, or a typed error."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
import requests

from litwatch.config import EutilsSettings
from litwatch.errors import RetriesExhausted
from litwatch.eutils import EutilsClient
from litwatch.testing.eutils_stub import EutilsStub
from litwatch.testing.faults import FAULT_KINDS
from litwatch.testing.stub_corpus import StubCorpus

FAST = (400.0, 400.0)
TIMEOUT = 0.25  # the client's; a slow fault answers after SLOW seconds
SLOW = 1.0


@pytest.fixture(scope="module")
def real_records(shared_fixtures: Path) -> Path:
    return shared_fixtures / "eutils"


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def client_for(
    stub: EutilsStub,
    session: requests.Session,
    attempts: int,
    sleep: Callable[[float], None] = time.sleep,
) -> EutilsClient:
    settings = EutilsSettings(base_url=stub.base_url, max_attempts=attempts, timeout=TIMEOUT)
    return EutilsClient(session, settings, rate=300, backoff=0.01, sleep=sleep)


def call(endpoint: str, client: EutilsClient) -> None:
    """One call of the client that uses ``endpoint``, checked for a proper answer."""
    if endpoint == "esearch":
        assert client.esearch("lactate").ids == ["30108519"]
    elif endpoint == "efetch":
        [batch] = client.fetch(["30108519", "9997"])
        assert sorted(a.pmid for a in batch.articles) == ["30108519", "9997"]
        assert batch.missing == ()
    else:
        assert client.epost(["30108519"]).query_key == "1"


@pytest.mark.parametrize("endpoint", ["esearch", "efetch", "epost"])
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_is_recovered_within_the_bound(
    real_records: Path, session: requests.Session, kind: str, endpoint: str
) -> None:
    with EutilsStub(real_records, rate_limit=FAST, faults=f"{kind}:2", slow_seconds=SLOW) as stub:
        client = client_for(stub, session, attempts=3)
        call(endpoint, client)
        log = stub.log_for(endpoint)
    assert [r.fault for r in log] == [kind, kind, None]
    assert log[-1].status == 200
    assert client.request_count == 3


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_faults_that_outlast_the_bound_raise_retries_exhausted(
    real_records: Path, session: requests.Session, kind: str
) -> None:
    with EutilsStub(
        real_records, rate_limit=FAST, faults=f"only:efetch,{kind}:3", slow_seconds=SLOW
    ) as stub:
        client = client_for(stub, session, attempts=3)
        with pytest.raises(RetriesExhausted) as caught:
            list(client.fetch(["30108519"]))
        assert stub.faults.pending == 0
    assert caught.value.attempts == 3
    assert "efetch batch 1" in str(caught.value)
    assert [r.fault for r in stub.requests] == [kind] * 3


def test_retry_after_is_honoured(real_records: Path, session: requests.Session) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)  # recorded, not slept: the test stays fast

    with EutilsStub(real_records, rate_limit=FAST, faults="429:1", retry_after=2) as stub:
        client = client_for(stub, session, attempts=3, sleep=sleep)
        call("esearch", client)
    assert stub.requests[0].status == 429
    assert max(waits) == pytest.approx(2.0, abs=0.1)


def test_random_faults_are_survived(session: requests.Session) -> None:
    corpus = StubCorpus.synthetic(600, created=[date(2026, 4, 1), date(2026, 4, 2)])
    plan = "random:0.3,seed:7,kinds:429+500+502+503+html+text+backend+empty+truncated+drop"
    with EutilsStub(corpus, rate_limit=FAST, faults=plan) as stub:
        client = client_for(stub, session, attempts=12)
        found = client.esearch("ketamine")
        fetched = [a.pmid for b in client.fetch(found.ids, batch_size=50) for a in b.articles]
        injected = list(stub.faults.injected)
    assert fetched == found.ids
    assert len(found.ids) == 600
    assert len(injected) >= 3
    assert client.request_count == len(stub.requests) == 13 + len(injected)
