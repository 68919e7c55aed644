"""``litwatch run``, ``runs``, ``serve``, ``queries list|check`` and ``report search-log``."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import SQLAlchemyError

from ..digest import SendResult, send_due
from ..errors import ConfigError, EutilsError
from ..eutils import EutilsClient, client_from_settings
from ..pipeline import ProgressCallback, ProgressEvent, database_problem, load_catalogue
from ..pipeline import run_monitoring as run_pass
from ..queries import QueryFolder, SavedQuery, describe, load_queries, query_files
from ..query_windows import is_query_due
from ..run_summary import RunSummary
from ..search_log import search_log
from ..store.ledger import all_progress, list_searches
from ..tomlfile import parse_toml
from . import cli
from .context import AppContext
from .groups import queries, report
from .output import dump_json, emit_rows, output_options

DAY = click.DateTime(formats=["%Y-%m-%d"])


# -- litwatch run -----------------------------------------------------------------------


@cli.command("run")
@click.option(
    "--query",
    "names",
    multiple=True,
    metavar="NAME",
    help="Run this query (repeatable), due or not. Default: every enabled query that is due.",
)
@click.option("--all", "run_all", is_flag=True, help="Every enabled query, due or not.")
@click.option("--until", type=DAY, help="Last day of the windows (default: today, UTC).")
@click.option(
    "--dry-run", is_flag=True, help="Search and report what would be fetched; store nothing."
)
@click.option(
    "--no-digest", is_flag=True, help="Do not send the digests that are due after the run."
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.pass_obj
def run_command(
    app: AppContext,
    names: tuple[str, ...],
    run_all: bool,
    until: datetime | None,
    dry_run: bool,
    no_digest: bool,
    as_json: bool,
) -> None:
    """Run the saved queries once: search, fetch what is new or changed, store, record;
    then send the digests that are due.

    Exits with status 1 when any query failed (its windows are retried next run) or a
    digest could not be delivered (it is retried next run).
    """
    today = datetime.now(UTC).date()
    if until is not None and until.date() > today:
        raise click.ClickException(
            f"--until {until.date().isoformat()} is after today ({today.isoformat()}, UTC): "
            "PubMed has no records for days that have not come"
        )
    with _database_errors():
        _run(app, names, run_all, until, dry_run=dry_run, no_digest=no_digest, as_json=as_json)


def _run(
    app: AppContext,
    names: tuple[str, ...],
    run_all: bool,
    until: datetime | None,
    *,
    dry_run: bool,
    no_digest: bool,
    as_json: bool,
) -> None:
    settings = app.settings
    folder = _load(settings.queries_dir)
    selected = _select(app, folder, names, run_all=run_all)
    if not selected:
        # Nothing to search; the digests are still due (an hourly cron sends them from here).
        digests = [] if dry_run or no_digest else _send_due_digests(app)
        if as_json:
            click.echo(
                dump_json(
                    {
                        "queries": [],
                        "ok": not folder.problems,
                        "digests": [d.to_dict() for d in digests],
                    }
                )
            )
        else:
            click.echo("No query is due (use --all, or --query NAME).", err=True)
            _print_digests(digests)
        if folder.problems or any(d.status == "failed" for d in digests):
            raise click.exceptions.Exit(1)
        return
    catalogue = None if dry_run else load_catalogue(settings.queries_dir)
    with client_from_settings(settings) as client, _progress_bar(enabled=not as_json) as progress:
        summary = run_pass(
            app.engine,
            selected,
            client,
            until=until.date() if until else None,
            dry_run=dry_run,
            catalogue=catalogue,
            progress=progress,
        )
    digests = [] if dry_run or no_digest else _send_due_digests(app)
    if as_json:
        click.echo(dump_json(summary.to_dict() | {"digests": [d.to_dict() for d in digests]}))
    else:
        _print_summary(summary)
        _print_digests(digests)
    digest_failed = any(d.status == "failed" for d in digests)
    if summary.failed or folder.problems or digest_failed:
        raise click.exceptions.Exit(1)


def _print_digests(digests: list[SendResult]) -> None:
    for result in digests:
        click.echo(f"digest {result.name}: {result.status} ({result.reason})")


@contextmanager
def _database_errors() -> Iterator[None]:
    """A database failure outside the library's own handling: one line, exit 1, no traceback."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise click.ClickException(f"database error: {database_problem(exc)}") from exc


def _send_due_digests(app: AppContext) -> list[SendResult]:
    """Due digests, after the monitoring they report on (as ``litwatch serve`` does)."""
    results = send_due(app.engine, app.settings, now=datetime.now(UTC))
    return [r for r in results if r.status != "not-due"]


def _load(folder: Path) -> QueryFolder:
    loaded = load_queries(folder)
    for problem in loaded.problems:
        click.echo(f"{problem} (skipped)", err=True)
    return loaded


def _select(
    app: AppContext, folder: QueryFolder, names: tuple[str, ...], *, run_all: bool
) -> list[SavedQuery]:
    if names:
        return [folder.by_name(name) for name in dict.fromkeys(names)]
    enabled = [q for q in folder.queries if q.enabled]
    if run_all:
        return enabled
    progress = all_progress(app.engine)
    now = datetime.now(UTC)
    return [q for q in enabled if is_query_due(q, progress.get(q.name), now)]


@contextmanager
def _progress_bar(*, enabled: bool) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on stderr when it is a terminal; silent otherwise."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(event: ProgressEvent) -> None:
            if event.stage not in tasks:
                label = "Searching windows" if event.stage == "search" else "Fetching records"
                tasks[event.stage] = bar.add_task(label, total=event.total)
            bar.update(tasks[event.stage], completed=event.done, total=event.total)

        yield update


def _print_summary(summary: RunSummary) -> None:
    rows = [
        {
            "query": q.name,
            "status": q.status + (" (first run)" if q.first_run else ""),
            "found": q.found,
            "new": q.new,
            "updated": q.updated,
            "to fetch": q.to_fetch,
        }
        for q in summary.queries
    ]
    title = f"litwatch run until {summary.until.isoformat()}" + (
        " (dry run: nothing stored)" if summary.dry_run else ""
    )
    emit_rows(rows, None, title=title)
    if summary.dry_run:
        click.echo(
            f"Total: {summary.found} found, {summary.to_fetch} would be fetched; "
            f"{summary.requests} requests; {summary.seconds:.1f}s"
        )
    else:
        click.echo(
            f"Total: {summary.found} found, {summary.fetched} fetched, {summary.new} new, "
            f"{summary.updated} updated, {len(summary.deleted)} deleted; "
            f"{summary.requests} requests ({summary.search_requests} searches, "
            f"{_plural(summary.fetch_batches, 'fetch batch', 'fetch batches')}); "
            f"{summary.seconds:.1f}s"
        )
    if summary.missing:
        click.echo(
            f"Warning: {len(summary.missing)} PMID(s) not returned by PubMed: "
            + ", ".join(summary.missing[:20]),
            err=True,
        )
    for outcome in summary.queries:
        if outcome.status in ("failed", "skipped"):
            click.echo(f"{outcome.name}: {outcome.status}: {outcome.error}", err=True)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


# -- litwatch runs ----------------------------------------------------------------------


@cli.command("runs")
@click.option("--query", "name", metavar="NAME", help="Only this query's searches.")
@click.option(
    "--status",
    type=click.Choice(["running", "ok", "failed"]),
    help="Only searches with this status.",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most N searches."
)
@output_options
@click.pass_obj
def runs_command(
    app: AppContext, name: str | None, status: str | None, limit: int, output_format: str | None
) -> None:
    """The search ledger: every search run, newest first.

    Of the records a search found: NEW were not in the database before its run,
    KNOWN were and did not change, UPDATED were and a newer version replaced them.
    """
    records = list_searches(app.engine, query=name, status=status, limit=limit)
    if output_format:
        emit_rows([r.to_dict() for r in records], output_format)
        return
    rows = [
        {
            "id": r.id,
            "started": r.started_at.strftime("%Y-%m-%d %H:%M"),
            "query": r.query_name,
            "window": f"{r.date_field} {r.window_start.isoformat()}..{r.window_end.isoformat()}",
            "count": r.count,
            "new": r.new_count,
            "known": r.known_count,
            "updated": r.updated_count,
            "status": r.status if r.error is None else f"{r.status}: {r.error}",
        }
        for r in records
    ]
    emit_rows(rows, None, empty="No searches recorded yet.")


# -- litwatch serve ---------------------------------------------------------------------


@cli.command("serve")
@click.pass_obj
def serve_command(app: AppContext) -> None:
    """Run the worker: every enabled query and digest on its schedule, until SIGINT/SIGTERM.

    Logs one line per run and per error on stderr. Queries that are overdue run at start.
    """
    from ..scheduler import serve

    root = logging.getLogger()
    if root.level > logging.INFO:  # without -v: the worker's own lines, not every module's
        logging.getLogger("litwatch.scheduler").setLevel(logging.INFO)
        # Retried requests are not errors; a run that fails is logged by the worker.
        logging.getLogger("litwatch.eutils").setLevel(logging.ERROR)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    settings = app.settings
    with _database_errors():
        serve(settings, app.engine, catalogue=lambda: load_catalogue(settings.queries_dir))


# -- litwatch queries list / check -------------------------------------------------------


@queries.command("list")
@output_options
@click.pass_obj
def list_queries(app: AppContext, output_format: str | None) -> None:
    """The saved queries, with how far each has run."""
    folder = _load(app.settings.queries_dir)
    progress = all_progress(app.engine)
    rows = []
    for query in folder.queries:
        state = progress.get(query.name)
        row = describe(query) | {
            "watermark": state.watermark if state else None,
            "mdat_watermark": state.mdat_watermark if state else None,
            "last_run_at": state.last_run_at if state else None,
            "last_status": state.last_status if state else None,
        }
        rows.append(row)
    columns = (
        None
        if output_format
        else ("name", "title", "schedule", "enabled", "watermark", "last_run_at", "last_status")
    )
    emit_rows(rows, output_format, columns=columns, empty="No saved queries.")


@queries.command("check")
@click.option(
    "--remote",
    is_flag=True,
    help="Also ask PubMed for each query's count and translation, and report dropped phrases.",
)
@click.pass_obj
def check_queries(app: AppContext, remote: bool) -> None:
    """Check every query file; one ``file:line: message`` per problem, exit 1 if any."""
    folder = load_queries(app.settings.queries_dir)
    problems = [str(p) for p in folder.problems]
    for line in problems:
        click.echo(line)
    if remote and folder.queries:
        with client_from_settings(app.settings) as client:
            for query in folder.queries:
                found = _check_remote(client, query)
                problems.extend(found)
    checked = len(query_files(app.settings.queries_dir))
    if problems:
        click.echo(f"{len(problems)} problem(s) in {checked} file(s).", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"{len(folder.queries)} queries OK.", err=True)


# PubMed messages that mean part of the query was not searched as written.
_DROPPED = ("PhraseNotFound", "FieldNotFound", "PhraseIgnored", "QuotedPhraseNotFound")


def _check_remote(client: EutilsClient, query: SavedQuery) -> list[str]:
    where = _term_location(query)
    try:
        result = client.esearch(query.term_sent, retmax=0)
    except EutilsError as exc:
        line = f"{where}: PubMed could not run the search: {exc}"
        click.echo(line)
        return [line]
    click.echo(f"{query.name}: {result.count} records in PubMed")
    click.echo(f"  PubMed translation: {result.query_translation or '(none)'}")
    problems = []
    for message in (*result.errors, *result.warnings):
        if message.startswith(_DROPPED):
            line = f"{where}: PubMed: {message}"
            click.echo(line)
            problems.append(line)
        else:
            click.echo(f"  PubMed: {message}")
    return problems


def _term_location(query: SavedQuery) -> str:
    try:
        line = parse_toml(query.path, query.path.read_text(encoding="utf-8")).line_of("term")
    except (OSError, ConfigError):
        line = None
    return f"{query.path}:{line}" if line else str(query.path)


# -- litwatch report search-log -----------------------------------------------------------


@report.command("search-log")
@click.option("--since", type=DAY, help="First day (UTC) of searches to include.")
@click.option("--until", type=DAY, help="Last day (UTC) of searches to include.")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
@click.pass_obj
def search_log_command(
    app: AppContext, since: datetime | None, until: datetime | None, as_json: bool
) -> None:
    """The PRISMA-S search record: every search run in the period, exactly as run."""
    record = search_log(
        app.engine,
        since=_day(since),
        until=_day(until),
        base_url=app.settings.eutils.base_url,
    )
    if as_json:
        click.echo(dump_json(record.to_dict()))
    else:
        sys.stdout.write(record.to_text())


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None
