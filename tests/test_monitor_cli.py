"""``litwatch run``, ``runs``, ``queries list|check`` and ``report search-log`` against the stub."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from stub_scenario import (
    API_KEY,
    T1,
    T2,
    grow,
    write_queries,
)

from litwatch.cli import cli
from litwatch.resources import bundled_dir
from litwatch.testing.eutils_stub import EutilsStub


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (no litwatch.toml from elsewhere) with two saved queries."""
    folder = tmp_path / "work"
    folder.mkdir()
    write_queries(folder / "queries")
    monkeypatch.chdir(folder)
    for name in ("LITWATCH_CONFIG", "LITWATCH_DB", "LITWATCH_QUERIES", "LITWATCH_EUTILS_URL"):
        monkeypatch.delenv(name, raising=False)
    return folder


def invoke(
    args: list[str], *, db_url: str, stub: EutilsStub | None = None, queries: Path | None = None
) -> Result:
    env = {"NCBI_API_KEY": API_KEY}
    if stub is not None:
        env["LITWATCH_EUTILS_URL"] = stub.base_url
    options = ["--db", db_url]
    if queries is not None:
        options += ["--queries", str(queries)]
    return CliRunner().invoke(cli, [*options, *args], env=env, catch_exceptions=False)


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def test_run_twice_then_the_ledger_and_search_log(
    db_url: str, stub: EutilsStub, workdir: Path
) -> None:
    first = invoke(["run", "--until", T1.isoformat(), "--json"], db_url=db_url, stub=stub)
    assert first.exit_code == 0, first.output
    summary = as_json(first)
    assert summary["ok"]
    assert summary["totals"]["new"] == 4
    assert {q["name"]: (q["found"], q["new"]) for q in summary["queries"]} == {
        "crps": (2, 2),
        "dystonia": (3, 3),
    }

    grow(stub)
    stub.today = T2
    # Nothing is due yet (both ran moments ago); --all runs them anyway.
    idle = invoke(["run", "--until", T2.isoformat()], db_url=db_url, stub=stub)
    assert idle.exit_code == 0
    assert "No query is due" in idle.stderr
    second = invoke(["run", "--all", "--until", T2.isoformat()], db_url=db_url, stub=stub)
    assert second.exit_code == 0, second.output
    assert (
        "Total: 7 found, 6 fetched, 4 new, 2 updated, 0 deleted; "
        "5 requests (4 searches, 1 fetch batch)" in second.stdout
    )
    assert "dystonia" in second.stdout

    runs = as_json(invoke(["runs", "--json"], db_url=db_url))
    assert len(runs) == 6
    assert {r["status"] for r in runs} == {"ok"}
    only = as_json(invoke(["runs", "--query", "crps", "--json"], db_url=db_url))
    assert [(r["date_field"], r["window_end"]) for r in only] == [
        ("mdat", T2.isoformat()),
        ("crdt", T2.isoformat()),
        ("crdt", T1.isoformat()),
    ]
    table = invoke(["runs"], db_url=db_url)
    assert table.exit_code == 0
    assert "crps" in table.stdout

    listed = as_json(invoke(["queries", "list", "--json"], db_url=db_url))
    assert [(q["name"], q["watermark"], q["last_status"]) for q in listed] == [
        ("crps", T2.isoformat(), "ok"),
        ("dystonia", T2.isoformat(), "ok"),
    ]

    log = as_json(invoke(["report", "search-log", "--json"], db_url=db_url))
    assert [q["name"] for q in log["queries"]] == ["crps", "dystonia"]
    searches = log["queries"][1]["searches"]
    assert len(searches) == 3
    assert searches[0]["search"].endswith("AND 2026/09/01:2026/10/05[crdt]")
    assert searches[0]["query_translation"]
    assert log["queries"][1]["identified"] == 6
    assert log["platform"].startswith("NCBI E-utilities")
    text = invoke(["report", "search-log"], db_url=db_url).stdout
    assert text.startswith("PRISMA-S search record")
    assert "records created (CRDT) 2026-09-01 to 2026-10-05" in text
    nothing = invoke(["report", "search-log", "--since", "2030-01-01", "--json"], db_url=db_url)
    assert as_json(nothing)["queries"] == []


def test_dry_run_prints_what_would_be_fetched(db_url: str, stub: EutilsStub, workdir: Path) -> None:
    result = invoke(
        ["run", "--query", "crps", "--dry-run", "--until", T1.isoformat()], db_url=db_url, stub=stub
    )
    assert result.exit_code == 0, result.output
    assert "dry run: nothing stored" in result.stdout
    assert "Total: 2 found, 2 would be fetched" in result.stdout
    assert as_json(invoke(["runs", "--json"], db_url=db_url)) == []


def test_failed_queries_exit_non_zero_until_a_clean_run(
    sqlite_url: str, stub: EutilsStub, workdir: Path
) -> None:
    (workdir / "litwatch.toml").write_text("[eutils]\nmax_attempts = 2\n", encoding="utf-8")
    stub.set_faults("500:20,only:efetch")
    failed = invoke(["run", "--until", T1.isoformat()], db_url=sqlite_url, stub=stub)
    assert failed.exit_code == 1
    assert "crps: failed:" in failed.stderr
    assert "dystonia: failed:" in failed.stderr
    stub.set_faults(None)
    # Failed queries are due again at once.
    again = invoke(["run", "--until", T1.isoformat(), "--json"], db_url=sqlite_url, stub=stub)
    assert again.exit_code == 0, again.output
    assert as_json(again)["totals"]["new"] == 4


def test_unknown_query_name(sqlite_url: str, workdir: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "run", "--query", "nope"])
    assert result.exit_code == 1
    assert "no saved query of that name (known: crps, dystonia)" in result.stderr


BROKEN = {
    "bad-toml.toml": 'title = "x"\nterm = "ketamine[tiab]\n',
    "unknown-key.toml": 'term = "ketamine[tiab]"\nshedule = "daily"\n',
    "unbalanced.toml": "term = '''\n(ketamine[tiab] OR esketamine[tiab]\nAND dystonia[tiab]\n'''\n",
    "bad-cron.toml": 'term = "ketamine[tiab]"\nschedule = "0 25 * * *"\n',
    "dup.toml": '\nname = "crps"\nterm = "ketamine[tiab]"\n',
}


def test_queries_check_prints_one_line_per_problem(sqlite_url: str, workdir: Path) -> None:
    folder = workdir / "queries"
    for name, text in BROKEN.items():
        (folder / name).write_text(text, encoding="utf-8")
    result = invoke(["queries", "check"], db_url=sqlite_url)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == len(BROKEN)
    where = {line.split(": ", 1)[0] for line in lines}
    relative = Path("queries")  # as the folder was given (the default, ./queries)
    assert where == {
        f"{relative / 'bad-toml.toml'}:2",
        f"{relative / 'unknown-key.toml'}:2",
        f"{relative / 'unbalanced.toml'}:2:1",
        f"{relative / 'bad-cron.toml'}:2",
        f"{relative / 'dup.toml'}:2",
    }
    assert "5 problem(s) in 7 file(s)." in result.stderr
    # `run` runs the good queries and still exits non-zero for the broken files.
    listed = invoke(["queries", "list", "--json"], db_url=sqlite_url)
    assert [q["name"] for q in as_json(listed)] == ["crps", "dystonia"]
    assert "unknown key 'shedule'" in listed.stderr


def test_shipped_queries_pass_check(sqlite_url: str, workdir: Path) -> None:
    result = invoke(["queries", "check"], db_url=sqlite_url, queries=bundled_dir("queries"))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "4 queries OK." in result.stderr


def test_queries_check_remote_shows_counts_translation_and_dropped_phrases(
    sqlite_url: str, stub: EutilsStub, workdir: Path
) -> None:
    remote = invoke(["queries", "check", "--remote"], db_url=sqlite_url, stub=stub)
    assert remote.exit_code == 0, remote.output
    assert "crps: 2 records in PubMed" in remote.stdout
    assert "PubMed translation: " in remote.stdout
    (workdir / "queries" / "typo.toml").write_text(
        "# a typo PubMed cannot find\n"
        "term = 'ketamin*[tiab] AND (dystoni*[tiab] OR fleeglecramp[tiab])'\n",
        encoding="utf-8",
    )
    typo = invoke(["queries", "check", "--remote"], db_url=sqlite_url, stub=stub)
    assert typo.exit_code == 1
    (line,) = [x for x in typo.stdout.splitlines() if "PhraseNotFound" in x]
    assert line.startswith(f"{Path('queries') / 'typo.toml'}:2: PubMed: PhraseNotFound")
    assert "fleeglecramp" in line


def test_run_sends_the_digests_that_are_due(
    sqlite_url: str, stub: EutilsStub, workdir: Path
) -> None:
    shutil.copy(bundled_dir("queries") / "claims.toml", workdir / "queries" / "claims.toml")
    first = invoke(["run", "--until", T1.isoformat(), "--json"], db_url=sqlite_url, stub=stub)
    assert first.exit_code == 0, first.output
    summary = as_json(first)
    assert summary["totals"]["retagged"] == 4  # tagged with the catalogue beside the queries
    (digest,) = summary["digests"]
    assert (digest["name"], digest["status"]) == ("weekly", "sent")  # B is a new trial
    assert len(list((workdir / "outbox").glob("*.eml"))) == 1
    # Sent: not due again this week.
    again = invoke(
        ["run", "--all", "--until", T1.isoformat(), "--json"], db_url=sqlite_url, stub=stub
    )
    assert as_json(again)["digests"] == []
    quiet = invoke(
        ["run", "--all", "--no-digest", "--until", T1.isoformat()], db_url=sqlite_url, stub=stub
    )
    assert "digest" not in quiet.stdout


def test_queries_check_counts_files_not_queries_plus_problems(
    sqlite_url: str, workdir: Path
) -> None:
    # One file with two problems, beside the two good ones: 3 files.
    (workdir / "queries" / "two-problems.toml").write_text(
        'term = "ketamine[tiab]"\nshedule = "daily"\nlookback_days = -1\n', encoding="utf-8"
    )
    result = invoke(["queries", "check"], db_url=sqlite_url)
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 2
    assert "2 problem(s) in 3 file(s)." in result.stderr


def test_run_refuses_an_until_after_today(sqlite_url: str, stub: EutilsStub, workdir: Path) -> None:
    result = invoke(["run", "--all", "--until", "2999-12-31"], db_url=sqlite_url, stub=stub)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: --until 2999-12-31 is after today")
    assert stub.requests == []
    listed = as_json(invoke(["queries", "list", "--json"], db_url=sqlite_url))
    assert {q["watermark"] for q in listed} == {None}


def test_run_sends_due_digests_when_no_query_is_due(
    sqlite_url: str, stub: EutilsStub, workdir: Path
) -> None:
    shutil.copy(bundled_dir("queries") / "claims.toml", workdir / "queries" / "claims.toml")
    stored = invoke(["run", "--no-digest", "--until", T1.isoformat()], db_url=sqlite_url, stub=stub)
    assert stored.exit_code == 0, stored.output
    searched = len(stub.requests)
    # Every query ran just now: none is due, but the weekly digest (B is a new trial) is.
    result = invoke(["run", "--json"], db_url=sqlite_url, stub=stub)
    assert result.exit_code == 0, result.output
    summary = as_json(result)
    assert summary["queries"] == []
    assert [(d["name"], d["status"]) for d in summary["digests"]] == [("weekly", "sent")], summary
    assert len(list((workdir / "outbox").glob("*.eml"))) == 1
    assert len(stub.requests) == searched
    # --no-digest and --dry-run still send nothing.
    for flag in ("--no-digest", "--dry-run"):
        quiet = invoke(["run", flag], db_url=sqlite_url, stub=stub)
        assert quiet.exit_code == 0
        assert "digest" not in quiet.output


def test_a_database_failure_during_run_is_one_line(
    sqlite_url: str, stub: EutilsStub, workdir: Path
) -> None:
    from sqlalchemy import text

    from litwatch.db import open_database, write_tx

    engine = open_database(sqlite_url)
    with write_tx(engine) as conn:
        conn.execute(text("DROP TABLE query_hits"))
    engine.dispose()
    result = invoke(["run", "--all", "--until", T1.isoformat()], db_url=sqlite_url, stub=stub)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    (line,) = result.stderr.splitlines()[-1:]
    assert line.startswith("Error: database error: ")
    assert "query_hits" in line
