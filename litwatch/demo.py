"""``litwatch demo``: the whole product, offline, on one command.

It makes a working folder with its own settings, database and outbox,
starts the local E-utilities stub on the bundled sample corpus, and replays
the corpus's last weeks as weekly monitoring runs: each week the stub's
"today" moves to that Monday, the shipped queries run up to it, records that
changed (MeSH added, a retraction linked) are fetched again, and the due
digests go to the outbox. So the ledger fills week by week, and later
digests carry updates to papers an earlier digest sent.

The demo's clock is simulated (each week's runs at 05:00 UTC on its Monday,
digests at 06:00), so the ledger and the digests read like a real season of
monitoring. Two digests are configured: ``weekly`` with ``send_when =
"new-hits"`` (so every week that found something mails it, and the updates
show) and ``trial-alert``, new trials only, with the default ``new-trials``
(only weeks with a new trial).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import requests
from sqlalchemy import Engine

from .claims import load_catalogue
from .config import Settings, load_settings
from .db import open_database
from .digest_send import SendResult, send_due
from .errors import ConfigError, InputError
from .eutils import EutilsClient
from .mailer import OutboxTransport
from .pipeline import run_monitoring
from .queries import CLAIMS_FILE, load_queries
from .resources import sample_corpus_dir
from .run_summary import RunSummary
from .testing.eutils_stub import EutilsStub
from .testing.stub_corpus import StubCorpus
from .workdir import copy_bundled

DEFAULT_FOLDER = Path("litwatch-demo")
DEFAULT_WEEKS = 8
MARKER = ".litwatch-demo"  # says the folder is the demo's own, safe to refresh
RUN_AT = time(5, 0, tzinfo=UTC)
DIGEST_AT = time(6, 0, tzinfo=UTC)

DEMO_CONFIG = """\
# Settings of the litwatch demo (written by `litwatch demo`; rerunning it rewrites them).
# See `litwatch init` for a file documenting every setting.

[database]
url = "sqlite:///litwatch.db"  # relative to the folder you run litwatch in: cd here first

[paths]
queries = "queries"
outbox = "outbox"

[eutils]
email = "demo@example.org"

# Every week that found something: new papers, and updates to papers already sent.
[[digest]]
name = "weekly"
recipients = ["you@example.org"]
schedule = "weekly"
send_when = "new-hits"

# A trial alert: new trials only, sent only when there is one (the default policy).
[[digest]]
name = "trial-alert"
recipients = ["you@example.org"]
schedule = "daily"
send_when = "new-trials"
only_trials = true
"""


@dataclass
class DemoWeek:
    until: date
    run: RunSummary
    digests: list[SendResult]
    html: list[Path] = field(default_factory=list)


@dataclass
class DemoReport:
    folder: Path
    config: Path
    database: Path
    outbox: Path
    html_dir: Path
    weeks: list[DemoWeek] = field(default_factory=list)

    @property
    def eml_files(self) -> list[Path]:
        return sorted(self.outbox.glob("*.eml"))

    @property
    def html_files(self) -> list[Path]:
        return [p for week in self.weeks for p in week.html]


class SimulatedClock:
    """A clock that starts at ``start`` and ticks one second per reading (ordered ledger rows)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def demo_weeks(corpus: StubCorpus, weeks: int = DEFAULT_WEEKS) -> list[date]:
    """The ``weeks`` Mondays ending with the first Monday after the corpus's last date."""
    records = corpus.snapshot(None).records
    last = max(
        (d for r in records for d in (r.article.created, r.article.modified) if d), default=None
    )
    if last is None:
        raise InputError(", ".join(map(str, corpus.sources)), "no dated PubMed records")
    end = last + timedelta(days=7 - last.weekday())  # the Monday after
    return [end - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]


def prepare_folder(folder: Path) -> None:
    """An empty folder, or one an earlier demo made (its outputs are removed first)."""
    if folder.exists():
        if not folder.is_dir():
            raise InputError(folder, "exists and is not a folder")
        if any(folder.iterdir()) and not (folder / MARKER).exists():
            raise InputError(
                folder, "is not empty and was not made by `litwatch demo`: choose another --dir"
            )
        for name in ("outbox", "digests", "queries"):
            shutil.rmtree(folder / name, ignore_errors=True)
        for name in ("litwatch.db", "litwatch.db-wal", "litwatch.db-shm"):
            (folder / name).unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by `litwatch demo`; rerunning the demo refreshes it\n")


def run_demo(
    folder: Path = DEFAULT_FOLDER,
    *,
    weeks: int = DEFAULT_WEEKS,
    corpus: Path | None = None,
    on_week: Callable[[DemoWeek], None] | None = None,
) -> DemoReport:
    """Run the demo into ``folder`` (see the module docstring); returns what it made."""
    corpus = corpus or sample_corpus_dir()
    folder = folder.resolve()
    prepare_folder(folder)
    config = folder / "litwatch.toml"
    config.write_text(DEMO_CONFIG, encoding="utf-8")
    copy_bundled("queries", folder / "queries")
    # The demo's own settings, whatever the shell says; the file's relative database
    # URL serves commands run from the folder, the demo itself may run from anywhere.
    settings = load_settings(config, env={}).with_overrides(
        db_url=f"sqlite:///{folder / 'litwatch.db'}"
    )
    report = DemoReport(
        folder=folder,
        config=config,
        database=folder / "litwatch.db",
        outbox=settings.outbox_dir,
        html_dir=folder / "digests",
    )
    engine = open_database(settings.db_url)
    try:
        _run_weeks(engine, settings, corpus, weeks, report, on_week)
    finally:
        engine.dispose()
    return report


def _run_weeks(
    engine: Engine,
    settings: Settings,
    corpus: Path,
    weeks: int,
    report: DemoReport,
    on_week: Callable[[DemoWeek], None] | None,
) -> None:
    folder = load_queries(settings.queries_dir)
    if folder.problems:
        raise folder.problems[0]
    catalogue = load_catalogue(settings.queries_dir / CLAIMS_FILE)
    transport = OutboxTransport(settings.outbox_dir)
    with EutilsStub(corpus, rate_limit=False) as stub:
        mondays = demo_weeks(stub.corpus, weeks)
        client = EutilsClient(
            requests.Session(),
            replace(settings.eutils, base_url=stub.base_url),
            rate=1000.0,  # the stub's rate limit is off: no need to pace like NCBI
            owns_session=True,
        )
        with client:
            for monday in mondays:
                stub.today = monday
                clock = SimulatedClock(datetime.combine(monday, RUN_AT))
                run = run_monitoring(
                    engine, folder.queries, client, until=monday, catalogue=catalogue, clock=clock
                )
                sent = send_due(
                    engine, settings, now=datetime.combine(monday, DIGEST_AT), transport=transport
                )
                week = DemoWeek(monday, run, sent)
                week.html = [_html_copy(r, report.html_dir, monday) for r in sent if _written(r)]
                report.weeks.append(week)
                if on_week is not None:
                    on_week(week)


def _written(result: SendResult) -> bool:
    return result.status == "sent" and result.location is not None


def _html_copy(result: SendResult, folder: Path, monday: date) -> Path:
    """The HTML part of a sent digest as a file to open in a browser."""
    assert result.location is not None
    message = message_from_bytes(Path(result.location).read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("html",))
    if body is None:
        raise ConfigError(result.location, "the digest has no HTML part")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{monday.isoformat()}-{result.name}.html"
    path.write_text(body.get_content(), encoding="utf-8")
    return path
