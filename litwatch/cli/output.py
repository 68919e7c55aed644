"""One way to print rows: a rich table on a terminal, ``--json`` or ``--csv`` for machines.

Results go to stdout; colour only when stdout is a terminal and ``NO_COLOR``
is unset (rich honours both).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

F = TypeVar("F", bound=Callable[..., Any])


def output_options(func: F) -> F:
    """Adds ``--json`` and ``--csv`` (mutually exclusive) as ``output_format``."""
    func = click.option(
        "--csv", "output_format", flag_value="csv", help="Print comma-separated values."
    )(func)
    func = click.option(
        "--json", "output_format", flag_value="json", help="Print a JSON array of objects."
    )(func)
    return func


def json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dump_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=json_default)


def console() -> Console:
    return Console(soft_wrap=False, highlight=False)


def emit_rows(
    rows: Sequence[dict[str, Any]],
    output_format: str | None,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    empty: str = "Nothing to show.",
) -> None:
    """Print ``rows``: JSON objects (all keys), CSV (``columns`` or all keys) or a table."""
    if output_format == "json":
        click.echo(dump_json(list(rows)))
        return
    keys = list(columns) if columns else _all_keys(rows)
    if output_format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=keys, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in keys})
        return
    if not rows:
        click.echo(empty, err=True)
        return
    table = Table(title=title, show_lines=False, header_style="bold")
    for key in keys:
        table.add_column(key.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(k)) for k in keys))
    console().print(table)


def _all_keys(rows: Iterable[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for row in rows:
        for key in row:
            keys.setdefault(key, None)
    return list(keys)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=json_default)
    return str(value)
