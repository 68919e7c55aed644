"""The client reads every real NCBI response in ../shared/fixtures/eutils/.

Each file is read as the client reads it (esearch, epost, efetch bodies),
errors and warnings surfaced as such; then the same bodies are served over
HTTP by the stub's canned replies and the client is run against them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from Bio.Entrez import Parser

from litwatch.config import EutilsSettings
from litwatch.errors import EutilsPermanentError, EutilsTransientError
from litwatch.eutils import EutilsClient, parse_esearch, parse_esearch_json
from litwatch.eutils.dtds import entrez_read
from litwatch.eutils.efetch import ChunkStream, parse_epost, read_fetch_response
from litwatch.medline import parse_medline
from litwatch.testing import stub_xml
from litwatch.testing.eutils_stub import EutilsStub
from litwatch.testing.stub_corpus import StubCorpus


@pytest.fixture(scope="module")
def eutils_dir(shared_fixtures: Path) -> Path:
    return shared_fixtures / "eutils"


def body(folder: Path, name: str) -> bytes:
    return (folder / name).read_bytes()


def cassette_body(path: Path) -> bytes:
    """The response body of a VCR cassette: a YAML single-quoted, folded scalar."""
    text = path.read_text(encoding="utf-8")
    i = text.index("string: '") + len("string: '")
    pieces = []
    while True:
        j = text.index("'", i)
        if text[j + 1 : j + 2] == "'":  # '' is a quote inside the scalar
            pieces.append(text[i : j + 1])
            i = j + 2
            continue
        pieces.append(text[i:j])
        break
    lines = "".join(pieces).split("\n")
    folded, blank = lines[0].rstrip(), 0
    for line in lines[1:]:
        if not line.strip():
            blank += 1
            continue
        folded += ("\n" * blank if blank else " ") + line.strip()
        blank = 0
    return (folded + "\n" * blank).encode("utf-8")


def record_pmids(document: bytes) -> set[str]:
    """PMIDs of the records in a PubmedArticleSet, found without an XML parser."""
    pattern = rb"<(?:MedlineCitation|BookDocument)\b[^>]*>\s*<PMID\s+Version=\"\d+\">(\d+)</PMID>"
    return {pmid.decode() for pmid in re.findall(pattern, document)}


def fetched(document: bytes) -> tuple[list[str], list[str]]:
    articles, deleted = read_fetch_response(ChunkStream([document]), what="fixture")
    return [a.pmid for a in articles], deleted


# -- every file, read the way the client reads it --------------------------------------

ESEARCH_EXPECTED = {
    # file: (count, ids, retstart, translation starts with, errors, warnings, webenv)
    "biopython__Tests_Entrez_esearch1.xml": (63, 20, 0, '"biopython"', [], [], None),
    "biopython__Tests_Entrez_esearch2.xml": (
        42249,
        100,
        0,
        '("cancer s"',
        [],
        [],
        "MCID_6927d6e7fee3e90f880ec190",
    ),
    "biopython__Tests_Entrez_esearch3.xml": (2651, 6, 6, '"proc natl', [], [], None),
    "biopython__Tests_Entrez_esearch5.xml": (5, 5, 0, '("stem cells"', [], [], None),
    "biopython__Tests_Entrez_esearch8.xml": (
        0,
        0,
        0,
        "(abcXYZ",
        ["PhraseNotFound: abcXYZ"],
        ["OutputMessage: No items found."],
        None,
    ),
    "biopython__Tests_Entrez_esearch4_legacy_eSearch_020511.xml": (
        177,
        20,
        0,
        "obstetrics",
        [],
        [],
        None,
    ),
    "Klortho_Eutils-JSON__samples_esearch.error.xml": (
        5163,
        20,
        0,
        '"obstetrics"',
        ["PhraseNotFound: fleegle[MeSH Terms]"],
        [],
        None,
    ),
    "Klortho_Eutils-JSON__samples_esearch.pubmed.xml": (
        15169,
        100,
        0,
        '("neoplasms"',
        [],
        [],
        "NCID_1_18991374_130.14.18.48_5555_1353814292_87026138",
    ),
}


@pytest.mark.parametrize("name", sorted(ESEARCH_EXPECTED))
def test_esearch_responses(eutils_dir: Path, name: str) -> None:
    count, n_ids, retstart, translation, errors, warnings, webenv = ESEARCH_EXPECTED[name]
    result = parse_esearch(body(eutils_dir, name))
    assert result.count == count
    assert len(result.ids) == n_ids
    assert all(i.isdigit() for i in result.ids)
    assert result.retstart == retstart
    assert (result.query_translation or "").startswith(translation)
    assert result.errors == errors
    assert result.warnings == warnings
    assert result.webenv == webenv
    assert (result.query_key == "1") == (webenv is not None)


@pytest.mark.parametrize("stem", ["esearch.error", "esearch.pubmed"])
def test_json_and_xml_forms_read_alike(eutils_dir: Path, stem: str) -> None:
    as_xml = parse_esearch(body(eutils_dir, f"Klortho_Eutils-JSON__samples_{stem}.xml"))
    as_json = parse_esearch_json(body(eutils_dir, f"Klortho_Eutils-JSON__samples_{stem}.json"))
    assert as_json == as_xml


@pytest.mark.parametrize("suffix", ["xml", "json"])
def test_fatal_esearch_error_is_permanent(eutils_dir: Path, suffix: str) -> None:
    data = body(eutils_dir, f"Klortho_Eutils-JSON__samples_esearch.baderror.{suffix}")
    read = parse_esearch if suffix == "xml" else parse_esearch_json
    with pytest.raises(EutilsPermanentError, match="Invalid db name specified: fleegle"):
        read(data)


def test_epost_responses(eutils_dir: Path) -> None:
    posted = parse_epost(body(eutils_dir, "biopython__Tests_Entrez_epost1.xml"))
    assert (posted.webenv, posted.query_key) == ("MCID_692851c130aec64bed0a8c2a", "1")
    with pytest.raises(EutilsPermanentError, match="Invalid db name specified: nothing"):
        parse_epost(body(eutils_dir, "biopython__Tests_Entrez_epost2.xml"))
    # Two ERROR elements (the DTD allows one): still a permanent error, not a crash.
    with pytest.raises(EutilsPermanentError, match=r"invalid value|Nothing to store"):
        parse_epost(body(eutils_dir, "biopython__Tests_Entrez_epost3.xml"))


EFETCH_FILES = [
    "biopython__Tests_Entrez_pubmed1.xml",
    "biopython__Tests_Entrez_pubmed2.xml",
    "biopython__Tests_Entrez_pubmed4.xml",
    "biopython__Tests_Entrez_pubmed5.xml",
    "biopython__Tests_Entrez_pubmed6.xml",
    "biopython__Tests_Entrez_pubmed7.xml",
    "titipata_pubmed_parser__data_pubmed-29768149.xml",
    "Klortho_Eutils-JSON__samples_efetch.pubmedbook.xml",
]


@pytest.mark.parametrize("name", EFETCH_FILES)
def test_efetch_responses(eutils_dir: Path, name: str) -> None:
    data = body(eutils_dir, name)
    pmids, deleted = fetched(data)
    assert pmids
    assert set(pmids) == record_pmids(data)
    assert deleted == []


def test_recorded_esearch_cassette(eutils_dir: Path) -> None:
    data = cassette_body(eutils_dir / "biocommons_eutils__tests_data_cassettes_test_esearch.yaml")
    result = parse_esearch(data)
    assert (result.count, result.ids[-1], result.query_key) == (5, "18145", "1")
    assert result.webenv == "MCID_66198254cf40a865a76b5e71"


def test_recorded_efetch_cassette(eutils_dir: Path) -> None:
    name = (
        "biocommons_eutils__tests_data_cassettes_test_eutils_xmlfacades_pubmedarticle_29915538.yaml"
    )
    pmids, _ = fetched(cassette_body(eutils_dir / name))
    assert pmids == ["29915538"]


@pytest.mark.parametrize(
    "name",
    ["biopython__Tests_Medline_pubmed_result2.txt", "biopython__Tests_Medline_pubmed_result3.txt"],
)
def test_medline_text_responses(eutils_dir: Path, name: str) -> None:
    """rettype=medline bodies: the client never asks for them, and refuses one if sent one."""
    data = body(eutils_dir, name)
    pmids = [a.pmid for a in parse_medline(data, name=name)]
    assert pmids == re.findall(r"^PMID- (\d+)", data.decode("utf-8"), re.MULTILINE)
    with pytest.raises(EutilsTransientError, match="not XML"):
        fetched(data)


def test_every_fixture_is_covered(eutils_dir: Path) -> None:
    covered = set(ESEARCH_EXPECTED) | set(EFETCH_FILES)
    covered |= {
        f"Klortho_Eutils-JSON__samples_{s}.json" for s in ("esearch.error", "esearch.pubmed")
    }
    covered |= {f"Klortho_Eutils-JSON__samples_esearch.baderror.{s}" for s in ("xml", "json")}
    covered |= {f"biopython__Tests_Entrez_epost{n}.xml" for n in (1, 2, 3)}
    covered |= {f"biopython__Tests_Medline_pubmed_result{n}.txt" for n in (2, 3)}
    covered |= {
        "biocommons_eutils__tests_data_cassettes_test_esearch.yaml",
        "biocommons_eutils__tests_data_cassettes_test_eutils_xmlfacades_pubmedarticle_29915538.yaml",
        "FROM_ISSUE_THREADS.txt",
        "MANIFEST.txt",
        # DTDs, not responses: the same files Biopython ships, which entrez_read uses.
        "biopython__Bio_Entrez_DTDs_esearch.dtd",
        "biopython__Bio_Entrez_DTDs_epost.dtd",
    }
    assert {p.name for p in eutils_dir.iterdir()} <= covered


# -- DTDs stay local ---------------------------------------------------------------------


@pytest.fixture
def no_dtd_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(url: str) -> None:
        raise AssertionError(f"Bio.Entrez tried to download {url}")

    monkeypatch.setattr(Parser, "urlopen", refuse)


@pytest.mark.usefixtures("no_dtd_downloads")
@pytest.mark.parametrize("edition", ["260101", "270101"])
def test_unshipped_pubmed_dtd_parses_offline(eutils_dir: Path, edition: str) -> None:
    data = body(eutils_dir, "biopython__Tests_Entrez_pubmed1.xml")
    assert b"pubmed_250101.dtd" in data
    data = data.replace(b"pubmed_250101.dtd", f"pubmed_{edition}.dtd".encode())
    record = entrez_read(data)
    pmids = [str(a["MedlineCitation"]["PMID"]) for a in record["PubmedArticle"]]
    assert pmids == ["12091962", "9997"]


@pytest.mark.usefixtures("no_dtd_downloads")
def test_efetch_error_envelope_parses_offline() -> None:
    with pytest.raises(EutilsTransientError, match="Search Backend failed"):
        fetched(stub_xml.efetch_error_xml(stub_xml.BACKEND_FAILED))
    with pytest.raises(EutilsPermanentError, match="Invalid db name"):
        fetched(stub_xml.efetch_error_xml("Invalid db name specified: nothing"))


@pytest.mark.usefixtures("no_dtd_downloads")
def test_unknown_dtd_is_an_error_not_a_download() -> None:
    data = stub_xml.ESEARCH_HEAD.replace(b"esearch.dtd", b"esearch_2031.dtd") + (
        b"<eSearchResult><Count>0</Count></eSearchResult>"
    )
    with pytest.raises(EutilsPermanentError, match=r"esearch_2031\.dtd"):
        parse_esearch(data)


# -- the same bodies over HTTP -----------------------------------------------------------


def thread_bodies(eutils_dir: Path) -> dict[str, bytes]:
    """Bodies quoted in FROM_ISSUE_THREADS.txt, by what they are."""
    text = (eutils_dir / "FROM_ISSUE_THREADS.txt").read_text(encoding="utf-8")
    rate_limits = re.findall(r"^\s*(\{\"error\":\"API rate limit exceeded\".*\})\s*$", text, re.M)
    backend = re.search(r"(<\?xml.*?</eSearchResult>)", text, re.S)
    html = re.search(r"^\s*(<!DOCTYPE html.*)$", text, re.M)
    route = re.search(r"^\s*(Unable to route request!\n\n\s*service name: \S+)", text, re.M)
    json_error = re.search(r"^\s*(\{\"esearchresult\":\{\"ERROR\".*\})\s*$", text, re.M)
    assert len(rate_limits) == 3
    assert backend is not None
    assert html is not None
    assert route is not None
    assert json_error is not None
    bodies = {f"429-{n}": b.encode() for n, b in enumerate(rate_limits)}
    bodies["backend"] = re.sub(r"\n\s+", "\n", backend.group(1)).encode()
    bodies["html"] = html.group(1).encode()
    bodies["route"] = route.group(1).encode()
    bodies["json-error"] = json_error.group(1).encode()
    return bodies


@pytest.fixture
def stub() -> Iterator[EutilsStub]:
    with EutilsStub(StubCorpus(), rate_limit=False) as server:
        yield server


@pytest.fixture
def client(stub: EutilsStub) -> Iterator[EutilsClient]:
    with requests.Session() as session:
        settings = EutilsSettings(base_url=stub.base_url, email="curator@example.org")
        yield EutilsClient(session, settings, rate=500, backoff=0.01)


@pytest.mark.parametrize("name", sorted(ESEARCH_EXPECTED))
def test_client_reads_real_esearch_bodies_over_http(
    stub: EutilsStub, client: EutilsClient, eutils_dir: Path, name: str
) -> None:
    data = body(eutils_dir, name)
    stub.enqueue("esearch", data)
    assert client.esearch("anything") == parse_esearch(data)


@pytest.mark.parametrize("kind", ["429-0", "429-1", "429-2", "backend", "html", "route"])
def test_client_recovers_from_real_failure_bodies(
    stub: EutilsStub, client: EutilsClient, eutils_dir: Path, kind: str
) -> None:
    failure = thread_bodies(eutils_dir)[kind]
    status = 429 if kind.startswith("429") else 200
    stub.enqueue("esearch", failure, status=status, content_type="text/plain")
    stub.enqueue("esearch", body(eutils_dir, "biopython__Tests_Entrez_esearch1.xml"))
    assert client.esearch("biopython").count == 63
    assert [r.status for r in stub.requests] == [status, 200]
    assert client.request_count == 2


def test_client_stops_at_a_permanent_json_error(eutils_dir: Path) -> None:
    with pytest.raises(EutilsPermanentError, match="nonsense_db"):
        parse_esearch_json(thread_bodies(eutils_dir)["json-error"])


def test_client_fetches_real_efetch_body_over_http(
    stub: EutilsStub, client: EutilsClient, eutils_dir: Path
) -> None:
    stub.enqueue("efetch", body(eutils_dir, "biopython__Tests_Entrez_pubmed2.xml"))
    [batch] = client.fetch(["11748933", "11700088", "1"])
    assert sorted(a.pmid for a in batch.articles) == ["11700088", "11748933"]
    assert batch.missing == ("1",)


def test_client_reports_real_epost_error_over_http(
    stub: EutilsStub, client: EutilsClient, eutils_dir: Path
) -> None:
    stub.enqueue("epost", body(eutils_dir, "biopython__Tests_Entrez_epost2.xml"))
    with pytest.raises(EutilsPermanentError, match="Invalid db name"):
        client.epost(["1"])
    assert len(stub.requests) == 1
