"""The triage log, read side: event records, current decisions and stances.

``triage_events`` is append-only (see ``litwatch.triage`` for the writes). An
event is *in force* when it is not an undo and no undo points at it; the
current decision of an article is its latest decision event in force, the
current stance on a claim its latest stance event in force for that claim.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine, Row, Table, and_, exists, select

from .errors import InputError
from .models import ArticleRow, Tag, TriageEvent
from .store._common import chunks, reading

ARTICLES = cast(Table, ArticleRow.__table__)
EVENTS = cast(Table, TriageEvent.__table__)
TAGS = cast(Table, Tag.__table__)

CURATOR_SOURCE = "curator"


class Decision(StrEnum):
    INCLUDE = "include"
    EXCLUDE = "exclude"
    MAYBE = "maybe"


class Stance(StrEnum):
    SUPPORTS = "supports"
    CONTRADICTS = "contradicts"
    NEUTRAL = "neutral"


class TagAction(StrEnum):
    ADD = "add"
    REMOVE = "remove"


class EventKind(StrEnum):
    DECISION = "decision"
    STANCE = "stance"
    NOTE = "note"
    TAG = "tag"


def parse_decision(value: str, *, source: str = "decision") -> Decision:
    """``include`` / ``exclude`` / ``maybe`` (any case), or an InputError naming the value."""
    return _parse(Decision, value, source)


def parse_stance(value: str, *, source: str = "stance") -> Stance:
    return _parse(Stance, value, source)


def parse_tag_action(value: str, *, source: str = "tag action") -> TagAction:
    return _parse(TagAction, value, source)


_E = TypeVar("_E", bound=StrEnum)


def _parse(enum: type[_E], value: str, source: str) -> _E:
    cleaned = value.strip().lower()
    for member in enum:
        if member.value == cleaned:
            return member
    allowed = ", ".join(m.value for m in enum)
    raise InputError(source, f"{value!r} is not one of {allowed}")


@dataclass(frozen=True)
class Event:
    """One row of the triage log, with the id of the event that undid it, if any."""

    id: int
    pmid: str
    kind: str
    actor: str
    at: datetime
    decision: str | None = None
    reason: str | None = None
    note: str | None = None
    claim_id: str | None = None
    stance: str | None = None
    tag_action: str | None = None
    previous_decision: str | None = None
    undoes_event_id: int | None = None
    undone_by: int | None = None

    @property
    def is_undo(self) -> bool:
        return self.undoes_event_id is not None

    def describe(self) -> str:
        """One line for ``hits history`` and the triage screen."""
        if self.is_undo:
            what = f"undo #{self.undoes_event_id}"
            if self.kind == EventKind.DECISION:
                what += (
                    f": {self.previous_decision or 'untriaged'} → {self.decision or 'untriaged'}"
                )
            elif self.kind == EventKind.STANCE:
                what += f": {self.claim_id} stance back to {self.stance or 'none'}"
            elif self.kind == EventKind.TAG:
                what += f": {self.claim_id} tag {self.tag_action}"
            return what
        if self.kind == EventKind.DECISION:
            what = f"{self.decision}"
            if self.reason:
                what += f" ({self.reason})"
        elif self.kind == EventKind.STANCE:
            what = f"{self.claim_id}: {self.stance}"
        elif self.kind == EventKind.TAG:
            what = f"{self.tag_action} tag {self.claim_id}"
        else:
            what = "note"
        if self.note:
            what += f": {self.note}"
        return what


@dataclass(frozen=True)
class CurrentDecision:
    """An article's current decision and the event that made it."""

    pmid: str
    decision: str
    reason: str | None
    actor: str
    at: datetime
    event_id: int


@dataclass
class TriageState:
    """What the log says about one article now (undone events left out)."""

    decision: CurrentDecision | None = None
    stances: dict[str, str] = field(default_factory=dict)  # claim id -> stance
    notes: list[str] = field(default_factory=list)  # oldest first


def history(bind: Connection | Engine, pmid: str) -> list[Event]:
    """Every event of the article, oldest first, each with who undid it if anyone did."""
    number = pmid_key(pmid)
    with reading(bind) as conn:
        article_id = conn.execute(
            select(ARTICLES.c.id).where(ARTICLES.c.pmid == number)
        ).scalar_one_or_none()
        if article_id is None:
            raise InputError(f"PMID {pmid}", "not in the database")
        rows = conn.execute(
            select(EVENTS).where(EVENTS.c.article_id == article_id).order_by(EVENTS.c.id)
        ).all()
    undone_by = {r.undoes_event_id: r.id for r in rows if r.undoes_event_id is not None}
    return [event_from_row(r, str(number), undone_by.get(r.id)) for r in rows]


def last_decision(
    bind: Connection | Engine, *, actor: str | None = None, pmid: str | None = None
) -> Event | None:
    """The latest decision event still in force, by ``actor`` and/or on ``pmid``."""
    conditions = [in_force(EventKind.DECISION)]
    if actor is not None:
        conditions.append(EVENTS.c.actor == actor)
    if pmid is not None:
        conditions.append(ARTICLES.c.pmid == pmid_key(pmid))
    with reading(bind) as conn:
        row = conn.execute(
            select(EVENTS, ARTICLES.c.pmid.label("article_pmid"))
            .join(ARTICLES, ARTICLES.c.id == EVENTS.c.article_id)
            .where(*conditions)
            .order_by(EVENTS.c.id.desc())
            .limit(1)
        ).one_or_none()
    return None if row is None else event_from_row(row, str(row.article_pmid), None)


def triage_states(
    bind: Connection | Engine, pmids: Iterable[str] | None = None
) -> dict[str, TriageState]:
    """PMID -> what the log says now, for ``pmids`` (default: every article with events)."""
    states: dict[str, TriageState] = {}
    with reading(bind) as conn:
        for pmid, row in events_in_force(conn, pmids):
            state = states.setdefault(pmid, TriageState())
            if row.kind == EventKind.DECISION:
                state.decision = CurrentDecision(
                    pmid, row.decision, row.reason, row.actor, row.at, row.id
                )
            elif row.kind == EventKind.STANCE:
                state.stances[row.claim_id] = row.stance
            if row.note:
                state.notes.append(row.note)
    return states


def current_decisions(
    bind: Connection | Engine, pmids: Iterable[str] | None = None
) -> dict[str, CurrentDecision]:
    """PMID -> current decision, for the articles that have one."""
    return {
        pmid: state.decision
        for pmid, state in triage_states(bind, pmids).items()
        if state.decision is not None
    }


def stance_counts(bind: Connection | Engine) -> dict[str, Counter[str]]:
    """Claim id -> articles the curators currently read as supports / contradicts / neutral."""
    counts: dict[str, Counter[str]] = {}
    for state in triage_states(bind).values():
        for claim, stance in state.stances.items():
            counts.setdefault(claim, Counter())[stance] += 1
    return counts


def curator_tags(bind: Connection | Engine, pmid: str) -> list[str]:
    """Claim ids a curator has tagged the article with."""
    with reading(bind) as conn:
        return list(
            conn.execute(
                select(TAGS.c.claim_id)
                .join(ARTICLES, ARTICLES.c.id == TAGS.c.article_id)
                .where(ARTICLES.c.pmid == pmid_key(pmid), TAGS.c.source == CURATOR_SOURCE)
                .order_by(TAGS.c.claim_id)
            ).scalars()
        )


def pmid_key(pmid: str) -> int:
    text = str(pmid).strip()
    if not text.isdigit() or int(text) <= 0:
        raise InputError("PMID", f"{pmid!r} is not a PMID")
    return int(text)


def in_force(kind: EventKind) -> Any:
    """Events of ``kind`` that are neither undos nor undone."""
    undo = EVENTS.alias("undo")
    undone = exists().where(
        undo.c.article_id == EVENTS.c.article_id, undo.c.undoes_event_id == EVENTS.c.id
    )
    return and_(EVENTS.c.kind == kind.value, EVENTS.c.undoes_event_id.is_(None), ~undone)


def events_in_force(
    conn: Connection, pmids: Iterable[str] | None
) -> Iterator[tuple[str, Row[Any]]]:
    """(PMID, event) for every event in force, oldest first per article."""
    base = select(EVENTS, ARTICLES.c.pmid.label("article_pmid")).join(
        ARTICLES, ARTICLES.c.id == EVENTS.c.article_id
    )
    if pmids is None:
        batches: Iterable[Any] = [base.order_by(EVENTS.c.id)]
    else:
        numbers = sorted({pmid_key(p) for p in pmids})
        batches = (
            base.where(ARTICLES.c.pmid.in_(chunk)).order_by(EVENTS.c.id)
            for chunk in chunks(numbers)
        )
    for query in batches:
        rows = conn.execute(query).all()
        undone = {r.undoes_event_id for r in rows if r.undoes_event_id is not None}
        for row in rows:
            if row.undoes_event_id is None and row.id not in undone:
                yield str(row.article_pmid), row


def event_from_row(row: Row[Any], pmid: str, undone_by: int | None) -> Event:
    return Event(
        id=row.id,
        pmid=pmid,
        kind=row.kind,
        actor=row.actor,
        at=row.at,
        decision=row.decision,
        reason=row.reason,
        note=row.note,
        claim_id=row.claim_id,
        stance=row.stance,
        tag_action=row.tag_action,
        previous_decision=row.previous_decision,
        undoes_event_id=row.undoes_event_id,
        undone_by=undone_by,
    )
