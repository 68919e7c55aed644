"""Unknown filter values and misplaced reasons are refused in one line, not silently accepted."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine
from triage_data import add_tag, article, save, set_tagging, trial

from litwatch.claims import load_catalogue
from litwatch.cli import cli
from litwatch.db import open_database
from litwatch.errors import InputError
from litwatch.resources import bundled_dir
from litwatch.triage import history, record_decision

Setup = tuple[str, Path, Engine]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    url = f"sqlite:///{tmp_path / 'litwatch.db'}"
    config = tmp_path / "litwatch.toml"
    config.write_text('[paths]\nqueries = "queries"\n', encoding="utf-8")
    (tmp_path / "queries").mkdir()
    engine = open_database(url)
    save(engine, article("11"), article("12"), trial("13", "NCT00000013"))
    set_tagging(engine, "13", evidence_level="rct", is_trial=True, registry_ids=["NCT00000013"])
    add_tag(engine, "12", "plausible-mechanism")
    yield url, tmp_path, engine
    engine.dispose()


def with_catalogue(setup: Setup) -> list[str]:
    catalogue = bundled_dir("queries") / "claims.toml"
    shutil.copy(catalogue, setup[1] / "queries" / "claims.toml")
    return [claim.id for claim in load_catalogue(catalogue).claims]


def invoke(setup: Setup, *args: str) -> Result:
    url, folder, _engine = setup
    return CliRunner().invoke(cli, ["--db", url, "--config", str(folder / "litwatch.toml"), *args])


def pmids(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return sorted(row["pmid"] for row in json.loads(result.output))


@pytest.mark.parametrize(
    "command", [["hits", "list", "--json"], ["export", "--format", "jsonl"]], ids=str
)
def test_an_unknown_claim_is_named_with_the_known_ones(setup: Setup, command: list[str]) -> None:
    known = with_catalogue(setup)
    result = invoke(setup, *command, "--claim", "plausible-mechanism", "--claim", "nope")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: --claim: unknown claim 'nope' (claims.toml knows: {', '.join(known)})"
    )


def test_a_known_claim_filters(setup: Setup) -> None:
    with_catalogue(setup)
    assert pmids(invoke(setup, "hits", "list", "--json", "--claim", "plausible-mechanism")) == [
        "12"
    ]
    exported = invoke(setup, "export", "--format", "jsonl", "--claim", "plausible-mechanism")
    assert exported.exit_code == 0, exported.output
    assert [json.loads(line)["pmid"] for line in exported.output.splitlines()] == ["12"]


def test_without_a_catalogue_any_claim_id_is_accepted(setup: Setup) -> None:
    assert pmids(invoke(setup, "hits", "list", "--json", "--claim", "plausible-mechanism")) == [
        "12"
    ]
    assert pmids(invoke(setup, "hits", "list", "--json", "--claim", "not-catalogued")) == []


def test_evidence_must_be_a_known_level(setup: Setup) -> None:
    bogus = invoke(setup, "hits", "list", "--evidence", "bogus")
    assert bogus.exit_code == 2
    assert "Invalid value for '--evidence': 'bogus' is not one of 'rct'" in bogus.output
    assert pmids(invoke(setup, "hits", "list", "--json", "--evidence", "rct")) == ["13"]


@pytest.mark.parametrize("decision", ["include", "maybe"])
def test_a_reason_on_an_include_or_maybe_is_refused(setup: Setup, decision: str) -> None:
    result = invoke(setup, "triage", "11", "--decision", decision, "--reason", "x")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: command line: PMID 11: a reason is for exclusions, not {decision}: "
        "put it in a note"
    )
    assert history(setup[2], "11") == []
    with pytest.raises(InputError, match="a reason is for exclusions"):
        record_decision(setup[2], "11", decision, actor="ana", reason="x")
    assert history(setup[2], "11") == []


def test_a_reason_on_an_include_in_a_file_names_the_line(setup: Setup) -> None:
    path = setup[1] / "decisions.csv"
    path.write_text(
        "pmid,decision,reason\n11,exclude,wrong design\n12,include,looks good\n", encoding="utf-8"
    )
    result = invoke(setup, "triage", "--from-file", str(path))
    assert result.exit_code == 1
    assert f"{path}:3: PMID 12: a reason is for exclusions, not include" in result.output
    assert history(setup[2], "11") == []  # the whole file is checked before anything is written
    excluded = invoke(setup, "triage", "11", "--decision", "exclude", "--reason", "wrong design")
    assert excluded.exit_code == 0, excluded.output
