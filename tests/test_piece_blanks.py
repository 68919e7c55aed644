"""A piece is parsed without the indenting blanks, yet reads as the streaming parser reads it.

libxml2's blank removal also drops a blank between two words when the text
begins with an element (``<i>Bacillus</i> <i>subtilis</i>``): such text is
read again with every blank kept, from the record's own bytes or, when they
cannot be told apart, from the whole piece.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import pytest
from lxml import etree

from litwatch import pubmed_xml
from litwatch.article import Article
from litwatch.import_pieces import document_of, pieces
from litwatch.inline_markup import BlankDroppingParser, BlankTextDropped, text_and_markup
from litwatch.pubmed_xml import (
    _keeping_blanks,
    _record_starts,
    parse_article_set,
    parse_pubmed_xml,
)

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
        # Two copies of one PMID on one line: told apart by their start tags, not lines.
        article_set(
            article(2, SAFE_TITLE).replace(b"\n", b""),
            article(2, RISKY).replace(b"\n", b""),
            between=b"",
        ),
        # A start tag across lines (lxml gives the line where it ends).
        article_set(
            article(1, RISKY).replace(b"<PubmedArticle>", b"<PubmedArticle\n>"),
            article(1, SAFE_TITLE),
        ),
        # Beyond line 65,535, where libxml2's line numbers are no longer exact.
        article_set(article(2, SAFE_TITLE), article(2, RISKY), between=b"\n" * 70_000),
    ],
    ids=["one-line-same-pmid", "start-tag-across-lines", "line-70002"],
)
def test_a_risky_record_is_found_by_its_start_tag(document: bytes, whole_again: list[bool]) -> None:
    records = parse_article_set(document, name="piece")
    assert records == streamed(document)
    assert "Bacillus subtilis" in titles(records)
    assert whole_again == [False]


@pytest.mark.parametrize(
    "title",
    [
        b"<i>a</i> <!--c-->b",
        b"<i>a</i> <![CDATA[b]]>",
        b"<i>a</i> <?pi x?>b",
        b"Word<i> <![CDATA[x]]></i>",
        b"Word<i> <!--c-->x</i>",
    ],
)
def test_a_piece_with_comments_cdata_or_instructions_keeps_every_blank(
    title: bytes, whole_again: list[bool]
) -> None:
    # libxml2 drops the blank before such markup, and the tree keeps no trace of it.
    document = article_set(article(1, SAFE_TITLE), article(2, title))
    records = parse_article_set(document, name="piece")
    assert records == streamed(document)
    assert titles(records)[1] in {"a b", "Word x"}
    assert whole_again == [True]


@pytest.mark.parametrize(
    ("part", "inside"),
    [
        (
            b"<MeshHeadingList><MeshHeading><DescriptorName UI='D1'>Pain</DescriptorName>"
            b"<QualifierName UI='Q1'> <i>x</i></QualifierName></MeshHeading></MeshHeadingList>",
            b"</Article>",
        ),
        (
            b"<CommentsCorrectionsList><CommentsCorrections RefType='ErratumIn'>"
            b"<RefSource>J</RefSource><PMID> <b/></PMID></CommentsCorrections>"
            b"</CommentsCorrectionsList>",
            b"</Article>",
        ),
        (
            b"<AuthorList><Author><LastName>Roe</LastName><Identifier Source='ORCID'> <i/>"
            b"</Identifier><Identifier Source='ORCID'>0000-0002-1825-0097</Identifier>"
            b"</Author></AuthorList>",
            b"</ArticleTitle>",
        ),
        (
            b"<Abstract><AbstractText>x <mml:math xmlns:mml='http://www.w3.org/1998/Math/MathML'>"
            b"<mml:mi>a</mml:mi><mml:mtext> <mml:mi>b</mml:mi></mml:mtext></mml:math>"
            b"</AbstractText></Abstract>",
            b"</ArticleTitle>",
        ),
    ],
    ids=["qualifier", "comment-pmid", "orcid", "mtext"],
)
def test_a_name_or_number_holding_an_element_is_read_keeping_its_blank(
    part: bytes, inside: bytes
) -> None:
    record = article(2, SAFE_TITLE).replace(inside, inside + part, 1)
    document = article_set(article(1, SAFE_TITLE), record)
    assert parse_article_set(document, name="piece") == streamed(document)


def test_a_record_is_not_taken_from_bytes_that_hold_another() -> None:
    document = article_set(article(1, RISKY), article(2, RISKY))
    root = etree.fromstring(document, BlankDroppingParser())
    first, second = _record_starts(document)
    assert _keeping_blanks(document, [first, second], root, 0).findtext(".//PMID") == "1"
    with pytest.raises(BlankTextDropped):  # record 1 said to begin where record 2 does
        _keeping_blanks(document, [second, len(document)], root, 0)
    with pytest.raises(BlankTextDropped):  # more start tags than records (one nested)
        _keeping_blanks(document, [first, second, second + 1], root, 0)
    with pytest.raises(BlankTextDropped):  # a slice running into the next record
        _keeping_blanks(document, [first, first + 1], root, 1)


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


class _Generator:
    """Random PubmedArticleSets: inline markup, MathML, blanks, comments, CDATA,
    instructions, names holding elements, records on odd lines, repeated PMIDs."""

    BLANKS = ("", "", " ", "  ", "\n", "\n  ", "\t", "\r\n", "&#32;", "&#160;")
    WORDS = ("alpha", "beta", "&amp;", "Ω", "13", "é", "a.b", "")
    INLINE = ("i", "b", "sup", "sub", "u", "DispFormula")
    HIDDEN = ("<!--c-->", "<![CDATA[x]]>", "<![CDATA[ ]]>", "<?pi x?>")

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def blank(self) -> str:
        return self.rng.choice(self.BLANKS)

    def text(self, depth: int = 0) -> str:
        parts = []
        for _ in range(self.rng.randint(0, 4)):
            roll = self.rng.random()
            if roll < 0.3:
                parts.append(self.rng.choice(self.WORDS))
            elif roll < 0.55:
                parts.append(self.blank())
            elif roll < 0.85 and depth < 3:
                tag = self.rng.choice(self.INLINE)
                parts.append(f"<{tag}>{self.text(depth + 1)}</{tag}>")
            elif roll < 0.93:
                token = self.rng.choice(("mi", "mo", "mtext"))
                inner = f"<mml:{token}>{self.blank()}x</mml:{token}>"
                if self.rng.random() < 0.3:
                    inner = f"<mml:mtext>{self.blank()}<mml:mi>q</mml:mi></mml:mtext>{inner}"
                parts.append(f"<mml:math xmlns:mml='{MATHML}'>{self.blank()}{inner}</mml:math>")
            else:
                parts.append(self.rng.choice(self.HIDDEN))
        return "".join(parts)

    def leaf(self, value: str) -> str:
        if self.rng.random() < 0.1:  # a name or number holding an element after a blank
            return self.blank() + self.rng.choice(("<i>x</i>", "<b/>")) + value
        return value

    def record(self, pmid: int) -> str:
        n = lambda: self.rng.choice(("", "", "\n", "\n    "))  # noqa: E731
        opening = self.rng.choice(("<PubmedArticle>", "<PubmedArticle>", "<PubmedArticle\n>"))
        return "".join(
            (
                f"{opening}{n()}<MedlineCitation Status='MEDLINE'>{n()}",
                f"<PMID Version='1'>{pmid}</PMID>{n()}<Article>{n()}",
                f"<Journal><JournalIssue><PubDate><Year>{self.leaf('2020')}</Year>",
                f"</PubDate></JournalIssue></Journal>{n()}",
                f"<ArticleTitle>{self.text()}</ArticleTitle>{n()}",
                f"<Abstract>{n()}<AbstractText>{self.text()}</AbstractText>{n()}</Abstract>",
                f"{n()}<AuthorList><Author><LastName>{self.leaf('Roe')}</LastName>",
                f"<Identifier Source='ORCID'>{self.leaf('0000-0002-1825-0097')}</Identifier>",
                f"<AffiliationInfo><Affiliation>{self.text()}</Affiliation></AffiliationInfo>",
                f"</Author></AuthorList>{n()}</Article>{n()}<MeshHeadingList><MeshHeading>",
                f"<DescriptorName UI='D1'>{self.leaf('Pain')}</DescriptorName>{n()}",
                f"<QualifierName UI='Q1'>{self.leaf('therapy')}</QualifierName>",
                f"</MeshHeading></MeshHeadingList>{n()}<KeywordList><Keyword>{self.text()}",
                f"</Keyword></KeywordList>{n()}</MedlineCitation>{n()}</PubmedArticle>",
            )
        )

    def document(self) -> bytes:
        repeated = self.rng.random() < 0.3
        count = self.rng.randint(1, 5)
        records = [self.record(1 if repeated else k + 1) for k in range(count)]
        between = self.rng.choice(("\n", "", " ", "\r\n"))
        body = between.join(records)
        return (
            f"<?xml version='1.0'?>\n<PubmedArticleSet>{between}{body}</PubmedArticleSet>".encode()
        )


MATHML = "http://www.w3.org/1998/Math/MathML"


@pytest.mark.parametrize("seed", range(3))
def test_generated_documents_read_alike_in_pieces_and_streamed(seed: int) -> None:
    generator = _Generator(seed)
    for _ in range(150):
        document = generator.document()
        assert parse_article_set(document, name="piece") == streamed(document), document
