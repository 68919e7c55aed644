"""Every command explains itself, and the README documents every top-level command."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
import pytest

from litwatch.cli import cli
from tests.conftest import REPO


def walk(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}".strip()
        yield path, command
        if isinstance(command, click.Group):
            yield from walk(command, path)


COMMANDS = list(walk(cli))


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_has_help(path: str, command: click.Command) -> None:
    assert (command.help or "").strip(), f"`litwatch {path}` has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"`litwatch {path}` option {param.opts[0]} has no help"


def test_readme_mentions_every_top_level_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [
        name for name in cli.commands if not re.search(rf"litwatch {re.escape(name)}\b", readme)
    ]
    assert missing == []
