"""``litwatch demo`` end to end (stub, pipeline, digests to the outbox) and ``litwatch init``."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast

import pytest
from click.testing import CliRunner
from sqlalchemy import Table, func, select

from litwatch.cli import cli
from litwatch.config import load_settings
from litwatch.db import open_database
from litwatch.demo import MARKER, run_demo
from litwatch.errors import InputError
from litwatch.models import DigestItem, SearchRun
from litwatch.resources import bundled_dir
from litwatch.workdir import CONFIG_TEMPLATE, init_workdir


def _messages(outbox: Path) -> list[EmailMessage]:
    found = []
    for path in outbox.glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return sorted(found, key=lambda m: (str(m["X-Litwatch-Digest"]), str(m["Date"])))


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


@pytest.mark.slow
def test_demo_writes_weekly_digests_with_updates_into_a_fresh_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo", "--dir", "here"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "here"
    assert "Done. Everything is in here/" in result.stdout
    assert "cd here" in result.stdout
    assert "litwatch triage" in result.stdout
    assert "litwatch export" in result.stdout
    # Eight weeks ran, each in the ledger.
    weeks = re.findall(r"^week to (.+?):", result.stdout, re.MULTILINE)
    assert len(weeks) == 8
    engine = open_database(f"sqlite:///{folder / 'litwatch.db'}")
    try:
        with engine.connect() as conn:
            search_runs = cast(Table, SearchRun.__table__)
            days = conn.execute(select(func.count(func.distinct(search_runs.c.window_end))))
            assert days.scalar_one() == 8
            items = cast(Table, DigestItem.__table__)
            new = conn.execute(
                select(items.c.article_id).where(
                    items.c.digest_name == "weekly", items.c.item_kind == "new"
                )
            ).scalars()
            sent = list(new)
    finally:
        engine.dispose()
    assert len(sent) == len(set(sent)) > 0
    # The outbox holds the emails; each has an HTML copy to open.
    weekly = [m for m in _messages(folder / "outbox") if m["X-Litwatch-Digest"] == "weekly"]
    assert len(weekly) >= 2
    assert len(list((folder / "digests").glob("*-weekly.html"))) == len(weekly)
    first, later = weekly[0], weekly[1:]
    assert "UPDATES TO PAPERS ALREADY SENT" not in _text(first)
    updated = [m for m in later if "UPDATES TO PAPERS ALREADY SENT" in _text(m)]
    assert updated, "no later digest reported an update"
    assert any("RETRACTED" in _text(m) for m in updated)
    # The folder works for the next commands, run from inside it.
    monkeypatch.chdir(folder)
    listing = CliRunner().invoke(cli, ["digest", "list", "--json"], catch_exceptions=False)
    assert listing.exit_code == 0
    assert '"status": "sent"' in listing.stdout
    # Running the demo again refreshes its own folder.
    monkeypatch.chdir(tmp_path)
    again = run_demo(folder, weeks=1)
    assert len(again.weeks) == 1
    assert len(again.eml_files) >= 1


def test_demo_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not made by `litwatch demo`"):
        run_demo(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert not (tmp_path / MARKER).exists()


def _uncommented(template: str) -> str:
    """The template with every setting line switched on."""
    lines = []
    for line in template.splitlines():
        if re.match(r"^# (\[|\w+ = |  \"|\])", line):
            line = line[2:]
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_init_writes_a_commented_config_and_the_shipped_folders(tmp_path: Path) -> None:
    result = init_workdir(tmp_path / "work")
    folder = tmp_path / "work"
    config = folder / "litwatch.toml"
    assert config in result.written
    for name in ("queries", "templates"):
        shipped = sorted(
            p.relative_to(bundled_dir(name))
            for p in bundled_dir(name).rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )
        copied = sorted(p.relative_to(folder / name) for p in (folder / name).rglob("*"))
        assert copied == shipped
    assert (folder / "templates" / "digest.html.j2").exists()
    assert (folder / "queries" / "claims.toml").exists()
    # All commented: the defaults apply.
    defaults = load_settings(config, env={})
    assert defaults.smtp is None
    assert [d.name for d in defaults.digests] == ["weekly"]
    # Every setting switched on still loads, and names each table's keys.
    config.write_text(_uncommented(CONFIG_TEMPLATE), encoding="utf-8")
    full = load_settings(config, env={})
    assert full.smtp is not None
    assert full.smtp.host == "smtp.example.org"
    assert [(d.name, d.only_trials) for d in full.digests] == [
        ("weekly", False),
        ("trial-alert", True),
    ]
    assert full.digests[0].subject == "litwatch: {summary} ({period})"
    assert full.eutils.email == "you@example.org"
    assert full.curator == "your name"


def test_init_keeps_existing_files_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "litwatch.toml").write_text("# my settings\n")
    kept = init_workdir(tmp_path)
    assert tmp_path / "litwatch.toml" in kept.kept
    assert (tmp_path / "litwatch.toml").read_text() == "# my settings\n"
    forced = init_workdir(tmp_path, force=True)
    assert tmp_path / "litwatch.toml" in forced.written
    assert (tmp_path / "litwatch.toml").read_text(encoding="utf-8") == CONFIG_TEMPLATE


def test_init_command_prints_what_it_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["init", "work"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "wrote work/litwatch.toml" in result.stdout
    assert "cd work" in result.stdout
    again = CliRunner().invoke(cli, ["init", "work"], catch_exceptions=False)
    assert "kept  work/litwatch.toml (exists; --force replaces it)" in again.stdout
