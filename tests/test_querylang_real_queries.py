"""The 67 real search strategies (../shared/fixtures/queries), and real records.

Every well-formed strategy parses, prints back to text that parses to the same
tree, and compiles; the malformed ones named in the fixture's README fail at
the column of the fault. Real PubMed records (parsed by litwatch.pubmed_xml)
are then searched and the answers checked against the records' own fields.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from litwatch.article import Article
from litwatch.errors import QuerySyntaxError
from litwatch.pubmed_xml import parse_pubmed_xml
from litwatch.querylang import (
    DateRange,
    IndexedArticle,
    Term,
    compile_query,
    parse,
    to_query,
    unknown_fields,
    walk,
)

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"
QUERIES = SHARED / "queries" / "queries.tsv"
README = SHARED / "queries" / "README.md"


def _strategies() -> dict[str, str]:
    if not QUERIES.is_file():
        return {}
    csv.field_size_limit(10**7)
    with QUERIES.open(newline="", encoding="utf-8") as handle:
        return {row["id"]: row["query"] for row in csv.DictReader(handle, delimiter="\t")}


STRATEGIES = _strategies()
# The README names these as malformed as published (q074 is named there but is
# not in queries.tsv, which runs q001-q067; "starts with NOT" is covered in
# test_querylang_parse.py).
MALFORMED = {"q030", "q034", "q035", "q038", "q065", "q074"}


def _fault_column(query_id: str, query: str) -> int:
    """Where each malformed strategy goes wrong, found from its text (1-based)."""
    if query_id in ("q030", "q034", "q038"):
        return query.index("#") + 1  # a search-history reference
    if query_id == "q035":
        return len(query.rstrip())  # the closing parenthesis nobody opened
    if query_id == "q065":
        return query.index("[TIAB:~1)") + len("[TIAB:~1") + 1  # ")" where "]" belongs
    raise AssertionError(query_id)


pytestmark = pytest.mark.skipif(not STRATEGIES, reason=f"{QUERIES} not found")


def test_fixture_is_the_one_described() -> None:
    assert len(STRATEGIES) == 67
    named = set(re.findall(r"q\d{3}", README.read_text("utf-8")))
    assert named >= MALFORMED
    assert len(MALFORMED & set(STRATEGIES)) == 5


@pytest.mark.parametrize("query_id", sorted(set(STRATEGIES) - MALFORMED))
def test_well_formed_strategy_parses_round_trips_and_compiles(query_id: str) -> None:
    query = STRATEGIES[query_id]
    tree = parse(query)
    text = to_query(tree)
    assert parse(text) == tree
    assert to_query(parse(text)) == text
    assert unknown_fields(tree) == []  # every tag in real use is one PubMed knows
    matcher = compile_query(tree)
    assert matcher.node == tree
    empty = IndexedArticle.from_article(Article(pmid="1"))
    assert isinstance(matcher.matches(empty), bool)


@pytest.mark.parametrize("query_id", sorted(MALFORMED & set(STRATEGIES)))
def test_malformed_strategy_fails_at_the_fault(query_id: str) -> None:
    query = STRATEGIES[query_id]
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    assert caught.value.column == _fault_column(query_id, query)


def _terms(query_id: str) -> list[Term | DateRange]:
    return [n for n in walk(parse(STRATEGIES[query_id])) if isinstance(n, Term | DateRange)]


def test_real_strategies_are_read_as_pubmed_reads_them() -> None:
    assert DateRange("1600/01/01", "2018/06/05", "crdt") in _terms("q014")
    assert DateRange("2011/11/01", "3000", "edat") in _terms("q027")
    assert Term("sensitivity and specificity", "mh") in _terms("q056")
    assert Term("diagnostic*", "mh", noexp=True) in _terms("q056")
    assert Term("diagnosis", "sh", noexp=True) in _terms("q056")
    assert Term("clinical trials as topic", "mh", noexp=True) in _terms("q023")
    assert Term("American Journal of Bioethics: AJOB", "ta") in _terms("q061")
    assert Term("Journal of Law, Medicine, and Ethics", "ta") in _terms("q061")
    assert Term("VESTIBULOCOCHLEAR NERVE DISEASES", quoted=True) in _terms("q039")
    assert Term("Vertigo /rehabilitation", "mh", quoted=True) in _terms("q040")
    assert Term("work'*", "tw") in _terms("q037")
    assert Term("Babalobi OO", "au") in _terms("q063")


# -- real records -------------------------------------------------------------------


@pytest.fixture(scope="module")
def records() -> list[Article]:
    path = SHARED / "real" / "YashSinha1996__Pubmed-expert-ranker" / "medsample1.xml"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    found = [r for r in parse_pubmed_xml(path) if isinstance(r, Article)]
    assert len(found) == 170
    return found


def _folded_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _has_word(article: Article, prefix: str, *, truncated: bool) -> bool:
    text = article.title + " " + " ".join(s.text for s in article.abstract)
    words = _folded_words(text) + [w for k in article.keywords for w in _folded_words(k)]
    return any(w.startswith(prefix) if truncated else w == prefix for w in words)


def _pt(article: Article, *names: str) -> bool:
    return any(p.name in names for p in article.publication_types)


def _mesh(article: Article, name: str) -> bool:
    return any(m.descriptor == name for m in article.mesh)


ORACLES: list[tuple[str, Callable[[Article], bool]]] = [
    (
        # q021, Cochrane's sensitive RCT filter (a real strategy)
        STRATEGIES.get("q021", "x"),
        lambda a: (
            _pt(a, "Randomized Controlled Trial", "Controlled Clinical Trial")
            or _has_word(a, "randomized", truncated=False)
            or _has_word(a, "placebo", truncated=False)
            or any(q.name == "drug therapy" for m in a.mesh for q in m.qualifiers)
            or _has_word(a, "randomly", truncated=False)
            or _has_word(a, "trial", truncated=False)
            or _has_word(a, "groups", truncated=False)
        )
        and _mesh(a, "Humans"),
    ),
    (
        "clinical trial[pt]",
        lambda a: _pt(
            a,
            "Clinical Trial",
            "Clinical Trial, Phase I",
            "Clinical Trial, Phase II",
            "Clinical Trial, Phase III",
            "Clinical Trial, Phase IV",
            "Controlled Clinical Trial",
            "Randomized Controlled Trial",
        ),
    ),
    ("clinical trial[pt:noexp]", lambda a: _pt(a, "Clinical Trial")),
    ("Humans[mh] NOT Male[mh]", lambda a: _mesh(a, "Humans") and not _mesh(a, "Male")),
    ("english[la] NOT medline[sb]", lambda a: "eng" in a.languages and a.status != "MEDLINE"),
    ("fre[la] OR ger[la]", lambda a: bool({"fre", "ger"} & set(a.languages))),
    (
        "1995:1999[dp] hasabstract",
        lambda a: a.pub_year is not None and 1995 <= a.pub_year <= 1999 and bool(a.abstract),
    ),
    ("protein*[tiab]", lambda a: _has_word(a, "protein", truncated=True)),
    ("cell[tiab] NOT cells[tiab]", lambda a: _has_word(a, "cell", truncated=False)
        and not _has_word(a, "cells", truncated=False)),
    ("Anti-Bacterial Agents[majr] OR calcium[majr]", lambda a: any(
        m.descriptor in ("Anti-Bacterial Agents", "Calcium") and m.is_major for m in a.mesh)),
    ("ad[sh] OR statistics and numerical data[sh]", lambda a: any(
        q.name in ("administration & dosage", "statistics & numerical data")
        for m in a.mesh for q in m.qualifiers)),
    ("review[pt:noexp] AND humans[mh]", lambda a: _pt(a, "Review") and _mesh(a, "Humans")),
    ("retracted publication[pt]", lambda a: _pt(a, "Retracted Publication")),
]  # fmt: skip


@pytest.mark.parametrize(("query", "oracle"), ORACLES, ids=[q[:40] for q, _ in ORACLES])
def test_real_records_match_as_their_fields_say(
    records: list[Article], query: str, oracle: Callable[[Article], bool]
) -> None:
    matcher = compile_query(query)
    docs = [IndexedArticle.from_article(a) for a in records]
    found = {d.article.pmid for d in docs if matcher.matches(d)}
    expected = {a.pmid for a in records if oracle(a)}
    assert found == expected
    assert 0 < len(expected) < len(records)  # the check discriminates on this sample


def test_hits_on_real_records_name_field_and_words(records: list[Article]) -> None:
    matcher = compile_query('protein*[tiab] AND "Amino Acid Sequence"[mh]')
    matched = [a for a in records if matcher.matches(a)]
    assert matched
    for article in matched:
        hits = matcher.explain(article)
        assert {h.field for h in hits} >= {"mesh"}
        text_hits = [h for h in hits if h.term == "protein*"]
        assert text_hits
        for hit in text_hits:
            assert hit.field in ("title", "abstract", "keywords")
            assert hit.matched.lower().startswith("protein")
            source = (
                article.title
                if hit.field == "title"
                else " ".join(s.text for s in article.abstract)
            )
            if hit.field != "keywords":
                assert hit.matched in source
