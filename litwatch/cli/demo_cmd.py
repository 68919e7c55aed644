"""``litwatch demo`` (the whole product offline) and ``litwatch init`` (a working folder)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..demo import DEFAULT_FOLDER, DEFAULT_WEEKS, DemoWeek, run_demo
from ..workdir import init_workdir
from . import cli


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it (shorter to read)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _week_line(week: DemoWeek) -> str:
    run = week.run
    failed = [q.name for q in run.queries if q.status == "failed"]
    parts = [f"week to {week.until:%a %d %b %Y}: {run.new} new, {run.updated} updated"]
    if failed:
        parts.append(f"failed: {', '.join(failed)}")
    for result in week.digests:
        if result.status == "sent":
            parts.append(f"{result.name} sent ({result.subject})")
        elif result.status == "failed":
            parts.append(f"{result.name} FAILED: {result.reason}")
    return " · ".join(parts)


@cli.command("demo")
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_FOLDER,
    show_default=True,
    help="Working folder for the demo (made, or refreshed if an earlier demo made it).",
)
@click.option(
    "--weeks",
    type=click.IntRange(min=1, max=52),
    default=DEFAULT_WEEKS,
    show_default=True,
    help="How many weekly runs, ending with the corpus's last week.",
)
def demo(folder: Path, weeks: int) -> None:
    """Run litwatch offline on the bundled sample corpus: weekly runs, digests to an outbox.

    Starts a local E-utilities server with the sample corpus, runs the shipped
    queries once per simulated week, tags and stores what they find, and
    writes each week's digests as .eml files plus an .html copy.
    """
    click.echo(f"litwatch demo: {weeks} weekly runs on the sample corpus (offline)", err=True)
    report = run_demo(folder, weeks=weeks, on_week=lambda week: click.echo(_week_line(week)))
    where = _shown(report.folder)
    latest = report.html_files[-1] if report.html_files else None
    click.echo("")
    click.echo(f"Done. Everything is in {where}/")
    rows = [("digests as sent (.eml)", f"{_shown(report.outbox)}/ ({len(report.eml_files)})")]
    if latest is not None:
        more = len(report.html_files) - 1
        rows.append(("open in a browser (.html)", f"{_shown(latest)} (and {more} more there)"))
    rows.append(("database and settings", f"{_shown(report.database)}, {_shown(report.config)}"))
    for label, value in rows:
        click.echo(f"  {label + ':':<28} {value}")
    click.echo("")
    click.echo("Next, try:")
    click.echo(f"  cd {where}")
    for command, what in (
        ("litwatch hits list", "what the searches found"),
        ("litwatch digest list", "the digests sent, with their Message-IDs"),
        ("litwatch triage", "screen the hits: include / exclude / maybe"),
        ("litwatch report claims", "the evidence gathered per claim"),
        ("litwatch report prisma", "PRISMA 2020 flow counts"),
        ("litwatch export --format ris -o hits.ris", "for Zotero or EndNote"),
    ):
        click.echo(f"  {command:<42} # {what}")


@cli.command("init")
@click.argument(
    "folder", type=click.Path(path_type=Path, file_okay=False), default=".", required=False
)
@click.option("--force", is_flag=True, help="Replace existing files with the shipped versions.")
def init(folder: Path, force: bool) -> None:
    """Make a working folder: litwatch.toml (every setting, commented), queries/, templates/."""
    result = init_workdir(folder, force=force)
    for path in result.written:
        click.echo(f"wrote {_shown(path.resolve())}")
    for path in result.kept:
        click.echo(f"kept  {_shown(path.resolve())} (exists; --force replaces it)")
    where = _shown(result.folder.resolve()) or "."
    click.echo("")
    click.echo("Next:")
    if where not in (".", os.curdir):
        click.echo(f"  cd {where}")
    click.echo("  edit litwatch.toml (your email for NCBI, digest recipients)")
    click.echo("  litwatch queries check      # validate the saved searches against PubMed")
    click.echo("  litwatch run                # one monitoring pass")
    click.echo("  litwatch digest preview     # what the next digest would say")
