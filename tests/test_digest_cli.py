"""``litwatch digest preview / send / list`` on a seeded database and the outbox."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from digest_fixtures import seed_week1

from litwatch.cli import cli
from litwatch.db import open_database


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    engine = open_database(f"sqlite:///{tmp_path / 'litwatch.db'}")
    seed_week1(engine)
    engine.dispose()
    (tmp_path / "litwatch.toml").write_text(
        '[database]\nurl = "sqlite:///' + str(tmp_path / "litwatch.db") + '"\n\n'
        '[paths]\noutbox = "outbox"\n\n'
        '[[digest]]\nname = "weekly"\nrecipients = ["ana@example.org"]\n',
        encoding="utf-8",
    )
    return tmp_path


def _run(workdir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["--config", str(workdir / "litwatch.toml"), *args], catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def test_preview_renders_without_sending_or_marking(workdir: Path) -> None:
    code, out, err = _run(workdir, "digest", "preview", "--html", str(workdir / "d.html"), "--text")
    assert code == 0
    assert "== NEW TRIALS (2) ==" in out
    assert "weekly: litwatch: 2 new trials, 4 new papers" in err
    assert "would be sent (new trials)" in err
    assert "<i>S</i>-ketamine" in (workdir / "d.html").read_text(encoding="utf-8")
    assert not (workdir / "outbox").exists()
    code, out, err = _run(workdir, "digest", "list", "--json")
    assert json.loads(out) == []


def test_send_writes_the_outbox_once_and_lists_it(workdir: Path) -> None:
    code, out, _ = _run(workdir, "digest", "send")
    assert code == 0, out
    assert out.startswith("weekly: sent: litwatch: 2 new trials, 4 new papers")
    [eml] = list((workdir / "outbox").glob("*.eml"))
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "ana@example.org"
    code, out, _ = _run(workdir, "digest", "send")
    assert code == 0
    assert out.startswith("weekly: nothing sent: no new trial since the last digest")
    assert len(list((workdir / "outbox").glob("*.eml"))) == 1
    code, out, _ = _run(workdir, "digest", "list", "--json")
    [row] = json.loads(out)
    assert (row["name"], row["status"], row["items"]) == ("weekly", "sent", 7)
    assert row["message_id"] == message["Message-ID"]
    # After sending, the preview says so and shows an empty digest.
    code, out, err = _run(workdir, "digest", "preview")
    assert "would not be sent: no new trial" in err
    assert "NEW TRIALS" not in out


def test_unknown_digest_name_is_one_line_error(workdir: Path) -> None:
    code, _, err = _run(workdir, "digest", "send", "--name", "monthly")
    assert code == 1
    assert "Error:" in err
    assert "no digest named 'monthly' (defined: weekly)" in err
