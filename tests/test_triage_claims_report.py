"""``report claims``: per claim, the article's status and the evidence by level and stance."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from triage_data import T0, add_tag, article, save, set_tagging, trial

from litwatch.claims import Catalogue, load_catalogue
from litwatch.claims_report import ClaimReport, claims_report, load_claims, render_claims
from litwatch.store import mark_deleted
from litwatch.triage import record_decision, record_stance

CLAIMS_TOML = """
[[claim]]
id = "established-treatment"
label = "Ketamine treats focal dystonia"
section = "summary"
article_status = "Not yet"
statement = "Ketamine is not an established treatment for writer's cramp."
rule = '''"writer's cramp"[tiab] AND ketamin*[tiab]'''

[[claim]]
id = "plausible-mechanism"
label = "Biologically plausible mechanism"
section = "summary"
article_status = "Yes"
statement = "NMDA antagonism plausibly acts on what goes wrong in focal dystonia."
rule = 'ketamin*[tiab] AND plasticity[tiab]'

[[claim]]
id = "trials-needed"
label = "Clinical trials are urgently needed"
section = "summary"
article_status = "Urgently needed"
statement = "Trials of ketamine in dystonia are needed."
rule = 'ketamin*[tiab] AND trial[pt]'
"""


@pytest.fixture
def catalogue(tmp_path: Path) -> Catalogue:
    path = tmp_path / "claims.toml"
    path.write_text(CLAIMS_TOML, encoding="utf-8")
    return load_catalogue(path)


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


def test_evidence_per_claim_by_decision_level_trial_and_stance(
    tagged: Engine, catalogue: Catalogue
) -> None:
    report = claims_report(tagged, catalogue)
    assert [c.id for c in report] == [
        "established-treatment",
        "plausible-mechanism",
        "trials-needed",
        "off-catalogue",  # tagged but not in the catalogue: listed after it
    ]
    established, mechanism, trials, extra = report
    assert established == ClaimReport(
        "established-treatment",
        "Ketamine treats focal dystonia",
        "summary",
        "Not yet",
        articles=0,
        stances={"contradicts": 1},
    )
    assert mechanism == ClaimReport(
        "plausible-mechanism",
        "Biologically plausible mechanism",
        "summary",
        "Yes",
        articles=3,
        decisions={"include": 1, "exclude": 1, "untriaged": 1},
        by_level={"animal": 1, "rct": 1, "review": 1},
        included_by_level={"rct": 1},
        trials=1,
        curator_tagged=2,
        stances={"supports": 1, "neutral": 1},
    )
    assert trials == ClaimReport(
        "trials-needed",
        "Clinical trials are urgently needed",
        "summary",
        "Urgently needed",
        articles=2,
        decisions={"include": 1, "maybe": 1},
        by_level={"other": 1, "rct": 1},  # 4 has no evidence level yet
        included_by_level={"rct": 1},
        trials=1,
    )
    assert extra == ClaimReport(
        "off-catalogue",
        in_catalogue=False,
        articles=1,
        decisions={"maybe": 1},
        by_level={"other": 1},
    )


def test_the_text_report_names_status_evidence_and_stances(
    tagged: Engine, catalogue: Catalogue
) -> None:
    text = render_claims(claims_report(tagged, catalogue))
    blocks = text.split("\n\n")
    assert blocks[1].splitlines() == [
        "plausible-mechanism — Biologically plausible mechanism  [article: Yes]",
        "  articles: 3 (1 include, 1 exclude, 1 untriaged)",
        "  by evidence level: animal 1, rct 1, review 1",
        "  included, by level: rct 1",
        "  trials 1, retracted 0, tagged by a curator 2",
        "  curator stances: 1 supports, 1 neutral",
    ]
    assert blocks[0].splitlines() == [
        "established-treatment — Ketamine treats focal dystonia  [article: Not yet]",
        "  articles: 0",
        "  curator stances: 1 contradicts",
    ]
    assert blocks[3].splitlines()[0] == "off-catalogue  [not in the catalogue]"


def test_without_a_catalogue_every_claim_found_is_listed(tagged: Engine) -> None:
    report = claims_report(tagged, None)
    assert [c.id for c in report] == [
        "established-treatment",
        "off-catalogue",
        "plausible-mechanism",
        "trials-needed",
    ]
    mechanism = report[2]
    assert (mechanism.articles, mechanism.by_level, mechanism.curator_tagged) == (
        3,
        {"animal": 1, "rct": 1, "review": 1},
        2,
    )


def test_an_empty_database_lists_the_catalogue_with_nothing_found(
    engine: Engine, catalogue: Catalogue
) -> None:
    report = claims_report(engine, catalogue)
    assert [(c.id, c.articles, c.stances) for c in report] == [
        ("established-treatment", 0, {}),
        ("plausible-mechanism", 0, {}),
        ("trials-needed", 0, {}),
    ]
    assert claims_report(engine, None) == []
    assert render_claims([]) == "No claims: no catalogue, no tags and no stances yet."


def test_a_missing_catalogue_file_gives_none(tmp_path: Path) -> None:
    assert load_claims(tmp_path / "claims.toml") is None
