"""The claim catalogue: ``queries/claims.toml``, the source article's claims and their rules.

``load_catalogue(path)`` reads and checks the file and compiles every rule
(PubMed syntax, evaluated locally by ``litwatch.querylang``). Problems are
``ConfigError`` rendering ``claims.toml:line: message`` (the column too for a
rule's syntax error); ``check_catalogue`` returns every problem at once for
``litwatch claims check``.

``Catalogue.content_hash`` covers only what tagging depends on (ids, parents,
rules in canonical form, and the tagger's version): rewording a label or a
statement, or re-wrapping a rule, does not make every article be re-tagged.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, QuerySyntaxError
from .querylang import Matcher, PatternIndex, compile_query, parse, to_query, unknown_fields
from .tomlfile import TomlDocument, load_toml, reject_unknown_keys

# Bump when litwatch/tagging.py changes what it derives from a record (evidence
# levels, trial detection, reasons): every stored article is then re-tagged.
TAGGER_VERSION = "1"

SECTIONS = ("summary", "mechanism", "evidence", "hypothesis", "caution", "protocol")
# The source article's summary table ("Where does ketamine fit?"): digests,
# reports and the demo refer to these ids.
SUMMARY_IDS = (
    "established-treatment",
    "plausible-mechanism",
    "other-movement-disorders",
    "neurorehab-window",
    "trials-needed",
)
CLAIM_TABLE = "claim"
_REQUIRED = ("id", "label", "section", "statement", "rule")
_KEYS = frozenset({*_REQUIRED, "article_status", "parent"})
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Claim:
    """One claim of the article and the rule that recognises a paper bearing on it."""

    id: str
    label: str
    section: str
    statement: str
    rule: str  # as written in the file (may span lines)
    matcher: Matcher = field(repr=False, compare=False)
    article_status: str | None = None
    parent: str | None = None
    line: int | None = None  # where its [[claim]] table starts
    # The rule in canonical one-line form (what tag reasons and the hash record).
    rule_text: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.rule_text:
            object.__setattr__(self, "rule_text", to_query(self.matcher.node))

    def describe(self) -> dict[str, Any]:
        """A JSON-able view for ``claims list --json``."""
        return {
            "id": self.id,
            "label": self.label,
            "section": self.section,
            "article_status": self.article_status,
            "parent": self.parent,
            "statement": self.statement,
            "rule": self.rule_text,
            "caveats": list(self.matcher.caveats),
        }


@dataclass(frozen=True)
class Catalogue:
    claims: tuple[Claim, ...]
    content_hash: str
    path: Path | None = None
    # id -> claim, filled in once: the tagger looks claims and parents up per record.
    _by_id: dict[str, Claim] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {c.id: c for c in self.claims})

    def __iter__(self) -> Iterator[Claim]:
        return iter(self.claims)

    def __len__(self) -> int:
        return len(self.claims)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.claims)

    def get(self, claim_id: str) -> Claim:
        claim = self._by_id.get(claim_id)
        if claim is None:
            raise ConfigError(self.path or "claims.toml", f"no claim with id {claim_id!r}")
        return claim

    def find(self, claim_id: str) -> Claim | None:
        return self._by_id.get(claim_id)

    def ancestors(self, claim_id: str) -> tuple[str, ...]:
        """Parent, grandparent ... of a claim (nearest first)."""
        found: list[str] = []
        claim = self.find(claim_id)
        while claim is not None and claim.parent is not None and claim.parent not in found:
            found.append(claim.parent)
            claim = self.find(claim.parent)
        return tuple(found)

    def children(self, claim_id: str) -> tuple[str, ...]:
        return tuple(c.id for c in self.claims if c.parent == claim_id)

    def descendants(self) -> dict[str, tuple[str, ...]]:
        """Claim id -> its children, grandchildren ... for every claim that has any."""
        return descendants_of({c.id: c.parent for c in self.claims})

    def covering(self, claim_ids: Iterable[str]) -> tuple[str, ...]:
        """``claim_ids`` and their descendants: an article tagged with a child claim
        (by a curator too) bears on the parent."""
        below = self.descendants()
        return tuple(dict.fromkeys(d for c in claim_ids for d in (c, *below.get(c, ()))))

    def __reduce__(self) -> tuple[Any, ...]:
        # Compiled rules hold closures, which do not pickle: a worker process
        # (``tags recompute`` over many records) gets the claims and compiles them.
        specs = tuple(
            (c.id, c.label, c.section, c.statement, c.rule, c.article_status, c.parent, c.line)
            for c in self.claims
        )
        return (_recompiled, (specs, self.content_hash, self.path))


# Catalogues compiled again after unpickling, by everything they were made of:
# a worker receives the same catalogue with every batch and compiles it once.
_RECOMPILED: dict[tuple[Any, ...], Catalogue] = {}


def _recompiled(
    specs: tuple[tuple[Any, ...], ...], content_hash: str, path: Path | None
) -> Catalogue:
    key = (specs, content_hash, path)
    found = _RECOMPILED.get(key)
    if found is None:
        patterns = PatternIndex()  # one index for every rule, as check_catalogue does
        claims = tuple(
            Claim(
                id=claim_id,
                label=label,
                section=section,
                statement=statement,
                rule=rule,
                matcher=compile_query(parse(rule), index=patterns),
                article_status=status,
                parent=parent,
                line=line,
            )
            for claim_id, label, section, statement, rule, status, parent, line in specs
        )
        found = _RECOMPILED[key] = Catalogue(claims, content_hash, path)
    return found


def descendants_of(parents: Mapping[str, str | None]) -> dict[str, tuple[str, ...]]:
    """Claim id -> every claim below it (in ``parents`` order), from claim id -> parent."""
    found: dict[str, list[str]] = {}
    for claim_id in parents:
        seen = {claim_id}
        parent = parents.get(claim_id)
        while parent is not None and parent not in seen:  # a cycle is claims.toml's error
            found.setdefault(parent, []).append(claim_id)
            seen.add(parent)
            parent = parents.get(parent)
    return {claim_id: tuple(below) for claim_id, below in found.items()}


@dataclass
class CatalogueCheck:
    """Every problem in a claims file; ``catalogue`` is None when there is any."""

    catalogue: Catalogue | None
    problems: list[ConfigError]


def load_catalogue(path: Path) -> Catalogue:
    """The checked, compiled catalogue, or ``ConfigError`` naming the first problem's line."""
    check = check_catalogue(path)
    if check.catalogue is None:
        first = check.problems[0]
        more = len(check.problems) - 1
        if more:
            first = ConfigError(
                first.source,
                f"{first.message} (and {more} more problem{'s' if more > 1 else ''}: "
                "run `litwatch claims check`)",
                line=first.line,
                column=first.column,
            )
        raise first
    return check.catalogue


def check_catalogue(path: Path) -> CatalogueCheck:
    """Read ``path`` and report every problem (TOML, keys, values, ids, parents, rules)."""
    try:
        doc = load_toml(path)
    except ConfigError as exc:
        return CatalogueCheck(None, [exc])
    problems = reject_unknown_keys(doc, doc.data, {CLAIM_TABLE})
    entries = doc.data.get(CLAIM_TABLE, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        problems.append(doc.error("claims must be [[claim]] tables", key=CLAIM_TABLE))
        return CatalogueCheck(None, problems)
    if not entries:
        problems.append(doc.error("no [[claim]] tables: the catalogue is empty"))
    claims: list[Claim] = []
    first_line: dict[str, int | None] = {}
    # One index for every rule: a term several rules share is searched once per record.
    patterns = PatternIndex()
    for index, entry in enumerate(entries):
        claim, found = _claim(doc, entry, index, patterns)
        problems.extend(found)
        if claim is None:
            continue
        if claim.id in first_line:
            where = first_line[claim.id]
            also = f" (first defined at line {where})" if where else ""
            problems.append(
                doc.error(
                    f"duplicate claim id {claim.id!r}{also}",
                    key="id",
                    table=CLAIM_TABLE,
                    occurrence=index,
                )
            )
            continue
        first_line[claim.id] = claim.line
        claims.append(claim)
    problems.extend(_check_parents(doc, claims, entries))
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        return CatalogueCheck(None, problems)
    return CatalogueCheck(Catalogue(tuple(claims), catalogue_hash(claims), path), [])


def catalogue_hash(claims: list[Claim] | tuple[Claim, ...]) -> str:
    """SHA-256 of what tagging depends on: ids, parents, canonical rules, tagger version."""
    canonical = [TAGGER_VERSION, [[c.id, c.parent, c.rule_text] for c in claims]]
    text = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- internals ----------------------------------------------------------------


def _claim(
    doc: TomlDocument, entry: dict[str, Any], index: int, patterns: PatternIndex
) -> tuple[Claim | None, list[ConfigError]]:
    problems = reject_unknown_keys(doc, entry, _KEYS, table=CLAIM_TABLE, occurrence=index)

    def bad(message: str, key: str | None = None) -> None:
        problems.append(doc.error(message, key=key, table=CLAIM_TABLE, occurrence=index))

    for key in _REQUIRED:
        if key not in entry:
            bad(f"[[claim]] #{index + 1} has no {key}")
    for key in (*_REQUIRED, "article_status", "parent"):
        value = entry.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            bad(f"{key} must be a non-empty string, not {value!r}", key)
    claim_id = entry.get("id")
    if isinstance(claim_id, str) and claim_id.strip() and not _ID.match(claim_id):
        bad(f"id must be a lower-case slug (letters, digits, -), not {claim_id!r}", "id")
    section = entry.get("section")
    if isinstance(section, str) and section.strip() and section not in SECTIONS:
        bad(f"section must be one of {', '.join(SECTIONS)}, not {section!r}", "section")
    rule = entry.get("rule")
    matcher = None
    if isinstance(rule, str) and rule.strip():
        matcher, rule_problems = _compile_rule(doc, rule, index, patterns)
        problems.extend(rule_problems)
    if problems or matcher is None:
        return None, problems
    return (
        Claim(
            id=entry["id"],
            label=_one_line(entry["label"]),
            section=entry["section"],
            statement=_one_line(entry["statement"]),
            rule=entry["rule"],
            matcher=matcher,
            article_status=entry.get("article_status"),
            parent=entry.get("parent"),
            line=doc.line_of_table(CLAIM_TABLE, index),
        ),
        [],
    )


def _compile_rule(
    doc: TomlDocument, rule: str, index: int, patterns: PatternIndex
) -> tuple[Matcher | None, list[ConfigError]]:
    try:
        tree = parse(rule)
    except QuerySyntaxError as exc:
        line, column = _position(doc, rule, index, exc.column)
        return None, [ConfigError(doc.path, f"rule: {exc.message}", line=line, column=column)]
    problems = []
    for tag, column in unknown_fields(tree):
        line, col = _position(doc, rule, index, column)
        problems.append(
            ConfigError(doc.path, f"rule: unknown field tag [{tag}]", line=line, column=col)
        )
    if problems:
        return None, problems
    return compile_query(tree, index=patterns), []


def _position(
    doc: TomlDocument, rule: str, index: int, column: int
) -> tuple[int | None, int | None]:
    """(line, column) in the file of the 1-based ``column`` of ``rule`` in claim ``index``.

    Rules repeat (the same drug block in many claims), so the search starts at
    this claim's own table. A rule written with escapes is not found verbatim:
    then the error points at its ``rule =`` line.
    """
    table_line = doc.line_of_table(CLAIM_TABLE, index) or 1
    start_offset = _offset_of_line(doc.text, table_line)
    start = doc.text.find(rule, start_offset)
    if start < 0:
        return doc.line_of("rule", CLAIM_TABLE, index), None
    offset = start + max(column - 1, 0)
    before = doc.text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _offset_of_line(text: str, line: int) -> int:
    offset = 0
    for _ in range(line - 1):
        found = text.find("\n", offset)
        if found < 0:
            return len(text)
        offset = found + 1
    return offset


def _check_parents(
    doc: TomlDocument, claims: list[Claim], entries: list[dict[str, Any]]
) -> list[ConfigError]:
    known = {c.id: c for c in claims}
    index_of = {e.get("id"): i for i, e in enumerate(entries) if isinstance(e.get("id"), str)}
    problems = []
    for claim in claims:
        if claim.parent is None:
            continue
        occurrence = index_of.get(claim.id, 0)

        def bad(message: str, occurrence: int = occurrence) -> None:
            problems.append(
                doc.error(message, key="parent", table=CLAIM_TABLE, occurrence=occurrence)
            )

        if claim.parent == claim.id:
            bad(f"claim {claim.id!r} cannot be its own parent")
        elif claim.parent not in known:
            bad(f"unknown parent {claim.parent!r}: no claim has that id")
        else:
            seen = {claim.id}
            step: Claim | None = known[claim.parent]
            while step is not None and step.parent is not None:
                if step.id in seen:
                    bad(f"parents of {claim.id!r} form a cycle")
                    break
                seen.add(step.id)
                step = known.get(step.parent)
    return problems


def _one_line(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()
