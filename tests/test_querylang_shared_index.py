"""Queries compiled with one PatternIndex share their word searches on each record.

The answers (matches and explanations) must be exactly those of the same
queries compiled alone, whatever order the queries run in and however many
queries join the index after a record was first searched.
"""

from __future__ import annotations

from litwatch.article import AbstractSection, Article, MeshHeading
from litwatch.querylang import Hit, IndexedArticle, Matcher, PatternIndex, compile_query

ARTICLE = Article(
    pmid="27182818",
    title="Esketamine and motor cortex plasticity in focal hand dystonia",
    abstract=(
        AbstractSection("NMDA-receptor blockade changed MEPs; meta-analyses agree.", ""),
        AbstractSection("Ketamine was given in a day-case setting to twelve patients.", ""),
    ),
    mesh=(MeshHeading("Ketamine"), MeshHeading("Dystonic Disorders")),
)

QUERIES = (
    'ketamin*[tiab] OR esketamin*[tiab] OR "Ketamine"[mh]',
    '(ketamin*[tiab] OR memantin*[tiab]) AND (plasticity[tiab] OR "motor cortex"[tiab])',
    'esketamin*[tiab] AND "focal hand dystonia"[tiab] NOT depression[tiab]',
    '"NMDA-receptor block*"[tiab] OR meta-analy*[tiab] OR daycase[tiab]',
    '"motor plasticity"[tiab:~2] OR dystonia',
    "tremor[tiab] OR ketamine[ti]",
)


def answers(matchers: list[Matcher], doc: IndexedArticle) -> list[tuple[bool, list[Hit]]]:
    return [(m.matches(doc), m.explain(doc)) for m in matchers]


def test_shared_index_answers_as_queries_compiled_alone() -> None:
    alone = [compile_query(q) for q in QUERIES]
    index = PatternIndex()
    shared = [compile_query(q, index=index) for q in QUERIES]
    expected = answers(alone, IndexedArticle.from_article(ARTICLE))
    assert [m for m, _ in expected] == [True, True, True, True, True, False]
    assert answers(shared, IndexedArticle.from_article(ARTICLE)) == expected
    backwards = IndexedArticle.from_article(ARTICLE)
    assert answers(shared[::-1], backwards)[::-1] == expected
    # Asked again on the same record (from the memo): the same answers.
    assert answers(shared, backwards) == expected


def test_a_query_joining_the_index_later_is_searched_for() -> None:
    index = PatternIndex()
    first = compile_query("tremor[tiab]", index=index)
    doc = IndexedArticle.from_article(ARTICLE)
    assert not first.matches(doc)
    later = compile_query("plasticity[tiab] OR tremor[tiab]", index=index)
    assert later.matches(doc)
    assert [h.matched for h in later.explain(doc)] == ["plasticity"]
    assert not first.matches(doc)
