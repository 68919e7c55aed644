"""``kill -9`` of ``litwatch run`` at several points, then a rerun: the same rows as a run
that was never interrupted, no duplicate hits, no search left ``running``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from stub_scenario import (
    API_KEY,
    T1,
    T2,
    client_for,
    corpus_dir,
    db_state,
    duplicate_hits,
    grow,
    saved_queries,
    stub_for,
    write_queries,
)

from litwatch.db import open_database
from litwatch.pipeline import run_monitoring
from litwatch.queries import SavedQuery
from litwatch.store.ledger import list_searches

pytestmark = pytest.mark.slow  # starts a litwatch process per kill point

# Run 2 with a batch size of 1 makes 4 searches then 6 fetches, one request each.
REQUESTS_IN_RUN_2 = 10


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("crash")
    queries_dir = write_queries(base / "queries")
    config = base / "litwatch.toml"
    config.write_text("[eutils]\nbatch_size = 1\n", encoding="utf-8")
    corpus = corpus_dir(base / "corpus")
    queries = saved_queries(queries_dir)
    # The uninterrupted reference: run 1 at T1, the corpus grows, run 2 at T2.
    engine = open_database(f"sqlite:///{base / 'reference.db'}")
    with stub_for(corpus) as stub, client_for(stub, batch_size=1) as client:
        assert run_monitoring(engine, queries, client, until=T1).ok
        grow(stub)
        stub.today = T2
        seen = len(stub.requests)
        assert run_monitoring(engine, queries, client, until=T2).ok
        assert len(stub.requests) - seen == REQUESTS_IN_RUN_2
    reference = db_state(engine)
    engine.dispose()
    return {
        "queries_dir": queries_dir,
        "config": config,
        "corpus": corpus,
        "queries": queries,
        "reference": reference,
    }


def _kill_run_after(
    requests_seen: int, *, db_url: str, setup: dict[str, Any], stub_url: str, log: list[Any]
) -> int:
    """Start ``litwatch run`` for T2; SIGKILL it once the stub has seen ``requests_seen`` more."""
    before = len(log)
    env = {
        **os.environ,
        "LITWATCH_EUTILS_URL": stub_url,
        "NCBI_API_KEY": API_KEY,
        "LITWATCH_DB": db_url,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "litwatch",
            "--config",
            str(setup["config"]),
            "--queries",
            str(setup["queries_dir"]),
            "run",
            "--all",
            "--until",
            T2.isoformat(),
            "--json",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(log) - before < requests_seen and process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError("litwatch run made no progress against the stub")
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
    finally:
        returncode = process.wait()  # reaped: its PID is gone, so its lock can be taken over
    return returncode


def _rerun(engine: Any, queries: list[SavedQuery], client: Any) -> None:
    """Run 2 again; on PostgreSQL the server may take a moment to end the killed session."""
    for _attempt in range(50):
        summary = run_monitoring(engine, queries, client, until=T2)
        if not summary.skipped:
            assert summary.ok, summary.to_dict()
            return
        time.sleep(0.1)
    raise AssertionError(f"the killed run's locks were never released: {summary.skipped}")


def _crash_and_rerun(db_url: str, setup: dict[str, Any], kill_after: int) -> None:
    engine = open_database(db_url)
    queries = setup["queries"]
    try:
        with stub_for(setup["corpus"]) as stub, client_for(stub, batch_size=1) as client:
            assert run_monitoring(engine, queries, client, until=T1).ok
            after_run_1 = db_state(engine)
            grow(stub)
            stub.today = T2
            returncode = _kill_run_after(
                kill_after, db_url=db_url, setup=setup, stub_url=stub.base_url, log=stub.requests
            )
            interrupted = db_state(engine)
            if kill_after < REQUESTS_IN_RUN_2:
                assert returncode == -signal.SIGKILL  # it really died mid-run
                # Records may be stored, but nothing is linked and no watermark moved.
                assert interrupted["hits"] == after_run_1["hits"]
                assert interrupted["state"] == after_run_1["state"]
            _rerun(engine, queries, client)
        assert db_state(engine) == setup["reference"]
        assert duplicate_hits(engine) == 0
        if interrupted["running"]:
            # The dead run's open searches were closed as interrupted, not left running.
            failed = [r for r in list_searches(engine) if r.status == "failed"]
            assert len(failed) == interrupted["running"]
            assert all("interrupted" in (r.error or "") for r in failed)
    finally:
        engine.dispose()


@pytest.mark.parametrize("kill_after", [1, 4, 7, REQUESTS_IN_RUN_2])
def test_kill_then_rerun_on_sqlite(sqlite_url: str, setup: dict[str, Any], kill_after: int) -> None:
    _crash_and_rerun(sqlite_url, setup, kill_after)


@pytest.mark.postgres
@pytest.mark.parametrize("kill_after", [3, 8])
def test_kill_then_rerun_on_postgresql(
    postgres_url: str, setup: dict[str, Any], kill_after: int
) -> None:
    _crash_and_rerun(postgres_url, setup, kill_after)
