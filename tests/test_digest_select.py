"""What goes into a digest: order, grouping, exclusions, updates, scoreboard, ledger."""

from __future__ import annotations

from dataclasses import replace

import pytest
from digest_fixtures import (
    CLAIMS,
    SEND1,
    SEND2,
    WEEK1,
    add_search,
    seed_week1,
    seed_week2,
    week1_articles,
)
from sqlalchemy import Engine

from litwatch.claims import load_catalogue
from litwatch.config import DigestSettings, Settings
from litwatch.digest import build_digest
from litwatch.digest_model import Digest
from litwatch.digest_select import select_digest
from litwatch.digest_send import claim_refs, send_digest
from litwatch.mailer import OutboxTransport
from litwatch.resources import bundled_dir
from litwatch.store import save_articles
from litwatch.store.tags import retag
from litwatch.triage import record_stance

WEEKLY = DigestSettings(recipients=("ana@example.org",))


def _select(engine: Engine, settings: DigestSettings = WEEKLY, now=SEND1) -> Digest:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return select_digest(conn, settings, now=now, claims=CLAIMS)


def _pmids(entries) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.pmid for e in entries]


def test_trials_first_then_each_paper_once_under_its_first_claim(engine: Engine) -> None:
    seed_week1(engine)
    digest = _select(engine)
    # The RCT before the protocol: strongest evidence first.
    assert _pmids(digest.new_trials) == ["90000001", "90000002"]
    groups = {(g.claim.id if g.claim else None): _pmids(g.entries) for g in digest.groups}
    assert groups == {
        "plausible-mechanism": ["90000004"],
        "other-movement-disorders": ["90000003", "90000006"],
        None: ["90000005"],
    }
    # Catalogue order, "no claim" last.
    assert [g.claim.id if g.claim else None for g in digest.groups] == [
        "plausible-mechanism",
        "other-movement-disorders",
        None,
    ]
    mouse = digest.groups[0].entries[0]
    assert [c.id for c in mouse.claims] == ["plausible-mechanism", "other-movement-disorders"]
    assert mouse.queries == ("ketamine-focal-dystonia", "nmda-movement-disorders")
    every = _pmids(digest.new_entries)
    assert len(every) == len(set(every))
    # Excluded by a curator, or imported without any query: not digest material.
    assert "90000007" not in every
    assert "90000008" not in every
    counts = digest.counts
    assert (counts.new_trials, counts.new_papers, counts.updated, counts.retracted) == (2, 4, 0, 1)


def test_header_lists_searches_and_failures_since_the_last_digest(engine: Engine) -> None:
    seed_week1(engine)
    digest = _select(engine)
    activity = {q.name: (q.searches, q.last_status, q.found, q.new) for q in digest.queries}
    assert activity["ketamine-focal-dystonia"] == (2, "ok", 3, 3)
    assert activity["nmda-neurorehabilitation"] == (1, "failed", 0, 0)
    failures = {f.name: f for f in digest.failures}
    assert failures["ketamine-focal-dystonia"].recovered is True
    assert failures["ketamine-focal-dystonia"].error.startswith("RetriesExhausted")
    assert "traceback" not in failures["ketamine-focal-dystonia"].error  # first line only
    assert failures["nmda-neurorehabilitation"].recovered is False
    assert digest.first is True
    assert digest.period_start == WEEK1.replace(minute=0)  # the first search
    assert digest.period_end == SEND1


def test_header_counts_a_record_new_to_a_query_once(engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Both windows of a run find 90000001, each counting it in new_count (new to the
    database in that window); a later run finds it again. The header says 1 new, once."""
    seed_week1(engine)
    t = WEEK1.replace(minute=20)
    add_search(engine, "two-windows", t, count=1, new=1, pmids=["90000001"])
    add_search(engine, "two-windows", t, count=1, new=1, pmids=["90000001"], date_field="mdat")
    activity = {q.name: (q.searches, q.found, q.new) for q in _select(engine).queries}
    assert activity["two-windows"] == (2, 2, 1)  # PubMed returned it twice; new once
    assert activity["ketamine-crps"] == (1, 2, 2)  # 90000001 is new to each query that finds it

    settings = Settings(outbox_dir=tmp_path, digests=(WEEKLY,))
    send_digest(engine, settings, now=SEND1, claims=CLAIMS, transport=OutboxTransport(tmp_path))
    add_search(engine, "two-windows", SEND1.replace(hour=7), count=1, new=1, pmids=["90000001"])
    activity = {q.name: (q.searches, q.found, q.new) for q in _select(engine, now=SEND2).queries}
    assert activity["two-windows"] == (1, 1, 0)  # found again, not new to the query


def test_second_digest_has_only_what_is_new_and_updates_to_what_was_sent(
    engine: Engine, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    seed_week1(engine)
    settings = Settings(outbox_dir=tmp_path, digests=(WEEKLY,))
    sent = send_digest(
        engine, settings, now=SEND1, claims=CLAIMS, transport=OutboxTransport(tmp_path)
    )
    assert sent.status == "sent"
    seed_week2(engine)
    digest = _select(engine, now=SEND2)
    assert _pmids(digest.new_trials) == ["90000010"]
    assert _pmids(digest.new_entries) == ["90000010", "90000011"]
    updates = [(u.entry.pmid, u.item_kind) for u in digest.updates]
    # 90000006 was already retracted when first sent: no second report.
    assert updates == [
        ("90000004", "retracted"),
        ("90000003", "erratum"),
        ("90000002", "linked:90000010"),
    ]
    linked = digest.updates[2]
    assert linked.shared_ids == ("ISRCTN12345678",)
    assert linked.linked is not None
    assert linked.linked.pmid == "90000010"
    assert all(u.first_sent == SEND1 for u in digest.updates)
    assert digest.period_start == SEND1
    assert digest.period_end == SEND2
    assert digest.first is False
    assert digest.failures == ()  # the week-1 failures were reported in week 1
    assert {q.name for q in digest.queries} == {
        "ketamine-focal-dystonia",
        "nmda-movement-disorders",
    }


def test_scoreboard_counts_evidence_per_summary_claim(engine: Engine) -> None:
    seed_week1(engine)
    digest = _select(engine)
    rows = {r.claim.id: r for r in digest.scoreboard}
    # Summary claims only, in catalogue order.
    assert list(rows) == [
        "established-treatment",
        "plausible-mechanism",
        "other-movement-disorders",
        "trials-needed",
    ]
    trials = rows["trials-needed"]
    assert (trials.total, trials.trials, trials.new) == (2, 2, 2)
    assert dict(trials.by_level) == {"rct": 1, "trial-protocol": 1}
    other = rows["other-movement-disorders"]
    # The retracted review is counted apart; the rule and curator tags count once.
    assert (other.total, other.retracted, other.new) == (2, 1, 3)
    assert dict(other.by_level) == {"case-report": 1, "animal": 1}
    # Evidence includes imported papers (they are evidence, just not news).
    assert rows["plausible-mechanism"].total == 2
    assert trials.stances == ()


def test_scoreboard_shows_the_curators_current_stances(engine: Engine) -> None:
    seed_week1(engine)
    record_stance(engine, "90000001", "trials-needed", "supports", actor="ana", now=SEND1)
    record_stance(engine, "90000002", "trials-needed", "contradicts", actor="ana", now=SEND1)
    record_stance(engine, "90000002", "trials-needed", "supports", actor="bo", now=SEND1)
    rows = {r.claim.id: r for r in _select(engine).scoreboard}
    assert rows["trials-needed"].stances == (("supports", 2),)  # the latest stance counts
    assert rows["established-treatment"].stances == ()


def test_max_entries_keeps_trials_and_holds_the_rest_for_the_next_digest(
    engine: Engine, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    seed_week1(engine)
    small = replace(WEEKLY, max_entries=3)
    digest = _select(engine, small)
    assert _pmids(digest.new_trials) == ["90000001", "90000002"]
    assert len(digest.new_entries) == 3
    assert digest.held_back == 3
    settings = Settings(outbox_dir=tmp_path, digests=(small,))
    outbox = OutboxTransport(tmp_path)
    assert send_digest(engine, settings, now=SEND1, claims=CLAIMS, transport=outbox).entries == 3
    rest = _select(engine, small, now=SEND2)
    assert rest.held_back == 0
    assert sorted(_pmids(rest.new_entries)) == sorted(
        {"90000003", "90000004", "90000005", "90000006"} - set(_pmids(digest.new_entries))
    )


@pytest.mark.parametrize(
    ("send_when", "expected"), [("new-trials", False), ("new-hits", True), ("always", True)]
)
def test_send_policy_without_new_trials(engine: Engine, send_when: str, expected: bool) -> None:
    seed_week1(engine)
    policy = replace(WEEKLY, send_when=send_when)
    digest = build_digest(engine, policy, now=SEND1, claims=CLAIMS)
    assert digest is not None  # two trials: every policy sends
    # Without the trials, only new-hits and always still send.
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE articles SET is_trial = false")
    assert (build_digest(engine, policy, now=SEND1, claims=CLAIMS) is not None) is expected


def test_without_a_catalogue_claims_show_by_id(engine: Engine) -> None:
    seed_week1(engine)
    with engine.connect() as conn:
        digest = select_digest(conn, WEEKLY, now=SEND1)
    # Claim ids for labels, in id order: the mouse paper's first claim is now
    # "other-movement-disorders".
    assert [(g.claim.label if g.claim else None) for g in digest.groups] == [
        "other-movement-disorders",
        None,
    ]
    # No sections known: the scoreboard covers no claim rather than guessing.
    assert digest.scoreboard == ()


def test_a_trial_alert_carries_only_trials(engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    seed_week1(engine)
    alert = replace(WEEKLY, name="trial-alert", only_trials=True)
    digest = _select(engine, alert)
    assert _pmids(digest.new_entries) == ["90000001", "90000002"]
    assert digest.groups == ()
    settings = Settings(digests=(alert,))
    send_digest(engine, settings, now=SEND1, claims=CLAIMS, transport=OutboxTransport(tmp_path))
    seed_week2(engine)
    later = _select(engine, alert, now=SEND2)
    assert _pmids(later.new_entries) == ["90000010"]
    # News only about what it sent: the protocol's results, not the mouse study's retraction.
    assert [(u.entry.pmid, u.item_kind) for u in later.updates] == [("90000002", "linked:90000010")]


def test_with_the_shipped_claims_and_the_real_tagger(engine: Engine) -> None:
    """The hand-written tags above keep the golden files stable; here the tagger decides."""
    articles = week1_articles()
    save_articles(engine, articles, now=WEEK1)
    add_search(engine, "all", WEEK1, count=len(articles), pmids=[a.pmid for a in articles])
    catalogue = load_catalogue(bundled_dir("queries") / "claims.toml")
    assert retag(engine, catalogue, now=WEEK1) == len(articles)
    claims = claim_refs(catalogue)
    with engine.connect() as conn:
        digest = select_digest(conn, WEEKLY, now=SEND1, claims=claims)
    # Trials from the tagger: a trial publication type and a registry number.
    trials = {e.pmid: e for e in digest.new_trials}
    assert set(trials) == {"90000001", "90000002"}
    assert trials["90000001"].registry_ids == ("NCT01234567",)
    assert trials["90000001"].evidence_level == "rct"
    # Each paper sits under its first claim in catalogue order, with the others listed.
    order = [c.id for c in claims]
    for group in digest.groups:
        for entry in group.entries:
            ids = [c.id for c in entry.claims]
            assert ids == sorted(ids, key=order.index)
            assert (group.claim.id if group.claim else None) == (ids[0] if ids else None)
            # Every rule tag says which words matched where.
            assert all(t.reason for t in entry.tags if t.source == "rule")
    assert "plausible-mechanism" in [g.claim.id for g in digest.groups if g.claim]
    labels = {r.claim.id: r.claim.label for r in digest.scoreboard}
    assert labels["trials-needed"] == catalogue.get("trials-needed").label
