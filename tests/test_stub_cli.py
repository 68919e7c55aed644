"""``litwatch stub``: prints its base URL, serves until Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import requests
from click.testing import CliRunner

from litwatch.cli import cli
from litwatch.eutils import parse_esearch


def test_stub_command_serves_until_interrupted(shared_fixtures: Path) -> None:
    command = [
        sys.executable, "-m", "litwatch", "stub",
        "--corpus", str(shared_fixtures / "eutils"),
        "--today", "2018-08-01", "--no-rate-limit", "--faults", "500:1",
    ]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().decode().strip()
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url.endswith("/entrez/eutils/")
        with requests.Session() as session:
            first = session.get(base_url + "esearch.fcgi", params={"term": "tert"})
            second = session.get(base_url + "esearch.fcgi", params={"term": "tert"})
            future = session.get(base_url + "esearch.fcgi", params={"term": "lactate"})
        assert first.status_code == 500  # --faults
        assert parse_esearch(second.content).ids == ["27797938"]
        # --today 2018-08-01: PMID 30108519, created on 16 August 2018, does not exist yet.
        assert parse_esearch(future.content).count == 0
    finally:
        server.send_signal(signal.SIGINT)
        _out, err = server.communicate(timeout=10)
    assert server.returncode == 0, err.decode()


def test_stub_command_refuses_a_bad_fault_spec(shared_fixtures: Path) -> None:
    result = CliRunner().invoke(
        cli, ["stub", "--corpus", str(shared_fixtures / "eutils"), "--faults", "teapot:1"]
    )
    assert result.exit_code == 2
    assert "--faults" in result.output
    assert "unknown fault 'teapot'" in result.output
