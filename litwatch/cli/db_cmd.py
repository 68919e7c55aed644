"""``litwatch db upgrade | check | copy``."""

from __future__ import annotations

import click

from ..db import check_database, upgrade_database
from ..db.copy import copy_database
from .context import AppContext
from .groups import db
from .output import dump_json


@db.command("upgrade")
@click.pass_obj
def upgrade(app: AppContext) -> None:
    """Apply pending schema migrations."""
    applied = upgrade_database(app.settings.db_url)
    if applied:
        click.echo(f"applied {len(applied)} migration(s): {', '.join(applied)}")
    else:
        click.echo("schema already current")


@db.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def check(app: AppContext, as_json: bool) -> None:
    """Connectivity, schema version and pending migrations; exit 1 unless ready to use."""
    status = check_database(app.settings.db_url)
    if as_json:
        click.echo(
            dump_json(
                {
                    "url": status.url,
                    "backend": status.backend,
                    "reachable": status.reachable,
                    "schema": status.current,
                    "needed": status.head,
                    "pending": list(status.pending),
                    "up_to_date": status.up_to_date,
                    "error": status.error,
                }
            )
        )
    else:
        click.echo(f"database: {status.url} ({status.backend})")
        if not status.reachable:
            click.echo(f"unreachable: {status.error}")
        elif status.newer:
            click.echo(f"schema {status.current} is newer than this litwatch ({status.head})")
        elif status.foreign:
            click.echo("has tables but no litwatch schema: not a litwatch database")
        elif status.empty:
            click.echo("empty: the schema is created on first use")
        else:
            click.echo(f"schema: {status.current} (needed: {status.head})")
            if status.pending:
                click.echo(f"pending: {', '.join(status.pending)}: run `litwatch db upgrade`")
    ready = status.up_to_date or (status.reachable and status.empty)
    if not ready:
        raise click.exceptions.Exit(1)


@db.command("copy")
@click.option("--to", "target", required=True, metavar="URL", help="The empty target database.")
@click.pass_obj
def copy(app: AppContext, target: str) -> None:
    """Copy the whole database (--db) to another URL, and prove nothing was lost."""
    report = copy_database(app.settings.db_url, target)
    for table in report.tables:
        click.echo(f"{table.table:16} {table.rows:>9} rows  sha256 {table.source_hash[:16]}  ok")
    click.echo(f"copied {report.source} -> {report.target}")
