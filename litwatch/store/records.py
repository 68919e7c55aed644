"""What the store hands back: plain frozen records, no database objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ..article import Article


@dataclass(frozen=True)
class SaveResult:
    """PMIDs of the records given to ``save_articles``, each counted once.

    ``new``: not stored before. ``updated``: stored, and this copy replaced it
    (its content changed and it is not older). ``unchanged``: identical to the
    stored copy, or older than it (then the stored copy is kept).
    """

    new: list[str]
    updated: list[str]
    unchanged: list[str]

    @property
    def n_new(self) -> int:
        return len(self.new)

    @property
    def n_updated(self) -> int:
        return len(self.updated)

    @property
    def n_unchanged(self) -> int:
        return len(self.unchanged)

    @property
    def n_saved(self) -> int:
        """Records given, whatever became of them."""
        return self.n_new + self.n_updated + self.n_unchanged


@dataclass(frozen=True)
class StoredVersion:
    """Enough of a stored record to tell whether a fresh copy would change it."""

    content_hash: str
    version: int
    modified: date | None


@dataclass(frozen=True)
class StoredArticle:
    """A stored record with what the store knows about it."""

    article: Article
    id: int  # articles.id, the key other tables refer to
    content_hash: str
    first_seen: datetime
    updated_at: datetime | None  # last time the content changed; None: never since first seen
    last_seen: datetime
    work_key: str | None
    same_work: tuple[str, ...]  # other PMIDs with the same work key, in PMID order
    evidence_level: str | None
    is_trial: bool
    registry_ids: tuple[str, ...]
    decision: str | None  # the curator's current decision; None: untriaged
    deleted_at: datetime | None  # PubMed deleted the citation

    @property
    def pmid(self) -> str:
        return self.article.pmid
