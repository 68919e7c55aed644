"""``litwatch claims list|show|check`` and ``litwatch tags recompute`` end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from litwatch.claims import SUMMARY_IDS, load_catalogue
from litwatch.resources import sample_corpus_dir

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "queries" / "claims.toml"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    queries = tmp_path / "queries"
    queries.mkdir()
    shutil.copy(SHIPPED, queries / "claims.toml")
    return tmp_path


def run(workdir: Path, *args: str) -> Result:
    from litwatch.cli import cli

    db = f"sqlite:///{workdir / 'litwatch.db'}"
    return CliRunner().invoke(cli, ["--db", db, "--queries", str(workdir / "queries"), *args])


@pytest.fixture
def imported(workdir: Path) -> Path:
    result = run(workdir, "import", str(sample_corpus_dir()))
    assert result.exit_code == 0, result.output
    return workdir


def test_recompute_then_nothing_stale(imported: Path) -> None:
    # `litwatch import` already tagged everything with the claims beside the queries.
    first = run(imported, "tags", "recompute", "--json")
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    catalogue = load_catalogue(SHIPPED)
    assert data["catalogue_hash"] == catalogue.content_hash
    assert data["retagged"] == 0
    everything = run(imported, "tags", "recompute", "--all", "--json")
    assert json.loads(everything.output)["retagged"] >= 60
    again = run(imported, "tags", "recompute")
    assert again.output.startswith("Re-tagged 0 articles with 23 claims")


def test_claims_list_json_and_table(workdir: Path) -> None:
    result = run(workdir, "claims", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["id"] for r in rows[:5]] == list(SUMMARY_IDS)
    assert {"id", "label", "section", "article_status", "parent", "statement", "rule"} <= set(
        rows[0]
    )
    table = run(workdir, "claims", "list", "--csv")
    assert table.exit_code == 0
    assert table.output.splitlines()[0].split(",")[:2] == ["id", "label"]
    assert len(table.output.splitlines()) == len(rows) + 1


def test_claims_list_with_evidence_counts(imported: Path) -> None:
    run(imported, "tags", "recompute")
    rows = json.loads(run(imported, "claims", "list", "--evidence", "--json").output)
    by_id = {r["id"]: r for r in rows}
    assert by_id["trials-needed"]["articles"] == by_id["trials-needed"]["trials"] > 0


def test_claims_show_json(imported: Path) -> None:
    run(imported, "tags", "recompute")
    result = run(imported, "claims", "show", "plausible-mechanism", "--json", "--limit", "3")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["article_status"] == "Yes"
    assert "mech-gaba-inhibition" in shown["children"]
    evidence = shown["evidence"]
    assert evidence["articles"] == sum(evidence["by_evidence_level"].values()) > 0
    assert evidence["stances"] == {}
    assert evidence["decisions"]["untriaged"] == evidence["articles"]
    assert len(shown["tagged_articles"]) == 3
    assert "90000102" not in {a["pmid"] for a in shown["tagged_articles"]}


def test_claims_show_lists_what_it_counts_a_curators_child_tag_included(imported: Path) -> None:
    from litwatch.db import open_database
    from litwatch.triage import tag_article

    engine = open_database(f"sqlite:///{imported / 'litwatch.db'}")
    try:  # 90000202: botulinum toxin, no rule tags it with a mechanism
        tag_article(engine, "90000202", "mech-gaba-inhibition", actor="ana")
    finally:
        engine.dispose()
    result = run(imported, "claims", "show", "plausible-mechanism", "--json", "--limit", "1000")
    shown = json.loads(result.output)
    listed = {a["pmid"] for a in shown["tagged_articles"]}
    assert "90000202" in listed
    assert shown["evidence"]["articles"] == len(listed)
    assert shown["evidence"]["curator_tagged"] == 1


def test_claims_show_text_and_unknown_id(imported: Path) -> None:
    run(imported, "tags", "recompute")
    result = run(imported, "claims", "show", "trials-needed")
    assert result.exit_code == 0, result.output
    assert "article status  Urgently needed" in result.output
    assert "Evidence so far:" in result.output
    assert "curator stances    none yet" in result.output
    missing = run(imported, "claims", "show", "no-such-claim")
    assert missing.exit_code == 1
    assert "no claim with id 'no-such-claim'" in missing.output


def test_claims_check(workdir: Path) -> None:
    ok = run(workdir, "claims", "check")
    assert ok.exit_code == 0, ok.output
    assert "23 claims, every rule parses" in ok.output
    path = workdir / "queries" / "claims.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('section = "caution"', 'section = "warning"', 1) + '\ncolour = "red"\n',
        encoding="utf-8",
    )
    broken = run(workdir, "claims", "check")
    assert broken.exit_code == 1
    problems = [line for line in broken.output.splitlines() if "claims.toml:" in line]
    assert len(problems) == 2
    assert any("section must be one of" in p for p in problems)
    assert any("unknown key 'colour'" in p for p in problems)


def test_missing_catalogue_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "queries").mkdir()
    result = run(tmp_path, "claims", "list")
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "claims.toml" in result.output
