"""Two curators triaging in two processes while a third process saves articles: every
decision, note and stance is kept, the articles' current decisions agree with the log, and
nobody sees "database is locked" (SQLite) or a lost update (PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from triage_worker import record

from litwatch.db import open_database
from litwatch.models import ArticleRow, TriageEvent
from litwatch.store import save_articles
from litwatch.triage import triage_states

ARTICLES = ArticleRow.__table__
EVENTS = TriageEvent.__table__

FIRST = 30  # articles stored before anyone starts
ADDED = 60  # new articles the writer saves while the curators work

WORKER = Path(__file__).with_name("triage_worker.py")


@pytest.mark.slow  # three processes: about 5 s per database
def test_two_curators_and_a_writer_at_once_lose_nothing(db_url: str, tmp_path: Path) -> None:
    def start(role: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, str(WORKER), role, db_url, str(go), str(FIRST), str(ADDED)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    go = tmp_path / "go"
    engine = open_database(db_url)
    save_articles(engine, [record(p) for p in range(1, FIRST + 1)], now=datetime.now(UTC))
    engine.dispose()
    processes = {role: start(role) for role in ("A", "B", "writer")}
    time.sleep(0.5)  # let all three open the database, then start them together
    go.touch()
    results = {}
    for role, process in processes.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"{role} failed:\n{err}"
        assert "database is locked" not in err
        results[role] = json.loads(out.strip().splitlines()[-1])

    engine = open_database(db_url)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(ARTICLES)).scalar_one()
        events = dict(
            conn.execute(select(EVENTS.c.kind, func.count()).group_by(EVENTS.c.kind)).all()
        )
        columns = dict(conn.execute(select(ARTICLES.c.pmid, ARTICLES.c.decision)).all())
    engine.dispose()

    assert stored == FIRST + ADDED
    curators = (results["A"], results["B"])
    assert results["A"]["decisions"] > 0
    assert results["B"]["decisions"] > 0
    assert events["decision"] == sum(r["decisions"] for r in curators)  # every decision kept
    assert events["note"] == results["A"]["notes"]
    assert events["stance"] == results["B"]["stances"]
    # The articles' current decisions (also rewritten by the writer's upserts) match the log.
    engine = open_database(db_url)
    states = triage_states(engine)
    engine.dispose()
    in_force = {int(p): s.decision.decision for p, s in states.items() if s.decision is not None}
    assert columns == {pmid: in_force.get(pmid) for pmid in columns}
    # Everything there when they started was decided, including the records the writer
    # re-saved meanwhile (its upserts keep the curators' decisions).
    assert all(columns[pmid] is not None for pmid in range(1, FIRST + 1))
