"""Free-text search over stored articles (``hits list --search``), indexed on both dialects.

Each article keeps ``search_text``: the words of its title, abstract,
keywords, MeSH headings and substance names, each once, folded to lower-case
ASCII the way the query language folds text (so "Kétamine" finds "ketamine",
an en dash in "Newcastle–Ottawa" separates two words, and "β" is spelt
"beta"). The index is dialect-specific (created by the migration): FTS5 on
SQLite, a GIN ``tsvector`` index on PostgreSQL. A search is a set of words
that must all occur; a word ending in ``*`` matches as a prefix. Words are
folded the same way, so no user input reaches either engine's query syntax
unescaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, func, literal_column, select, text

from ..querylang.textmatch import fold_search
from ._common import ARTICLES, chunks


def search_words(query: str) -> list[tuple[str, bool]]:
    """(folded word, is prefix) pairs of a search; empty when nothing searchable is left."""
    words = []
    for raw in query.split():
        prefix = raw.endswith("*")
        for word in fold_search(raw).split():
            words.append((word, False))
        if prefix and words:
            words[-1] = (words[-1][0], True)
    return words


def search_clause(dialect: str, query: str) -> ColumnElement[bool]:
    """A WHERE clause on ``articles`` keeping rows that contain every word of ``query``."""
    words = search_words(query)
    if not words:
        return literal_column("1") == literal_column("1")
    if dialect == "postgresql":
        terms = " & ".join(f"{w}:*" if prefix else w for w, prefix in words)
        vector = func.to_tsvector(literal_column("'simple'"), ARTICLES.c.search_text)
        clause: ColumnElement[bool] = vector.op("@@")(
            func.to_tsquery(literal_column("'simple'"), terms)
        )
        return clause
    match = " ".join(f'"{w}"*' if prefix else f'"{w}"' for w, prefix in words)
    fts: Any = select(literal_column("rowid")).select_from(text("articles_fts"))
    fts = fts.where(text("articles_fts MATCH :fts_match").bindparams(fts_match=match))
    return ARTICLES.c.id.in_(fts)


def index_new_articles(conn: Connection, pmids: Sequence[int]) -> None:
    """Add just-inserted articles to SQLite's full-text index (PostgreSQL's follows by itself).

    One ``INSERT … SELECT`` per batch rather than a trigger per row: FTS5
    flushes its pending terms into a new segment at each row's statement
    boundary inside a trigger, which tripled the cost of storing a record.
    Updates and deletes are still kept in step by triggers (migration 0002).
    """
    if conn.dialect.name != "sqlite" or not pmids:
        return
    for chunk in chunks(list(pmids)):
        conn.execute(
            text(
                "INSERT INTO articles_fts(rowid, search_text) "
                "SELECT id, search_text FROM articles WHERE pmid IN :pmids"
            ).bindparams(bindparam("pmids", expanding=True)),
            {"pmids": chunk},
        )
