"""PRISMA 2020 flow counts on a database with known hits and decisions (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from triage_data import T0, add_hits, article, save

from litwatch.prisma import PrismaFlow, QueryCount, prisma_flow, render_flow
from litwatch.store import mark_deleted
from litwatch.triage import record_decision, undo

WEEK = timedelta(days=7)


def decide(engine: Engine, pmid: str, decision: str, reason: str | None = None) -> None:
    record_decision(engine, pmid, decision, actor="ana", reason=reason, now=T0 + timedelta(hours=1))


@pytest.fixture
def review(engine: Engine) -> Engine:
    """Three queries over ten articles; 7 and 8 are one work (same DOI).

    qA finds 1 2 3 7 9 (9 twice, in two runs), qB 1 4 5 11, qC 5 6 8.
    Decisions: 1 include, 2 3 exclude (wrong population), 4 exclude (wrong design),
    5 maybe, 6 none, 7 none + 8 include, 9 exclude (no reason), 11 exclude (wrong
    intervention), and a first decision on 6 that was undone.
    """
    save(engine, *(article(p) for p in ("1", "2", "4", "5", "6", "9", "11")))
    save(engine, article("3", doi="10.1000/three"))
    save(engine, article("7", doi="10.1000/same"), article("8", doi="10.1000/SAME"))
    add_hits(engine, "qA", ["1", "2", "3", "7", "9"])
    add_hits(engine, "qA", ["9"], started=T0 + timedelta(hours=2))
    add_hits(engine, "qB", ["1", "4", "5", "11"])
    add_hits(engine, "qC", ["5", "6", "8"])
    decide(engine, "1", "include")
    decide(engine, "2", "exclude", "wrong population")
    decide(engine, "3", "exclude", "wrong population")
    decide(engine, "4", "exclude", "wrong design")
    decide(engine, "5", "maybe")
    undo(engine, record_decision(engine, "6", "include", actor="ana").id, actor="ana")
    decide(engine, "8", "include")
    decide(engine, "9", "exclude")
    decide(engine, "11", "exclude", "wrong intervention")
    return engine


def test_every_number_of_the_flow(review: Engine) -> None:
    flow = prisma_flow(review)

    assert flow.queries == (
        QueryCount("qA", records=5, searches=2),
        QueryCount("qB", records=4, searches=1),
        QueryCount("qC", records=3, searches=1),
    )
    assert flow.identified == 12
    assert flow.duplicates_across_queries == 2  # 1 (qA, qB) and 5 (qB, qC)
    assert flow.duplicates_same_work == 1  # 7 and 8
    assert flow.duplicates_previously_identified == 0
    assert flow.duplicates_removed == 3
    assert flow.removed_deleted == 0
    assert flow.removed_before_screening == 3
    assert flow.screened == 8  # works with a decision; 6 has none (its decision was undone)
    assert flow.awaiting == 1
    assert flow.identified == flow.duplicates_removed + flow.screened + flow.awaiting
    assert flow.excluded == 5
    assert flow.excluded_by_reason == {
        "wrong population": 2,
        "(no reason given)": 1,
        "wrong design": 1,
        "wrong intervention": 1,
    }
    assert (flow.included, flow.maybe, flow.awaiting) == (2, 1, 1)  # 1 and the 7/8 work; 5; 6
    assert all(flow.checks.values())
    assert (flow.first_search, flow.last_search) == (T0, T0 + timedelta(hours=2))


def test_a_work_counts_once_with_its_strongest_decision(review: Engine) -> None:
    decide(review, "7", "exclude", "duplicate")  # the other record of an included work
    flow = prisma_flow(review)
    assert (flow.included, flow.excluded, flow.screened, flow.awaiting) == (2, 5, 8, 1)
    assert "duplicate" not in flow.excluded_by_reason


def test_a_record_deleted_from_pubmed_and_never_triaged_is_removed_for_that_reason(
    review: Engine,
) -> None:
    save(review, article("10"))
    add_hits(review, "qC", ["10"])
    mark_deleted(review, ["10", "11"], now=T0 + timedelta(hours=3))  # 11 was already excluded
    flow = prisma_flow(review)
    assert (flow.identified, flow.removed_deleted, flow.screened, flow.excluded) == (13, 1, 8, 5)
    assert flow.awaiting == 1
    assert flow.identified == (
        flow.duplicates_removed + flow.removed_deleted + flow.screened + flow.awaiting
    )
    assert all(flow.checks.values())


def test_an_update_counts_only_its_own_searches_and_removes_earlier_finds(review: Engine) -> None:
    later = T0 + WEEK
    save(review, article("20"), article("21", doi="10.1000/three"), article("22"), at=later)
    # 21 is the same work as 3 (same DOI), which the first searches found.
    add_hits(review, "qA", ["2", "20", "22"], started=later)  # 2 again: the windows overlap
    add_hits(review, "qB", ["21", "22"], started=later)
    record_decision(review, "20", "include", actor="ben", now=later)
    record_decision(review, "22", "exclude", actor="ben", reason="wrong design", now=later)

    flow = prisma_flow(review, since=later.date())
    assert flow.since == later.replace(hour=0)
    assert flow.queries == (QueryCount("qA", 3, 1), QueryCount("qB", 2, 1))
    assert flow.identified == 5
    assert flow.duplicates_across_queries == 1  # 22
    assert flow.duplicates_previously_identified == 2  # 2 itself, 21 as the same work as 3
    assert flow.duplicates_same_work == 0
    assert (flow.screened, flow.awaiting) == (2, 0)
    assert flow.identified == flow.duplicates_removed + flow.screened + flow.awaiting
    assert (flow.included, flow.excluded, flow.excluded_by_reason) == (1, 1, {"wrong design": 1})
    assert all(flow.checks.values())

    everything = prisma_flow(review)
    assert everything.identified == 12 + 4  # qA's second find of 2 counts once for qA
    assert all(everything.checks.values())


def test_the_diagram_and_json_show_the_same_numbers(review: Engine) -> None:
    flow = prisma_flow(review)
    text = render_flow(flow)
    assert text.splitlines()[0] == "PRISMA 2020 flow (all searches, run 2026-11-02 to 2026-11-02)"
    for expected in (
        "│ Records identified from PubMed: 12 │",
        "│   qA: 5",
        "Records removed before screening: 3",
        "Found by more than one query: 2",
        "Same work under another PMID: 1",
        "│ Records to screen: 9 │ ──▶ │ Awaiting screening (no decision yet): 1 │",
        "│ Records screened: 8 │ ──▶ │ Records excluded: 5",
        "wrong population: 2",
        "Maybe (to be decided): 1",
        "│ Records included: 2 │",
        "Check: identified = duplicates removed + other removals + screened + awaiting: ok",
        "Check: screened = excluded + maybe + included: ok",
        "       12 = 3 + 0 + 8 + 1; 8 = 5 + 1 + 2",
    ):
        assert expected in text, expected

    data = json.loads(json.dumps(flow.to_dict()))
    assert data["identified"] == 12
    assert data["duplicates_removed"] == 3
    assert (data["removed_before_screening"], data["screened"], data["awaiting"]) == (3, 8, 1)
    assert data["queries"][0] == {"name": "qA", "records": 5, "searches": 2}
    assert data["excluded_by_reason"]["wrong population"] == 2
    assert set(data["checks"].values()) == {True}


def test_numbers_that_do_not_add_up_are_reported() -> None:
    broken = PrismaFlow(
        since=None,
        first_search=None,
        last_search=None,
        queries=(),
        identified=5,
        duplicates_across_queries=1,
        duplicates_same_work=0,
        duplicates_previously_identified=0,
        removed_deleted=0,
        screened=3,
        excluded=1,
        excluded_by_reason={"x": 1},
        included=2,
    )
    checks = broken.checks
    assert checks["identified = duplicates removed + other removals + screened + awaiting"] is False
    assert checks["screened = excluded + maybe + included"] is True
    assert "DOES NOT ADD UP" in render_flow(broken)


def test_an_empty_database_gives_zeroes_that_add_up(engine: Engine) -> None:
    flow = prisma_flow(engine)
    assert (flow.identified, flow.screened, flow.queries) == (0, 0, ())
    assert all(flow.checks.values())
    assert "PRISMA 2020 flow (all searches)" in render_flow(flow)


def test_nothing_decided_is_awaiting_not_screened(engine: Engine) -> None:
    """The demo's case: hits found, no decision yet: nothing has been screened."""
    save(engine, *(article(p) for p in ("1", "2", "3")))
    add_hits(engine, "qA", ["1", "2"])
    add_hits(engine, "qB", ["2", "3"])
    flow = prisma_flow(engine)
    assert (flow.identified, flow.duplicates_removed, flow.screened, flow.awaiting) == (4, 1, 0, 3)
    assert (flow.excluded, flow.maybe, flow.included) == (0, 0, 0)
    assert all(flow.checks.values())
    text = render_flow(flow)
    assert "│ Records screened: 0 │" in text
    assert "Awaiting screening (no decision yet): 3" in text
