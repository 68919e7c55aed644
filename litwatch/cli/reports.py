"""``litwatch report prisma`` and ``litwatch report claims``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from ..claims_report import claims_report, load_claims, render_claims
from ..prisma import prisma_flow, render_flow
from .context import AppContext
from .groups import report
from .output import dump_json


@report.command("prisma")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Count only searches run on or after DATE (an update of the review).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as a JSON object.")
@click.pass_obj
def prisma_command(app: AppContext, since: datetime | None, as_json: bool) -> None:
    """PRISMA 2020 flow: identified per query, duplicates removed, screened (excluded
    per reason, maybe, included), awaiting screening, with a check that the numbers add up."""
    flow = prisma_flow(app.engine, since=since.date() if since else None)
    if as_json:
        click.echo(dump_json(flow.to_dict()))
    else:
        click.echo(render_flow(flow))
    if not all(flow.checks.values()):
        raise click.ClickException("the PRISMA numbers do not add up (see the checks above)")


@report.command("claims")
@click.option(
    "--claims",
    "claims_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Claim catalogue (default: claims.toml in the queries folder).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per claim.")
@click.pass_obj
def claims_command(app: AppContext, claims_file: Path | None, as_json: bool) -> None:
    """Per claim: the source article's status, and the evidence gathered by level and stance."""
    catalogue = load_claims(claims_file or app.settings.queries_dir / "claims.toml")
    result = claims_report(app.engine, catalogue)
    if as_json:
        click.echo(dump_json([claim.to_dict() for claim in result]))
    else:
        click.echo(render_claims(result))
