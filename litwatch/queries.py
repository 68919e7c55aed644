"""Saved searches: ``queries/*.toml``, one PubMed search per file.

``load_queries`` returns the valid searches and every problem found, each
as a ``ConfigError`` that renders ``file:line: message`` (TOML errors,
unknown keys, bad values, bad cron expressions, query syntax errors with
their column, unknown field tags, duplicate names). ``claims.toml`` lives in
the same folder but is the claim catalogue, not a search.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .errors import ConfigError, QuerySyntaxError
from .querylang import parse, unknown_fields
from .schedules import ScheduleError, parse_schedule
from .tomlfile import TomlDocument, parse_toml, reject_unknown_keys

CLAIMS_FILE = "claims.toml"
DEFAULT_LOOKBACK_DAYS = 3
DEFAULT_START_DATE = date(2000, 1, 1)
_KEYS = frozenset(
    {
        "name",
        "title",
        "description",
        "term",
        "schedule",
        "lookback_days",
        "start_date",
        "tags",
        "enabled",
    }
)
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class SavedQuery:
    name: str
    term: str  # as written in the file (may span lines)
    path: Path
    content_hash: str  # SHA-256 of the file's bytes: the ledger records which version ran
    title: str = ""
    description: str = ""
    schedule: str = "weekly"
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    start_date: date = DEFAULT_START_DATE
    tags: tuple[str, ...] = ()
    enabled: bool = True

    @property
    def term_sent(self) -> str:
        """The term as sent to PubMed: whitespace (line breaks too) folded to single spaces."""
        return _WHITESPACE.sub(" ", self.term).strip()


@dataclass
class QueryFolder:
    queries: list[SavedQuery] = field(default_factory=list)
    problems: list[ConfigError] = field(default_factory=list)

    def by_name(self, name: str) -> SavedQuery:
        for query in self.queries:
            if query.name == name:
                return query
        known = ", ".join(q.name for q in self.queries) or "none"
        raise ConfigError(name, f"no saved query of that name (known: {known})")


def query_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ConfigError(folder, "queries folder not found (set --queries or LITWATCH_QUERIES)")
    return sorted(p for p in folder.glob("*.toml") if p.name != CLAIMS_FILE)


def load_queries(folder: Path) -> QueryFolder:
    """Every saved query in ``folder`` and every problem found; nothing is raised per file."""
    result = QueryFolder()
    parsed: list[tuple[TomlDocument, SavedQuery]] = []
    for path in query_files(folder):
        try:
            raw = path.read_bytes()
            doc = parse_toml(path, raw.decode("utf-8"))
        except UnicodeDecodeError:
            result.problems.append(ConfigError(path, "not UTF-8 text"))
            continue
        except ConfigError as exc:
            result.problems.append(exc)
            continue
        query, problems = _from_document(doc, hashlib.sha256(raw).hexdigest())
        result.problems.extend(problems)
        if query is not None:
            parsed.append((doc, query))
    duplicates = _duplicate_names(parsed)
    result.problems.extend(duplicates.values())
    result.queries = [q for doc, q in parsed if doc.path not in duplicates]
    return result


def _duplicate_names(parsed: list[tuple[TomlDocument, SavedQuery]]) -> dict[Path, ConfigError]:
    """The files whose query name another file has too, each with its problem.

    A name taken from the file name (no ``name`` key) cannot clash with
    another such name, so the file that sets ``name`` explicitly is the one
    in error, reported at that key's line whatever order the files sort in.
    When several files set the same name, the first (in file order) keeps it.
    """
    claims: dict[str, list[TomlDocument]] = {}
    for doc, query in parsed:
        claims.setdefault(query.name, []).append(doc)
    problems: dict[Path, ConfigError] = {}
    for name, docs in claims.items():
        if len(docs) < 2:
            continue
        keeper = next((d for d in docs if "name" not in d.data), docs[0])
        for doc in docs:
            if doc is not keeper:
                problems[doc.path] = doc.error(
                    f"duplicate query name {name!r} (also in {keeper.path.name})", key="name"
                )
    return problems


def _from_document(
    doc: TomlDocument, content_hash: str
) -> tuple[SavedQuery | None, list[ConfigError]]:
    data = doc.data
    problems = reject_unknown_keys(doc, data, _KEYS)

    def bad(message: str, key: str) -> None:
        problems.append(doc.error(message, key=key))

    name = data.get("name", doc.path.stem)
    if not isinstance(name, str) or not _NAME.match(name):
        bad(f"name must be a lower-case slug (letters, digits, . _ -), not {name!r}", "name")
    term = data.get("term")
    if not isinstance(term, str) or not term.strip():
        bad("term is required: the PubMed search, in PubMed syntax", "term")
    else:
        problems.extend(_check_term(doc, term))
    schedule = data.get("schedule", "weekly")
    try:
        parse_schedule(str(schedule))
    except ScheduleError as exc:
        bad(str(exc), "schedule")
    lookback = data.get("lookback_days", DEFAULT_LOOKBACK_DAYS)
    if not isinstance(lookback, int) or isinstance(lookback, bool) or not 0 <= lookback <= 365:
        bad(
            f"lookback_days must be a whole number of days from 0 to 365, not {lookback!r}",
            "lookback_days",
        )
    start = data.get("start_date", DEFAULT_START_DATE)
    if not isinstance(start, date) or hasattr(start, "hour"):
        bad(f"start_date must be a TOML date such as 2000-01-01, not {start!r}", "start_date")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        bad("tags must be a list of strings", "tags")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        bad(f"enabled must be true or false, not {enabled!r}", "enabled")
    for key in ("title", "description"):
        if not isinstance(data.get(key, ""), str):
            bad(f"{key} must be a string", key)
    if problems or not isinstance(term, str):
        return None, problems
    return (
        SavedQuery(
            name=name,
            term=term,
            path=doc.path,
            content_hash=content_hash,
            title=data.get("title", ""),
            description=data.get("description", ""),
            schedule=str(schedule),
            lookback_days=lookback,
            start_date=start,
            tags=tuple(tags),
            enabled=enabled,
        ),
        [],
    )


def _check_term(doc: TomlDocument, term: str) -> list[ConfigError]:
    """Query syntax errors and unknown field tags, at their line and column in the file."""
    try:
        tree = parse(term)
    except QuerySyntaxError as exc:
        line, column = _position_in_file(doc, term, exc.column)
        return [ConfigError(doc.path, f"term: {exc.message}", line=line, column=column)]
    problems = []
    for tag, column in unknown_fields(tree):
        line, col = _position_in_file(doc, term, column)
        problems.append(
            ConfigError(
                doc.path,
                f"term: unknown field tag [{tag}]: PubMed would ignore this term",
                line=line,
                column=col,
            )
        )
    return problems


def _position_in_file(doc: TomlDocument, term: str, column: int) -> tuple[int | None, int | None]:
    """Map a 1-based offset in ``term`` to (line, column) in the file when the term is verbatim."""
    start = doc.text.find(term)
    if start < 0:  # written with escapes: point at the key
        return doc.line_of("term"), None
    offset = start + max(column - 1, 0)
    before = doc.text[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1) + 1


def describe(query: SavedQuery) -> dict[str, Any]:
    """A JSON-able summary for ``queries list --json``."""
    return {
        "name": query.name,
        "title": query.title,
        "file": str(query.path),
        "schedule": query.schedule,
        "lookback_days": query.lookback_days,
        "start_date": query.start_date.isoformat(),
        "enabled": query.enabled,
        "tags": list(query.tags),
        "term": query.term_sent,
        "content_hash": query.content_hash,
    }
