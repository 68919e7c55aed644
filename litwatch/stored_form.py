"""What the store keeps of an Article: its canonical JSON and the columns derived from it.

Pure, with no database import: import workers (other processes) compute it
while the main process writes, and the store computes it for everything else.
The columns that depend on when a record is saved (``first_seen`` …) are the
store's to add.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .article import Article, PartialDate, content_hash_of_json, normalise_doi, work_key
from .errors import StoreError
from .querylang.textmatch import fold_words

_MAX_PMID = 2**63 - 1
# Work keys longer than this are shortened with a hash suffix: PostgreSQL
# refuses B-tree index entries over ~2.7 kB, and a folded title can be long.
_MAX_WORK_KEY = 200


def stored_columns(article: Article) -> dict[str, Any]:
    """The ``articles`` columns of ``article`` (``data`` is its canonical JSON text)."""
    canonical = article.to_json()
    return {
        "pmid": pmid_number(article.pmid, where=f"record {article.pmid!r}"),
        "version": article.version,
        "kind": article.kind,
        "status": article.status,
        "title": article.title,
        "doi": article.doi,
        "doi_norm": normalise_doi(article.doi),
        "pmcid": article.pmcid,
        "journal": article.journal_title,
        "journal_iso": article.journal_iso,
        "pub_date": sortable_date(article.pub_date),
        "pub_year": article.pub_year,
        "language": article.languages[0] if article.languages else None,
        "created": article.created,
        "modified": article.modified,
        "is_retracted": article.is_retracted,
        "has_erratum": article.has_erratum,
        "is_indexed": article.is_indexed,
        "work_key": indexable_work_key(work_key(article)),
        "search_text": search_text(article),
        "data": canonical,
        "content_hash": content_hash_of_json(canonical),
    }


def pmid_number(pmid: str, *, where: str = "") -> int:
    """The PMID as stored (an integer); refuses anything that is not one."""
    text = pmid.strip()
    # ASCII digits only (str.isdigit also accepts "²"), and within BIGINT on both dialects.
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= _MAX_PMID:
        suffix = f" ({where})" if where else ""
        raise StoreError(f"not a PMID: {pmid!r}{suffix}")
    return int(text)


def search_text(article: Article) -> str:
    """The words of the title, abstract, keywords, substances and MeSH headings, folded
    as searches fold, each once (in order of first use).

    A search asks which words a record holds, never where or how often (the
    full-text indexes keep no positions), so repeats would only cost: without
    them the text of a real record is 40% shorter, and storing it on SQLite
    (where the full-text index is half the cost) a tenth cheaper.
    """
    parts = [article.title, article.abstract_text, *article.keywords, *article.chemicals]
    parts += [m.descriptor for m in article.mesh]
    return " ".join(dict.fromkeys(fold_words(" ".join(p for p in parts if p))))


def sortable_date(pub_date: PartialDate | None) -> date | None:
    if pub_date is None:
        return None
    try:
        return pub_date.sortable
    except ValueError:  # an impossible day or month in the source: keep what is possible
        pass
    year, month = pub_date.year, pub_date.month
    if year is None or not 1 <= year <= 9999:
        return None
    return date(year, month if month and 1 <= month <= 12 else 1, 1)


def indexable_work_key(key: str | None) -> str | None:
    """The work key as stored: very long keys keep a prefix and a hash of the whole."""
    if key is None or len(key) <= _MAX_WORK_KEY:
        return key
    return f"{key[: _MAX_WORK_KEY - 17]}#{content_hash_of_json(key)[:16]}"
