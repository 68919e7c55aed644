"""Triage without the loop: actions from the command line or a CSV file, all or nothing.

Every action is checked first (values, claims, that each PMID is stored), so
a bad line is reported with its file and line number before anything is
written; then all of them are applied in one write transaction.

The CSV needs a header with a ``pmid`` column and any of ``decision``,
``reason``, ``note``, ``claim``, ``stance``, ``tag``, ``untag``, ``by``
(empty cells are ignored). A note goes with the row's decision, else with
its stance, else it is a note on its own.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from .db import write_tx
from .errors import InputError
from .store._common import chunks
from .triage import (
    Decision,
    Event,
    Stance,
    TagAction,
    last_decision,
    record_decision,
    record_note,
    record_stance,
    tag_article,
    undo,
)
from .triage_log import ARTICLES, parse_decision, parse_stance, pmid_key

FILE_COLUMNS = ("pmid", "decision", "reason", "note", "claim", "stance", "tag", "untag", "by")


@dataclass(frozen=True)
class TriageAction:
    """What to record on one article; ``where`` names its source for error messages."""

    pmid: str
    where: str
    line: int | None = None
    decision: Decision | None = None
    reason: str | None = None
    note: str | None = None
    claim: str | None = None
    stance: Stance | None = None
    tag: str | None = None
    untag: str | None = None
    actor: str | None = None


def make_action(
    pmid: str,
    *,
    where: str,
    line: int | None = None,
    decision: str | None = None,
    reason: str | None = None,
    note: str | None = None,
    claim: str | None = None,
    stance: str | None = None,
    tag: str | None = None,
    untag: str | None = None,
    actor: str | None = None,
    known_claims: Collection[str] | None = None,
) -> TriageAction:
    """A checked action; InputError (naming ``where`` and ``line``) when it makes no sense."""

    def fail(message: str) -> InputError:
        return InputError(where, message, line=line, record=f"PMID {pmid}" if pmid else None)

    try:
        key = str(pmid_key(pmid))
        chosen_decision = parse_decision(decision) if decision else None
        chosen_stance = parse_stance(stance) if stance else None
    except InputError as exc:
        raise fail(exc.message) from exc
    if reason and chosen_decision is None:
        raise fail("a reason needs a decision")
    if reason and chosen_decision is not Decision.EXCLUDE:
        # Reasons are the exclusion reasons PRISMA counts; why one was kept goes in a note.
        raise fail(f"a reason is for exclusions, not {chosen_decision}: put it in a note")
    if chosen_stance is not None and not claim:
        raise fail("a stance needs a claim")
    if claim and chosen_stance is None:
        raise fail(f"claim {claim} needs a stance (supports, contradicts or neutral)")
    if not (chosen_decision or note or chosen_stance or tag or untag):
        raise fail("nothing to record: give a decision, note, stance or tag")
    for claim_id in (claim, tag, untag):
        if claim_id and known_claims is not None and claim_id not in known_claims:
            raise fail(f"unknown claim {claim_id!r} (not in claims.toml)")
    return TriageAction(
        pmid=key,
        where=where,
        line=line,
        decision=chosen_decision,
        reason=reason or None,
        note=note or None,
        claim=claim or None,
        stance=chosen_stance,
        tag=tag or None,
        untag=untag or None,
        actor=actor or None,
    )


def read_actions(path: Path, *, known_claims: Collection[str] | None = None) -> list[TriageAction]:
    """The actions of a decisions CSV, every row checked."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:  # -sig: Excel's BOM
            reader = csv.DictReader(handle)
            header = [name.strip().lower() for name in reader.fieldnames or []]
            unknown = [name for name in header if name not in FILE_COLUMNS]
            if "pmid" not in header:
                raise InputError(path, "needs a header row with a pmid column", line=1)
            if unknown:
                raise InputError(
                    path,
                    f"unknown column {', '.join(unknown)} (known: {', '.join(FILE_COLUMNS)})",
                    line=1,
                )
            reader.fieldnames = header
            actions = []
            for row in reader:
                cells = {k: (v or "").strip() for k, v in row.items() if k is not None}
                if not any(cells.values()):
                    continue  # a blank line
                actions.append(
                    make_action(
                        cells.get("pmid", ""),
                        where=str(path),
                        line=reader.line_num,
                        decision=cells.get("decision"),
                        reason=cells.get("reason"),
                        note=cells.get("note"),
                        claim=cells.get("claim"),
                        stance=cells.get("stance"),
                        tag=cells.get("tag"),
                        untag=cells.get("untag"),
                        actor=cells.get("by"),
                        known_claims=known_claims,
                    )
                )
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text ({exc.reason})") from exc
    except csv.Error as exc:
        raise InputError(path, f"not a CSV file ({exc})") from exc
    return actions


def apply_actions(
    engine: Engine, actions: Sequence[TriageAction], *, actor: str, now: datetime | None = None
) -> Counter[str]:
    """Record every action in one transaction; counts of what was recorded.

    ``actor`` is used where an action names nobody. Nothing is written if any
    PMID is not stored or any action is refused (e.g. a tag that is already there).
    """
    at = now or datetime.now(UTC)
    _require_stored(engine, actions)
    counts: Counter[str] = Counter()
    with write_tx(engine) as conn:
        for action in actions:
            who = action.actor or actor
            try:
                note = action.note
                if action.decision is not None:
                    record_decision(
                        conn,
                        action.pmid,
                        action.decision,
                        actor=who,
                        reason=action.reason,
                        note=note,
                        now=at,
                    )
                    counts[action.decision.value] += 1
                    note = None
                if action.stance is not None and action.claim is not None:
                    record_stance(
                        conn, action.pmid, action.claim, action.stance, actor=who, note=note, now=at
                    )
                    counts["stance"] += 1
                    note = None
                for claim_id, change in (
                    (action.tag, TagAction.ADD),
                    (action.untag, TagAction.REMOVE),
                ):
                    if claim_id:
                        tag_article(conn, action.pmid, claim_id, change, actor=who, now=at)
                        counts[f"tag {change.value}"] += 1
                if note is not None:
                    record_note(conn, action.pmid, note, actor=who, now=at)
                    counts["note"] += 1
            except InputError as exc:
                raise InputError(
                    action.where, exc.message, line=action.line, record=f"PMID {action.pmid}"
                ) from exc
    return counts


def _require_stored(engine: Engine, actions: Iterable[TriageAction]) -> None:
    wanted = {int(a.pmid) for a in actions}
    stored: set[int] = set()
    with engine.connect() as conn:
        for chunk in chunks(sorted(wanted)):
            stored |= set(
                conn.execute(select(ARTICLES.c.pmid).where(ARTICLES.c.pmid.in_(chunk))).scalars()
            )
    for action in actions:
        if int(action.pmid) not in stored:
            raise InputError(
                action.where, "not in the database", line=action.line, record=f"PMID {action.pmid}"
            )


def undo_decisions(engine: Engine, pmids: Sequence[str], *, actor: str) -> list[Event]:
    """Undo the decision in force on each PMID (by whoever made it), in one transaction.

    Returns the undo events. A PMID with no decision in force is refused and
    nothing is undone.
    """
    at = datetime.now(UTC)
    undone: list[Event] = []
    with write_tx(engine) as conn:
        for pmid in pmids:
            latest = last_decision(conn, pmid=pmid)
            if latest is None:
                raise InputError("command line", "has no decision to undo", record=f"PMID {pmid}")
            undone.append(undo(conn, latest.id, actor=actor, now=at))
    return undone
