"""Explanations found in a field's joined text are those of a search value by value."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sample_records import corpus_files

from litwatch.article import AbstractSection, Article, MeshHeading
from litwatch.claims import load_catalogue
from litwatch.querylang import Hit, IndexedArticle, compile_query
from litwatch.querylang.clauses import Clause
from litwatch.querylang.composite import AllOf, AnyOf, Without
from litwatch.querylang.sources import folder, values
from litwatch.querylang.wordsearch import AnyText, TextClause, _original
from litwatch.sources import read_records

REPO = Path(__file__).resolve().parent.parent

QUERIES = (
    'pain[tiab] OR "back pain"[tiab] OR day-case[tiab] OR randomi*[tiab]',
    '"Ketamine"[tw] OR ketamine[mh] OR cortex[all] OR "motor cort*"[tiab]',
    "anaesthesia[ti] OR beta[tiab] OR tumor[tiab] OR a[tiab]",
)
ARTICLES = (
    Article(
        pmid="1",
        title="Pain, back pain and more pain: a day-case Tümor study",
        abstract=(
            AbstractSection("", ""),
            AbstractSection("pain", "BACKGROUND"),
            AbstractSection("β-blockers; back   pain | daycase.", ""),
            AbstractSection("***", ""),
            AbstractSection("Randomised; randomized. Pain.", ""),
        ),
        mesh=(MeshHeading("Ketamine"), MeshHeading("Pain")),
    ),
    Article(pmid="2", title="", abstract=(AbstractSection("a tumor a", ""),)),
)


def by_value(clause: TextClause, doc: IndexedArticle) -> list[Hit]:
    """The explanation as it was computed before: each value searched on its own."""
    found = []
    for field in clause.fields:
        fold = folder(field)
        for original in values(doc.article, field):
            folded = fold(original)
            if not folded:
                continue
            padded = f" {folded} "
            match = clause.pattern.regex.search(padded)
            if match is None:
                continue
            first = padded.count(" ", 0, match.start())
            shown = _original(field, original, folded, first, len(match.group().split()))
            if shown:
                found.append(clause.hit(field, shown))
    return found


def text_clauses(clause: Clause) -> Iterator[TextClause]:
    if isinstance(clause, AllOf | AnyOf):
        for part in clause.parts:
            yield from text_clauses(part)
    elif isinstance(clause, Without):
        yield from text_clauses(clause.left)
        yield from text_clauses(clause.right)
    elif isinstance(clause, AnyText):
        yield from clause.parts
    elif isinstance(clause, TextClause) and clause.proximity is None:
        yield clause


def test_joined_text_explanations_match_value_by_value() -> None:
    catalogue = load_catalogue(REPO / "queries" / "claims.toml")
    roots = [c.matcher._root for c in catalogue] + [compile_query(q)._root for q in QUERIES]
    clauses = [t for root in roots for t in text_clauses(root)]
    records = [r for p in corpus_files() for r in read_records(p) if isinstance(r, Article)]
    explained = 0
    for article in [*ARTICLES, *records]:
        doc = IndexedArticle.from_article(article)
        for clause in clauses:
            hits = clause.hits(doc)
            assert hits == by_value(clause, doc), (article.pmid, clause.term)
            explained += bool(hits)
    assert explained > 100


def test_every_value_reports_its_first_match() -> None:
    doc = IndexedArticle.from_article(ARTICLES[0])
    pain = compile_query("pain[tiab]")
    assert [(h.field, h.matched) for h in pain.explain(doc)] == [
        ("title", "Pain"),
        ("abstract", "pain"),
        ("abstract", "pain"),
        ("abstract", "Pain"),
    ]
