"""Faults: NCBI failing at random within the retry bound changes nothing; beyond it, the
failed queries are reported, keep their watermarks, and the next run fills the gap."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from stub_scenario import (
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
from litwatch.pipeline import ProgressEvent, run_monitoring
from litwatch.queries import SavedQuery
from litwatch.run_summary import RunSummary
from litwatch.store.ledger import get_progress, list_searches
from litwatch.testing.eutils_stub import EutilsStub


@pytest.fixture(scope="module")
def queries(tmp_path_factory: pytest.TempPathFactory) -> list[SavedQuery]:
    return saved_queries(write_queries(tmp_path_factory.mktemp("queries")))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return corpus_dir(tmp_path_factory.mktemp("corpus"))


def two_weeks(
    engine: Engine,
    queries: list[SavedQuery],
    stub: EutilsStub,
    *,
    batch_size: int = 1,
    max_attempts: int = 10,
) -> list[RunSummary]:
    """Run 1 at T1, the corpus grows, run 2 at T2."""
    # A short timeout turns the stub's "slow" fault into a timeout, retried like the others.
    with client_for(stub, batch_size=batch_size, max_attempts=max_attempts, timeout=0.3) as client:
        first = run_monitoring(engine, queries, client, until=T1)
        grow(stub)
        stub.today = T2
        second = run_monitoring(engine, queries, client, until=T2)
    return [first, second]


@pytest.fixture(scope="module")
def reference(
    tmp_path_factory: pytest.TempPathFactory, queries: list[SavedQuery], corpus: Path
) -> Callable[[str], dict[str, Any]]:
    """The fault-free end state after run 1 ("T1") or after both runs ("T2")."""
    folder = tmp_path_factory.mktemp("reference")
    engine = open_database(f"sqlite:///{folder / 'reference.db'}")
    states: dict[str, dict[str, Any]] = {}
    with stub_for(corpus) as stub, client_for(stub) as client:
        assert run_monitoring(engine, queries, client, until=T1).ok
        states["T1"] = db_state(engine)
        grow(stub)
        stub.today = T2
        assert run_monitoring(engine, queries, client, until=T2).ok
        states["T2"] = db_state(engine)
    engine.dispose()
    return states.__getitem__


@pytest.mark.parametrize("seed", [3, 2026])
def test_random_faults_within_the_retry_bound_change_nothing(
    engine: Engine,
    queries: list[SavedQuery],
    corpus: Path,
    reference: Callable[[str], dict[str, Any]],
    seed: int,
) -> None:
    with stub_for(corpus, faults=f"random:0.2,seed:{seed}") as stub:
        runs = two_weeks(engine, queries, stub)
        injected = list(stub.faults.injected)
    assert all(run.ok for run in runs), [run.to_dict() for run in runs]
    assert injected, "the seed injected no fault: pick another"
    assert db_state(engine) == reference("T2")
    assert duplicate_hits(engine) == 0
    # Retries are requests too; the ledger rows are as fault-free as the data.
    assert sum(run.requests for run in runs) >= 6 + 10 + len(injected) - 1
    assert {r.status for r in list_searches(engine)} == {"ok"}


def test_efetch_failing_beyond_the_bound_fails_the_queries_until_a_clean_run(
    engine: Engine,
    queries: list[SavedQuery],
    corpus: Path,
    reference: Callable[[str], dict[str, Any]],
) -> None:
    with stub_for(corpus, faults="500:50,only:efetch") as stub:
        with client_for(stub, max_attempts=3) as client:
            failed = run_monitoring(engine, queries, client, until=T1)
        assert sorted(failed.failed) == ["crps", "dystonia"]
        assert failed.fetch_error is not None
        assert "gave up after 3 attempts" in failed.fetch_error
        rows = list_searches(engine)
        assert [r.status for r in rows] == ["failed", "failed"]
        assert all("PMIDs not fetched" in (r.error or "") for r in rows)
        assert all(r.count is not None for r in rows)  # PubMed's answer is kept
        state = db_state(engine)
        assert (state["articles"], state["hits"]) == ({}, [])
        progress = get_progress(engine, "crps")
        assert progress is not None
        assert (progress.watermark, progress.last_status) == (None, "failed")

        stub.set_faults(None)
        with client_for(stub) as client:
            assert run_monitoring(engine, queries, client, until=T1).ok
    assert db_state(engine) == reference("T1")


def test_one_query_failing_to_search_does_not_hold_back_the_others(
    engine: Engine,
    queries: list[SavedQuery],
    corpus: Path,
    reference: Callable[[str], dict[str, Any]],
) -> None:
    assert [q.name for q in queries] == ["crps", "dystonia"]
    with stub_for(corpus, faults="backend:3,only:esearch") as stub:
        with client_for(stub, max_attempts=3) as client:
            summary = run_monitoring(engine, queries, client, until=T1)
        assert summary.failed == ["crps"]
        assert "Search Backend failed" in (summary.queries[0].error or "")
        crps = get_progress(engine, "crps")
        dystonia = get_progress(engine, "dystonia")
        assert crps is not None
        assert dystonia is not None
        assert (crps.watermark, dystonia.watermark) == (None, T1)
        # A week later, with NCBI healthy again, crps searches its whole gap.
        grow(stub)
        stub.today = T2
        with client_for(stub) as client:
            later = run_monitoring(engine, queries, client, until=T2)
    assert later.ok
    assert later.queries[0].first_run
    assert db_state(engine) == reference("T2")


def test_fetch_failing_part_way_fails_only_the_queries_missing_records(
    engine: Engine,
    queries: list[SavedQuery],
    corpus: Path,
    reference: Callable[[str], dict[str, Any]],
) -> None:
    with stub_for(corpus) as stub:

        def break_after_first_batch(event: ProgressEvent) -> None:
            if event.stage == "fetch" and event.done == 3:
                stub.set_faults("503:50,only:efetch")

        with client_for(stub, batch_size=3, max_attempts=2) as client:
            summary = run_monitoring(
                engine, queries, client, until=T1, progress=break_after_first_batch
            )
        # Batch 1 held A, B, C (everything crps found); F (dystonia) was in batch 2.
        assert summary.failed == ["dystonia"]
        assert summary.fetched == 3
        state = db_state(engine)
        assert sorted(state["articles"]) == ["90000001", "90000002", "90000003"]
        assert {name for name, _ in state["hits"]} == {"crps"}
        stub.set_faults(None)
        with client_for(stub) as client:
            assert run_monitoring(engine, queries, client, until=T1).ok
    assert db_state(engine) == reference("T1")
    assert duplicate_hits(engine) == 0
