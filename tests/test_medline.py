"""MEDLINE text (.nbib / .txt saved from pubmed.gov) read into the same Article record.

Records from ../shared/fixtures/real: blachlylab__nbib/pubmed.nbib (CRLF line
ends; first record PMID 30501481, the Alliance A041202 ibrutinib trial, NEJM
2018) and samina-sol__drug-repurposing/pubmed.txt (399 records). Values were
read off the files by eye.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from litwatch.article import (
    Article,
    Author,
    CommentCorrection,
    MeshHeading,
    PartialDate,
    PublicationType,
    Qualifier,
    RegistryId,
)
from litwatch.errors import InputError
from litwatch.medline import parse_medline


@pytest.fixture(scope="module")
def nbib(shared_fixtures: Path) -> list[Article]:
    return list(parse_medline(shared_fixtures / "real" / "blachlylab__nbib" / "pubmed.nbib"))


@pytest.fixture(scope="module")
def drug_repurposing(shared_fixtures: Path) -> dict[str, Article]:
    path = shared_fixtures / "real" / "samina-sol__drug-repurposing" / "pubmed.txt"
    return {a.pmid: a for a in parse_medline(path)}


def test_trial_record_fields(nbib: list[Article]) -> None:
    a = nbib[0]
    assert a.pmid == "30501481"
    assert a.status == "MEDLINE"
    assert a.title == (
        "Ibrutinib Regimens versus Chemoimmunotherapy in Older Patients with Untreated CLL."
    )
    assert a.abstract[0].text.startswith(
        "BACKGROUND: Ibrutinib has been approved by the Food and Drug Administration for the "
        "treatment of patients with untreated chronic lymphocytic leukemia (CLL) since 2016 "
    )
    assert a.abstract[0].text.endswith("ClinicalTrials.gov number, NCT01886872 .).")
    assert "(88%; hazard ratio, 0.38; 95% CI, 0.25 to 0.59; P<0.001)" in a.abstract[0].text
    assert "P&lt;0.001" in a.abstract[0].markup
    assert (a.journal_title, a.journal_iso, a.issn) == (
        "The New England journal of medicine",
        "N Engl J Med",
        "1533-4406",
    )
    assert (a.volume, a.issue, a.pages) == ("379", "26", "2517-2528")
    assert a.pub_date == PartialDate("2018 Dec 27", 2018, 12, 27)
    assert a.languages == ("eng",)
    assert a.publication_types[0] == PublicationType("Clinical Trial, Phase III")
    assert PublicationType("Randomized Controlled Trial") in a.publication_types
    assert a.registry_ids == (RegistryId("ClinicalTrials.gov", "NCT01886872"),)
    assert (a.doi, a.pmcid) == ("10.1056/NEJMoa1812836", "PMC6325637")
    assert a.chemicals == (
        "Pyrazoles",
        "Pyrimidines",
        "ibrutinib",
        "Rituximab",
        "Bendamustine Hydrochloride",
    )
    assert a.date_completed == date(2019, 1, 11)
    assert a.date_revised == date(2020, 12, 21)
    assert a.history == {
        "pubmed": date(2018, 12, 7),
        "medline": date(2019, 1, 12),
        "entrez": date(2018, 12, 4),
    }
    assert a.comments_corrections[2] == CommentCorrection(
        "CommentIn", "N Engl J Med. 2019 Apr 25;380(17):1679-1681.", "31018080"
    )


def test_mesh_stars_mark_major_topics(nbib: list[Article]) -> None:
    mesh = {m.descriptor: m for m in nbib[0].mesh}
    assert mesh["Immunotherapy"] == MeshHeading("Immunotherapy", None, True)
    assert mesh["Leukemia, Lymphocytic, Chronic, B-Cell"] == MeshHeading(
        "Leukemia, Lymphocytic, Chronic, B-Cell",
        None,
        False,
        (
            Qualifier("drug therapy", None, True),
            Qualifier("mortality"),
            Qualifier("therapy"),
        ),
    )
    assert mesh["Leukemia, Lymphocytic, Chronic, B-Cell"].is_major
    assert not mesh["Aged"].is_major


def test_authors_keep_their_own_affiliations_and_orcid(nbib: list[Article]) -> None:
    authors = nbib[0].authors
    assert len(authors) == 31
    assert authors[0].last_name == "Woyach"
    assert authors[0].fore_name == "Jennifer A"
    assert authors[0].initials == "JA"
    assert (
        authors[0]
        .affiliations[0]
        .startswith(
            "From Ohio State University Comprehensive Cancer Center, Columbus (J.A.W., A.S.R., "
            "N.A.H., W.Z., K.A.R., G.L., J.S.B., H.G.O., J.C.B.); the Alliance Statistics"
        )
    )
    ding = next(x for x in authors if x.last_name == "Ding")
    assert ding.orcid == "0000-0001-9811-4601"
    assert [x.last_name for x in authors if x.orcid] == ["Ding"]


def test_collective_author_in_list_order(drug_repurposing: dict[str, Article]) -> None:
    a = drug_repurposing["32407924"]
    assert a.authors[-1] == Author(collective_name="Alzheimer Precision Medicine Initiative")
    lista = a.authors[-2]
    assert (lista.last_name, lista.initials) == ("Lista", "S")
    assert lista.affiliations[0].startswith("Sorbonne University, GRC n°21, Alzheimer")


def test_a_wrapped_comment_line_keeps_its_pmid(drug_repurposing: dict[str, Article]) -> None:
    # "CIN - Neurology. ... PMID: " continues on the next line with "35654591".
    a = drug_repurposing["35654594"]
    assert a.comments_corrections == (
        CommentCorrection(
            "CommentIn",
            "Neurology. 2022 Aug 16;99(7):267-268. doi: 10.1212/WNL.0000000000200803.",
            "35654591",
        ),
    )


def test_counts_and_statuses_of_the_whole_file(drug_repurposing: dict[str, Article]) -> None:
    statuses = [a.status for a in drug_repurposing.values()]
    assert len(statuses) == 399
    assert statuses.count("MEDLINE") == 287
    assert statuses.count("PubMed-not-MEDLINE") == 99
    assert statuses.count("Publisher") == 13


# -- small inputs written here ----------------------------------------------------------

TWO_RECORDS = (
    "PMID- 100\nSTAT- Publisher\nDP  - 2024 Winter\nTI  - First title that is long\n"
    "      enough to wrap.\nAU  - Smith J\nAU  - Doe A\nAID - S0140-6736(24)00001-1 [pii]\n"
    "PHST- 2024/01/05 00:00 [received]\nCRDT- 2024/02/01 06:00\n\n"
    "PMID- 200\nTI  - Second.\nEIN - Lancet. 2024 Mar 2;403:800. PMID: 300\n"
    "RIN - Lancet. 2024 Apr 6;403:1200. PMID: 301\n"
)


def test_text_bytes_and_lines_give_the_same_records(tmp_path: Path) -> None:
    path = tmp_path / "two.nbib"
    path.write_bytes(TWO_RECORDS.replace("\n", "\r\n").encode())
    sources: list[object] = [
        path,
        str(path),
        TWO_RECORDS.encode(),
        TWO_RECORDS.splitlines(keepends=True),
    ]
    results = [list(parse_medline(s)) for s in sources]  # type: ignore[arg-type]
    assert all(r == results[0] for r in results)
    first, second = results[0]
    assert first.title == "First title that is long enough to wrap."
    assert first.pub_date == PartialDate("2024 Winter", 2024)
    assert [(x.last_name, x.initials) for x in first.authors] == [("Smith", "J"), ("Doe", "A")]
    assert first.pii == "S0140-6736(24)00001-1"
    assert first.history == {"received": date(2024, 1, 5), "entrez": date(2024, 2, 1)}
    assert second.is_retracted
    assert second.has_erratum
    assert [c.pmid for c in second.comments_corrections] == ["300", "301"]


def test_records_without_blank_lines_between_them_are_split_on_pmid() -> None:
    text = "PMID- 1\nTI  - One.\nPMID- 2\nTI  - Two.\n"
    assert [a.title for a in parse_medline(text.encode())] == ["One.", "Two."]


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("PMID- 1\nTI  - Caf\u00e9 society.\n".encode("latin-1"))
    with pytest.raises(InputError) as caught:
        list(parse_medline(path))
    assert caught.value.line == 2
    assert str(caught.value).startswith(f"{path}:2: not UTF-8 text (byte 0xe9 at column 10)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TI  - No PMID here.\n", "record 1: record without PMID"),
        ("PMID- 1\nTI  - ok\n\nPMID- x9\n", "record 2: PMID is not a number: 'x9'"),
        ("PMID- \u00b2\n", "record 1: PMID is not a number: '\u00b2'"),
        ("PMID- 1\nthis is prose, not a field\n", ":2: not a MEDLINE field line"),
    ],
)
def test_broken_records_are_named(text: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        list(parse_medline(text.encode(), name="export.nbib"))
