"""PubMed's query language: parse a search, print it back, evaluate it on stored records.

    >>> tree = parse('("back pain"[ti] OR lumbago) AND randomi*[tiab]')
    >>> to_query(tree)
    '("back pain"[ti] OR lumbago) AND randomi*[tiab]'
    >>> matcher = compile_query(tree)
    >>> matcher.matches(IndexedArticle.from_article(article))  # doctest: +SKIP

See ``parser`` for how the syntax is read, ``fields`` for every field tag,
``evaluate`` for what local evaluation can and cannot do (``Matcher.caveats``).
"""

from .clauses import Hit
from .evaluate import Matcher, compile_query
from .fields import FieldSpec, lookup
from .indexed import IndexedArticle
from .nodes import And, DateRange, Node, Not, Or, Term, to_query, translate, unknown_fields, walk
from .parser import parse
from .wordsearch import PatternIndex

__all__ = [
    "And",
    "DateRange",
    "FieldSpec",
    "Hit",
    "IndexedArticle",
    "Matcher",
    "Node",
    "Not",
    "Or",
    "PatternIndex",
    "Term",
    "compile_query",
    "lookup",
    "parse",
    "to_query",
    "translate",
    "unknown_fields",
    "walk",
]
