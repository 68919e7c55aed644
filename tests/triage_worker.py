"""A process for test_triage_concurrency: a curator in the triage loop, or a writer saving
articles, started when a "go" file appears. Prints a JSON summary as its last line.

    python triage_worker.py A|B|writer DB_URL GO_FILE FIRST ADDED
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from litwatch.article import Article, PartialDate
from litwatch.db import open_database
from litwatch.store import save_articles
from litwatch.triage_session import TriageSession


def record(pmid: int, revision: int = 1) -> Article:
    return Article(
        pmid=str(pmid),
        title=f"Ketamine and cortical plasticity, record {pmid} (revision {revision})",
        pub_date=PartialDate("2026", 2026),
        history={"entrez": date(2026, 10, 1)},
        date_revised=date(2026, 10, revision),
    )


class Curator:
    """Scripted keys: A notes then includes; B sets a stance then excludes with reason 1."""

    def __init__(self, role: str, keys: str) -> None:
        self.role = role
        self.keys = keys
        self.turn = 0

    def show(self, text: str) -> None:
        pass

    def key(self, prompt: str, choices: str) -> str:
        if prompt.startswith("trials-needed:"):
            return "s"
        key = self.keys[self.turn % len(self.keys)]
        self.turn += 1
        return key

    def line(self, prompt: str) -> str:
        if prompt.startswith("Note"):
            return f"seen by {self.role}"
        if prompt.startswith("Number"):
            return "1"
        return "trials-needed"


def main(role: str, url: str, go: Path, first: int, added: int) -> None:
    engine = open_database(url)
    while not go.exists():
        time.sleep(0.005)
    if role == "writer":
        now = datetime.now(UTC)
        for start in range(1000, 1000 + added, 10):
            save_articles(engine, [record(p) for p in range(start, start + 10)], now=now)
            # Re-save some triaged records with new content, as a monitoring run would.
            save_articles(engine, [record(p, 2) for p in range(1, first + 1, 7)], now=now)
            time.sleep(0.01)
        sys.stdout.write(json.dumps({"saved": added}) + "\n")
    else:
        curator = Curator(role, "ni" if role == "A" else "ce")
        summary = TriageSession(engine, curator, actor=role, reasons=["wrong population"]).run()
        counts = {
            "decisions": sum(summary.decisions.values()),
            "notes": summary.notes,
            "stances": summary.stances,
        }
        sys.stdout.write(json.dumps(counts) + "\n")
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
