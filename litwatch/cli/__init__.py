"""The ``litwatch`` command: a thin click shell over the library.

Each command group lives in its own module here and registers itself on
``cli``. Every ``LitwatchError`` becomes one line on stderr and exit code 1;
results go to stdout, logs to stderr.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from ..errors import LitwatchError
from .context import AppContext


class LitwatchGroup(click.Group):
    """Maps every ``LitwatchError`` to ``Error: <one line>`` and exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except LitwatchError as exc:
            raise click.ClickException(str(exc)) from exc
        except BrokenPipeError:
            sys.stderr.close()  # stdout went away (``| head``): nothing left to say
            raise click.exceptions.Exit(0) from None


@click.group(cls=LitwatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    envvar="LITWATCH_DB",
    help="Database URL (default sqlite:///litwatch.db in the working directory).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="LITWATCH_CONFIG",
    help="Settings file (default ./litwatch.toml when present).",
)
@click.option(
    "--queries",
    "queries_dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="LITWATCH_QUERIES",
    help="Folder of saved queries (default ./queries).",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.version_option(package_name="litwatch")
@click.pass_context
def cli(
    ctx: click.Context,
    db_url: str | None,
    config_path: Path | None,
    queries_dir: Path | None,
    verbose: int,
) -> None:
    """Monitor PubMed with saved searches, tag hits against claims, triage and send digests."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    ctx.obj = AppContext(config_path=config_path, db_url=db_url, queries_dir=queries_dir)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    cli(prog_name="litwatch")


from .groups import ALL as _GROUPS  # noqa: E402

for _group in _GROUPS:
    cli.add_command(_group)

# Each module adds its commands to ``cli`` or to a group when imported.
from . import (  # noqa: E402, F401
    claims_cmd,
    db_cmd,
    demo_cmd,
    digest_cmd,
    hits_cmd,
    ingest,
    monitor,
    reports,
    stub,
    triage_cmd,
)
