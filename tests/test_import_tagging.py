"""After ``litwatch import`` new records are tagged; an impossible PMID fails only its file."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from litwatch.cli import cli
from litwatch.resources import bundled_dir, sample_corpus_dir

RECORD = """<?xml version="1.0"?>
<PubmedArticleSet><PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">
<PMID Version="1">{pmid}</PMID><Article><ArticleTitle>{title}</ArticleTitle></Article>
</MedlineCitation></PubmedArticle></PubmedArticleSet>
"""


def test_imported_records_are_tagged_with_the_claims_beside_the_queries(sqlite_url: str) -> None:
    runner = CliRunner()
    queries = str(bundled_dir("queries"))
    corpus = sample_corpus_dir()
    result = runner.invoke(
        cli, ["--db", sqlite_url, "--queries", queries, "import", "--json", str(corpus)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["tagged"] == summary["new"] > 0
    listed = runner.invoke(cli, ["--db", sqlite_url, "hits", "list", "--json", "--limit", "1000"])
    rows = json.loads(listed.output)
    assert all(row["evidence_level"] is not None for row in rows)
    assert any(row["is_trial"] for row in rows)
    assert any(row["claims"] for row in rows)


def test_without_claims_nothing_is_tagged(sqlite_url: str, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    good = tmp_path / "good.xml"
    good.write_text(RECORD.format(pmid="90000301", title="Ketamine"), encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["--db", sqlite_url, "--queries", str(tmp_path / "empty"), "import", "--json", str(good)],
    )
    assert json.loads(result.output)["tagged"] == 0


def test_a_pmid_no_database_can_hold_fails_its_file_only(sqlite_url: str, tmp_path: Path) -> None:
    huge = tmp_path / "a-huge.xml"
    huge.write_text(RECORD.format(pmid="99999999999999999999", title="Too big"), encoding="utf-8")
    good = tmp_path / "b-good.xml"
    good.write_text(RECORD.format(pmid="90000302", title="Fine"), encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["--db", sqlite_url, "--queries", str(tmp_path), "import", "--json", str(huge), str(good)],
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["new"] == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert "a-huge.xml" in errors[0]
    assert "not a PMID" in errors[0]
    assert "Traceback" not in result.output
