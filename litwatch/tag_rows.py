"""Tag stored rows: ``(id, content_hash, data JSON)`` in, what the store writes out.

Pure, with no database import: ``store.tags.retag`` runs ``tag_rows`` in this
process for a few records, or in worker processes (``litwatch.parallel``) for
many, while the main process reads the next batch and writes the last one.
Either way the same function tags, and the reasons are serialised here, so
the writer only binds values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson

from .article import Article
from .claims import Catalogue
from .tagging import Tagging, tag_article

_to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def to_json(value: Any) -> str:
    """JSON text as the engine's serialiser writes it (``json.dumps``, compact, UTF-8),
    by orjson: the same text, many times faster. orjson refuses a lone surrogate,
    which ``json`` writes as it is: then ``json`` writes it here too."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return _to_json(value)


StoredRow = tuple[int, str, str]  # articles.id, content_hash, data (JSON text)


class TaggedRow(NamedTuple):
    """One record's tagging as stored: the articles columns and the rule tags."""

    article_id: int
    content_hash: str  # the content tagged: written only if the record still has it
    evidence_level: str
    is_trial: bool
    registry_ids: str  # JSON list
    tags: tuple[tuple[str, str], ...]  # (claim id, reason JSON), catalogue order


def tagged_row(article_id: int, content_hash: str, tagging: Tagging) -> TaggedRow:
    return TaggedRow(
        article_id,
        content_hash,
        tagging.evidence_level,
        tagging.is_trial,
        to_json(list(tagging.registry_ids)),
        tuple((tag.claim_id, to_json(tag.reason())) for tag in tagging.claims),
    )


def tag_rows(catalogue: Catalogue, rows: Sequence[StoredRow]) -> list[TaggedRow]:
    """Tag each stored record against ``catalogue`` (picklable: rules recompile in a worker)."""
    return [
        tagged_row(article_id, content_hash, tag_article(Article.from_json(data), catalogue))
        for article_id, content_hash, data in rows
    ]
