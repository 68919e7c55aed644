"""ESearch's ``term`` evaluated over the stub's corpus with litwatch.querylang.

Top-level date ranges on the History dates (``2026/05/01:2026/05/02[crdt]``,
``[edat]``, ``[mdat]``) are applied by the stub itself from each record's
dates, as are ``mindate``/``maxdate``; PubMed reads operators left to right,
so a trailing ``AND range`` always limits the whole query. The rest of the
term is matched once per distinct record text (synthetic records share one),
which keeps a 25,000-record corpus fast. Unknown field tags are dropped from
the query and reported as FieldNotFound, as NCBI does; terms that match no
record at all are reported as PhraseNotFound (free-text terms only: a MeSH
heading or publication type missing from a small corpus still exists in PubMed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from ..errors import QuerySyntaxError
from ..querylang import compile_query, parse
from ..querylang import fields as qfields
from ..querylang.dates import DateValueError, parse_date_value, resolve
from ..querylang.nodes import And, DateRange, Node, Not, Or, Term, translate, unknown_fields, walk
from .stub_corpus import Snapshot, StubCorpus, StubRecord

# Date tags the stub applies itself, with the record date each one reads.
HISTORY_DATE_FIELDS = {"crdt": "crdt", "edat": "edat", "mdat": "mdat", "dp": "pdat"}
# Kinds of field whose value differs between records that share their text.
_PER_RECORD_KINDS = frozenset({"date", "exact"})
MAX_PHRASE_CHECKS = 30


class StubQueryError(Exception):
    """The term cannot be searched; the message becomes NCBI's ``<ERROR>``."""


@dataclass
class SearchOutcome:
    ids: list[str]
    translation: str
    phrases_not_found: list[str] = field(default_factory=list)
    fields_not_found: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DateWindow:
    field: str  # crdt, edat, mdat or pdat
    first: date
    last: date

    def admits(self, record: StubRecord) -> bool:
        day = record.dates[self.field]
        return day is not None and self.first <= day <= self.last


def search_term(
    corpus: StubCorpus,
    snapshot: Snapshot,
    term: str,
    *,
    today: date,
    windows: Iterable[DateWindow] = (),
    within: set[str] | None = None,
) -> SearchOutcome:
    """PMIDs matching ``term`` in ``snapshot`` order (newest first).

    An empty term matches every record (used with ``query_key``).
    """
    filters = list(windows)
    tree: Node | None = None
    missing_fields: list[str] = []
    if term.strip():
        try:
            parsed = parse(term)
        except QuerySyntaxError as exc:
            raise StubQueryError(f"Invalid query: {exc}") from None
        missing_fields = [tag for tag, _column in unknown_fields(parsed)]
        tree = _without_unknown_fields(parsed)
        if tree is None:
            return SearchOutcome([], term, fields_not_found=missing_fields)
    rest: list[Node] = []
    conjuncts = () if tree is None else tree.children if isinstance(tree, And) else (tree,)
    for conjunct in conjuncts:
        window = _history_window(conjunct, today)
        if window is None:
            rest.append(conjunct)
        else:
            filters.append(window)
    remaining = None if not rest else rest[0] if len(rest) == 1 else And(tuple(rest))
    matches = _matcher(corpus, remaining, today)
    records = snapshot.records
    if within is not None:
        records = [r for r in records if r.pmid in within]
    for window in filters:
        records = [r for r in records if window.admits(r)]
    ids = [r.pmid for r in records if matches(r)]
    return SearchOutcome(
        ids=ids,
        translation=translate(tree) if tree is not None else "",
        phrases_not_found=_phrases_not_found(corpus, snapshot, tree, today)
        if tree is not None
        else [],
        fields_not_found=missing_fields,
    )


def _matcher(corpus: StubCorpus, node: Node | None, today: date) -> Callable[[StubRecord], bool]:
    if node is None:
        return lambda record: True
    matcher = compile_query(node, today=today)
    per_record = _depends_on_record(node)
    cache: dict[object, bool] = {}

    def matches(record: StubRecord) -> bool:
        key = (record.content_key, record.pmid) if per_record else record.content_key
        found = cache.get(key)
        if found is None:
            found = cache[key] = matcher.matches(corpus.indexed(record, per_record=per_record))
        return found

    return matches


def _depends_on_record(node: Node) -> bool:
    """True when the node reads values that records sharing their text may not share."""
    for item in walk(node):
        if isinstance(item, DateRange):
            return True
        if isinstance(item, Term):
            spec = qfields.lookup(item.field) if item.field else None
            if spec is not None and spec.kind in _PER_RECORD_KINDS:
                return True
    return False


def _history_window(node: Node, today: date) -> DateWindow | None:
    if not isinstance(node, DateRange) or node.field not in HISTORY_DATE_FIELDS:
        return None
    try:
        first = resolve(parse_date_value(node.start), today).first
        last = resolve(parse_date_value(node.end), today).last
    except DateValueError:
        return None  # querylang decides what a malformed range means
    return DateWindow(HISTORY_DATE_FIELDS[node.field], first, last)


def _without_unknown_fields(node: Node) -> Node | None:
    """The tree with every term under an unknown tag removed (NCBI drops them)."""
    if isinstance(node, Term | DateRange):
        if node.field == "" or qfields.lookup(node.field) is not None:
            return node
        return None
    if isinstance(node, And | Or):
        kept = [c for c in (_without_unknown_fields(c) for c in node.children) if c is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else type(node)(tuple(kept))
    left = _without_unknown_fields(node.left)
    right = _without_unknown_fields(node.right)
    if left is None:
        return None
    return left if right is None else Not(left, right)


FREE_TEXT_KINDS = frozenset({"text"})


def _phrases_not_found(
    corpus: StubCorpus, snapshot: Snapshot, tree: Node, today: date
) -> list[str]:
    """Terms no record in the corpus matches at all, as NCBI names them."""
    missing: list[str] = []
    terms = [n for n in walk(tree) if isinstance(n, Term)][:MAX_PHRASE_CHECKS]
    for term in terms:
        spec = qfields.lookup(term.field) if term.field else None
        if spec is not None and spec.kind not in FREE_TEXT_KINDS:
            # Dates, subsets, MeSH, publication types, languages ... are
            # PubMed's own vocabularies: absent from a small corpus is not
            # absent from PubMed, and NCBI would not call them "not found".
            continue
        matches = _matcher(corpus, term, today)
        if not any(matches(r) for r in snapshot.records):
            text = f'"{term.text}"' if term.quoted else term.text
            missing.append(f"{text}[{spec.name}]" if spec is not None else text)
    return missing
