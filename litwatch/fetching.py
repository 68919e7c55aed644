"""The fetch phase of a monitoring pass: batched EFetch calls, each batch stored as it arrives.

Stops at the first batch that fails (the windows it belongs to stay behind
their watermarks and are searched again next run); what was stored before is
kept, since the upsert keeps one row per PMID.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine

from .errors import LitwatchError
from .eutils import EutilsClient, FetchedBatch
from .run_summary import RunSummary
from .store import mark_deleted, save_articles

log = logging.getLogger(__name__)


def fetch_and_store(
    engine: Engine,
    pmids: list[str],
    client: EutilsClient,
    summary: RunSummary,
    checkpoint: Callable[[], None],
    report: Callable[..., None],
    clock: Callable[[], datetime],
) -> tuple[set[str], set[str], set[str]]:
    """Fetch ``pmids`` in batches, storing each; stops at the first batch that fails."""
    fetched: set[str] = set()
    new: set[str] = set()
    updated: set[str] = set()
    report("fetch", 0, len(pmids))
    if not pmids:
        return fetched, new, updated
    with _closing(client.fetch(pmids)) as batches:
        while True:
            checkpoint()
            try:
                batch = next(batches, None)
                if batch is None:
                    break
                now = clock()
                saved = save_articles(engine, batch.articles, now=now)
                if batch.deleted:
                    mark_deleted(engine, batch.deleted, now=now)
            except LitwatchError as exc:
                summary.fetch_error = str(exc)
                log.info("fetch stopped after %d of %d PMIDs: %s", len(fetched), len(pmids), exc)
                break
            fetched.update(batch.requested)
            new.update(saved.new)
            updated.update(saved.updated)
            summary.unchanged += saved.n_unchanged
            summary.deleted.extend(batch.deleted)
            summary.missing.extend(batch.missing)
            summary.fetch_batches += 1
            report("fetch", len(fetched), len(pmids))
    summary.fetched = len(fetched)
    summary.new = len(new)
    summary.updated = len(updated)
    return fetched, new, updated


@contextmanager
def _closing(batches: Iterator[FetchedBatch]) -> Iterator[Iterator[FetchedBatch]]:
    """Close the fetch generator (and its open response) when the loop stops early."""
    try:
        yield batches
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()
