"""Generated tests and explanations answer exactly as the clause tree does."""

from __future__ import annotations

from pathlib import Path

from sample_records import corpus_files

from litwatch.article import Article
from litwatch.claims import load_catalogue
from litwatch.querylang import IndexedArticle, compile_query
from litwatch.querylang.codegen import generate
from litwatch.querylang.evaluate import Matcher
from litwatch.sources import read_records

REPO = Path(__file__).resolve().parent.parent

QUERIES = (
    '(ketamin*[tiab] OR "Ketamine"[mh]) AND (dystoni*[tiab] OR "Dystonia"[mh])',
    '(ketamin*[tiab] OR memantin*[tiab]) NOT (depress*[ti] OR "Depression"[mh])',
    '"motor plasticity"[tiab:~3] OR ("Cortical Excitability"[mh] AND tms[tiab])',
    'randomized controlled trial[pt] OR "Ketamine/therapeutic use"[mh] OR 2020:2024[dp]',
    "ketamine AND (english[la] OR review[pt]) AND hasabstract",
)


def tree_match(matcher: Matcher, doc: IndexedArticle) -> object:
    """What ``match`` answered before generation: the clause tree, three-valued."""
    root = matcher._root
    return None if root.evaluate(doc) is False else root.hits(doc)


def records() -> list[Article]:
    return [r for p in corpus_files() for r in read_records(p) if isinstance(r, Article)]


def test_generated_match_is_the_tree_match_on_every_rule_and_record() -> None:
    catalogue = load_catalogue(REPO / "queries" / "claims.toml")
    matchers = [c.matcher for c in catalogue] + [compile_query(q) for q in QUERIES]
    assert all(m._explain is not None for m in matchers)
    matched = 0
    for article in records():
        for matcher in matchers:
            doc = IndexedArticle.from_article(article)  # fresh: no memo from other rules
            generated = matcher.match(doc)
            assert generated == tree_match(matcher, IndexedArticle.from_article(article))
            assert matcher.matches(doc) is (generated is not None)
            matched += generated is not None
    assert matched > 50  # the corpus exercises the rules, not only their misses


def test_queries_with_left_out_clauses_keep_the_tree() -> None:
    matcher = compile_query('ketamine[tiab] AND 12345[gr] OR "Dystonia"[mh]')
    assert generate(matcher._root) is None
    assert matcher._explain is None
    article = records()[0]
    doc = IndexedArticle.from_article(article)
    assert matcher.match(doc) == tree_match(matcher, doc)
