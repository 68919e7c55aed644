"""Two ``litwatch serve`` workers on one PostgreSQL database (issue 8).

Both start at once with the same saved queries, against the same local
E-utilities stub and the same SMTP server. The database locks decide who runs
what: each query window is searched and fetched by exactly one of them, and
the digest goes out once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mailserver import MailServer
from sqlalchemy import select
from stub_scenario import API_KEY, fetched_pmids, write_queries

from litwatch.db import open_database
from litwatch.models import ArticleRow, Digest, DigestItem, QueryHit, SearchRun
from litwatch.testing.eutils_stub import EutilsStub

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def config_for(folder: Path, smtp_port: int) -> Path:
    path = folder / "litwatch.toml"
    path.write_text(
        f"""
[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "litwatch@example.org"

[[digest]]
name = "weekly"
recipients = ["team@example.org"]
schedule = "weekly"
send_when = "new-hits"
""",
        encoding="utf-8",
    )
    return path


def serve(
    db_url: str, config: Path, queries: Path, stub: EutilsStub, log: Path
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LITWATCH_EUTILS_URL": stub.base_url, "NCBI_API_KEY": API_KEY}
    command = [sys.executable, "-m", "litwatch", "--db", db_url, "--config", str(config)]
    command += ["--queries", str(queries), "-v", "serve"]
    with log.open("wb") as stderr:
        return subprocess.Popen(
            command, env=env, cwd=config.parent, stdout=subprocess.DEVNULL, stderr=stderr
        )


def wait_until(condition: object, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_two_workers_fetch_each_window_once_and_send_one_digest(
    tmp_path: Path, postgres_url: str, stub: EutilsStub
) -> None:
    queries = write_queries(tmp_path / "queries")
    logs = [tmp_path / "worker1.log", tmp_path / "worker2.log"]
    with MailServer(tmp_path) as smtp:
        config = config_for(tmp_path, smtp.port)
        open_database(postgres_url).dispose()  # the schema exists before both start
        workers = [serve(postgres_url, config, queries, stub, log) for log in logs]
        today = datetime.now(UTC).date().isoformat()
        try:

            def settled() -> bool:
                text = "".join(log.read_text(encoding="utf-8", errors="replace") for log in logs)
                ran = all(f"[{name}] until {today}: ok;" in text for name in ("crps", "dystonia"))
                return ran and len(smtp.received) >= 1

            wait_until(settled)
            time.sleep(3)  # room for a second (wrong) fetch or digest to show up
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
        output = "".join(log.read_text(encoding="utf-8", errors="replace") for log in logs)
        assert [w.returncode for w in workers] == [0, 0], output

        engine = open_database(postgres_url)
        with engine.connect() as conn:
            searches = Counter(
                (name, field)
                for name, field in conn.execute(
                    select(SearchRun.query_name, SearchRun.date_field).where(
                        SearchRun.status == "ok"
                    )
                )
            )
            sent = conn.execute(select(Digest.message_id).where(Digest.status == "sent")).all()
            items = conn.execute(select(DigestItem.article_id, DigestItem.item_kind)).all()
            finders = Counter(
                str(pmid)
                for (pmid,) in conn.execute(
                    select(ArticleRow.pmid).join(QueryHit, QueryHit.article_id == ArticleRow.id)
                )
            )
        engine.dispose()

    # Each query's two windows were searched once, by one worker or the other.
    assert {name for name, _field in searches} == {"crps", "dystonia"}, output
    assert set(searches.values()) == {1}, (searches, output)
    fetched = fetched_pmids(stub)
    assert fetched, output
    # A window's records are fetched by the worker that searched it, once: a PMID
    # is fetched at most once per query that found it (serve runs each query as
    # its own job, so a paper found by two queries may come in both of their windows).
    for pmid, times in Counter(fetched).items():
        assert times <= finders[pmid], (pmid, fetched, output)
    # One digest message, each article in it once.
    assert len(smtp.received) == 1, output
    assert len(sent) == 1
    assert len(items) == len(set(items)) > 0
