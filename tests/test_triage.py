"""Curator actions as an append-only log, on SQLite and PostgreSQL (``engine`` runs both)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from triage_data import T0, add_tag, article, decision_column, save, set_tagging, trial

from litwatch.db import write_tx
from litwatch.errors import InputError
from litwatch.models import Tag, TriageEvent
from litwatch.store import list_articles, mark_deleted
from litwatch.triage import (
    Decision,
    curator_tags,
    current_decisions,
    history,
    last_decision,
    record_decision,
    record_note,
    record_stance,
    stance_counts,
    tag_article,
    triage_queue,
    triage_states,
    undo,
)

EVENTS = TriageEvent.__table__
TAGS = Tag.__table__
T1, T2, T3, T4 = (T0 + timedelta(hours=h) for h in (1, 2, 3, 4))


@pytest.fixture
def db(engine: Engine) -> Engine:
    save(engine, article("101"), article("102"), article("103"))
    return engine


def _event_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(EVENTS)).scalar_one())


# -- decisions ------------------------------------------------------------------------


def test_a_decision_is_an_event_and_becomes_the_articles_current_decision(db: Engine) -> None:
    event = record_decision(
        db, "101", "exclude", actor="ana", reason="wrong population", note="adults only", now=T1
    )
    assert (event.kind, event.decision, event.reason, event.note) == (
        "decision",
        "exclude",
        "wrong population",
        "adults only",
    )
    assert (event.actor, event.at, event.previous_decision) == ("ana", T1, None)
    assert decision_column(db, "101") == ("exclude", T1)
    assert [s.pmid for s in list_articles(db, untriaged=True, order="pmid")] == ["102", "103"]

    decided = current_decisions(db)
    assert set(decided) == {"101"}
    assert (decided["101"].decision, decided["101"].reason, decided["101"].actor) == (
        "exclude",
        "wrong population",
        "ana",
    )


def test_a_change_of_mind_appends_and_remembers_the_previous_decision(db: Engine) -> None:
    record_decision(db, "101", Decision.MAYBE, actor="ana", now=T1)
    record_decision(db, "101", Decision.INCLUDE, actor="ben", now=T2)

    events = history(db, "101")
    assert [(e.decision, e.previous_decision, e.actor, e.at) for e in events] == [
        ("maybe", None, "ana", T1),
        ("include", "maybe", "ben", T2),
    ]
    assert decision_column(db, "101") == ("include", T2)
    assert _event_count(db) == 2  # nothing rewritten


def test_undo_restores_the_decision_before_and_untriages_when_none_is_left(db: Engine) -> None:
    first = record_decision(db, "101", "include", actor="ana", now=T1)
    second = record_decision(db, "101", "exclude", actor="ana", reason="duplicate", now=T2)

    undo_second = undo(db, second.id, actor="ana", now=T3)
    assert (undo_second.undoes_event_id, undo_second.previous_decision, undo_second.decision) == (
        second.id,
        "exclude",
        "include",
    )
    assert decision_column(db, "101") == ("include", T1)

    undo(db, first.id, actor="ana", now=T4)
    assert decision_column(db, "101") == (None, None)
    assert "101" in [s.pmid for s in list_articles(db, untriaged=True)]
    assert "101" not in current_decisions(db)

    events = history(db, "101")
    assert [(e.id, e.undone_by) for e in events[:2]] == [
        (first.id, events[3].id),
        (second.id, events[2].id),
    ]
    assert events[3].describe() == f"undo #{first.id}: include → untriaged"


def test_an_event_cannot_be_undone_twice_and_an_undo_cannot_be_undone(db: Engine) -> None:
    event = record_decision(db, "101", "include", actor="ana", now=T1)
    reverted = undo(db, event.id, actor="ana", now=T2)
    with pytest.raises(InputError, match=f"already undone by event {reverted.id}"):
        undo(db, event.id, actor="ana", now=T3)
    with pytest.raises(InputError, match="is an undo itself"):
        undo(db, reverted.id, actor="ana", now=T3)
    with pytest.raises(InputError, match="no such triage event"):
        undo(db, 999_999, actor="ana", now=T3)


def test_last_decision_is_the_actors_latest_decision_still_in_force(db: Engine) -> None:
    record_decision(db, "101", "include", actor="ana", now=T1)
    latest = record_decision(db, "102", "exclude", actor="ana", now=T2)
    record_decision(db, "103", "maybe", actor="ben", now=T3)

    found = last_decision(db, actor="ana")
    assert found is not None
    assert (found.id, found.pmid) == (latest.id, "102")
    undo(db, latest.id, actor="ana", now=T4)
    found = last_decision(db, actor="ana")
    assert found is not None
    assert found.pmid == "101"
    assert last_decision(db, actor="cleo") is None


def test_a_decision_undone_by_another_curator_leaves_the_later_decision_current(
    db: Engine,
) -> None:
    mine = record_decision(db, "101", "include", actor="ana", now=T1)
    record_decision(db, "101", "exclude", actor="ben", reason="wrong design", now=T2)
    undo(db, mine.id, actor="ana", now=T3)
    assert decision_column(db, "101") == ("exclude", T2)


# -- stances, notes, curator tags ------------------------------------------------------


def test_stance_counts_count_only_current_stances(db: Engine) -> None:
    record_stance(db, "101", "plausible-mechanism", "supports", actor="ana", now=T1)
    record_stance(db, "101", "plausible-mechanism", "contradicts", actor="ben", now=T2)
    record_stance(db, "102", "plausible-mechanism", "supports", actor="ana", now=T1)
    wrong = record_stance(db, "103", "plausible-mechanism", "neutral", actor="ana", now=T1)
    record_stance(db, "103", "trials-needed", "supports", actor="ana", now=T1)
    undo(db, wrong.id, actor="ana", now=T3)

    assert stance_counts(db) == {
        "plausible-mechanism": Counter(contradicts=1, supports=1),
        "trials-needed": Counter(supports=1),
    }
    assert triage_states(db, ["101"])["101"].stances == {"plausible-mechanism": "contradicts"}


def test_notes_are_kept_in_order_and_an_undone_note_is_hidden(db: Engine) -> None:
    record_note(db, "101", "Check the full text.", actor="ana", now=T1)
    slip = record_note(db, "101", "wrong article", actor="ana", now=T2)
    record_decision(db, "101", "maybe", actor="ana", note="Protocol only.", now=T3)
    undo(db, slip.id, actor="ana", now=T4)

    assert triage_states(db, ["101"])["101"].notes == ["Check the full text.", "Protocol only."]
    with pytest.raises(InputError, match="a note needs some text"):
        record_note(db, "101", "   ", actor="ana", now=T1)


def test_curator_tags_are_tag_rows_beside_rule_tags_and_logged(db: Engine) -> None:
    add_tag(db, "101", "plausible-mechanism")  # a rule tag on the same claim
    tag_article(db, "101", "plausible-mechanism", "add", actor="ana", note="MEP data", now=T1)
    tag_article(db, "101", "neurorehab-window", "add", actor="ana", now=T1)
    assert curator_tags(db, "101") == ["neurorehab-window", "plausible-mechanism"]

    with pytest.raises(InputError, match="already has the curator tag plausible-mechanism"):
        tag_article(db, "101", "plausible-mechanism", "add", actor="ben", now=T2)
    removed = tag_article(db, "101", "neurorehab-window", "remove", actor="ben", now=T2)
    assert curator_tags(db, "101") == ["plausible-mechanism"]
    with pytest.raises(InputError, match="has no curator tag neurorehab-window"):
        tag_article(db, "101", "neurorehab-window", "remove", actor="ben", now=T2)

    undo(db, removed.id, actor="ben", now=T3)  # the tag comes back
    assert curator_tags(db, "101") == ["neurorehab-window", "plausible-mechanism"]

    with db.connect() as conn:
        sources = conn.execute(
            select(TAGS.c.source, TAGS.c.reason)
            .where(TAGS.c.claim_id == "plausible-mechanism")
            .order_by(TAGS.c.source)
        ).all()
    assert [(s.source, s.reason) for s in sources] == [
        ("curator", {"by": "ana", "note": "MEP data"}),
        ("rule", {"rule": "plausible-mechanism"}),
    ]
    assert [(e.kind, e.tag_action, e.claim_id) for e in history(db, "101")] == [
        ("tag", "add", "plausible-mechanism"),
        ("tag", "add", "neurorehab-window"),
        ("tag", "remove", "neurorehab-window"),
        ("tag", "add", "neurorehab-window"),
    ]


def test_an_older_tag_change_cannot_be_undone_past_a_later_one(db: Engine) -> None:
    added = tag_article(db, "101", "trials-needed", "add", actor="ana", now=T1)
    tag_article(db, "101", "trials-needed", "remove", actor="ana", now=T2)
    with pytest.raises(InputError, match="a later change of tag trials-needed"):
        undo(db, added.id, actor="ana", now=T3)
    assert curator_tags(db, "101") == []


# -- refusals and transactions ---------------------------------------------------------


def test_bad_input_is_refused_with_the_value_and_nothing_is_written(db: Engine) -> None:
    with pytest.raises(InputError, match="'accept' is not one of include, exclude, maybe"):
        record_decision(db, "101", "accept", actor="ana", now=T1)
    with pytest.raises(InputError, match="PMID 999: not in the database"):
        record_decision(db, "999", "include", actor="ana", now=T1)
    with pytest.raises(InputError, match="'agrees' is not one of supports"):
        record_stance(db, "101", "trials-needed", "agrees", actor="ana", now=T1)
    with pytest.raises(InputError, match="must be named"):
        record_decision(db, "101", "include", actor=" ", now=T1)
    with pytest.raises(InputError, match="'abc' is not a PMID"):
        history(db, "abc")
    assert _event_count(db) == 0


def test_actions_on_one_connection_commit_or_roll_back_together(db: Engine) -> None:
    def two_decisions_one_bad() -> None:
        with write_tx(db) as conn:
            record_decision(conn, "101", "include", actor="ana", now=T1)
            record_decision(conn, "999", "include", actor="ana", now=T1)

    with pytest.raises(InputError):
        two_decisions_one_bad()
    assert _event_count(db) == 0
    assert decision_column(db, "101") == (None, None)

    with write_tx(db) as conn:
        record_decision(conn, "101", "include", actor="ana", now=T1)
        record_decision(conn, "102", "exclude", actor="ana", now=T1)
    assert set(current_decisions(db)) == {"101", "102"}


# -- the queue ---------------------------------------------------------------------------


def test_the_queue_puts_newest_trials_first_then_claims_then_the_rest(engine: Engine) -> None:
    save(
        engine,
        trial("201", "NCT00000201"),
        article("202"),
        article("203"),
        trial("204", "NCT00000204"),
        article("205"),
        article("206"),
        article("207"),
        step=timedelta(hours=1),  # first seen in PMID order: 207 is the newest
    )
    for pmid in ("201", "204"):
        set_tagging(engine, pmid, evidence_level="rct", is_trial=True)
    add_tag(engine, "202", "trials-needed")
    add_tag(engine, "203", "plausible-mechanism")
    add_tag(engine, "205", "trials-needed")
    add_tag(engine, "205", "other-movement-disorders")
    add_tag(engine, "206", "plausible-mechanism", source="curator")

    assert triage_queue(engine, limit=10) == ["204", "201", "205", "206", "203", "202", "207"]
    assert triage_queue(engine, limit=3) == ["204", "201", "205"]

    record_decision(engine, "204", "include", actor="ana", now=T1)
    mark_deleted(engine, ["206"], now=T1)
    skipped = {s.id for s in list_articles(engine) if s.pmid == "205"}
    assert triage_queue(engine, limit=10, skip=skipped) == ["201", "203", "202", "207"]
