"""How fast the curator's listings are on a large database: prints milliseconds.

    .venv/bin/python benchmarks/untriaged.py [-n 1000000] [--db URL] [--repeat 5]

Builds a database of N articles (default 1,000,000) with one INSERT … SELECT
over a generated series (seconds, not minutes: no Python per row), a third
of them untriaged and the rest decided, then times on the warm database:

- ``hits list --untriaged --limit 50`` run through the CLI in this process
  (query, tags and queries of the 50 rows, table rendering); target < 300 ms;
- the same with ``--json``;
- ``list_articles(untriaged=True, limit=50)`` alone;
- what the triage loop does per screen: the next article in triage order
  (``triage_queue``) and the count of untriaged articles;
- ``litwatch hits list --untriaged --limit 50`` as a new process, for
  reference (interpreter start and imports included).

With ``--db`` an existing database holding N articles is reused as it is.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine, func, select, text

from litwatch.cli import cli
from litwatch.db import open_database, write_tx
from litwatch.models import ArticleRow
from litwatch.store import count_articles, list_articles
from litwatch.triage import triage_queue

ARTICLES = ArticleRow.__table__

_COLUMNS = (
    "pmid, version, kind, status, title, journal, pub_year, is_retracted, has_erratum, "
    "is_indexed, data, content_hash, first_seen, last_seen, is_trial, registry_ids, "
    "evidence_level, decision, decided_at"
)
# i = 1..N; first seen one minute apart, so the newest article has the largest i.
_SQLITE_FILL = f"""
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :n)
INSERT INTO articles ({_COLUMNS})
SELECT 30000000 + i, 1, 'article', 'MEDLINE',
       'Ketamine and cortical plasticity in focal dystonia, record ' || i,
       'Movement disorders', 2000 + i % 26, 0, 0, 1,
       json_object('pmid', CAST(30000000 + i AS TEXT), 'status', 'MEDLINE',
                   'title', 'Ketamine and cortical plasticity in focal dystonia, record ' || i),
       'hash' || i,
       datetime('2020-01-01', '+' || i || ' minutes') || '.000000',
       datetime('2020-01-01', '+' || i || ' minutes') || '.000000',
       i % 20 = 0, '[]',
       CASE i % 5 WHEN 0 THEN 'rct' WHEN 1 THEN 'review' ELSE 'other' END,
       CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN 'include' ELSE 'exclude' END,
       CASE i % 3 WHEN 0 THEN NULL
            ELSE datetime('2021-01-01', '+' || i || ' minutes') || '.000000' END
FROM n
"""
_POSTGRES_FILL = f"""
INSERT INTO articles ({_COLUMNS})
SELECT 30000000 + i, 1, 'article', 'MEDLINE',
       'Ketamine and cortical plasticity in focal dystonia, record ' || i,
       'Movement disorders', 2000 + i % 26, false, false, true,
       jsonb_build_object(
           'pmid', (30000000 + i)::text, 'status', 'MEDLINE',
           'title', 'Ketamine and cortical plasticity in focal dystonia, record ' || i),
       'hash' || i,
       timestamptz '2020-01-01 00:00+00' + i * interval '1 minute',
       timestamptz '2020-01-01 00:00+00' + i * interval '1 minute',
       i % 20 = 0, '[]'::jsonb,
       CASE i % 5 WHEN 0 THEN 'rct' WHEN 1 THEN 'review' ELSE 'other' END,
       CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN 'include' ELSE 'exclude' END,
       CASE i % 3 WHEN 0 THEN NULL
            ELSE timestamptz '2021-01-01 00:00+00' + i * interval '1 minute' END
FROM generate_series(1, :n) AS i
"""


def build(engine: Engine, n: int) -> float:
    """Fill the articles table with ``n`` rows; returns the seconds it took."""
    start = time.perf_counter()
    fill = _POSTGRES_FILL if engine.dialect.name == "postgresql" else _SQLITE_FILL
    with write_tx(engine) as conn:
        conn.execute(text(fill), {"n": n})
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return time.perf_counter() - start


def timed(action: Callable[[], object], repeat: int) -> float:
    """Median milliseconds over ``repeat`` runs, after one warm-up run."""
    action()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="articles (default 1,000,000)")
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'untriaged.db'}"
        engine = open_database(url)
        with engine.connect() as conn:
            stored = int(conn.execute(select(func.count()).select_from(ARTICLES)).scalar_one())
        if stored == 0:
            seconds = build(engine, args.n)
            print(f"built {args.n:,} articles in {seconds:.1f} s ({args.n / seconds:,.0f}/s)")
        elif stored != args.n:
            sys.exit(f"{url} holds {stored:,} articles, not {args.n:,}: use an empty database")
        untriaged = count_articles(engine, untriaged=True)
        print(f"database: {engine.dialect.name}, {args.n:,} articles, {untriaged:,} untriaged")

        runner = CliRunner()
        command = ["--db", url, "hits", "list", "--untriaged", "--limit", "50"]

        def cli_run(*extra: str) -> None:
            result = runner.invoke(cli, [*command, *extra])
            if result.exit_code != 0:
                raise RuntimeError(result.output)

        figures = {
            "hits list --untriaged --limit 50 (table)": timed(cli_run, args.repeat),
            "hits list --untriaged --limit 50 --json": timed(
                lambda: cli_run("--json"), args.repeat
            ),
            "list_articles(untriaged=True, limit=50)": timed(
                lambda: list_articles(engine, untriaged=True, limit=50), args.repeat
            ),
            "triage_queue(limit=1) (next article to triage)": timed(
                lambda: triage_queue(engine, limit=1), args.repeat
            ),
            "count_articles(untriaged=True)": timed(
                lambda: count_articles(engine, untriaged=True), args.repeat
            ),
        }
        for label, ms in figures.items():
            print(f"{ms:8.1f} ms  {label}")
        target = figures["hits list --untriaged --limit 50 (table)"]
        print(f"target < 300 ms: {'met' if target < 300 else 'NOT met'} ({target:.1f} ms)")

        litwatch = Path(sys.executable).with_name("litwatch")
        start = time.perf_counter()
        subprocess.run(
            [str(litwatch), *command],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "COLUMNS": "120"},
        )
        cold = (time.perf_counter() - start) * 1000
        print(f"{cold:8.1f} ms  litwatch hits list --untriaged --limit 50 (new process)")
        engine.dispose()


if __name__ == "__main__":
    main()
