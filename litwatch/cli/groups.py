"""The command groups shared by several CLI modules (``hits``, ``report`` ...).

Each module in ``litwatch/cli/`` attaches its commands to these groups, so a
group's subcommands can live beside the library code they drive.
"""

from __future__ import annotations

import click


@click.group()
def hits() -> None:
    """Stored articles: list, show, history."""


@click.group()
def queries() -> None:
    """Saved searches in the queries folder."""


@click.group()
def report() -> None:
    """Reports for a systematic review: search log, PRISMA flow, claims."""


@click.group()
def claims() -> None:
    """The claim catalogue (queries/claims.toml) and the evidence per claim."""


@click.group()
def tags() -> None:
    """Claim tags, evidence levels and trial flags."""


@click.group()
def digest() -> None:
    """The email digest: preview and send."""


@click.group()
def db() -> None:
    """The database: upgrade, check, copy."""


ALL = (hits, queries, report, claims, tags, digest, db)
