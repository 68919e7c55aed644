"""``hits list`` filters: decision, claim, evidence, trial, retracted, query, since, search, sort
(the store on SQLite and PostgreSQL; the command line on SQLite)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from triage_data import T0, add_hits, add_tag, article, retracted, save, set_tagging, trial

from litwatch.cli import cli
from litwatch.db import open_database
from litwatch.errors import StoreError
from litwatch.store import count_articles, list_articles, mark_deleted
from litwatch.triage import record_decision

LATER = T0 + timedelta(days=7)


def build(engine: Engine) -> None:
    """31 trial (rct, include), 32 review tagged mechanism (exclude), 33 retracted, tagged
    trials-needed by a curator (maybe), 34 untriaged case report, 35 first seen a week later,
    36 deleted from PubMed."""
    save(
        engine,
        trial("31", "NCT00000031"),
        article("32", "NMDA antagonists and motor cortex plasticity: a review."),
        retracted("33", "39"),
        article("34"),
        article("36"),
        step=timedelta(hours=1),
    )
    save(engine, article("35", "Esketamine and sensorimotor integration."), at=LATER)
    set_tagging(engine, "31", evidence_level="rct", is_trial=True, registry_ids=["NCT00000031"])
    set_tagging(engine, "32", evidence_level="review")
    set_tagging(engine, "34", evidence_level="case-report")
    add_tag(engine, "32", "plausible-mechanism")
    add_tag(engine, "31", "trials-needed")
    add_tag(engine, "33", "trials-needed", source="curator")
    add_hits(engine, "ketamine-focal-dystonia", ["31", "32", "34"])
    add_hits(engine, "nmda-movement-disorders", ["32", "33", "35"])
    record_decision(engine, "31", "include", actor="ana", now=T0 + timedelta(hours=1))
    record_decision(engine, "33", "maybe", actor="ana", now=T0 + timedelta(hours=3))
    record_decision(engine, "32", "exclude", actor="ana", now=T0 + timedelta(hours=2))
    mark_deleted(engine, ["36"], now=T0)


def pmids(engine: Engine, **filters: object) -> list[str]:
    found = [s.pmid for s in list_articles(engine, order="pmid", **filters)]  # type: ignore[arg-type]
    assert count_articles(engine, **filters) == len(found)  # type: ignore[arg-type]
    return found


def test_each_filter_alone_and_combined(engine: Engine) -> None:
    build(engine)
    assert pmids(engine) == ["31", "32", "33", "34", "35"]
    assert pmids(engine, untriaged=True) == ["34", "35"]
    assert pmids(engine, decisions=["include", "maybe"]) == ["31", "33"]
    assert pmids(engine, decisions=["untriaged", "exclude"]) == ["32", "34", "35"]
    assert pmids(engine, claims=["trials-needed"]) == ["31", "33"]  # rule and curator tags
    assert pmids(engine, claims=["plausible-mechanism", "no-such"]) == ["32"]
    assert pmids(engine, evidence=["rct", "Case-Report"]) == ["31", "34"]
    assert pmids(engine, trial=True) == ["31"]
    assert pmids(engine, trial=False) == ["32", "33", "34", "35"]
    assert pmids(engine, retracted=True) == ["33"]
    assert pmids(engine, retracted=False) == ["31", "32", "34", "35"]
    assert pmids(engine, queries=["nmda-movement-disorders"]) == ["32", "33", "35"]
    assert pmids(engine, since=LATER.date()) == ["35"]
    assert pmids(engine, search="motor cortex") == ["32"]
    assert pmids(engine, include_deleted=True, untriaged=True) == ["34", "35", "36"]
    assert pmids(engine, claims=["trials-needed"], decisions=["maybe"], retracted=True) == ["33"]
    assert pmids(engine, queries=["ketamine-focal-dystonia"], trial=False, untriaged=True) == ["34"]
    with pytest.raises(StoreError, match="unknown decision 'accepted'"):
        pmids(engine, decisions=["accepted"])


def test_sort_orders(engine: Engine) -> None:
    build(engine)
    order = [s.pmid for s in list_articles(engine, order="newest")]
    assert order == ["35", "34", "33", "32", "31"]
    decided = [s.pmid for s in list_articles(engine, order="decided")]
    assert decided == ["33", "32", "31", "35", "34"]  # latest decision first, untriaged last


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'litwatch.db'}"
    engine = open_database(url)
    build(engine)
    engine.dispose()
    return url


def run(url: str, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", url, "hits", "list", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_command_line_filters_and_formats(db_path: str) -> None:
    as_json = json.loads(
        run(db_path, "--json", "--claim", "trials-needed", "--decision", "include")
    )
    assert [(r["pmid"], r["decision"], r["is_trial"]) for r in as_json] == [("31", "include", True)]

    rows = list(csv.DictReader(io.StringIO(run(db_path, "--csv", "--not-trial", "--sort", "pmid"))))
    assert [r["pmid"] for r in rows] == ["32", "33", "34", "35"]

    listed = json.loads(run(db_path, "--json", "--untriaged", "--evidence", "case-report"))
    assert [r["pmid"] for r in listed] == ["34"]
    retracted_only = json.loads(
        run(db_path, "--json", "--retracted", "--query", "nmda-movement-disorders")
    )
    assert [r["pmid"] for r in retracted_only] == ["33"]
    since = json.loads(run(db_path, "--json", "--since", LATER.date().isoformat()))
    assert [r["pmid"] for r in since] == ["35"]

    table = run(db_path, "--decision", "exclude", "--decision", "maybe")
    first_cells = [
        line.split("│")[1].strip() for line in table.splitlines() if line.startswith("│")
    ]
    assert [cell for cell in first_cells if cell] == ["33", "32"]
    assert "review" in table  # the evidence level column

    bad = CliRunner().invoke(cli, ["--db", db_path, "hits", "list", "--decision", "accepted"])
    assert bad.exit_code == 2
