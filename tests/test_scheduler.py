"""The worker: its jobs, a job run against the stub, and `litwatch serve` stopped by SIGTERM."""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import Engine
from stub_scenario import (
    API_KEY,
    T1,
    client_for,
    db_state,
    write_queries,
)

from litwatch.config import DigestSettings, Settings
from litwatch.db import open_database
from litwatch.scheduler import MISFIRE_GRACE_SECONDS, Worker
from litwatch.schedules import parse_schedule
from litwatch.store.ledger import get_progress, list_searches
from litwatch.testing.eutils_stub import EutilsStub

NOW = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def queries_dir(tmp_path: Path) -> Path:
    return write_queries(
        tmp_path / "queries",
        extra={
            "paused.toml": "enabled = false\nterm = 'ketamin*[tiab]'\n",
            "broken.toml": "term = 'ketamin*[tiab] AND (dystoni*[tiab]'\n",
        },
    )


def worker_for(
    engine: Engine, queries_dir: Path, stub: EutilsStub | None = None, **options: Any
) -> Worker:
    settings = Settings(
        queries_dir=queries_dir,
        digests=(DigestSettings(name="weekly", schedule="weekly"),),
    )
    factory = (lambda: client_for(stub)) if stub is not None else None
    return Worker(settings, engine, client_factory=factory, clock=lambda: NOW, **options)


def test_one_job_per_enabled_query_and_per_digest(engine: Engine, queries_dir: Path) -> None:
    worker = worker_for(engine, queries_dir, send_digests=lambda *_: [])
    scheduler = worker.build()
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"query:crps", "query:dystonia", "digest:weekly"}
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (
            True,
            1,
            MISFIRE_GRACE_SECONDS,
        )
    assert str(jobs["query:dystonia"].trigger) == str(parse_schedule("daily"))
    assert str(jobs["query:crps"].trigger) == str(parse_schedule("weekly"))
    assert str(jobs["digest:weekly"].trigger) == str(parse_schedule("weekly"))
    assert jobs["query:crps"].args == ("crps",)
    # Never ran: overdue, so both run as soon as the worker starts; the digest waits.
    assert jobs["query:crps"].next_run_time == NOW
    assert jobs["query:dystonia"].next_run_time == NOW
    assert getattr(jobs["digest:weekly"], "next_run_time", None) is None


def test_a_job_run_logs_one_line_then_sends_due_digests(
    engine: Engine,
    queries_dir: Path,
    stub: EutilsStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    digest_calls: list[datetime] = []

    def send_digests(_engine: Engine, _settings: Settings, now: datetime) -> list[Any]:
        digest_calls.append(now)
        return []

    worker = worker_for(engine, queries_dir, stub, send_digests=send_digests)
    with caplog.at_level(logging.INFO, logger="litwatch"):
        worker.run_query("crps")
    lines = [r for r in caplog.records if r.name == "litwatch.scheduler"]
    assert len(lines) == 1
    assert lines[0].levelno == logging.INFO
    assert "[crps] until 2026-10-05: ok; found 2, new 2" in lines[0].getMessage()
    assert digest_calls == [NOW]  # after the last running query finished
    progress = get_progress(engine, "crps")
    assert progress is not None
    assert progress.watermark == T1
    # Ran just now: not overdue any more, so a restarted worker waits for the schedule.
    jobs = {job.id: job for job in worker_for(engine, queries_dir).build().get_jobs()}
    assert getattr(jobs["query:crps"], "next_run_time", None) is None
    assert jobs["query:dystonia"].next_run_time == NOW


def test_a_failed_run_logs_its_errors(
    engine: Engine,
    queries_dir: Path,
    stub: EutilsStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stub.set_faults("backend:50,only:esearch")
    worker = worker_for(engine, queries_dir, stub)
    worker.client_factory = lambda: client_for(stub, max_attempts=2)
    with caplog.at_level(logging.INFO, logger="litwatch"):
        worker.run_query("dystonia")
    lines = [r for r in caplog.records if r.name == "litwatch.scheduler"]
    assert [r.levelno for r in lines] == [logging.ERROR, logging.ERROR]
    assert "FAILED dystonia" in lines[0].getMessage()
    assert "Search Backend failed" in lines[1].getMessage()


def test_edited_and_disabled_queries_are_read_at_run_time(
    engine: Engine, queries_dir: Path, stub: EutilsStub
) -> None:
    worker = worker_for(engine, queries_dir, stub)
    text = (queries_dir / "crps.toml").read_text(encoding="utf-8")
    (queries_dir / "crps.toml").write_text("enabled = false\n" + text, encoding="utf-8")
    worker.run_query("crps")
    worker.run_query("gone")
    assert list_searches(engine) == []


def test_stopped_worker_starts_no_run(engine: Engine, queries_dir: Path, stub: EutilsStub) -> None:
    worker = worker_for(engine, queries_dir, stub)
    worker.stop.set()
    worker.run_query("crps")
    worker.run_digests()
    assert stub.requests == []


# -- litwatch serve in a process ------------------------------------------------------------


def _lines(stream: IO[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue[str], text: str, seen: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not any(text in line for line in seen):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{text!r} never logged; got:\n{''.join(seen)}")
        try:
            seen.append(lines.get(timeout=remaining))
        except queue.Empty:
            continue


def _serve(db_url: str, queries_dir: Path, stub: EutilsStub, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "LITWATCH_EUTILS_URL": stub.base_url, "NCBI_API_KEY": API_KEY}
    env.pop("LITWATCH_CONFIG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "litwatch", "--db", db_url, "--queries", str(queries_dir), "serve"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_serve_runs_overdue_queries_and_stops_cleanly_on_sigterm(
    sqlite_url: str, tmp_path: Path, stub: EutilsStub
) -> None:
    queries_dir = write_queries(tmp_path / "serve-queries")
    stub.today = T1
    # 1. SIGTERM as soon as the first run has begun: it stops at its next request.
    first = _serve(sqlite_url, queries_dir, stub, tmp_path)
    try:
        assert first.stderr is not None
        deadline = time.monotonic() + 60
        while not stub.requests and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.005)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
        log = first.stderr.read()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        if first.stderr is not None:
            first.stderr.close()
    assert "SIGTERM: stopping" in log
    assert "stopped" in log.splitlines()[-1]
    engine = open_database(sqlite_url)
    try:
        assert db_state(engine)["running"] == 0  # nothing left half-recorded
        # 2. Restarted: the interrupted queries are overdue and complete; SIGTERM when idle.
        second = _serve(sqlite_url, queries_dir, stub, tmp_path)
        try:
            assert second.stderr is not None
            lines, seen = _lines(second.stderr), []
            _wait_for(lines, "[crps] until", seen)
            _wait_for(lines, "[dystonia] until", seen)
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=60) == 0
        finally:
            if second.poll() is None:
                second.kill()
                second.wait()
            if second.stderr is not None:
                second.stderr.close()
        runs = [line for line in seen if "] until " in line]
        assert len(runs) == 2
        assert all(": ok;" in line for line in runs), runs
        state = db_state(engine)
        assert state["running"] == 0
        assert sorted(state["articles"]) == ["90000001", "90000002", "90000003", "90000006"]
        for name in ("crps", "dystonia"):
            progress = get_progress(engine, name)
            assert progress is not None
            assert progress.last_status == "ok"
    finally:
        engine.dispose()


def test_settings_without_digests_schedule_only_queries(engine: Engine, queries_dir: Path) -> None:
    worker = worker_for(engine, queries_dir, send_digests=lambda *_: [])
    worker.settings = replace(worker.settings, digests=())
    assert {job.id for job in worker.build().get_jobs()} == {"query:crps", "query:dystonia"}


def test_a_database_failure_in_a_job_is_one_line_and_the_worker_goes_on(
    engine: Engine,
    queries_dir: Path,
    stub: EutilsStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sqlalchemy import text

    from litwatch.db import write_tx

    with write_tx(engine) as conn:
        conn.execute(text("DROP TABLE query_hits"))
    worker = worker_for(engine, queries_dir, stub, send_digests=lambda *_: [])
    with caplog.at_level(logging.INFO, logger="litwatch"):
        worker.run_query("crps")
    (line,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.getMessage().startswith("query crps: the run failed: database error: ")
    assert "query_hits" in line.getMessage()
    assert line.exc_info is None  # no traceback in the worker's log
