"""The texts of an Article that word searches look in, and how each is folded.

``values(article, source)`` gives the original strings of one source in a
fixed order; ``IndexedArticle`` folds them, and explanations map a match in
the folded text back to the words as the record has them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from ..article import Article
from . import fields as f
from .textmatch import fold_char, fold_search
from .vocab import fold_heading


def _author_names(article: Article) -> list[str]:
    names = []
    for a in article.authors:
        if a.collective_name:
            names.append(a.collective_name)
        if a.last_name:
            names.append(" ".join(p for p in (a.last_name, a.initials) if p))
            if a.fore_name:
                names.append(f"{a.fore_name} {a.last_name}")
    return names


def _mesh_names(article: Article) -> list[str]:
    names = [m.descriptor for m in article.mesh]
    names.extend(q.name for m in article.mesh for q in m.qualifiers)
    return names


_VALUES: dict[str, Callable[[Article], list[str]]] = {
    f.TITLE: lambda a: [a.title],
    f.ABSTRACT: lambda a: [s.text for s in a.abstract],
    f.KEYWORDS: lambda a: list(a.keywords),
    f.MESH: _mesh_names,
    f.PUBLICATION_TYPE: lambda a: [p.name for p in a.publication_types],
    f.SUBSTANCE: lambda a: list(a.chemicals),
    f.JOURNAL: lambda a: [v for v in (a.journal_title, a.journal_iso, a.issn) if v],
    f.AUTHOR: _author_names,
    f.AFFILIATION: lambda a: [aff for au in a.authors for aff in au.affiliations],
    f.VERNACULAR_TITLE: lambda a: [a.vernacular_title or ""],
}

# Names and headings fold "&" to "and" (MeSH writes "Statistics & Numerical Data",
# searchers write "statistics and numerical data"); running text folds as it is.
STRUCTURED = frozenset({f.MESH, f.PUBLICATION_TYPE, f.SUBSTANCE, f.JOURNAL, f.AUTHOR})


def values(article: Article, source: str) -> list[str]:
    return _VALUES[source](article)


def folder(source: str) -> Callable[[str], str]:
    return fold_heading if source in STRUCTURED else fold_search


# An ASCII word as fold_search sees it: letters and digits, apostrophes inside or
# after it dropped (so kept in the span), anything else a break.
_ASCII_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9']*")


@lru_cache(maxsize=4096)
def word_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Start and end offsets in ``text`` of each word ``fold_search`` makes of it.

    Explanations ask this once per matched term, and the tagger explains
    several terms per abstract: ASCII text (nearly all of PubMed) takes a
    regex, and the result is kept for the next term in the same text.
    """
    if text.isascii():
        return tuple(m.span() for m in _ASCII_WORD.finditer(text))
    spans: list[tuple[int, int]] = []
    start: int | None = None
    end = 0
    for index, ch in enumerate(text):
        folded = fold_char(ch)
        if folded is None:
            if start is not None:
                spans.append((start, end))
                start = None
        elif folded:
            if start is None:
                start = index
            end = index + 1
        elif start is not None:
            end = index + 1  # a dropped accent or apostrophe inside a word
    if start is not None:
        spans.append((start, end))
    return tuple(spans)


def original_words(text: str, first: int, count: int, folded_text: str | None = None) -> str:
    """Words ``first`` .. ``first + count - 1`` of ``fold_search(text)`` (``folded_text``
    when the caller has it), as ``text`` has them."""
    spans = word_spans(text)
    folded = fold_search(text) if folded_text is None else folded_text
    words = folded.count(" ") + 1 if folded else 0  # folded words are one space apart
    if len(spans) != words or first + count > len(spans):
        shown = folded.split()[first : first + count]
        return " ".join(shown)  # a character folds oddly: show folded
    return text[spans[first][0] : spans[first + count - 1][1]]
