"""``litwatch import PATH...``: PubMed XML (plain or gzipped) and MEDLINE text into the store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from ..importing import FileResult, import_paths
from ..pipeline import load_catalogue
from ..store.tags import retag
from . import cli
from .context import AppContext
from .output import dump_json


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as a JSON object.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that parse a large PubMed XML file (default: one per CPU; 1: no workers).",
)
@click.pass_obj
def import_command(
    app: AppContext, paths: tuple[Path, ...], as_json: bool, jobs: int | None
) -> None:
    """Import record files or folders (PubMed XML, .xml.gz, MEDLINE .nbib/.txt).

    Prints how many records were read, new, updated and unchanged, how many
    stored articles PubMed deleted, and how many files failed. A failed file
    is named on stderr and leaves the database as it was; the other files
    still import, and the exit code is 1. Use -v to see each file's counts.
    Files of 8 MB and more are parsed by several processes (--jobs).
    New and changed records are then tagged against claims.toml in the
    queries folder (when there is one), as a monitoring run does.
    """

    def report(result: FileResult) -> None:
        if result.error is not None:
            click.echo(f"Error: {result.error}", err=True)

    summary = import_paths(app.engine, paths, now=datetime.now(UTC), on_file=report, jobs=jobs)
    catalogue = load_catalogue(app.settings.queries_dir)
    tagged = retag(app.engine, catalogue) if catalogue is not None else 0
    if as_json:
        click.echo(dump_json({**summary.to_dict(), "tagged": tagged}))
    else:
        click.echo(
            f"read {summary.read}, new {summary.new}, updated {summary.updated}, "
            f"unchanged {summary.unchanged}, deleted {summary.deleted}, "
            f"failed {len(summary.failed)} (of {len(summary.files)} files), tagged {tagged}"
        )
    if summary.failed:
        raise click.exceptions.Exit(1)
