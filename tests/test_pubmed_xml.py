"""The streaming PubMed XML reader on small documents written here: wrappers, inputs,
bad documents, safety (no DTD fetch, no entity expansion), inline markup and dates.

Real files are covered by test_real_fixtures.py; these documents isolate one
behaviour each (a real record's shape, trimmed to the fields under test).
"""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from lxml import etree

from litwatch.article import Article, PartialDate
from litwatch.errors import InputError
from litwatch.inline_markup import text_and_markup
from litwatch.pubdate import full_date, partial_from_parts, partial_from_text
from litwatch.pubmed_xml import DeletedCitations, parse_pubmed_xml

DOCTYPE_2025 = (
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">'
)
DOCTYPE_2008 = (
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2008//EN" '
    '"http://www.ncbi.nlm.nih.gov/entrez/query/DTD/pubmed_080101.dtd">'
)


def citation(pmid: str = "31000001", *, title: str = "A trial.", status: str = "MEDLINE") -> str:
    return (
        f'<MedlineCitation Status="{status}" Owner="NLM"><PMID Version="1">{pmid}</PMID>'
        '<Article PubModel="Print"><Journal><ISSN IssnType="Print">0028-4793</ISSN>'
        "<JournalIssue><Volume>379</Volume><PubDate><Year>2018</Year><Month>Dec</Month>"
        "</PubDate></JournalIssue><Title>The New England journal of medicine</Title></Journal>"
        f"<ArticleTitle>{title}</ArticleTitle><Language>eng</Language></Article>"
        "</MedlineCitation>"
    )


def pubmed_article(pmid: str = "31000001", **kwargs: str) -> str:
    return (
        f"<PubmedArticle>{citation(pmid, **kwargs)}<PubmedData><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{pmid}</ArticleId>'
        f'<ArticleId IdType="doi">10.1000/{pmid}</ArticleId></ArticleIdList>'
        "</PubmedData></PubmedArticle>"
    )


def article_set(*records: str, doctype: str = DOCTYPE_2025) -> bytes:
    body = "".join(records)
    return (
        f'<?xml version="1.0" ?>\n{doctype}\n<PubmedArticleSet>{body}</PubmedArticleSet>'.encode()
    )


def pmids(source: bytes | Path | str, **kwargs: str) -> list[str]:
    return [r.pmid for r in parse_pubmed_xml(source, **kwargs) if isinstance(r, Article)]


def error_of(source: bytes, name: str = "x.xml") -> InputError:
    with pytest.raises(InputError) as caught:
        list(parse_pubmed_xml(source, name=name))
    return caught.value


# -- wrappers: lenient ----------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(article_set(pubmed_article("1"), pubmed_article("2")), id="2025-doctype"),
        pytest.param(
            article_set(pubmed_article("1"), pubmed_article("2"), doctype=DOCTYPE_2008),
            id="2008-http-doctype",
        ),
        pytest.param(
            f"<PubmedArticleSet>{pubmed_article('1')}{pubmed_article('2')}</PubmedArticleSet>".encode(),
            id="no-declaration",
        ),
        pytest.param(
            f"<MedlineCitationSet>{citation('1')}{citation('2')}</MedlineCitationSet>".encode(),
            id="MedlineCitationSet",
        ),
        pytest.param(
            f"<RAW_DATA><batch>{pubmed_article('1')}</batch>{pubmed_article('2')}</RAW_DATA>".encode(),
            id="foreign-root",
        ),
    ],
)
def test_any_wrapper_around_the_records_is_accepted(document: bytes) -> None:
    assert pmids(document) == ["1", "2"]


def test_a_bare_record_as_root() -> None:
    assert pmids(pubmed_article("7").encode()) == ["7"]


def test_empty_article_set_is_a_valid_answer_with_no_records() -> None:
    # efetch sends this for PMIDs it does not have.
    assert list(parse_pubmed_xml(article_set())) == []


def test_delete_citation_is_yielded_in_order() -> None:
    document = article_set(
        pubmed_article("5"), "<DeleteCitation><PMID>8</PMID><PMID>9</PMID></DeleteCitation>"
    )
    records = list(parse_pubmed_xml(document))
    assert [type(r).__name__ for r in records] == ["Article", "DeletedCitations"]
    assert records[1] == DeletedCitations(("8", "9"))


def test_medline_citation_without_pubmed_data_takes_ids_from_elocation() -> None:
    record = citation("3").replace(
        "<Language>",
        '<ELocationID EIdType="doi" ValidYN="Y">10.1056/NEJMoa1812836</ELocationID><Language>',
    )
    [article] = parse_pubmed_xml(f"<MedlineCitationSet>{record}</MedlineCitationSet>".encode())
    assert isinstance(article, Article)
    assert article.doi == "10.1056/NEJMoa1812836"
    assert article.history == {}


# -- sources: paths, bytes, streams, gzip ---------------------------------------------


def test_every_kind_of_source_gives_the_same_records(tmp_path: Path) -> None:
    document = article_set(pubmed_article("11"), pubmed_article("12"))
    plain = tmp_path / "set.xml"
    plain.write_bytes(document)
    packed = tmp_path / "set.xml.gz"
    packed.write_bytes(gzip.compress(document))

    class Trickle:
        """A reader that hands out 7 bytes at a time, like a slow socket."""

        def __init__(self, data: bytes) -> None:
            self.data = io.BytesIO(data)

        def read(self, size: int = -1, /) -> bytes:
            return self.data.read(min(size, 7) if size > 0 else 7)

    sources: list[object] = [
        document,
        plain,
        str(plain),
        packed,
        gzip.compress(document),
        io.BytesIO(document),
        Trickle(document),
    ]
    for source in sources:
        assert pmids(source) == ["11", "12"], source  # type: ignore[arg-type]


def test_errors_name_the_given_name_or_the_path(tmp_path: Path) -> None:
    path = tmp_path / "cut.xml"
    path.write_bytes(article_set(pubmed_article("1"))[:-30])
    with pytest.raises(InputError, match=r"^.*cut\.xml:\d+: "):
        list(parse_pubmed_xml(path))
    assert str(error_of(b"", name="efetch batch 3")).startswith("efetch batch 3: ")


# -- bad documents: strict --------------------------------------------------------------


def test_truncated_file_yields_the_good_records_then_names_line_and_record() -> None:
    document = article_set(pubmed_article("1"), pubmed_article("2"), pubmed_article("3"))
    cut = document[: document.index(b"<PubmedArticle>", document.index(b">2</PMID>")) + 60]
    records = parse_pubmed_xml(cut, name="cut.xml")
    got = [next(records), next(records)]
    with pytest.raises(InputError) as caught:
        next(records)
    assert [r.pmid for r in got if isinstance(r, Article)] == ["1", "2"]
    error = caught.value
    assert error.source == "cut.xml"
    assert error.line is not None
    assert error.record == "record 3 (after PMID 2)"
    assert "not well-formed XML" in error.message
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (pubmed_article("1").replace('<PMID Version="1">1</PMID>', ""), "without PMID"),
        (pubmed_article("12a"), "PMID is not a number: '12a'"),
        (pubmed_article("5").replace('Version="1"', 'Version="v2"'), "Version is not a number"),
        (pubmed_article("5").replace('Version="1"', 'Version="1' + "9" * 22 + '"'), "out of range"),
        (pubmed_article("\u00b2"), "PMID is not a number: '\u00b2'"),
        ("<DeleteCitation><PMID>\u00b27</PMID></DeleteCitation>", "DeleteCitation PMID"),
        ("<PubmedArticle><PubmedData/></PubmedArticle>", "PubmedArticle without MedlineCitation"),
        ("<DeleteCitation><PMID>x</PMID></DeleteCitation>", "DeleteCitation PMID"),
    ],
)
def test_a_record_that_breaks_the_rules_is_an_error_naming_it(record: str, expected: str) -> None:
    error = error_of(article_set(pubmed_article("99"), record))
    assert expected in error.message
    assert error.record is not None
    assert error.line is not None


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (b"", "empty file"),
        (b"  \n\t\n", "only whitespace"),
        (gzip.compress(b""), "gzip archive holds no data"),
        (gzip.compress(article_set(pubmed_article("1")))[:60], "cannot read compressed data"),
        (
            b"<!DOCTYPE html>\n<html><head><title>PubMed</title></head><body>x</body></html>",
            "an HTML page",
        ),
        (b"<html><body><p>Sorry</p></body></html>", "an HTML page"),
        (b'{"esearchresult": {}}', "not XML"),
        (
            b'<?xml version="1.0"?><eSearchResult><Count>0</Count></eSearchResult>',
            "no PubMed records found (root element <eSearchResult>)",
        ),
        (
            b"<eFetchResult><ERROR>Empty id list - nothing todo</ERROR></eFetchResult>",
            "ERROR 'Empty id list - nothing todo'",
        ),
        (b"<PubmedArticleSet><PubmedArticle>", "not well-formed XML"),
    ],
)
def test_documents_that_are_not_pubmed_records(document: bytes, expected: str) -> None:
    error = error_of(document)
    assert expected in str(error)
    assert str(error).startswith("x.xml")


# -- safety -------------------------------------------------------------------------------

# Peak RSS of the child process itself. Not ru_maxrss: Linux carries the
# high-water mark of the forked pytest process across exec into the child.
PEAK_KB = """
def peak_kb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n'
        for n in range(1, 10)
    )
    + "]>\n<PubmedArticleSet>"
    + pubmed_article("1", title="&lol9;")
    + "</PubmedArticleSet>"
)


def test_billion_laughs_is_refused_without_expanding() -> None:
    error = error_of(BILLION_LAUGHS.encode())
    assert "entit" in error.message


def test_entity_declarations_past_the_sniffed_head_are_refused_too() -> None:
    padding = "<!-- " + "x" * 100_000 + " -->\n"
    document = BILLION_LAUGHS.replace("<!DOCTYPE", padding + "<!DOCTYPE", 1)
    assert "entit" in error_of(document.encode()).message
    small = document.replace("&lol9;", "&lol1;")  # within libxml2's own limits
    assert "entities" in error_of(small.encode()).message


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    document = (
        f'<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        f"<PubmedArticleSet>{pubmed_article('1', title='&x;')}</PubmedArticleSet>"
    ).encode()
    error = error_of(document)
    assert "TOP-SECRET" not in str(error)


def test_billion_laughs_memory_stays_small() -> None:
    # A fresh interpreter, so the peak RSS is this parse's own; the DOCTYPE sits
    # past the sniffed head, so libxml2 itself meets the entities.
    document = BILLION_LAUGHS.replace("<!DOCTYPE", "<!-- " + "x" * 100_000 + " -->\n<!DOCTYPE", 1)
    script = PEAK_KB + textwrap.dedent(
        f"""
        import sys
        from litwatch.errors import InputError
        from litwatch.pubmed_xml import parse_pubmed_xml
        try:
            list(parse_pubmed_xml({document!r}.encode()))
        except InputError as exc:
            print("refused", peak_kb() // 1024)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    verdict, peak_mb = done.stdout.split()
    assert verdict == "refused"
    assert int(peak_mb) < 200  # fully expanded it would be about 3 GB


class _CountingHandler(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _CountingHandler.requests.append(self.path)
        body = b'<!ELEMENT PubmedArticleSet ANY><!ENTITY oops "fetched">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def dtd_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    _CountingHandler.requests = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_dtd_named_in_the_doctype_is_never_fetched(dtd_server: str) -> None:
    doctype = f'<!DOCTYPE PubmedArticleSet SYSTEM "{dtd_server}/pubmed_260101.dtd">'
    assert pmids(article_set(pubmed_article("4"), doctype=doctype)) == ["4"]
    assert _CountingHandler.requests == []


# -- streaming ----------------------------------------------------------------------------


@pytest.mark.slow
def test_memory_stays_flat_however_many_records() -> None:
    # 40,000 records (about 60 MB) generated on the fly, never held whole in memory:
    # an uncleared tree of them would take several hundred MB.
    script = PEAK_KB + textwrap.dedent(
        f"""
        from litwatch.pubmed_xml import parse_pubmed_xml
        record = {pubmed_article("@", title="Ketamine " * 100)!r}.encode()

        class Generated:
            def __init__(self):
                self.n = 0
                self.pending = b"<PubmedArticleSet>"
            def read(self, size=-1, /):
                while len(self.pending) < size and self.n <= 40_000:
                    self.n += 1
                    self.pending += (
                        record.replace(b"@", str(self.n).encode())
                        if self.n <= 40_000
                        else b"</PubmedArticleSet>"
                    )
                out, self.pending = self.pending[:size], self.pending[size:]
                return out

        base = peak_kb()
        count = sum(1 for _ in parse_pubmed_xml(Generated()))
        grown = peak_kb() - base
        print(count, grown // 1024)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    count, grown_mb = map(int, done.stdout.split())
    assert count == 40_000
    assert grown_mb < 40


# -- inline markup ----------------------------------------------------------------------


def markup_of(xml: str) -> tuple[str, str]:
    return text_and_markup(etree.fromstring(xml))


def test_safe_tags_are_kept_and_everything_else_escaped() -> None:
    text, markup = markup_of(
        "<AbstractText>LE<sub>min</sub> &amp; V<sup>2</sup>: <b>bold <i>both</i></b>, "
        "<u>under</u> (<i>P</i> &lt; 0.05)</AbstractText>"
    )
    assert text == "LEmin & V2: bold both, under (P < 0.05)"
    assert markup == (
        "LE<sub>min</sub> &amp; V<sup>2</sup>: <b>bold <i>both</i></b>, "
        "<u>under</u> (<i>P</i> &lt; 0.05)"
    )


def test_unknown_elements_and_attributes_never_reach_the_markup() -> None:
    text, markup = markup_of(
        '<ArticleTitle>A <i onclick="steal()">safe</i> <script>alert(1)</script>'
        "<sc>Small caps</sc><!-- a comment --> title &#945;</ArticleTitle>"
    )
    assert text == "A safe alert(1)Small caps title α"
    assert markup == "A <i>safe</i> alert(1)Small caps title α"


def test_whitespace_from_pretty_printing_is_collapsed() -> None:
    text, markup = markup_of("<ArticleTitle>\n   Two\n   lines \u2009here\n</ArticleTitle>")
    assert (text, markup) == ("Two lines here", "Two lines here")


def test_mathml_fraction_sqrt_and_fenced() -> None:
    text, markup = markup_of(
        '<AbstractText>ratio <mml:math xmlns:mml="http://www.w3.org/1998/Math/MathML">'
        "<mml:mfrac><mml:mi>a</mml:mi><mml:mi>b</mml:mi></mml:mfrac>"
        "<mml:msqrt><mml:mn>2</mml:mn></mml:msqrt>"
        "<mml:mfenced><mml:mi>x</mml:mi><mml:mi>y</mml:mi></mml:mfenced>"
        "<mml:semantics><mml:mi>z</mml:mi><mml:annotation>\\zeta</mml:annotation>"
        "</mml:semantics></mml:math> end</AbstractText>"
    )
    assert text == "ratio a/b√(2)(x,y)z end"
    assert markup == text


# -- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2009 Jan-Feb", PartialDate("2009 Jan-Feb", 2009, 1)),
        ("1998 Dec-1999 Jan", PartialDate("1998 Dec-1999 Jan", 1998, 12)),
        ("2000 Spring", PartialDate("2000 Spring", 2000, 3)),
        ("1975-1976", PartialDate("1975-1976", 1975)),
        ("2008 Nov 6-12", PartialDate("2008 Nov 6-12", 2008, 11, 6)),
        ("Summer 2002", PartialDate("Summer 2002", 2002, 6)),
        ("2002 Winter", PartialDate("2002 Winter", 2002)),
        ("  2018   Dec 27 ", PartialDate("2018 Dec 27", 2018, 12, 27)),
        ("Undated", PartialDate("Undated")),
    ],
)
def test_medline_date_text(text: str, expected: PartialDate) -> None:
    assert partial_from_text(text) == expected


def test_structured_pub_dates() -> None:
    assert partial_from_parts("2009", "02") == PartialDate("2009 Feb", 2009, 2)
    assert partial_from_parts("2020", "Mar", "05") == PartialDate("2020 Mar 5", 2020, 3, 5)
    assert partial_from_parts("1990", season="Fall") == PartialDate("1990 Fall", 1990, 9)
    assert partial_from_parts("2021", "Feb", "30") == PartialDate("2021 Feb 30", 2021, 2)
    assert partial_from_parts(None) is None


def test_history_dates_that_cannot_exist_are_dropped() -> None:
    assert full_date("2019", "2", "29") is None
    assert full_date("2020", "2", "29") is not None
    assert full_date("2020", "Sept", None) is not None
    assert full_date("year", "1", "1") is None
