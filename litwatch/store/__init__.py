"""The store: saving and reading articles (later: ledger, tags, triage, digests).

Functions take an ``Engine`` (they open their own transactions) or a
``Connection`` (they work inside the caller's transaction; writes should use
``litwatch.db.write_tx``). Nothing here prints; problems raise ``StoreError``.
"""

from ._common import BATCH_SIZE
from .articles import mark_deleted, save_articles, stored_versions
from .reads import ORDERS, count_articles, get_article, list_articles, same_work_pmids
from .records import SaveResult, StoredArticle, StoredVersion

__all__ = [
    "BATCH_SIZE",
    "ORDERS",
    "SaveResult",
    "StoredArticle",
    "StoredVersion",
    "count_articles",
    "get_article",
    "list_articles",
    "mark_deleted",
    "same_work_pmids",
    "save_articles",
    "stored_versions",
]
