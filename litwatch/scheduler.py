"""``litwatch serve``: the worker; APScheduler 3.x runs each query and digest on its schedule.

- One job per enabled query (``query:NAME``) on the query's schedule, and one
  per digest (``digest:NAME``) on the digest's. Every job coalesces missed
  runs into one, never runs twice at once in this process
  (``max_instances=1``), and still runs if it fires up to
  ``misfire_grace_time`` late. Across processes and machines the query's run
  lock (``litwatch.locks``) keeps a window to one worker; the digest's lock
  keeps a digest to one sender.
- At start, queries that are overdue (never ran, last run failed, or a
  scheduled time passed while no worker was up) run at once.
- Digests go out after the monitoring they report on: a digest job waits for
  the query jobs running in this process, and each time the last of them
  finishes, due digests are sent (a "new-trials" digest thus goes out at the
  first run that has a new trial).
- SIGINT / SIGTERM: no new job starts; a run in progress stops at its next
  request and leaves its unfinished windows for the next run (nothing is lost:
  see ``litwatch.pipeline``). A second signal exits at once, which is safe too.
- One log line per run and per error, on stderr.

A query file edited while the worker runs is read again at its next run (a
new schedule needs a restart).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from .claims import Catalogue
from .config import Settings
from .errors import LitwatchError
from .eutils import EutilsClient, client_from_settings
from .pipeline import Stopped, database_problem, run_monitoring
from .queries import SavedQuery, load_queries
from .query_windows import is_query_due
from .schedules import parse_schedule
from .store.ledger import all_progress

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 6 * 3600  # a worker that was down for the night still runs the job
WORKER_THREADS = 4
DIGEST_WAIT_SECONDS = 3600.0  # how long a digest job waits for running queries

ClientFactory = Callable[[], EutilsClient]
CatalogueLoader = Callable[[], Catalogue | None]
DigestSender = Callable[[Engine, Settings, datetime], list[Any]]


def default_digest_sender() -> DigestSender | None:
    """``litwatch.digest.send_due`` when this installation has the digest."""
    try:
        from .digest import send_due
    except ImportError:  # pragma: no cover - the digest ships with litwatch
        return None

    def send(engine: Engine, settings: Settings, now: datetime) -> list[Any]:
        return list(send_due(engine, settings, now=now))

    return send


class Worker:
    """The jobs of ``litwatch serve`` and what they share."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        client_factory: ClientFactory | None = None,
        catalogue: CatalogueLoader | None = None,
        send_digests: DigestSender | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.client_factory = client_factory or self._client
        self.catalogue = catalogue or (lambda: None)
        self.send_digests = send_digests
        self.clock = clock
        self.stop = threading.Event()
        self._active = 0
        self._idle = threading.Condition()

    def _client(self) -> EutilsClient:
        """A client whose retry pauses end at shutdown (the pace stays process-wide)."""
        base = client_from_settings(self.settings)
        return EutilsClient(
            base.session,
            base.settings,
            sleep=self._pause,
            limiter=base.limiter,
            owns_session=True,
        )

    def _pause(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise Stopped("stopped by shutdown while waiting to retry")

    # -- jobs -----------------------------------------------------------------

    def run_query(self, name: str) -> None:
        """One scheduled run of one query (the file is read again, so edits apply)."""
        if self.stop.is_set():
            return
        with self._idle:
            self._active += 1
        try:
            query = self._load(name)
            if query is None:
                return
            with self.client_factory() as client:
                summary = run_monitoring(
                    self.engine,
                    [query],
                    client,
                    catalogue=self.catalogue(),
                    stop=self.stop,
                    clock=self.clock,
                )
            if summary.failed:
                log.error("%s", summary.log_line())
                for outcome in summary.queries:
                    if outcome.error:
                        log.error("query %s: %s", outcome.name, outcome.error)
            else:
                log.info("%s", summary.log_line())
        except (LitwatchError, SQLAlchemyError) as exc:  # one line; the worker goes on
            log.error("query %s: the run failed: %s", name, _one_line(exc))
            log.debug("query %s: details", name, exc_info=True)
        except Exception:
            log.exception("query %s: the run failed", name)
        finally:
            with self._idle:
                self._active -= 1
                last = self._active == 0
                self._idle.notify_all()
        if last and not self.stop.is_set():
            self.send_due_digests()

    def run_digests(self) -> None:
        """A digest's scheduled time: wait for running queries, then send what is due."""
        with self._idle:
            if not self._idle.wait_for(
                lambda: self._active == 0 or self.stop.is_set(), timeout=DIGEST_WAIT_SECONDS
            ):
                log.warning("digest: queries still running after %.0fs", DIGEST_WAIT_SECONDS)
        if not self.stop.is_set():
            self.send_due_digests()

    def send_due_digests(self) -> None:
        if self.send_digests is None:
            return
        try:
            results = self.send_digests(self.engine, self.settings, self.clock())
        except (LitwatchError, SQLAlchemyError) as exc:
            log.error("digest: sending failed: %s", _one_line(exc))
            log.debug("digest: details", exc_info=True)
            return
        except Exception:
            log.exception("digest: sending failed")
            return
        for result in results:
            status = getattr(result, "status", "?")
            if status == "not-due":
                continue
            line = (
                f"digest {getattr(result, 'name', '?')}: {status} ({getattr(result, 'reason', '')})"
            )
            if status == "failed":
                log.error("%s", line)
            else:
                log.info("%s", line)

    def _load(self, name: str) -> SavedQuery | None:
        try:
            folder = load_queries(self.settings.queries_dir)
        except LitwatchError as exc:
            log.error("query %s: %s", name, exc)
            return None
        query = next((q for q in folder.queries if q.name == name), None)
        if query is None:
            log.error(
                "query %s: no longer in %s (or broken): not run", name, self.settings.queries_dir
            )
        elif not query.enabled:
            log.info("query %s: disabled, not run", name)
            return None
        return query

    # -- the scheduler --------------------------------------------------------

    def build(self, executor: ThreadPoolExecutor | None = None) -> BlockingScheduler:
        """A scheduler with every job added (not started)."""
        scheduler = BlockingScheduler(
            timezone=UTC, executors={"default": executor or ThreadPoolExecutor(WORKER_THREADS)}
        )
        every_job: dict[str, Any] = {
            "coalesce": True,  # runs missed while down or busy: one run, not a burst
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
            "replace_existing": True,
        }
        folder = load_queries(self.settings.queries_dir)
        for problem in folder.problems:
            log.error("%s (not scheduled)", problem)
        progress = all_progress(self.engine)
        now = self.clock()
        for query in folder.queries:
            if not query.enabled:
                continue
            overdue = is_query_due(query, progress.get(query.name), now)
            options: dict[str, Any] = {"next_run_time": now} if overdue else {}
            scheduler.add_job(
                self.run_query,
                trigger=parse_schedule(query.schedule),
                args=[query.name],
                id=f"query:{query.name}",
                name=f"query {query.name} ({query.schedule})",
                **every_job,
                **options,
            )
        if self.send_digests is not None:
            for digest in self.settings.digests:
                scheduler.add_job(
                    self.run_digests,
                    trigger=parse_schedule(digest.schedule),
                    id=f"digest:{digest.name}",
                    name=f"digest {digest.name} ({digest.schedule})",
                    **every_job,
                )
        return scheduler

    def shutdown(self, scheduler: BlockingScheduler) -> None:
        """Stop starting jobs; the running ones stop at their next request."""
        self.stop.set()
        with self._idle:
            self._idle.notify_all()
        if scheduler.running:
            scheduler.shutdown(wait=False)


def serve(
    settings: Settings,
    engine: Engine,
    *,
    catalogue: CatalogueLoader | None = None,
    client_factory: ClientFactory | None = None,
) -> None:
    """Run the worker until SIGINT or SIGTERM; returns once running jobs have stopped."""
    worker = Worker(
        settings,
        engine,
        catalogue=catalogue,
        client_factory=client_factory,
        send_digests=default_digest_sender(),
    )
    executor = ThreadPoolExecutor(WORKER_THREADS)
    scheduler = worker.build(executor)
    signals = {"count": 0}

    def on_signal(number: int, _frame: FrameType | None) -> None:
        signals["count"] += 1
        if signals["count"] > 1:
            log.error("second %s: exiting now", signal.Signals(number).name)
            os._exit(1)  # safe: an interrupted run is completed by the next one
        log.info(
            "%s: stopping (running windows are left for the next run)", signal.Signals(number).name
        )
        worker.shutdown(scheduler)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    jobs = scheduler.get_jobs()
    log.info("serving %d job(s): %s", len(jobs), ", ".join(job.id for job in jobs) or "none")
    try:
        scheduler.start()
    finally:
        executor.shutdown(wait=True)  # let running jobs reach their next stop point
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("stopped")


def _one_line(exc: Exception) -> str:
    return database_problem(exc) if isinstance(exc, SQLAlchemyError) else str(exc)
