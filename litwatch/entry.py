"""The ``litwatch`` command's entry point, kept light to import.

Worker processes (large imports, re-tagging) are spawned, and a spawned
process first imports the parent's main script: for the installed
``litwatch`` script that is this module, so the CLI (click, SQLAlchemy,
Alembic, every command) is imported only where it runs, not in each worker.
"""

from __future__ import annotations


def main() -> None:
    from .cli import main as run_cli

    run_cli()
