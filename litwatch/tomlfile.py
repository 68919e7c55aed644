"""Reading TOML files people edit, with errors that name the file and line.

``tomllib`` reports syntax errors with a line and column but forgets where
each key was written; ``TomlDocument.line_of`` finds it again so that a
validation error (unknown key, bad value) can point at the right line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

_TOMLLIB_POSITION = re.compile(r"^(?P<msg>.*?) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")
_TABLE_HEADER = re.compile(r"^\s*\[\[?\s*(?P<name>[^\]]+?)\s*\]\]?\s*(?:#.*)?$")


@dataclass(frozen=True)
class TomlDocument:
    path: Path
    text: str
    data: dict[str, Any]

    def line_of(self, key: str, table: str | None = None, occurrence: int = 0) -> int | None:
        """1-based line where ``key = ...`` is written (inside ``[table]`` if given).

        ``occurrence`` picks the n-th ``[[table]]`` block for arrays of tables.
        """
        key_re = re.compile(
            rf"^\s*(?:\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*="
        )
        current: str | None = None
        seen = -1
        for number, line in enumerate(self.text.splitlines(), start=1):
            header = _TABLE_HEADER.match(line)
            if header:
                current = header.group("name").strip()
                if current == table:
                    seen += 1
                continue
            in_scope = current == table and (table is None or seen == occurrence)
            if in_scope and key_re.match(line):
                return number
        return None

    def line_of_table(self, table: str, occurrence: int = 0) -> int | None:
        seen = -1
        for number, line in enumerate(self.text.splitlines(), start=1):
            header = _TABLE_HEADER.match(line)
            if header and header.group("name").strip() == table:
                seen += 1
                if seen == occurrence:
                    return number
        return None

    def error(
        self, message: str, *, key: str | None = None, table: str | None = None, occurrence: int = 0
    ) -> ConfigError:
        """A ConfigError at the line of ``key`` (or of ``[table]``), or at the file."""
        line = None
        if key is not None:
            line = self.line_of(key, table, occurrence)
        if line is None and table is not None:
            line = self.line_of_table(table, occurrence)
        return ConfigError(self.path, message, line=line)


def load_toml(path: Path) -> TomlDocument:
    """Read and parse ``path``; a syntax error becomes ``path:line: message``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, f"cannot read: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(path, "not UTF-8 text", line=line) from exc
    return parse_toml(path, text)


def parse_toml(path: Path, text: str) -> TomlDocument:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOMLLIB_POSITION.match(message)
        if match:
            raise ConfigError(
                path, f"TOML: {match.group('msg')}", line=int(match.group("line"))
            ) from exc
        raise ConfigError(path, f"TOML: {message}") from exc
    return TomlDocument(path, text, data)


def reject_unknown_keys(
    doc: TomlDocument,
    data: dict[str, Any],
    allowed: set[str] | frozenset[str],
    *,
    table: str | None = None,
    occurrence: int = 0,
) -> list[ConfigError]:
    """One error per key of ``data`` that is not in ``allowed``."""
    errors = []
    for key in data:
        if key not in allowed:
            expected = ", ".join(sorted(allowed))
            errors.append(
                doc.error(
                    f"unknown key {key!r} (expected one of: {expected})",
                    key=key,
                    table=table,
                    occurrence=occurrence,
                )
            )
    return errors
