"""The stub speaks E-utilities as NCBI does: GET and POST, History, JSON, errors, 414, keys."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from litwatch.eutils import parse_esearch, parse_esearch_json
from litwatch.eutils.efetch import ChunkStream, parse_epost, read_fetch_response
from litwatch.testing.eutils_stub import EutilsStub
from litwatch.testing.stub_corpus import StubCorpus

FAST = (400.0, 400.0)
KEY = "0123456789abcdef0123456789abcdef0123"


@pytest.fixture(scope="module")
def real_records(shared_fixtures: Path) -> Path:
    return shared_fixtures / "eutils"


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.fixture
def stub(real_records: Path) -> Iterator[EutilsStub]:
    with EutilsStub(real_records, rate_limit=FAST) as server:
        yield server


def get(session: requests.Session, stub: EutilsStub, endpoint: str, **params: str) -> bytes:
    reply = session.get(f"{stub.base_url}{endpoint}.fcgi", params={"db": "pubmed", **params})
    assert reply.status_code == 200, reply.text
    return reply.content


def post(session: requests.Session, stub: EutilsStub, endpoint: str, **params: str) -> bytes:
    reply = session.post(f"{stub.base_url}{endpoint}.fcgi", data={"db": "pubmed", **params})
    assert reply.status_code == 200, reply.text
    return reply.content


def fetched_pmids(body: bytes) -> list[str]:
    articles, _ = read_fetch_response(ChunkStream([body]), what="test")
    return [a.pmid for a in articles]


def test_base_url_is_local(stub: EutilsStub) -> None:
    url = urlsplit(stub.base_url)
    assert url.hostname == "127.0.0.1"
    assert url.port
    assert url.path == "/entrez/eutils/"


def test_get_and_post_answer_alike(session: requests.Session, stub: EutilsStub) -> None:
    by_get = parse_esearch(get(session, stub, "esearch", term="lactate OR tert", retmax="5"))
    by_post = parse_esearch(post(session, stub, "esearch", term="lactate OR tert", retmax="5"))
    assert by_get == by_post
    assert by_get.count >= 2
    ids = ",".join(by_get.ids)
    assert fetched_pmids(get(session, stub, "efetch", id=ids)) == by_get.ids
    assert fetched_pmids(post(session, stub, "efetch", id=ids)) == by_get.ids
    assert [(r.method, r.endpoint) for r in stub.requests] == [
        ("GET", "esearch"),
        ("POST", "esearch"),
        ("GET", "efetch"),
        ("POST", "efetch"),
    ]
    assert stub.requests[0].params["term"] == "lactate OR tert"


def test_plus_and_percent_20_are_spaces(session: requests.Session, stub: EutilsStub) -> None:
    plus = session.get(f"{stub.base_url}esearch.fcgi?db=pubmed&term=lactate+threshold")
    pct = session.get(f"{stub.base_url}esearch.fcgi?db=pubmed&term=lactate%20threshold")
    assert parse_esearch(plus.content) == parse_esearch(pct.content)
    assert parse_esearch(plus.content).count == 1


def test_json_mode(session: requests.Session, stub: EutilsStub) -> None:
    as_json = get(session, stub, "esearch", term="lactate", retmode="json", usehistory="y")
    document = json.loads(as_json)
    assert document["header"] == {"type": "esearch", "version": "0.3"}
    result = document["esearchresult"]
    assert result["count"] == "1"  # numbers are strings
    assert re.fullmatch(r"MCID_[0-9a-f]{24}", result["webenv"])
    assert result["querykey"] == "1"
    assert parse_esearch_json(as_json).ids == ["30108519"]
    error = json.loads(get(session, stub, "esearch", term="x", retmode="json", db="nothing"))
    assert error == {"esearchresult": {"ERROR": "Invalid db name specified: nothing"}}


def test_history_webenv_and_query_keys(session: requests.Session, stub: EutilsStub) -> None:
    first = parse_esearch(get(session, stub, "esearch", term="lactate OR tert", usehistory="y"))
    assert first.query_key == "1"
    second = parse_esearch(
        get(session, stub, "esearch", term="lactate", usehistory="y", WebEnv=first.webenv or "")
    )
    assert (second.webenv, second.query_key) == (first.webenv, "2")
    # query_key is ANDed with the term.
    within = parse_esearch(
        get(session, stub, "esearch", term="lactate", query_key="1", WebEnv=first.webenv or "")
    )
    assert within.ids == ["30108519"]
    everything = parse_esearch(
        get(session, stub, "esearch", term="", query_key="1", WebEnv=first.webenv or "")
    )
    assert sorted(everything.ids) == sorted(first.ids)
    page = get(session, stub, "efetch", WebEnv=first.webenv or "", query_key="1", retmax="1")
    assert fetched_pmids(page) == first.ids[:1]
    posted = parse_epost(
        post(session, stub, "epost", id="9997,12091962", WebEnv=first.webenv or "")
    )
    assert (posted.webenv, posted.query_key) == (first.webenv, "3")
    assert fetched_pmids(get(session, stub, "efetch", WebEnv=posted.webenv, query_key="3")) == [
        "9997",
        "12091962",
    ]


def test_expired_webenv(session: requests.Session, stub: EutilsStub) -> None:
    posted = parse_epost(post(session, stub, "epost", id="9997"))
    stub.state.history.ttl = -1.0  # everything has expired
    body = get(session, stub, "efetch", WebEnv=posted.webenv, query_key=posted.query_key)
    assert b"<eFetchResult>" in body
    assert b"Unable to obtain query #1" in body


def test_retmax_clamp_and_retstart_limit(session: requests.Session) -> None:
    corpus = StubCorpus.synthetic(10_010, created=[date(2026, 1, 5)])
    with EutilsStub(corpus, rate_limit=False) as stub:
        clamped = parse_esearch(get(session, stub, "esearch", term="ketamine", retmax="20000"))
        default = parse_esearch(get(session, stub, "esearch", term="ketamine"))
        beyond = get(session, stub, "esearch", term="ketamine", retstart="9999")
        count_only = get(session, stub, "esearch", term="ketamine", rettype="count")
    assert (clamped.count, len(clamped.ids)) == (10_010, 9_999)
    assert clamped.warnings == [
        "OutputMessage: Restrictions achieved. start and count adjusted to 0, 9999"
    ]
    assert len(default.ids) == 20  # NCBI's default retmax
    assert b"'retstart' cannot be larger than 9998" in beyond
    assert b"<Count>10010</Count></eSearchResult>" in count_only


def test_dates_windows_and_reldate(session: requests.Session) -> None:
    today = date(2026, 5, 20)
    days = [today - timedelta(days=n) for n in range(10)]
    corpus = StubCorpus.synthetic(100, created=days)
    with EutilsStub(corpus, rate_limit=False, today=today) as stub:

        def count(**params: str) -> int:
            return parse_esearch(get(session, stub, "esearch", term="ketamine", **params)).count

        assert count() == 100
        assert count(datetype="crdt", mindate="2026/05/18", maxdate="2026/05/20") == 30
        assert count(datetype="edat", reldate="4") == 50
        assert count(datetype="mdat", mindate="2026/05", maxdate="2026/05") == 100
        assert count(mindate="2026/05/18") == 100  # mindate alone is ignored, as NCBI does
        stub.today = days[5]
        assert count() == 50  # records created after "today" do not exist yet


def test_unknown_fields_and_missing_phrases(session: requests.Session, stub: EutilsStub) -> None:
    result = parse_esearch(get(session, stub, "esearch", term="lactate AND blorp[zzz]"))
    assert result.count == 1
    assert result.errors == ["FieldNotFound: zzz"]
    nothing = parse_esearch(get(session, stub, "esearch", term="lactate AND quixotic[ti]"))
    assert nothing.count == 0
    assert nothing.errors == ["PhraseNotFound: quixotic[Title]"]
    assert nothing.warnings == ["OutputMessage: No items found."]
    assert result.query_translation == '"lactate"[All Fields]'
    # A MeSH heading or publication type absent from a small corpus still exists in PubMed.
    vocab = parse_esearch(
        get(session, stub, "esearch", term='lactate AND ("Causalgia"[mh] OR "Twin Study"[pt])')
    )
    assert vocab.errors == []


@pytest.mark.parametrize(
    ("endpoint", "params", "error"),
    [
        ("esearch", {"term": "x", "db": "nothing"}, b"Invalid db name specified: nothing"),
        ("esearch", {"term": ""}, b"Empty term and query_key - nothing todo"),
        ("esearch", {"term": "((lactate"}, b"Invalid query"),
        ("efetch", {"id": ""}, b"Empty id list - nothing todo"),
        ("efetch", {"id": "9997", "rettype": "medline", "retmode": "text"}, b"not served"),
        ("epost", {"id": ""}, b"Empty ID list; Nothing to store"),
        ("epost", {"id": "abc"}, b"Some IDs have invalid value"),
    ],
)
def test_errors_come_at_http_200(
    session: requests.Session, stub: EutilsStub, endpoint: str, params: dict[str, str], error: bytes
) -> None:
    body = post(session, stub, endpoint, **params)
    assert b"<ERROR>" in body or b'"ERROR"' in body
    assert error in body


def test_efetch_keeps_request_order_and_lists_deletions(
    session: requests.Session, stub: EutilsStub
) -> None:
    stub.corpus.delete("12091962")
    body = post(session, stub, "efetch", id="9997,12091962,30108519,55555555")
    articles, deleted = read_fetch_response(ChunkStream([body]), what="test")
    assert [a.pmid for a in articles] == ["9997", "30108519"]
    assert deleted == ["12091962"]
    only_missing = post(session, stub, "efetch", id="55555555")
    assert b"<PubmedArticleSet>" in only_missing
    assert read_fetch_response(ChunkStream([only_missing]), what="test") == ([], [])
    uilist = post(session, stub, "efetch", id="9997,55555555", rettype="uilist", retmode="text")
    assert uilist == b"9997\n"


def test_an_over_long_get_is_refused_with_414(session: requests.Session, stub: EutilsStub) -> None:
    ids = ",".join(str(30_000_000 + n) for n in range(600))
    assert session.get(f"{stub.base_url}efetch.fcgi", params={"id": ids}).status_code == 414
    assert session.post(f"{stub.base_url}efetch.fcgi", data={"id": ids}).status_code == 200
    assert session.get(f"{stub.base_url}nothing.fcgi").status_code == 404


def test_only_the_stubs_key_is_accepted(real_records: Path, session: requests.Session) -> None:
    with EutilsStub(real_records, rate_limit=FAST, api_key=KEY) as stub:
        good = session.get(f"{stub.base_url}esearch.fcgi", params={"term": "x", "api_key": KEY})
        bad = session.get(f"{stub.base_url}esearch.fcgi", params={"term": "x", "api_key": "nope"})
    assert good.status_code == 200
    assert good.headers["X-RateLimit-Limit"] == "400"
    assert bad.status_code == 400
    assert json.loads(bad.content)["error"] == "API key invalid"


def test_replies_are_chunked_and_gzipped_when_asked(
    session: requests.Session, stub: EutilsStub
) -> None:
    reply = session.get(f"{stub.base_url}esearch.fcgi", params={"term": "lactate"})
    assert reply.headers["Transfer-Encoding"] == "chunked"
    assert reply.headers["Content-Encoding"] == "gzip"  # requests asks for gzip
    assert reply.headers["Content-Type"] == "text/xml; charset=UTF-8"
    assert parse_esearch(reply.content).count == 1


def test_stopping_frees_the_port(real_records: Path, session: requests.Session) -> None:
    with EutilsStub(real_records, rate_limit=False) as stub:
        url = urlsplit(stub.base_url)
        get(session, stub, "esearch", term="lactate")  # a keep-alive connection stays open
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection((url.hostname, url.port), timeout=1),
    ):
        pass
