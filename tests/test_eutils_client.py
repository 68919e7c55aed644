"""EutilsClient against the local E-utilities stub: search, fetch, history, reconciliation.

The stub enforces a raised rate limit and the client paces at a raised rate,
so these run fast; test_eutils_rate_limit.py checks NCBI's real 3/s.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from litwatch.config import EutilsSettings, Settings
from litwatch.errors import EutilsPermanentError, RetriesExhausted
from litwatch.eutils import EutilsClient, client_from_settings
from litwatch.testing.eutils_stub import EutilsStub
from litwatch.testing.stub_corpus import StubCorpus

FAST = (400.0, 400.0)  # the stub's limit per second, without and with a key
KEY = "0123456789abcdef0123456789abcdef0123"


@pytest.fixture(scope="module")
def real_records(shared_fixtures: Path) -> Path:
    return shared_fixtures / "eutils"


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def make_client(stub: EutilsStub, session: requests.Session, **settings: object) -> EutilsClient:
    options: dict[str, object] = {"base_url": stub.base_url, "email": "curator@example.org"}
    options.update(settings)
    return EutilsClient(session, EutilsSettings(**options), rate=300, backoff=0.01)  # type: ignore[arg-type]


def test_search_then_fetch_real_records(real_records: Path, session: requests.Session) -> None:
    with EutilsStub(real_records, rate_limit=FAST) as stub:
        client = make_client(stub, session)
        found = client.esearch("lactate threshold OR tert")
        assert found.count == len(found.ids) >= 2
        assert found.query_translation
        [batch] = client.fetch(found.ids)
    assert sorted(a.pmid for a in batch.articles) == sorted(found.ids)
    assert batch.missing == batch.deleted == ()
    titles = " ".join(a.title.lower() for a in batch.articles)
    assert "lactate" in titles
    assert client.request_count == 2


def test_every_request_names_tool_email_and_key(
    real_records: Path, session: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with EutilsStub(real_records, rate_limit=FAST, api_key=KEY, faults="500:1") as stub:
        client = make_client(stub, session, api_key=KEY, tool="litwatch-test")
        client.esearch("lactate", usehistory=True)
        list(client.fetch(["30108519"]))
        client.epost(["30108519"])
    assert len(stub.requests) == 4  # one esearch failed and was retried
    for request in stub.requests:
        assert request.params["tool"] == "litwatch-test"
        assert request.params["email"] == "curator@example.org"
        assert request.params["api_key"] == KEY
        assert request.params["db"] == "pubmed"
    assert caplog.records, "the client logs its requests at debug level"
    assert all(KEY not in record.getMessage() for record in caplog.records)


def test_the_key_never_shows_in_errors(session: requests.Session) -> None:
    with EutilsStub(StubCorpus(), rate_limit=False) as stub:
        dead_url = stub.base_url  # nothing listens here once the stub stops
    keyed = EutilsClient(
        session, EutilsSettings(base_url=dead_url, api_key=KEY, max_attempts=2), backoff=0.01
    )
    keyless = EutilsClient(session, EutilsSettings(base_url=dead_url, max_attempts=2), backoff=0.01)
    with pytest.raises(RetriesExhausted) as keyed_error:
        keyed.esearch("lactate")
    with pytest.raises(RetriesExhausted) as keyless_error:
        keyless.esearch("lactate")
    assert "Connection" in str(keyed_error.value)
    assert KEY not in str(keyed_error.value)
    assert "term=lactate" in str(keyless_error.value)  # without a key, GET: the URL is named


def test_with_a_key_every_request_is_a_post(real_records: Path, session: requests.Session) -> None:
    with EutilsStub(real_records, rate_limit=FAST, api_key=KEY) as stub:
        client = make_client(stub, session, api_key=KEY)
        client.esearch("lactate")
    assert [r.method for r in stub.requests] == ["POST"]
    assert "api_key" not in stub.requests[0].path


def test_missing_and_deleted_pmids_are_reported(
    real_records: Path, session: requests.Session
) -> None:
    with EutilsStub(real_records, rate_limit=FAST) as stub:
        stub.corpus.delete("9997")
        client = make_client(stub, session)
        batches = list(client.fetch(["12091962", "9997", "99999999", "12091962"], batch_size=2))
    assert [b.requested for b in batches] == [("12091962", "9997"), ("99999999",)]
    assert [a.pmid for a in batches[0].articles] == ["12091962"]
    assert batches[0].deleted == ("9997",)
    assert batches[0].missing == ()
    assert batches[1].articles == []
    assert batches[1].missing == ("99999999",)


def test_1200_pmids_are_posted_in_batches(session: requests.Session) -> None:
    corpus = StubCorpus.synthetic(1200, created=[date(2026, 3, 2)])
    pmids = [str(90_000_001 + n) for n in range(1200)]
    with EutilsStub(corpus, rate_limit=FAST) as stub:
        client = make_client(stub, session, batch_size=250)
        batches = list(client.fetch(pmids))
    efetches = stub.log_for("efetch")
    assert [len(r.params["id"].split(",")) for r in efetches] == [250, 250, 250, 250, 200]
    assert {r.method for r in efetches} == {"POST"}
    assert [len(b.articles) for b in batches] == [250, 250, 250, 250, 200]
    assert [a.pmid for b in batches for a in b.articles] == pmids
    assert all(b.missing == () for b in batches)


def test_batch_size_defaults_to_the_settings(session: requests.Session) -> None:
    corpus = StubCorpus.synthetic(700, created=[date(2026, 3, 2)])
    with EutilsStub(corpus, rate_limit=FAST) as stub:
        client = make_client(stub, session)  # EutilsSettings.batch_size
        list(client.fetch(str(90_000_001 + n) for n in range(700)))
    size = EutilsSettings().batch_size
    assert len(stub.log_for("efetch")) == -(-700 // size)


def test_fetch_by_history_sends_no_ids(session: requests.Session) -> None:
    corpus = StubCorpus.synthetic(30, created=[date(2026, 3, 1), date(2026, 3, 2)])
    with EutilsStub(corpus, rate_limit=FAST) as stub:
        client = make_client(stub, session)
        found = client.esearch("ketamine", usehistory=True)
        assert re.fullmatch(r"MCID_[0-9a-f]{24}", found.webenv or "")
        batches = list(
            client.fetch(found.ids, batch_size=12, webenv=found.webenv, query_key=found.query_key)
        )
        posted = client.epost(found.ids[:5])
        [again] = client.fetch(found.ids[:5], webenv=posted.webenv, query_key=posted.query_key)
    assert [a.pmid for b in batches for a in b.articles] == found.ids
    assert [r.params.get("retstart") for r in stub.log_for("efetch")][:3] == ["0", "12", "24"]
    assert all("id" not in r.params for r in stub.log_for("efetch"))
    assert [a.pmid for a in again.articles] == found.ids[:5]


def test_search_reports_errors_and_warnings(real_records: Path, session: requests.Session) -> None:
    with EutilsStub(real_records, rate_limit=FAST) as stub:
        client = make_client(stub, session)
        unknown_tag = client.esearch("lactate OR tumour[nosuchfield]")
        nothing = client.esearch("qwertyuiop")
    assert unknown_tag.count == 1
    assert "FieldNotFound: nosuchfield" in unknown_tag.errors
    assert nothing.count == 0
    assert "PhraseNotFound: qwertyuiop" in nothing.errors
    assert "OutputMessage: No items found." in nothing.warnings


def test_retmax_is_clamped_and_retstart_limited(session: requests.Session) -> None:
    corpus = StubCorpus.synthetic(10_050, created=[date(2026, 3, 2)])
    with EutilsStub(corpus, rate_limit=FAST) as stub:
        client = make_client(stub, session)
        first = client.esearch("ketamine", retmax=20_000)
        with pytest.raises(EutilsPermanentError, match="cannot be larger than 9998"):
            client.esearch("ketamine", retstart=10_000)
    assert first.count == 10_050
    assert len(first.ids) == 9_999
    assert first.truncated
    assert any("Restrictions achieved" in w for w in first.warnings)
    assert len(stub.requests) == 2  # the permanent error was not retried


def test_date_limits_by_mindate_and_maxdate(session: requests.Session) -> None:
    days = [date(2026, 3, 1) + timedelta(days=n) for n in range(10)]
    corpus = StubCorpus.synthetic(100, created=days)
    with EutilsStub(corpus, rate_limit=FAST) as stub:
        client = make_client(stub, session)
        by_crdt = client.esearch("ketamine", mindate=days[2], maxdate=days[3], datetype="crdt")
        in_term = client.esearch("ketamine AND 2026/03/03:2026/03/04[crdt]")
        with pytest.raises(EutilsPermanentError, match="together"):
            client.esearch("ketamine", mindate=days[2])
    assert by_crdt.count == in_term.count == 20
    assert by_crdt.ids == in_term.ids


def test_long_terms_go_by_post(real_records: Path, session: requests.Session) -> None:
    term = " OR ".join(f"word{n}" for n in range(400)) + " OR lactate"
    with EutilsStub(real_records, rate_limit=FAST) as stub:
        client = make_client(stub, session)
        result = client.esearch(term)
        short = client.esearch("lactate")
    assert result.ids == short.ids
    assert [r.method for r in stub.requests] == ["POST", "GET"]


def test_client_from_settings_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, real_records: Path
) -> None:
    with EutilsStub(real_records, rate_limit=FAST, api_key=KEY) as stub:
        monkeypatch.setenv("LITWATCH_EUTILS_URL", stub.base_url)
        monkeypatch.setenv("NCBI_API_KEY", KEY)
        with client_from_settings(Settings()) as client:
            assert client.base_url == stub.base_url
            assert client.rate == 10.0
            assert client.esearch("lactate").count == 1
    assert stub.requests[0].params["api_key"] == KEY
