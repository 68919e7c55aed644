from datetime import date

import pytest

from litwatch.article import (
    AbstractSection,
    Article,
    Author,
    CommentCorrection,
    MeshHeading,
    PartialDate,
    PublicationType,
    Qualifier,
    RegistryId,
    normalise_doi,
    work_key,
)


def _full_article() -> Article:
    return Article(
        pmid="29768149",
        version=2,
        status="MEDLINE",
        title="Ketamine for <writer's> cramp",
        title_markup="Ketamine for &lt;writer's&gt; <i>cramp</i>",
        abstract=(AbstractSection("Some text.", "Some <b>text</b>.", "RESULTS", "RESULTS"),),
        journal_title="Movement Disorders",
        journal_iso="Mov Disord",
        issn="0885-3185",
        pub_date=PartialDate("2009 Jan-Feb", 2009, 1),
        authors=(
            Author("Müller", "Anna", "A", None, "0000-0002-1825-0097", ("Univ, Berlin",)),
            Author(collective_name="The Dystonia Study Group"),
        ),
        languages=("eng",),
        publication_types=(PublicationType("Randomized Controlled Trial", "D016449"),),
        mesh=(
            MeshHeading("Ketamine", "D007649", True, (Qualifier("therapeutic use", "Q000627"),)),
        ),
        keywords=("writer's cramp",),
        doi="10.1002/MDS.1",
        registry_ids=(RegistryId("ClinicalTrials.gov", "NCT02149199"),),
        comments_corrections=(CommentCorrection("RetractionIn", "Mov Disord. 2010", "123"),),
        history={"entrez": date(2009, 1, 5), "pubmed": date(2009, 1, 6)},
        date_revised=date(2010, 3, 1),
    )


def test_dict_round_trip_is_lossless() -> None:
    article = _full_article()
    assert Article.from_dict(article.to_dict()) == article
    assert Article.from_dict(article.to_dict()).content_hash() == article.content_hash()


def test_content_hash_changes_when_mesh_is_added() -> None:
    article = _full_article()
    indexed = Article.from_dict({**article.to_dict(), "mesh": [["Dystonia", "D004421", False, []]]})
    assert indexed.content_hash() != article.content_hash()


def test_derived_views() -> None:
    article = _full_article()
    assert article.is_retracted
    assert article.pub_year == 2009
    assert article.pub_date is not None
    assert article.pub_date.sortable == date(2009, 1, 1)
    assert article.created == date(2009, 1, 5)
    assert article.modified == date(2010, 3, 1)
    assert article.abstract_text == "RESULTS: Some text."
    assert [a.display_name for a in article.authors] == ["Müller A", "The Dystonia Study Group"]


def test_work_key_prefers_doi_then_title_year_author() -> None:
    assert normalise_doi("https://doi.org/10.1002/MDS.1") == "10.1002/mds.1"
    assert work_key(_full_article()) == "doi:10.1002/mds.1"
    no_doi = Article(
        pmid="1",
        title="Ketamine, and Writer’s Cramp!",
        pub_date=PartialDate("2020", 2020),
        authors=(Author("Ćosić", "Ana", "A"),),
    )
    same_work = Article(
        pmid="2",
        title="ketamine and writers cramp",
        pub_date=PartialDate("2020 Mar", 2020, 3),
        authors=(Author("Cosic", "A", "A"),),
    )
    assert work_key(no_doi) == work_key(same_work)
    assert work_key(Article(pmid="3")) is None


@pytest.mark.parametrize(
    "text",
    [
        "control \x00\x01\x1f\x7f chars",
        'quote " and \\ backslash',
        "\u2028\u2029 separators",
        "</script> <b>",
        "Kétamine — β 😀",
        "tab\tnew\nline\r",
    ],
)
def test_canonical_json_escapes_as_the_json_module_does(text: str) -> None:
    import json

    record = Article(pmid="1", title=text, keywords=(text,))
    expected = json.dumps(
        record.to_dict(), ensure_ascii=False, separators=(",", ":"), sort_keys=True
    )
    assert record.to_json() == expected
    assert Article.from_json(record.to_json()) == record
