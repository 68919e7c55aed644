"""A piece is parsed without the indenting blanks, yet reads as the streaming parser reads it.

libxml2's blank removal also drops a blank between two words when the text
begins with an element (``<i>Bacillus</i> <i>subtilis</i>``): such text is
read again with every blank kept, from the record's own bytes or, when they
cannot be told apart, from the whole piece.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from lxml import etree

from litwatch import pubmed_xml
from litwatch.article import Article
from litwatch.import_pieces import document_of, pieces
from litwatch.inline_markup import BlankDroppingParser, BlankTextDropped, text_and_markup
from litwatch.pubmed_xml import _keeping_blanks, parse_article_set, parse_pubmed_xml

# Titles whose blanks separate words where libxml2 would drop them: between two
# elements with no text before them, at the start or end of a nested element.
RISKY_TITLES = {
    b"<i>Bacillus</i> <i>subtilis</i> grows": "Bacillus subtilis grows",
    b"Risk<b> <i>factors</i></b>": "Risk factors",
    b"<b><i>Aims</i> </b>and scope": "Aims and scope",
    b"<sup>13</sup>\n<i>C</i>-labelled": "13 C-labelled",
    b"<DispFormula>a</DispFormula> <DispFormula>b</DispFormula>": "a b",
}
RISKY = b"<i>Bacillus</i> <i>subtilis</i>"
SAFE_TITLE = b"Ketamine for <i>writer's cramp</i> <b>and</b> CRPS"


def article(pmid: int, title: bytes) -> bytes:
    return (
        b"<PubmedArticle>\n  <MedlineCitation Status='MEDLINE'>\n    <PMID Version='1'>%d</PMID>\n"
        b"    <Article>\n      <ArticleTitle>%s</ArticleTitle>\n    </Article>\n"
        b"  </MedlineCitation>\n</PubmedArticle>\n" % (pmid, title)
    )


def article_set(*records: bytes, between: bytes = b"\n") -> bytes:
    return (
        b'<?xml version="1.0"?>\n<PubmedArticleSet>\n'
        + between.join(records)
        + (b"</PubmedArticleSet>\n")
    )


def streamed(document: bytes) -> list[object]:
    return list(parse_pubmed_xml(document))


def titles(records: Sequence[object]) -> list[str]:
    return [r.title for r in records if isinstance(r, Article)]


@pytest.fixture
def whole_again(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per parse of a whole document: True when it kept every blank."""
    parses: list[bool] = []
    read = pubmed_xml._read_article_set

    def spy(document: bytes, name: str, parser: etree.XMLParser) -> list[object]:
        parses.append(not isinstance(parser, BlankDroppingParser))
        return read(document, name, parser)  # type: ignore[return-value]

    monkeypatch.setattr(pubmed_xml, "_read_article_set", spy)
    return parses


def test_text_read_from_a_blank_dropping_parse_refuses_where_a_blank_may_be_gone() -> None:
    risky = b"<T><i>Bacillus</i> <i>subtilis</i></T>"
    dropped = etree.fromstring(risky, BlankDroppingParser())
    with pytest.raises(BlankTextDropped):
        text_and_markup(dropped)
    # Kept blanks: the same text reads as it is.
    assert text_and_markup(etree.fromstring(risky))[0] == "Bacillus subtilis"
    # Text that starts with words keeps its blanks even in a blank-dropping parse.
    safe = etree.fromstring(b"<T>" + SAFE_TITLE + b"</T>", BlankDroppingParser())
    assert text_and_markup(safe) == text_and_markup(etree.fromstring(b"<T>" + SAFE_TITLE + b"</T>"))


@pytest.mark.parametrize(("title", "expected"), list(RISKY_TITLES.items()))
def test_a_record_whose_blanks_may_be_gone_is_read_again_keeping_them(
    title: bytes, expected: str
) -> None:
    document = article_set(article(1, SAFE_TITLE), article(2, title), article(3, SAFE_TITLE))
    records = parse_article_set(document, name="piece")
    assert records == streamed(document)
    assert titles(records)[1] == expected


def test_only_the_risky_record_is_parsed_again(whole_again: list[bool]) -> None:
    document = article_set(*(article(n, RISKY if n == 5 else SAFE_TITLE) for n in range(1, 9)))
    assert parse_article_set(document, name="piece") == streamed(document)
    assert whole_again == [False]


@pytest.mark.parametrize(
    "document",
    [
        # Records on one line, two copies of one PMID: the line does not tell them apart.
        article_set(
            article(2, SAFE_TITLE).replace(b"\n", b""),
            article(2, RISKY).replace(b"\n", b""),
            between=b"",
        ),
        # A comment or processing instruction could hide a tag.
        article_set(article(1, SAFE_TITLE), b"<!-- <PubmedArticle> -->\n", article(2, RISKY)),
        article_set(article(1, SAFE_TITLE), b"<?note <PubmedArticle> ?>\n", article(2, RISKY)),
        # Beyond line 65,535 libxml2's line numbers are not exact.
        article_set(article(2, SAFE_TITLE), article(2, RISKY), between=b"\n" * 70_000),
    ],
    ids=["one-line", "comment", "processing-instruction", "line-70002"],
)
def test_a_record_that_cannot_be_cut_out_is_read_with_its_whole_piece(
    document: bytes, whole_again: list[bool]
) -> None:
    records = parse_article_set(document, name="piece")
    assert records == streamed(document)
    assert titles(records)[-1] == "Bacillus subtilis"
    assert whole_again == [False, True]


def test_a_record_is_not_taken_from_bytes_that_hold_another() -> None:
    document = article_set(article(1, SAFE_TITLE), article(2, RISKY))
    elsewhere = etree.fromstring(article_set(article(3, RISKY)), BlankDroppingParser())
    with pytest.raises(BlankTextDropped):  # its line here is where PMID 1 begins
        _keeping_blanks(document, elsewhere[0])


def test_every_real_file_reads_the_same_in_pieces_as_streamed(shared_fixtures: Path) -> None:
    compared = 0
    for folder in ("real", "eutils"):
        for path in sorted((shared_fixtures / folder).rglob("*.xml")):
            cut = pieces(path, piece_size=64 * 1024)
            if cut is None:
                continue
            parts = [document for document in map(document_of, cut) if document]
            found = [r for part in parts for r in parse_article_set(part, name=path.name)]
            assert found == list(parse_pubmed_xml(path)), path
            compared += len(found)
    assert compared > 1500
