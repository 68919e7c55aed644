"""``report claims``: per claim, the article's status and the evidence by level and stance."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from triage_data import T0, add_tag, article, save, set_tagging, trial

from litwatch.claims_report import (
    ClaimEvidence,
    ClaimInfo,
    claims_report,
    load_claim_infos,
    render_claims,
)
from litwatch.store import mark_deleted
from litwatch.triage import record_decision, record_stance

CATALOGUE = (
    ClaimInfo("established-treatment", "Ketamine treats focal dystonia", "Not yet"),
    ClaimInfo("plausible-mechanism", "Biologically plausible mechanism", "Yes"),
    ClaimInfo("trials-needed", "Clinical trials are urgently needed", "Urgently needed"),
)


@pytest.fixture
def tagged(engine: Engine) -> Engine:
    save(engine, trial("1", "NCT00000001"), article("2"), article("3"), article("4"), article("5"))
    set_tagging(engine, "1", evidence_level="rct", is_trial=True)
    set_tagging(engine, "2", evidence_level="review")
    set_tagging(engine, "3", evidence_level="animal")
    set_tagging(engine, "5", evidence_level="rct", is_trial=True)
    add_tag(engine, "1", "trials-needed")
    add_tag(engine, "1", "plausible-mechanism", source="curator")
    add_tag(engine, "2", "plausible-mechanism")
    add_tag(engine, "3", "plausible-mechanism")
    add_tag(engine, "3", "plausible-mechanism", source="curator")  # counted once
    add_tag(engine, "4", "trials-needed")
    add_tag(engine, "4", "off-catalogue")
    add_tag(engine, "5", "trials-needed")
    mark_deleted(engine, ["5"], now=T0)  # gone from PubMed: not evidence
    record_decision(engine, "1", "include", actor="ana", now=T0)
    record_decision(engine, "2", "exclude", actor="ana", reason="wrong design", now=T0)
    record_decision(engine, "4", "maybe", actor="ana", now=T0)
    record_stance(engine, "1", "plausible-mechanism", "supports", actor="ana", now=T0)
    record_stance(engine, "3", "plausible-mechanism", "contradicts", actor="ana", now=T0)
    record_stance(engine, "3", "plausible-mechanism", "neutral", actor="ben", now=T0)
    record_stance(engine, "2", "established-treatment", "contradicts", actor="ana", now=T0)
    return engine


def test_evidence_per_claim_by_decision_level_trial_and_stance(tagged: Engine) -> None:
    report = claims_report(tagged, CATALOGUE)
    assert [c.id for c in report] == [
        "established-treatment",
        "plausible-mechanism",
        "trials-needed",
        "off-catalogue",  # tagged but not in the catalogue: listed after it
    ]
    established, mechanism, trials, extra = report
    assert established == ClaimEvidence(
        "established-treatment",
        "Ketamine treats focal dystonia",
        "Not yet",
        articles=0,
        stances={"contradicts": 1},
    )
    assert mechanism == ClaimEvidence(
        "plausible-mechanism",
        "Biologically plausible mechanism",
        "Yes",
        articles=3,
        decisions={"include": 1, "exclude": 1, "untriaged": 1},
        evidence={"animal": 1, "rct": 1},  # the excluded review is not evidence
        trials=1,
        stances={"supports": 1, "neutral": 1},
    )
    assert trials == ClaimEvidence(
        "trials-needed",
        "Clinical trials are urgently needed",
        "Urgently needed",
        articles=2,
        decisions={"include": 1, "maybe": 1},
        evidence={"not assessed": 1, "rct": 1},
        trials=1,
    )
    assert (extra.label, extra.articles, extra.decisions) == ("", 1, {"maybe": 1})


def test_the_text_report_names_status_evidence_and_stances(tagged: Engine) -> None:
    text = render_claims(claims_report(tagged, CATALOGUE))
    block = text.split("\n\n")[1].splitlines()
    assert block == [
        "plausible-mechanism — Biologically plausible mechanism  [article: Yes]",
        "  articles: 3 (1 include, 1 exclude, 1 untriaged)",
        "  evidence (not excluded): animal 1, rct 1; trials 1",
        "  curator stances: 1 supports, 1 neutral",
    ]
    assert text.split("\n\n")[0].splitlines()[-1] == "  curator stances: 1 contradicts"


def test_without_a_catalogue_every_claim_found_is_listed(tagged: Engine) -> None:
    ids = [c.id for c in claims_report(tagged)]
    assert (
        ids
        == sorted(ids)
        == [
            "established-treatment",
            "off-catalogue",
            "plausible-mechanism",
            "trials-needed",
        ]
    )


def test_an_empty_database_says_so(engine: Engine) -> None:
    assert claims_report(engine) == []
    assert render_claims([]) == "No claims yet: no article is tagged and no stance recorded."


def test_a_missing_catalogue_file_gives_none(tmp_path: Path) -> None:
    assert load_claim_infos(tmp_path / "claims.toml") is None
