"""``litwatch triage`` (scripted, from a file, and the interactive loop on a scripted terminal),
``hits history``, ``export`` and ``report prisma|claims`` through click's test runner."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import rispy
from click.testing import CliRunner, Result
from sqlalchemy import Engine
from triage_data import T0, add_hits, add_tag, article, save, set_tagging, trial

from litwatch.cli import cli
from litwatch.db import open_database
from litwatch.resources import bundled_dir
from litwatch.triage import curator_tags, history, record_decision, triage_states


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[str, Path, Engine]]:
    url = f"sqlite:///{tmp_path / 'litwatch.db'}"
    config = tmp_path / "litwatch.toml"
    config.write_text(
        '[paths]\nqueries = "queries"\n'  # no claims.toml there: any claim id is accepted
        '[triage]\ncurator = "Zoë"\n'
        'exclusion_reasons = ["not about ketamine/NMDA", "animal only"]\n',
        encoding="utf-8",
    )
    engine = open_database(url)
    save(engine, article("11"), article("12"), trial("13", "NCT00000013"))
    set_tagging(engine, "13", evidence_level="rct", is_trial=True, registry_ids=["NCT00000013"])
    add_tag(engine, "12", "plausible-mechanism")
    add_hits(engine, "ketamine-focal-dystonia", ["11", "12", "13"])
    yield url, config, engine
    engine.dispose()


def invoke(setup: tuple[str, Path, Engine], *args: str, input: str | None = None) -> Result:
    url, config, _engine = setup
    return CliRunner().invoke(cli, ["--db", url, "--config", str(config), *args], input=input)


def current(engine: Engine) -> dict[str, tuple[str, str | None, str]]:
    return {
        pmid: (s.decision.decision, s.decision.reason, s.decision.actor)
        for pmid, s in triage_states(engine).items()
        if s.decision is not None
    }


# -- scripted ---------------------------------------------------------------------------


def test_decisions_on_pmids_with_reason_note_and_who(setup: tuple[str, Path, Engine]) -> None:
    result = invoke(
        setup, "triage", "11", "12", "--decision", "exclude", "--reason", "animal only",
        "--note", "rats", "--by", "ana",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "PMID 11: exclude (animal only)",
        "PMID 12: exclude (animal only)",
    ]
    engine = setup[2]
    assert current(engine) == {
        "11": ("exclude", "animal only", "ana"),
        "12": ("exclude", "animal only", "ana"),
    }
    assert triage_states(engine)["11"].notes == ["rats"]

    again = invoke(setup, "triage", "11", "--decision", "include")  # the configured curator
    assert again.exit_code == 0, again.output
    assert current(engine)["11"] == ("include", None, "Zoë")


def test_stance_tags_and_notes_on_pmids(setup: tuple[str, Path, Engine]) -> None:
    engine = setup[2]
    assert invoke(setup, "triage", "12", "--claim", "plausible-mechanism", "--stance",
                  "supports").exit_code == 0  # fmt: skip
    assert invoke(setup, "triage", "12", "--tag", "neurorehab-window").exit_code == 0
    assert invoke(setup, "triage", "12", "--note", "dose 0.5 mg/kg").exit_code == 0
    state = triage_states(engine)["12"]
    assert (state.stances, state.notes) == ({"plausible-mechanism": "supports"}, ["dose 0.5 mg/kg"])
    assert curator_tags(engine, "12") == ["neurorehab-window"]
    assert invoke(setup, "triage", "12", "--untag", "neurorehab-window").exit_code == 0
    assert curator_tags(engine, "12") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["11", "999", "--decision", "include"], "command line: PMID 999: not in the database"),
        (["11", "--reason", "x"], "command line: PMID 11: a reason needs a decision"),
        (["11", "--stance", "supports"], "a stance needs a claim"),
        (["11", "--claim", "trials-needed"], "claim trials-needed needs a stance"),
        (["1x", "--decision", "include"], "'1x' is not a PMID"),
        (["11", "12", "--untag", "a"], "command line: PMID 11: has no curator tag a to remove"),
    ],
)
def test_bad_scripted_input_is_one_line_and_changes_nothing(
    setup: tuple[str, Path, Engine], args: list[str], message: str
) -> None:
    result = invoke(setup, "triage", *args)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert all(history(setup[2], pmid) == [] for pmid in ("11", "12", "13"))


def test_action_options_need_pmids(setup: tuple[str, Path, Engine]) -> None:
    result = invoke(setup, "triage", "--decision", "include")
    assert result.exit_code == 2
    assert "give the PMIDs" in result.output


def test_decisions_from_a_csv_file(setup: tuple[str, Path, Engine], tmp_path: Path) -> None:
    path = tmp_path / "decisions.csv"
    path.write_text(
        "\ufeffPMID,Decision,Reason,Note,Claim,Stance,By\n"
        "11,exclude,not about ketamine/NMDA,,,,ana\n"
        "\n"
        "12,include,,strong MEP data,plausible-mechanism,supports,\n"
        "13,,,check registry,,,ben\n",
        encoding="utf-8",
    )
    result = invoke(setup, "triage", "--from-file", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        f"Recorded from {path} as Zoë: 1 exclude, 1 include, 1 note, 1 stance."
    )
    engine = setup[2]
    assert current(engine) == {
        "11": ("exclude", "not about ketamine/NMDA", "ana"),
        "12": ("include", None, "Zoë"),
    }
    states = triage_states(engine)
    assert states["12"].notes == ["strong MEP data"]  # kept with the decision
    assert states["12"].stances == {"plausible-mechanism": "supports"}
    assert [(e.kind, e.actor, e.note) for e in history(engine, "13")] == [
        ("note", "ben", "check registry")
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("pmid,decision\n11,include\n12,accept\n", "decisions.csv:3: PMID 12: 'accept' is not one"),
        ("pmid,decision\n11,include\n999,exclude\n", "decisions.csv:3: PMID 999: not in the"),
        ("pmid,verdict\n11,include\n", "decisions.csv:1: unknown column verdict"),
        ("id,decision\n11,include\n", "decisions.csv:1: needs a header row with a pmid column"),
        ("pmid,decision\n11,include\n12,\n", "decisions.csv:3: PMID 12: nothing to record"),
    ],
)
def test_a_bad_line_in_the_file_is_named_and_nothing_is_recorded(
    setup: tuple[str, Path, Engine], tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "decisions.csv"
    path.write_text(content, encoding="utf-8")
    result = invoke(setup, "triage", "--from-file", str(path))
    assert result.exit_code == 1
    assert message in result.output
    assert current(setup[2]) == {}


# -- interactive, on click's scripted terminal ---------------------------------------


def test_the_interactive_loop_on_a_terminal(setup: tuple[str, Path, Engine]) -> None:
    # 13 (the trial) first: include; 12 (tagged): exclude with configured reason 2;
    # 11: note, then quit.
    result = invoke(setup, "triage", input="ie2\nnfull text needed\nq")
    assert result.exit_code == 0, result.output
    assert "── 3 untriaged · PMID 13 · TRIAL" in result.output
    assert "  1. not about ketamine/NMDA\n  2. animal only" in result.output
    assert result.output.rstrip().endswith("Saved: 1 exclude, 1 include; 1 note.")
    engine = setup[2]
    assert current(engine) == {
        "13": ("include", None, "Zoë"),
        "12": ("exclude", "animal only", "Zoë"),
    }
    assert triage_states(engine)["11"].notes == ["full text needed"]

    resumed = invoke(setup, "triage", input="m")  # input ends: leaves like q
    assert resumed.exit_code == 0, resumed.output
    assert "PMID 11" in resumed.output
    assert "PMID 13" not in resumed.output
    assert "Nothing left to triage." in resumed.output


# -- history, export, reports -----------------------------------------------------------


def test_hits_history_shows_every_event(setup: tuple[str, Path, Engine]) -> None:
    engine = setup[2]
    record_decision(engine, "11", "maybe", actor="ana", now=T0)
    record_decision(engine, "11", "exclude", actor="ben", reason="animal only", now=T0)
    text = invoke(setup, "hits", "history", "11")
    assert text.exit_code == 0, text.output
    assert text.output.splitlines()[0] == "PMID 11: current decision exclude (animal only)"
    rows = json.loads(invoke(setup, "hits", "history", "11", "--json").output)
    assert [(r["by"], r["what"], r["decision_before"]) for r in rows] == [
        ("ana", "maybe", None),
        ("ben", "exclude (animal only)", "maybe"),
    ]
    assert rows[0]["at"] == "2026-11-02T09:00:00+00:00"
    missing = invoke(setup, "hits", "history", "999")
    assert (missing.exit_code, missing.output.strip()) == (
        1,
        "Error: PMID 999: not in the database",
    )


def test_export_to_stdout_and_to_a_file(setup: tuple[str, Path, Engine], tmp_path: Path) -> None:
    engine = setup[2]
    record_decision(engine, "12", "include", actor="ana", now=T0)
    out = invoke(setup, "export", "--format", "csv", "--decision", "untriaged")
    assert [r["pmid"] for r in csv.DictReader(io.StringIO(out.stdout))] == ["11", "13"]

    target = tmp_path / "included.ris"
    written = invoke(setup, "export", "--format", "ris", "--claim", "plausible-mechanism",
                     "-o", str(target))  # fmt: skip
    assert written.exit_code == 0, written.output
    assert written.output.strip() == f"Wrote 1 records to {target}"
    (entry,) = rispy.loads(target.read_text(encoding="utf-8"))
    assert entry["accession_number"] == "12"
    assert "litwatch decision: include" in entry["keywords"]
    assert list(tmp_path.glob(".*.part")) == []

    bad = invoke(setup, "export", "--format", "endnote")
    assert bad.exit_code == 2


def test_reports_print_text_and_json(setup: tuple[str, Path, Engine]) -> None:
    engine = setup[2]
    record_decision(engine, "12", "include", actor="ana", now=T0)
    record_decision(engine, "11", "exclude", actor="ana", reason="animal only", now=T0)
    text = invoke(setup, "report", "prisma")
    assert text.exit_code == 0, text.output
    assert "Records identified from PubMed: 3" in text.output
    flow = json.loads(invoke(setup, "report", "prisma", "--json").output)
    assert (flow["identified"], flow["screened"], flow["included"], flow["excluded"]) == (
        3,
        2,
        1,
        1,
    )
    assert flow["awaiting"] == 1  # 13 has no decision yet
    later = json.loads(invoke(setup, "report", "prisma", "--since", "2026-12-01", "--json").output)
    assert later["identified"] == 0

    claims = json.loads(invoke(setup, "report", "claims", "--json").output)
    assert [(c["id"], c["articles"], c["decisions"]) for c in claims] == [
        ("plausible-mechanism", 1, {"include": 1})
    ]
    assert "plausible-mechanism" in invoke(setup, "report", "claims").output


def test_claims_are_checked_against_the_catalogue(
    setup: tuple[str, Path, Engine], tmp_path: Path
) -> None:
    queries = tmp_path / "queries"
    queries.mkdir()
    shutil.copy(bundled_dir("queries") / "claims.toml", queries / "claims.toml")
    unknown = invoke(setup, "triage", "12", "--claim", "no-such-claim", "--stance", "supports")
    assert unknown.exit_code == 1
    assert "unknown claim 'no-such-claim' (not in claims.toml)" in unknown.output
    known = invoke(setup, "triage", "12", "--claim", "plausible-mechanism", "--stance", "neutral")
    assert known.exit_code == 0, known.output

    claims = json.loads(invoke(setup, "report", "claims", "--json").output)
    assert [c["id"] for c in claims][:5] == [
        "established-treatment",
        "plausible-mechanism",
        "other-movement-disorders",
        "neurorehab-window",
        "trials-needed",
    ]
    mechanism = claims[1]
    assert (mechanism["article_status"], mechanism["articles"], mechanism["stances"]) == (
        "Yes",
        1,
        {"neutral": 1},
    )


def test_undo_on_pmids_restores_the_decision_before(setup: tuple[str, Path, Engine]) -> None:
    engine = setup[2]
    record_decision(engine, "11", "maybe", actor="ana", now=T0)
    record_decision(engine, "11", "exclude", actor="ben", reason="animal only", now=T0)
    record_decision(engine, "12", "include", actor="ana", now=T0)
    result = invoke(setup, "triage", "11", "12", "--undo")
    assert result.exit_code == 0, result.output
    assert [line.split(": ", 1)[1] for line in result.stdout.splitlines()] == [
        "undo #2: exclude → maybe",
        "undo #3: include → untriaged",
    ]
    assert current(engine) == {"11": ("maybe", None, "ana")}
    assert history(engine, "11")[-1].actor == "Zoë"

    nothing = invoke(setup, "triage", "12", "13", "--undo")
    assert nothing.exit_code == 1
    assert "PMID 12: has no decision to undo" in nothing.output
    assert invoke(setup, "triage", "--undo").exit_code == 2
