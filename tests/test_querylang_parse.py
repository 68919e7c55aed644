"""Parsing PubMed queries: how the syntax is read, canonical text, round trip, errors."""

from __future__ import annotations

import random

import pytest

from litwatch.article import AbstractSection, Article
from litwatch.errors import QuerySyntaxError
from litwatch.querylang import (
    And,
    DateRange,
    IndexedArticle,
    Not,
    Or,
    Term,
    compile_query,
    lookup,
    parse,
    to_query,
    translate,
    unknown_fields,
)
from litwatch.querylang.fields import all_specs


def t(text: str, field: str = "", **kw: object) -> Term:
    return Term(text, field, **kw)  # type: ignore[arg-type]


# -- how the syntax is read --------------------------------------------------------

READINGS = [
    # operators apply left to right, no precedence
    ("a OR b AND c", And((Or((t("a"), t("b"))), t("c")))),
    ("a AND b OR c", Or((And((t("a"), t("b"))), t("c")))),
    ("a NOT b OR c", Or((Not(t("a"), t("b")), t("c")))),
    ("a NOT b NOT c", Not(Not(t("a"), t("b")), t("c"))),
    ("a OR (b AND c)", Or((t("a"), And((t("b"), t("c")))))),
    # adjacent terms are joined by AND; untagged words stand alone
    ("post partum", And((t("post"), t("partum")))),
    ('"severe acute" pneumonia', And((t("severe acute", quoted=True), t("pneumonia")))),
    ("a (b OR c)", And((t("a"), Or((t("b"), t("c")))))),
    # lower-case operators
    ("a or b and c", And((Or((t("a"), t("b"))), t("c")))),
    ("(ear and protect*) or earplug*", Or((And((t("ear"), t("protect*"))), t("earplug*")))),
    # a tag takes the run of words before it as one term
    ("systematic review[ti]", t("systematic review", "ti")),
    ("spread*[tiab] or transmi*[tiab]", Or((t("spread*", "tiab"), t("transmi*", "tiab")))),
    ("Atonic[tiab] Impaired[tiab]", And((t("Atonic", "tiab"), t("Impaired", "tiab")))),
    # ... "and" inside a name stays a word
    ("sensitivity and specificity[MeSH Terms]", t("sensitivity and specificity", "mh")),
    (
        "Journal of Law, Medicine, and Ethics[ta] OR x",
        Or((t("Journal of Law, Medicine, and Ethics", "ta"), t("x"))),
    ),
    ("x[mh] and y[mh]", And((t("x", "mh"), t("y", "mh")))),
    # ... a colon inside a name too
    ("American Journal of Bioethics: AJOB[ta]", t("American Journal of Bioethics: AJOB", "ta")),
    # ... and a quoted phrase takes the tag alone
    ('pain "back pain"[ti]', And((t("pain"), t("back pain", "ti", quoted=True)))),
    # filter words never join a tagged run
    ("hasabstract english[la]", And((t("hasabstract"), t("english", "la")))),
    # a space before the tag, curly quotes, a stray truncation mark
    ("pain [tiab]", t("pain", "tiab")),
    ("“LABYRINTH DISEASES” [Mesh]", t("LABYRINTH DISEASES", "mh", quoted=True)),
    ("diagnostic * [MeSH:noexp]", t("diagnostic*", "mh", noexp=True)),
    ('"ear plug*"', t("ear plug*", quoted=True)),
    # modifiers
    ("x[mesh: noexp]", t("x", "mh", noexp=True)),
    ("x[Publication Type:NoExp]", t("x", "pt", noexp=True)),
    ('"a b"[tiab:~3]', t("a b", "tiab", quoted=True, proximity=3)),
    ('"a b"[Title/Abstract:~0]', t("a b", "tiab", quoted=True, proximity=0)),
    ('"Vertigo /rehabilitation"[Mesh]', t("Vertigo /rehabilitation", "mh", quoted=True)),
    # date ranges
    ("2020/01/01:2020/12/31[dp]", DateRange("2020/01/01", "2020/12/31", "dp")),
    ('"2017"[dp] : "3000"[dp]', DateRange("2017", "3000", "dp")),
    ("1600/01/01 : 2018/06/05[crdt]", DateRange("1600/01/01", "2018/06/05", "crdt")),
    (
        '"2009/06/01"[Date - Publication] : "2012/11"[pdat]',
        DateRange("2009/06/01", "2012/11", "dp"),
    ),
    (
        "2014:2018[dp] english[la] hasabstract",
        And((DateRange("2014", "2018", "dp"), t("english", "la"), t("hasabstract"))),
    ),
    ("2020[dp] pain", And((t("2020", "dp"), t("pain")))),
    ('"last 30 days"[crdt]', t("last 30 days", "crdt", quoted=True)),
]


@pytest.mark.parametrize(("query", "tree"), READINGS, ids=[q for q, _ in READINGS])
def test_reading(query: str, tree: object) -> None:
    assert parse(query) == tree


def test_nesting_to_any_depth() -> None:
    depth = 5000  # well past Python's recursion limit: the parser keeps its own stack
    tree = parse("(" * depth + "pain[tiab]" + ")" * depth)
    assert tree == t("pain", "tiab")
    alternating = "a"
    for level in range(200):
        alternating = f"x{level} {'OR' if level % 2 else 'AND'} ({alternating})"
    deep = parse(alternating)
    assert parse(to_query(deep)) == deep
    with pytest.raises(QuerySyntaxError) as caught:
        parse("(" * depth + "pain")
    assert caught.value.column == depth
    tree = parse("((a OR (b AND (c NOT (d OR (e))))))")
    assert tree == Or((t("a"), And((t("b"), Not(t("c"), Or((t("d"), t("e"))))))))


def test_columns_and_tags_as_written_are_kept_but_not_compared() -> None:
    term = parse("  pain [Title/Abstract]")
    assert isinstance(term, Term)
    assert (term.column, term.tag, term.tag_column) == (3, "Title/Abstract", 8)
    assert term == t("pain", "tiab")


# -- every field tag, short and long ------------------------------------------------

TAGS = [
    ("tiab", "tiab"), ("Title/Abstract", "tiab"), ("ti", "ti"), ("Title", "ti"),
    ("ab", "ab"), ("Abstract", "ab"), ("mh", "mh"), ("mesh", "mh"), ("MeSH Terms", "mh"),
    ("majr", "majr"), ("MeSH Major Topic", "majr"), ("sh", "sh"), ("Subheading", "sh"),
    ("MeSH Subheading", "sh"), ("pt", "pt"), ("Publication Type", "pt"), ("ptyp", "pt"),
    ("la", "la"), ("Language", "la"), ("au", "au"), ("Author", "au"), ("1au", "1au"),
    ("lastau", "lastau"), ("fau", "fau"), ("ta", "ta"), ("Journal", "ta"), ("jour", "ta"),
    ("tw", "tw"), ("Text Word", "tw"), ("all", "all"), ("All Fields", "all"),
    ("nm", "nm"), ("Substance Name", "nm"), ("Supplementary Concept", "nm"),
    ("sb", "sb"), ("Subset", "sb"), ("filter", "sb"), ("dp", "dp"), ("pdat", "dp"),
    ("Date - Publication", "dp"), ("crdt", "crdt"), ("Date - Create", "crdt"),
    ("edat", "edat"), ("Date - Entrez", "edat"), ("mhda", "mhda"), ("Date - MeSH", "mhda"),
    ("dcom", "dcom"), ("Date - Completion", "dcom"), ("cdat", "dcom"), ("lr", "lr"),
    ("Date - Last Revision", "lr"), ("mdat", "mdat"), ("Date - Modification", "mdat"),
    ("ot", "ot"), ("kw", "ot"), ("Other Term", "ot"), ("keywords", "ot"), ("si", "si"),
    ("gr", "gr"), ("Grant Number", "gr"), ("ad", "ad"), ("Affiliation", "ad"),
    ("pmid", "pmid"), ("uid", "pmid"), ("aid", "aid"), ("doi", "doi"), ("vi", "vi"),
    ("ip", "ip"), ("pg", "pg"), ("is", "is"), ("pa", "pa"),
    ("Pharmacological Action", "pa"), ("tt", "tt"), ("cn", "cn"), ("auid", "auid"),
]  # fmt: skip


@pytest.mark.parametrize(("tag", "key"), TAGS)
def test_field_tags_in_short_and_long_form(tag: str, key: str) -> None:
    for spelt in (tag, tag.upper(), tag.lower()):
        term = parse(f"2020[{spelt}]")
        assert isinstance(term, Term)
        assert term.field == key
        assert unknown_fields(term) == []


def test_every_field_name_leads_to_one_field() -> None:
    seen: dict[str, str] = {}
    for spec in all_specs():
        for name in (spec.key, spec.name, *spec.aliases):
            found = lookup(name)
            assert found is spec, f"{name!r} names {found and found.key}, not {spec.key}"
            assert seen.setdefault(name.lower(), spec.key) == spec.key


def test_unknown_fields_are_reported_with_their_column() -> None:
    query = "pain[foo] AND x[tiab] OR (y [Bar Baz] NOT 2020:2021[qq])"
    tree = parse(query)
    assert unknown_fields(tree) == [
        ("foo", query.index("[foo]") + 1),
        ("Bar Baz", query.index("[Bar Baz]") + 1),
        ("qq", query.index("[qq]") + 1),
    ]
    assert parse(to_query(tree)) == tree


# -- canonical text and round trip --------------------------------------------------

CANONICAL = [
    ("a OR b AND c", "(a OR b) AND c"),
    ("pain [Title/Abstract]", "pain[tiab]"),
    ("“back pain” [MeSH Terms:NoExp]", '"back pain"[mh:noexp]'),
    ('"2017"[Date - Publication] : "3000"[pdat]', "2017:3000[dp]"),
    ("a NOT (b OR c)", "a NOT (b OR c)"),
    ("a NOT b NOT c", "(a NOT b) NOT c"),
    ('"a b"[TIAB:~2]', '"a b"[tiab:~2]'),
]


@pytest.mark.parametrize(("query", "canonical"), CANONICAL)
def test_canonical_text(query: str, canonical: str) -> None:
    assert to_query(parse(query)) == canonical


@pytest.mark.parametrize("query", [q for q, _ in READINGS])
def test_round_trip(query: str) -> None:
    tree = parse(query)
    text = to_query(tree)
    assert parse(text) == tree
    assert to_query(parse(text)) == text


def test_translation_names_fields_in_full() -> None:
    tree = parse('pain[tiab] OR "back pain"[mh:noexp] AND 2020:2021[dp] NOT x[foo]')
    assert translate(tree) == (
        '((("pain"[Title/Abstract] OR "back pain"[MeSH Terms:noexp]) AND '
        '"2020"[Date - Publication] : "2021"[Date - Publication]) NOT "x"[foo])'
    )
    assert translate(parse("ketamine")) == '"ketamine"[All Fields]'


# -- errors: where and what ---------------------------------------------------------

ERRORS = [
    ("", 1, "empty query"),
    ("   ", 1, "empty query"),
    ("()", 2, "expected a search term"),
    ("pain AND", 9, "expected a search term after AND"),
    ("pain AND )", 10, "no '(' is open"),
    ("(pain AND)", 10, "expected a search term after AND"),
    ("NOT pain", 1, "cannot start with it"),
    ("not pain", 1, "cannot start with it"),
    ("OR pain", 1, "expected a search term before OR"),
    ("a OR OR b", 6, "expected a search term after OR, found OR"),
    ("a OR NOT b", 6, "expected a search term after OR, found NOT"),
    ("(a OR b", 1, "expected ')' to close this '('"),
    ("((a) OR (b)", 1, "expected ')'"),
    ("a OR b)", 7, "no '(' is open"),
    ("a[ti", 2, "unterminated field tag"),
    ("a[tiab:~1) AND b", 10, "expected ']' but found ')'"),
    ("a ] b", 3, "unexpected ']'"),
    ("a[ti+ab]", 5, "unexpected character in [ti: expected ']' but found '+'"),
    ('"back pain', 1, "unterminated quoted phrase"),
    ('x AND ""', 7, "empty quoted phrase"),
    ("[ti]", 1, "must follow a search term"),
    ("(a OR b)[ti]", 9, "must follow a search term"),
    ("a AND [ti]", 7, "must follow a search term"),
    ("a[ti][ab]", 6, "must follow a search term"),
    ("#3 NOT medline[sb]", 1, "search history"),
    ("(#12) AND pain", 2, "#12"),
    ("a[]", 2, "empty field tag"),
    ("a[ti:]", 2, "expected noexp or ~N"),
    ("a[ti:~x]", 2, "expected noexp or ~N"),
    ("a[mh:~2]", 2, "proximity (~N) works only with"),
    ("a[tiab:noexp]", 2, "':noexp' applies only to"),
    ("2020/13/01[dp]", 1, "not a real date"),
    ("pain[dp]", 1, "expected a date"),
    ("2020:2021[ti]", 10, "is not a date field"),
    ("2020[dp] : 2021[crdt]", 16, "a range must use one field"),
    ("2020:2021", 10, "expected a date field tag"),
    ("2020[dp] : pain", 12, "expected the end date"),
    (": pain", 1, "':' must join two dates"),
]


@pytest.mark.parametrize(("query", "column", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_syntax_error_names_column_and_expectation(query: str, column: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    assert caught.value.column == column
    assert message in caught.value.message
    assert caught.value.query == query
    assert str(caught.value).startswith(f"column {column}: ")


def test_any_text_parses_or_fails_with_a_column_never_otherwise() -> None:
    """Random queries from the syntax's own pieces: a tree that round-trips and evaluates,
    or a QuerySyntaxError pointing inside the text; no other outcome."""
    pieces = [
        *("a", "pain", "back pain", "2020", "2020/01/01", "last 3 days", "foo", "#"),
        *('"', "“", "(", ")", "[", "]", ":", "~2", "noexp", "*", "-", "/", "'", " ", " "),
        *("AND", "OR", "NOT", "and", "or", "not", "ti", "tiab", "mh", "dp", "sb", "au", "pt"),
    ]
    doc = IndexedArticle.from_article(
        Article(pmid="1", title="Back pain", abstract=(AbstractSection("a 2020", ""),))
    )
    rng = random.Random(20240601)
    outcomes = {"parsed": 0, "error": 0}
    for _ in range(3000):
        query = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        try:
            tree = parse(query)
        except QuerySyntaxError as exc:
            column = exc.column
            outcomes["error"] += 1
            assert 1 <= column <= len(query) + 1, query
            continue
        assert parse(to_query(tree)) == tree, query
        matcher = compile_query(tree)
        assert isinstance(matcher.matches(doc), bool)
        assert isinstance(matcher.explain(doc), list)
        outcomes["parsed"] += 1
    assert min(outcomes.values()) > 500
