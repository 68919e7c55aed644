"""Biopython's own parser, validating against NCBI's DTDs, accepts everything the stub sends."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
from Bio import Entrez
from Bio.Entrez import Parser

from litwatch.eutils.dtds import use_vendored_dtds
from litwatch.testing.eutils_stub import EutilsStub
from litwatch.testing.stub_corpus import StubCorpus

REAL_PMIDS = [
    "30108519", "29963580", "29768149", "28775130", "27797938",
    "20301295", "11748933", "11700088", "12091962", "9997",
]  # fmt: skip


@pytest.fixture(autouse=True)
def offline_dtds(monkeypatch: pytest.MonkeyPatch) -> None:
    """DTDs come from Biopython or litwatch's vendored cache, never from the network."""
    use_vendored_dtds()  # efetch.dtd for the eFetchResult error envelope

    def refuse(url: str) -> None:
        raise AssertionError(f"Bio.Entrez tried to download {url}")

    monkeypatch.setattr(Parser, "urlopen", refuse)


@pytest.fixture(scope="module")
def stub(shared_fixtures: Path) -> Iterator[EutilsStub]:
    corpus = StubCorpus(shared_fixtures / "eutils")
    corpus.delete("9997")
    with EutilsStub(corpus, rate_limit=False) as server:
        yield server


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def entrez(session: requests.Session, stub: EutilsStub, endpoint: str, **params: str) -> Any:
    reply = session.post(f"{stub.base_url}{endpoint}.fcgi", data={"db": "pubmed", **params})
    assert reply.status_code == 200
    assert reply.content.startswith(b'<?xml version="1.0"')
    return Entrez.read(io.BytesIO(reply.content), validate=True, ignore_errors=True)


@pytest.mark.parametrize(
    ("params", "keys"),
    [
        ({"term": "lactate OR tert"}, {"Count", "IdList", "QueryTranslation"}),
        ({"term": "lactate", "usehistory": "y"}, {"QueryKey", "WebEnv"}),
        ({"term": "lactate", "retmax": "0"}, {"Count", "RetMax"}),
        ({"term": "zyxwv"}, {"ErrorList", "WarningList"}),
        ({"term": "lactate OR zyx[foo]"}, {"ErrorList"}),
        ({"term": "lactate", "rettype": "count"}, {"Count"}),
        ({"term": "lactate", "datetype": "crdt", "mindate": "2018", "maxdate": "2018"}, {"Count"}),
        ({"term": "lactate", "retstart": "10000"}, {"ERROR"}),
        ({"term": ""}, {"ERROR"}),
        ({"term": "x", "db": "nothing"}, {"ERROR"}),
    ],
)
def test_esearch_responses_validate(
    session: requests.Session, stub: EutilsStub, params: dict[str, str], keys: set[str]
) -> None:
    record = entrez(session, stub, "esearch", **params)
    assert keys <= set(record)


def test_every_record_validates_in_efetch(session: requests.Session, stub: EutilsStub) -> None:
    record = entrez(session, stub, "efetch", id=",".join([*REAL_PMIDS, "44444444"]))
    pmids = [str(a["MedlineCitation"]["PMID"]) for a in record["PubmedArticle"]]
    pmids += [str(b["BookDocument"]["PMID"]) for b in record["PubmedBookArticle"]]
    assert sorted(pmids) == sorted(p for p in REAL_PMIDS if p != "9997")
    assert [str(p) for p in record["DeleteCitation"]] == ["9997"]


def test_efetch_of_nothing_found_validates(session: requests.Session, stub: EutilsStub) -> None:
    record = entrez(session, stub, "efetch", id="44444444")
    assert record["PubmedArticle"] == []


def test_efetch_of_synthetic_records_validates(session: requests.Session) -> None:
    corpus = StubCorpus.synthetic(300, created=[date(2026, 1, 2)], revised=date(2026, 1, 9))
    with EutilsStub(corpus, rate_limit=False) as stub:
        ids = ",".join(str(90_000_001 + n) for n in range(300))
        record = entrez(session, stub, "efetch", id=ids)
    assert len(record["PubmedArticle"]) == 300


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        ("efetch", {"id": ""}),
        ("efetch", {"WebEnv": "MCID_000000000000000000000000", "query_key": "1"}),
        ("epost", {"id": ""}),
        ("epost", {"id": "x"}),
    ],
)
def test_error_envelopes_validate(
    session: requests.Session, stub: EutilsStub, endpoint: str, params: dict[str, str]
) -> None:
    assert "ERROR" in entrez(session, stub, endpoint, **params)


def test_epost_validates(session: requests.Session, stub: EutilsStub) -> None:
    record = entrez(session, stub, "epost", id="30108519,29963580")
    assert str(record["QueryKey"]) == "1"
    assert str(record["WebEnv"]).startswith("MCID_")


@pytest.mark.parametrize("endpoint", ["esearch", "efetch", "epost"])
def test_backend_failure_bodies_validate(session: requests.Session, endpoint: str) -> None:
    with EutilsStub(StubCorpus(), rate_limit=False, faults="backend:1") as stub:
        record = entrez(session, stub, endpoint, term="x", id="1")
    assert str(record["ERROR"]).startswith("Search Backend failed")


def test_doctype_names_shipped_dtds_over_https(session: requests.Session, stub: EutilsStub) -> None:
    body = session.post(f"{stub.base_url}efetch.fcgi", data={"id": "30108519"}).content
    assert body.startswith(
        b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
        b'1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
    )


def test_validation_would_catch_an_unknown_element(
    session: requests.Session, stub: EutilsStub
) -> None:
    """The control for the tests above: a stray element does not pass."""
    body = session.post(f"{stub.base_url}esearch.fcgi", data={"term": "lactate"}).content
    spoiled = body.replace(b"<Count>", b"<Stray>1</Stray><Count>")
    with pytest.raises(Parser.ValidationError, match="Stray"):
        Entrez.read(io.BytesIO(spoiled), validate=True)
