"""Claim tags in the store: re-tag what changed, and count the evidence per claim.

``retag`` recomputes the rule tags of every article whose ``tagged_hash`` is
not ``content_hash + ":" + catalogue.content_hash`` (the store clears it when
a record changes; a new catalogue changes the second half), in batches, each
in its own write transaction. Rule tags (``source = "rule"``) are replaced
with the reason for each; curator tags (``source = "curator"``, written by
triage) are never read or written here. The article's evidence level, trial
flag and registry numbers are filled in the same transaction as its tags.

The catalogue is loaded (and checked) before this module is called, so a
broken claims.toml stops before anything is written.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Subquery,
    Table,
    Text,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy import cast as sql_cast

from ..claims import Catalogue
from ..db import RawJson, write_tx
from ..db.bulk import bind_processor, execute_rows
from ..models import DECISIONS, Tag
from ..parallel import default_jobs, ordered_map
from ..tag_rows import StoredRow, TaggedRow, tag_rows
from ..tagging import EVIDENCE_LEVELS
from ..triage import stance_counts
from ._common import ARTICLES, BATCH_SIZE, reading, require_aware

log = logging.getLogger(__name__)
TAGS = cast(Table, Tag.__table__)
# Fewer stale records than this are tagged in-process: starting workers costs
# about as much as tagging a couple of thousand records.
PARALLEL_FROM = 4_000
RULE_SOURCE = "rule"
CURATOR_SOURCE = "curator"


def tagged_hash(content_hash: str, catalogue: Catalogue) -> str:
    """What ``articles.tagged_hash`` holds once the record is tagged with ``catalogue``."""
    return f"{content_hash}:{catalogue.content_hash}"


def retag(
    engine: Engine,
    catalogue: Catalogue,
    *,
    all: bool = False,  # shadows the builtin: the agreed keyword, as `tags recompute --all`
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    jobs: int | None = None,
) -> int:
    """Re-tag the articles whose tags are stale (every article with ``all``); returns how many.

    ``progress`` is called with the running count after each committed batch. A
    record saved again while its batch was being tagged is left for the next run.
    ``jobs``: worker processes tagging while this one reads and writes (default:
    one per CPU); fewer than ``PARALLEL_FROM`` records are tagged in-process.
    """
    now = now or datetime.now(UTC)
    require_aware(now, "now")
    current = ARTICLES.c.content_hash + ":" + catalogue.content_hash
    stale = or_(ARTICLES.c.tagged_hash.is_(None), ARTICLES.c.tagged_hash != current)
    jobs = default_jobs() if jobs is None else jobs

    def batches(after: int) -> Iterator[list[StoredRow]]:
        last_id = after
        while True:
            # The JSON as text: decoded by the tagger (orjson), not the driver.
            query = select(ARTICLES.c.id, ARTICLES.c.content_hash, sql_cast(ARTICLES.c.data, Text))
            query = query.where(ARTICLES.c.id > last_id)
            if not all:
                query = query.where(stale)
            with engine.connect() as conn:
                rows = conn.execute(query.order_by(ARTICLES.c.id).limit(batch_size)).all()
            if not rows:
                return
            last_id = rows[-1][0]
            yield [(row[0], row[1], row[2]) for row in rows]

    done = 0
    last_written = 0  # articles.id: batches come in id order

    def write(tagged: list[TaggedRow]) -> None:
        nonlocal done, last_written
        with write_tx(engine) as conn:
            done += _write_batch(conn, catalogue, tagged, now)
        last_written = tagged[-1].article_id
        if progress is not None:
            progress(done)

    # Tagged outside the write transaction: SQLite's write lock is held only
    # for the writes, so a curator's triage never waits for the tagger.
    tag = partial(tag_rows, catalogue)
    if jobs > 1 and _count(engine, None if all else stale) >= PARALLEL_FROM:
        results = ordered_map(tag, batches(0), jobs=jobs)
        try:
            for tagged in results:
                write(tagged)
            return done
        except BrokenProcessPool as exc:
            # A worker died (killed, out of memory, a script without a __main__
            # guard): what was written stays; the rest is tagged here.
            log.warning("tagging workers stopped (%s); tagging the rest in this process", exc)
        finally:
            results.close()  # a failed write stops the workers too
    for tagged in map(tag, batches(last_written)):
        write(tagged)
    return done


def count_stale(bind: Connection | Engine, catalogue: Catalogue) -> int:
    """How many articles ``retag`` would re-tag now."""
    current = ARTICLES.c.content_hash + ":" + catalogue.content_hash
    return _count(bind, or_(ARTICLES.c.tagged_hash.is_(None), ARTICLES.c.tagged_hash != current))


def _count(bind: Connection | Engine, where: ColumnElement[bool] | None) -> int:
    query = select(func.count()).select_from(ARTICLES)
    with reading(bind) as conn:
        return int(conn.execute(query if where is None else query.where(where)).scalar_one())


@dataclass
class ClaimEvidence:
    """What the stored articles say about one claim so far."""

    claim_id: str
    articles: int = 0  # tagged by a rule or a curator, deleted citations left out
    by_level: dict[str, int] = field(default_factory=dict)  # every evidence level, in order
    trials: int = 0
    retracted: int = 0
    curator_tagged: int = 0
    decisions: dict[str, int] = field(default_factory=dict)  # include / exclude / maybe / untriaged
    stances: dict[str, int] = field(default_factory=dict)  # supports / contradicts / neutral

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "articles": self.articles,
            "by_evidence_level": dict(self.by_level),
            "trials": self.trials,
            "retracted": self.retracted,
            "curator_tagged": self.curator_tagged,
            "decisions": dict(self.decisions),
            "stances": dict(self.stances),
        }


def claim_evidence(bind: Connection | Engine, catalogue: Catalogue) -> dict[str, ClaimCounts]:
    """Claim id -> evidence so far, for every claim of the catalogue in its order.

    What ``claims show`` and ``claims list --evidence`` print: ``count_claim_evidence``
    over the catalogue's ids (retracted and excluded articles counted), so they
    agree with ``report claims``. Articles not tagged yet (or tagged with an
    older catalogue) count as their stored tags say: run ``retag`` first for
    current figures.
    """
    return count_claim_evidence(bind, catalogue.ids, descendants=catalogue.descendants())


# -- internals ----------------------------------------------------------------


def _write_batch(
    conn: Connection, catalogue: Catalogue, tagged: Sequence[TaggedRow], now: datetime
) -> int:
    """Store the tagged rows of records still as they were read; returns how many."""
    # A record saved again since it was read is left alone: its tagged_hash is
    # NULL again, and the next retag tags the new content.
    rows = conn.execute(
        select(ARTICLES.c.id, ARTICLES.c.content_hash).where(
            ARTICLES.c.id.in_([row.article_id for row in tagged])
        )
    )
    current = {article_id: content_hash for article_id, content_hash in rows}
    taggings = [row for row in tagged if current.get(row.article_id) == row.content_hash]
    if not taggings:
        return 0
    ids = [row.article_id for row in taggings]
    conn.execute(delete(TAGS).where(TAGS.c.article_id.in_(ids), TAGS.c.source == RULE_SOURCE))
    dialect = conn.dialect
    reason = bind_processor(TAGS.c.reason, dialect)
    content_hash, now_value = (
        catalogue.content_hash,
        bind_processor(TAGS.c.created_at, dialect)(now),
    )
    execute_rows(
        conn,
        _INSERT_TAG,
        _TAG_COLUMNS,
        [
            (row.article_id, claim_id, RULE_SOURCE, reason(RawJson(why)), content_hash, now_value)
            for row in taggings
            for claim_id, why in row.tags
        ],
    )
    registries = bind_processor(ARTICLES.c.registry_ids, dialect)
    trial = bind_processor(ARTICLES.c.is_trial, dialect)
    execute_rows(
        conn,
        _UPDATE_ARTICLE,
        ("b_level", "b_trial", "b_registries", "b_tagged", "b_id", "b_content_hash"),
        [
            (
                row.evidence_level,
                trial(row.is_trial),
                registries(RawJson(row.registry_ids)),
                tagged_hash(row.content_hash, catalogue),
                row.article_id,
                row.content_hash,
            )
            for row in taggings
        ],
    )
    return len(taggings)


_TAG_COLUMNS = ("article_id", "claim_id", "source", "reason", "catalogue_hash", "created_at")
_INSERT_TAG = insert(TAGS).values({name: bindparam(name) for name in _TAG_COLUMNS})
_UPDATE_ARTICLE = (
    update(ARTICLES)
    .where(
        and_(
            ARTICLES.c.id == bindparam("b_id"),
            # Checked again here: on PostgreSQL a writer can still get in between.
            ARTICLES.c.content_hash == bindparam("b_content_hash"),
        )
    )
    .values(
        evidence_level=bindparam("b_level"),
        is_trial=bindparam("b_trial"),
        registry_ids=bindparam("b_registries"),
        tagged_hash=bindparam("b_tagged"),
    )
)


def _tags_with_ancestors(descendants: Mapping[str, Collection[str]]) -> Subquery:
    """(claim_id, article_id, source) of every tag, and again under each ancestor of its claim."""
    base = select(TAGS.c.claim_id, TAGS.c.article_id, TAGS.c.source)
    lifted = [
        select(literal(claim_id, Text).label("claim_id"), TAGS.c.article_id, TAGS.c.source).where(
            TAGS.c.claim_id.in_(list(below))
        )
        for claim_id, below in descendants.items()
        if below
    ]
    return union_all(base, *lifted).subquery() if lifted else base.subquery()


# -- one count of the evidence per claim ------------------------------------------
# ``claims show``, ``report claims`` and the digest scoreboard all ask this; the
# options say how each asks, so the same question gets the same answer.


@dataclass
class ClaimCounts(ClaimEvidence):
    """``ClaimEvidence`` plus the included articles by evidence level."""

    included_by_level: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"included_by_evidence_level": dict(self.included_by_level)}


def count_claim_evidence(
    bind: Connection | Engine,
    claim_ids: Sequence[str] | None = None,
    *,
    descendants: Mapping[str, Collection[str]] | None = None,
    include_retracted: bool = True,
    include_excluded: bool = True,
) -> dict[str, ClaimCounts]:
    """Claim id -> articles per evidence level, trials, decisions, stances.

    An article counts once per claim however it was tagged (rule, curator or
    both); deleted citations never count; an article with no evidence level
    yet counts as ``other``. ``claim_ids``: these claims, in this order, each
    present (every level and decision at 0) even with nothing tagged; None:
    every claim id found in tags or stances, sorted.

    ``include_retracted=False`` leaves retracted articles out of every figure
    except ``retracted``, which counts them in either case (the digest's
    scoreboard); ``include_excluded=False`` leaves out articles a curator
    excluded (not evidence for the digest's reader). Imported articles count
    like those a query found: they are evidence, just not news. Stances are
    the curators' current readings, whatever the options.

    ``descendants`` (claim id -> the claims below it, ``Catalogue.descendants``):
    an article tagged with a child claim counts for the parent too. Rule tags
    carry their parents already; a curator's tag on a child does not.
    """
    tags = _tags_with_ancestors(descendants or {})
    tagged = (
        select(
            tags.c.claim_id,
            tags.c.article_id,
            func.max(case((tags.c.source == CURATOR_SOURCE, 1), else_=0)).label("by_curator"),
        )
        .group_by(tags.c.claim_id, tags.c.article_id)
        .subquery()
    )
    conditions: list[Any] = [ARTICLES.c.deleted_at.is_(None)]
    if claim_ids is not None:
        conditions.append(tagged.c.claim_id.in_(list(claim_ids)))
    if not include_excluded:
        conditions.append(or_(ARTICLES.c.decision.is_(None), ARTICLES.c.decision != "exclude"))
    keys = (
        tagged.c.claim_id,
        ARTICLES.c.evidence_level,
        ARTICLES.c.is_trial,
        ARTICLES.c.is_retracted,
        ARTICLES.c.decision,
        tagged.c.by_curator,
    )
    with reading(bind) as conn:
        rows = conn.execute(
            select(*keys, func.count().label("n"))
            .join(ARTICLES, ARTICLES.c.id == tagged.c.article_id)
            .where(*conditions)
            .group_by(*keys)
        ).all()
        stances = stance_counts(conn)

    ids = (
        list(claim_ids)
        if claim_ids is not None
        else sorted({r.claim_id for r in rows} | {*stances})
    )
    counts = {
        claim_id: ClaimCounts(
            claim_id,
            by_level=dict.fromkeys(EVIDENCE_LEVELS, 0),
            decisions=dict.fromkeys((*DECISIONS, "untriaged"), 0),
        )
        for claim_id in ids
    }
    for row in rows:
        item = counts[row.claim_id]
        n = int(row.n)
        if row.is_retracted:
            item.retracted += n
            if not include_retracted:
                continue
        level = row.evidence_level or "other"
        item.articles += n
        item.by_level[level] = item.by_level.get(level, 0) + n
        item.trials += n if row.is_trial else 0
        item.curator_tagged += n if row.by_curator else 0
        decision = row.decision or "untriaged"
        item.decisions[decision] = item.decisions.get(decision, 0) + n
        if decision == "include":
            item.included_by_level[level] = item.included_by_level.get(level, 0) + n
    for claim_id, readings in stances.items():
        if claim_id in counts:
            counts[claim_id].stances = dict(sorted(Counter(readings).items()))
    return counts
