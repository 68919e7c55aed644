"""Curator actions: decisions, notes, stances on claims and curator tags, as an append-only log.

Nothing in ``triage_events`` is ever updated or deleted. A change of mind is a
new event; undo is an event that points at the one it cancels
(``undoes_event_id``). So:

- an article's current decision is its latest decision event that is neither
  an undo nor undone; it is copied to ``articles.decision``/``decided_at`` in
  the same transaction, so listing untriaged articles never reads the log;
- the current stance on a claim is found the same way per (article, claim);
- curator tags live in ``tags`` (source ``curator``, which re-tagging never
  touches) and every change to them is logged here too.

Each action runs in one write transaction (``write_tx``: BEGIN IMMEDIATE on
SQLite; on PostgreSQL the article row is locked with SELECT … FOR UPDATE), so
two curators and the worker can write at once and no decision is lost.
Functions take an ``Engine`` (one transaction per call) or a ``Connection``
already inside ``write_tx`` (several actions in one transaction, e.g. a file
of decisions applied all or nothing).
"""

from __future__ import annotations

import getpass
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Select,
    and_,
    delete,
    func,
    insert,
    select,
    true,
    update,
)

from .db import write_tx
from .errors import InputError
from .store._common import reading
from .triage_log import (
    ARTICLES,
    CURATOR_SOURCE,
    EVENTS,
    TAGS,
    CurrentDecision,
    Decision,
    Event,
    EventKind,
    Stance,
    TagAction,
    TriageState,
    curator_tags,
    current_decisions,
    history,
    in_force,
    last_decision,
    parse_decision,
    parse_stance,
    parse_tag_action,
    pmid_key,
    stance_counts,
    triage_states,
)

__all__ = [
    "CurrentDecision",
    "Decision",
    "Event",
    "EventKind",
    "Stance",
    "TagAction",
    "TriageState",
    "curator_tags",
    "current_decisions",
    "default_actor",
    "history",
    "last_decision",
    "parse_decision",
    "parse_stance",
    "parse_tag_action",
    "record_decision",
    "record_note",
    "record_stance",
    "stance_counts",
    "tag_article",
    "triage_queue",
    "triage_states",
    "undo",
]


def default_actor(configured: str | None = None) -> str:
    """Who is triaging: ``--by``/settings when given, else the login name."""
    if configured and configured.strip():
        return configured.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers)
        return "curator"


# -- actions ------------------------------------------------------------------


def record_decision(
    target: Connection | Engine,
    pmid: str,
    decision: Decision | str,
    *,
    actor: str,
    reason: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Event:
    """Append a decision; it becomes the article's current decision."""
    chosen = decision if isinstance(decision, Decision) else parse_decision(decision)
    if _clean(reason) and chosen is not Decision.EXCLUDE:
        raise InputError(f"PMID {pmid}", f"a reason is for exclusions, not {chosen}: use a note")
    with _writing(target) as conn:
        article_id, previous = _lock_article(conn, pmid)
        event = _append(
            conn,
            pmid,
            article_id,
            EventKind.DECISION,
            actor,
            now,
            decision=chosen.value,
            reason=_clean(reason),
            note=_clean(note),
            previous_decision=previous,
        )
        _refresh_decision(conn, article_id)
    return event


def record_note(
    target: Connection | Engine,
    pmid: str,
    note: str,
    *,
    actor: str,
    now: datetime | None = None,
) -> Event:
    text = _clean(note)
    if text is None:
        raise InputError(f"PMID {pmid}", "a note needs some text")
    with _writing(target) as conn:
        article_id, _ = _lock_article(conn, pmid)
        return _append(conn, pmid, article_id, EventKind.NOTE, actor, now, note=text)


def record_stance(
    target: Connection | Engine,
    pmid: str,
    claim_id: str,
    stance: Stance | str,
    *,
    actor: str,
    note: str | None = None,
    now: datetime | None = None,
) -> Event:
    """The curator's reading of the article for one claim (the latest stance counts)."""
    chosen = stance if isinstance(stance, Stance) else parse_stance(stance)
    claim = _claim(claim_id, pmid)
    with _writing(target) as conn:
        article_id, _ = _lock_article(conn, pmid)
        return _append(
            conn,
            pmid,
            article_id,
            EventKind.STANCE,
            actor,
            now,
            claim_id=claim,
            stance=chosen.value,
            note=_clean(note),
        )


def tag_article(
    target: Connection | Engine,
    pmid: str,
    claim_id: str,
    action: TagAction | str = TagAction.ADD,
    *,
    actor: str,
    note: str | None = None,
    now: datetime | None = None,
) -> Event:
    """Add or remove a curator tag (a claim the curator links the article to)."""
    chosen = action if isinstance(action, TagAction) else parse_tag_action(action)
    claim = _claim(claim_id, pmid)
    with _writing(target) as conn:
        article_id, _ = _lock_article(conn, pmid)
        at = _now(now)
        _apply_tag(conn, pmid, article_id, claim, chosen, actor=_who(actor), note=note, at=at)
        return _append(
            conn,
            pmid,
            article_id,
            EventKind.TAG,
            actor,
            at,
            claim_id=claim,
            tag_action=chosen.value,
            note=_clean(note),
        )


def undo(
    target: Connection | Engine,
    event_id: int,
    *,
    actor: str,
    now: datetime | None = None,
) -> Event:
    """Cancel one event by appending an undo event; returns the undo event.

    Undoing a decision makes the latest decision before it current again (or
    none: the article is untriaged again). A tag change can only be undone
    while it is the latest change of that tag on the article.
    """
    with _writing(target) as conn:
        row = conn.execute(select(EVENTS).where(EVENTS.c.id == event_id)).one_or_none()
        if row is None:
            raise InputError(f"event {event_id}", "no such triage event")
        pmid, article_id, previous = _lock_article_by_id(conn, row.article_id)
        target_row = row  # events never change once written
        if target_row.undoes_event_id is not None:
            raise InputError(f"event {event_id}", "is an undo itself: record the change again")
        undone_by = conn.execute(
            select(EVENTS.c.id).where(
                EVENTS.c.article_id == article_id, EVENTS.c.undoes_event_id == event_id
            )
        ).scalar()
        if undone_by is not None:
            raise InputError(f"event {event_id}", f"was already undone by event {undone_by}")
        at = _now(now)
        kind = EventKind(target_row.kind)
        values: dict[str, Any] = {"claim_id": target_row.claim_id}
        if kind is EventKind.DECISION:
            restored = _latest_effective(conn, article_id, kind, skip=event_id)
            values |= {
                "decision": restored.decision if restored else None,
                "previous_decision": previous,
            }
        elif kind is EventKind.STANCE:
            restored = _latest_effective(
                conn, article_id, kind, claim_id=target_row.claim_id, skip=event_id
            )
            values["stance"] = restored.stance if restored else None
        elif kind is EventKind.TAG:
            latest = _latest_effective(conn, article_id, kind, claim_id=target_row.claim_id)
            if latest is None or latest.id != event_id:
                raise InputError(
                    f"event {event_id}",
                    f"a later change of tag {target_row.claim_id} must be undone first",
                )
            inverse = TagAction.REMOVE if target_row.tag_action == TagAction.ADD else TagAction.ADD
            _apply_tag(
                conn, pmid, article_id, target_row.claim_id, inverse, actor=_who(actor), at=at
            )
            values["tag_action"] = inverse.value
        event = _append(conn, pmid, article_id, kind, actor, at, undoes_event_id=event_id, **values)
        if kind is EventKind.DECISION:
            _refresh_decision(conn, article_id)
    return event


# -- the queue ----------------------------------------------------------------


def triage_queue(
    bind: Connection | Engine, *, limit: int = 20, skip: Collection[int] = ()
) -> list[str]:
    """PMIDs of the next untriaged articles in triage order.

    Newest trials first; then articles tagged with a claim, grouped by claim id
    (the first of their claims) and newest first within a claim; then the rest,
    newest first. ``skip`` holds article ids passed over in this session. Three
    small queries instead of one ORDER BY over every untriaged row, so the
    next page stays quick on a large database.
    """
    untriaged = and_(
        ARTICLES.c.decision.is_(None),
        ARTICLES.c.deleted_at.is_(None),
        ARTICLES.c.id.not_in(list(skip)) if skip else true(),
    )
    newest = (ARTICLES.c.first_seen.desc(), ARTICLES.c.id.desc())
    has_tag = select(TAGS.c.article_id).where(TAGS.c.article_id == ARTICLES.c.id).exists()
    first_claim = func.min(TAGS.c.claim_id)
    stages: list[Select[Any]] = [
        select(ARTICLES.c.pmid).where(untriaged, ARTICLES.c.is_trial).order_by(*newest),
        select(ARTICLES.c.pmid)
        .join(TAGS, TAGS.c.article_id == ARTICLES.c.id)
        .where(untriaged, ~ARTICLES.c.is_trial)
        .group_by(ARTICLES.c.id, ARTICLES.c.pmid, ARTICLES.c.first_seen)
        .order_by(first_claim, *newest),
        select(ARTICLES.c.pmid).where(untriaged, ~ARTICLES.c.is_trial, ~has_tag).order_by(*newest),
    ]
    found: list[str] = []
    with reading(bind) as conn:
        for stage in stages:
            if len(found) >= limit:
                break
            found += [str(p) for p in conn.execute(stage.limit(limit - len(found))).scalars()]
    return found


# -- internals ----------------------------------------------------------------


@contextmanager
def _writing(target: Connection | Engine) -> Iterator[Connection]:
    if isinstance(target, Connection):
        yield target
        return
    with write_tx(target) as conn:
        yield conn


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"naive datetime {now.isoformat()} refused: use an aware UTC time")
    return now


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    return text.strip() or None


def _who(actor: str) -> str:
    name = actor.strip()
    if not name:
        raise InputError("actor", "who made the change must be named")
    return name


def _claim(claim_id: str, pmid: str) -> str:
    claim = claim_id.strip()
    if not claim:
        raise InputError(f"PMID {pmid}", "a claim id is needed")
    return claim


def _lock_article(conn: Connection, pmid: str) -> tuple[int, str | None]:
    """The article's id and current decision, its row locked until commit (PostgreSQL)."""
    row = conn.execute(
        select(ARTICLES.c.id, ARTICLES.c.decision)
        .where(ARTICLES.c.pmid == pmid_key(pmid))
        # FOR UPDATE on PostgreSQL; SQLite is already serialised by BEGIN IMMEDIATE.
        .with_for_update()
    ).one_or_none()
    if row is None:
        raise InputError(f"PMID {pmid}", "not in the database")
    return row.id, row.decision


def _lock_article_by_id(conn: Connection, article_id: int) -> tuple[str, int, str | None]:
    row = conn.execute(
        select(ARTICLES.c.pmid, ARTICLES.c.decision)
        .where(ARTICLES.c.id == article_id)
        .with_for_update()
    ).one()
    return str(row.pmid), article_id, row.decision


def _append(
    conn: Connection,
    pmid: str,
    article_id: int,
    kind: EventKind,
    actor: str,
    now: datetime | None,
    **values: Any,
) -> Event:
    who = _who(actor)
    at = _now(now)
    # A tag event names its tag in ``tag`` as well as ``claim_id`` (curator tags are claims).
    tag = values.get("claim_id") if kind is EventKind.TAG else None
    event_id = conn.execute(
        insert(EVENTS)
        .values(article_id=article_id, kind=kind.value, actor=who, at=at, tag=tag, **values)
        .returning(EVENTS.c.id)
    ).scalar_one()
    return Event(id=event_id, pmid=str(pmid_key(pmid)), kind=kind.value, actor=who, at=at, **values)


def _latest_effective(
    conn: Connection,
    article_id: int,
    kind: EventKind,
    *,
    claim_id: str | None = None,
    skip: int | None = None,
) -> Row[Any] | None:
    query = select(EVENTS).where(EVENTS.c.article_id == article_id, in_force(kind))
    if claim_id is not None:
        query = query.where(EVENTS.c.claim_id == claim_id)
    if skip is not None:
        query = query.where(EVENTS.c.id != skip)
    return conn.execute(query.order_by(EVENTS.c.id.desc()).limit(1)).one_or_none()


def _refresh_decision(conn: Connection, article_id: int) -> None:
    """Copy the current decision to the article row (NULL when none is left)."""
    latest = _latest_effective(conn, article_id, EventKind.DECISION)
    conn.execute(
        update(ARTICLES)
        .where(ARTICLES.c.id == article_id)
        .values(
            decision=latest.decision if latest else None,
            decided_at=latest.at if latest else None,
        )
    )


def _apply_tag(
    conn: Connection,
    pmid: str,
    article_id: int,
    claim_id: str,
    action: TagAction,
    *,
    actor: str,
    at: datetime,
    note: str | None = None,
) -> None:
    where = and_(
        TAGS.c.article_id == article_id,
        TAGS.c.claim_id == claim_id,
        TAGS.c.source == CURATOR_SOURCE,
    )
    present = conn.execute(select(TAGS.c.id).where(where)).first() is not None
    if action is TagAction.ADD:
        if present:
            raise InputError(f"PMID {pmid}", f"already has the curator tag {claim_id}")
        reason: dict[str, str] = {"by": actor}
        if _clean(note):
            reason["note"] = str(_clean(note))
        conn.execute(
            insert(TAGS).values(
                article_id=article_id,
                claim_id=claim_id,
                source=CURATOR_SOURCE,
                reason=reason,
                catalogue_hash=None,
                created_at=at,
            )
        )
    else:
        if not present:
            raise InputError(f"PMID {pmid}", f"has no curator tag {claim_id} to remove")
        conn.execute(delete(TAGS).where(where))
