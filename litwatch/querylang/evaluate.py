"""Evaluate a query against stored records: ``compile_query(text) -> Matcher``.

A query is compiled once (each term to its cheapest test, see ``clauses``)
and run on many ``IndexedArticle`` records (folded once each, shared by
every rule). AND and OR stop at the first operand that decides.

Clauses a stored record cannot answer (most ``[sb]`` subsets, grant numbers,
unknown tags ...) are *left out*: ``a AND x`` is read as ``a``, ``a OR x``
as ``a``, ``a NOT x`` as ``a``; a query made only of such clauses matches
every record. ``Matcher.caveats`` says, in plain words, which clauses were
left out and what else differs from PubMed (MeSH explosion, term mapping).
"""

from __future__ import annotations

from datetime import date

from ..article import Article
from . import fields
from .clauses import (
    AnyHeading,
    AuthorClause,
    Clause,
    DateClause,
    Hit,
    IdentifierClause,
    Ignored,
    JournalClause,
    LanguageClause,
    MeshClause,
    Never,
    PublicationTypeClause,
    SubheadingClause,
    SubsetClause,
    SubstanceClause,
)
from .codegen import Explain, Test, generate
from .composite import AllOf, AnyOf, Without
from .dates import parse_date_value
from .indexed import IndexedArticle
from .nodes import And, DateRange, Node, Not, Or, Term, to_query
from .parser import FILTER_WORDS, parse
from .textmatch import compile_text
from .vocab import fold_heading, fold_name, publication_type_family, qualifier_name
from .wordsearch import AnyText, PatternIndex, ProximityClause, TextClause

CAVEAT_LEFT_OUT = "left out of the evaluation (as if absent from the query)"
CAVEAT_MESH = (
    "[mh]/[majr] match records indexed with the heading itself, as with :noexp: "
    "exploding a heading to the narrower headings beneath it needs the MeSH tree, "
    "which is not available offline, and entry terms (synonyms) are not mapped to headings"
)
CAVEAT_SUBHEADING = (
    "[sh] matches the subheading itself: narrower subheadings (drug therapy under "
    "therapy ...) are not included"
)
CAVEAT_PT = (
    "[pt] includes narrower types only for clinical studies and trials "
    "(randomized controlled trial under clinical trial ...); other types match themselves alone"
)
CAVEAT_UNTAGGED = (
    "untagged terms and [tw] are matched as words in the title, abstract, MeSH headings, "
    "keywords, publication types and substance names ([all] adds journal, authors and "
    "affiliations); PubMed's automatic term mapping (to MeSH headings, with explosion, "
    "and to synonyms) is not applied"
)
CAVEAT_EVERYTHING = (
    "nothing in this query can be evaluated on a stored record: it matches every record"
)


class Matcher:
    """A compiled query. ``matches(doc)``; ``explain(doc)``; both: ``match(doc)``; ``caveats``."""

    def __init__(self, node: Node, root: Clause, caveats: tuple[str, ...]) -> None:
        self.node = node
        self.caveats = caveats
        self._root = root
        generated = generate(root)  # None when a clause is left out: the tree answers
        self._test: Test | None = generated[0] if generated else None
        self._explain: Explain | None = generated[1] if generated else None

    @property
    def query(self) -> str:
        return to_query(self.node)

    def matches(self, doc: IndexedArticle | Article) -> bool:
        if isinstance(doc, Article):
            doc = IndexedArticle.from_article(doc)
        if self._test is not None:
            return bool(self._test(doc))
        return self._root.evaluate(doc) is not False

    def explain(self, doc: IndexedArticle | Article) -> list[Hit]:
        """Where the record matched, term by term; [] when it does not match.

        Terms under NOT never explain a match, and neither do clauses left out.
        """
        if isinstance(doc, Article):
            doc = IndexedArticle.from_article(doc)
        if self._root.evaluate(doc) is False:
            return []
        return self._root.hits(doc)

    def match(self, doc: IndexedArticle) -> list[Hit] | None:
        """``explain(doc)`` if the record matches, else None: one evaluation for both."""
        if self._test is None or self._explain is None:
            return None if self._root.evaluate(doc) is False else self._root.hits(doc)
        return self._explain(doc) if self._test(doc) else None

    def __repr__(self) -> str:
        return f"Matcher({self.query!r})"


def compile_query(
    query: str | Node, *, today: date | None = None, index: PatternIndex | None = None
) -> Matcher:
    """Compile a query (text or tree). ``today`` anchors ``"last 30 days"[crdt]`` (default: the
    day of each evaluation). Queries compiled with the same ``index`` (a claim catalogue's
    rules) share their word searches on each record. Raises QuerySyntaxError for text that
    does not parse."""
    node = parse(query) if isinstance(query, str) else query
    compiler = _Compiler(today, index if index is not None else PatternIndex())
    root = compiler.compile(node)
    if _left_out_entirely(root):
        compiler.note(CAVEAT_EVERYTHING)
    return Matcher(node, root, tuple(compiler.caveats))


def _left_out_entirely(clause: Clause) -> bool:
    if isinstance(clause, AllOf | AnyOf):
        return all(_left_out_entirely(part) for part in clause.parts)
    if isinstance(clause, Without):
        return _left_out_entirely(clause.left) and _left_out_entirely(clause.right)
    return isinstance(clause, Ignored)


class _Compiler:
    def __init__(self, today: date | None, index: PatternIndex) -> None:
        self.today = today
        self.index = index
        self.caveats: dict[str, None] = {}

    def note(self, caveat: str) -> None:
        self.caveats[caveat] = None

    def compile(self, node: Node) -> Clause:
        if isinstance(node, And):
            return AllOf([self.compile(child) for child in node.children])
        if isinstance(node, Or):
            parts = _merge_alternatives([self.compile(child) for child in node.children])
            return parts[0] if len(parts) == 1 else AnyOf(parts)
        if isinstance(node, Not):
            return Without(self.compile(node.left), self.compile(node.right))
        if isinstance(node, DateRange):
            return self._range(node)
        return self._term(node)

    def _left_out(self, node: Term | DateRange, why: str) -> Clause:
        self.note(f"{to_query(node)}: {why}; {CAVEAT_LEFT_OUT}")
        return Ignored(to_query(node), node.field)

    def _range(self, node: DateRange) -> Clause:
        if fields.lookup(node.field) is None:
            return self._left_out(node, f"[{node.tag or node.field}] is not a PubMed field")
        return DateClause(
            f"{node.start}:{node.end}",
            node.field,
            parse_date_value(node.start),
            parse_date_value(node.end),
            self.today,
        )

    def _term(self, term: Term) -> Clause:
        spec = fields.UNTAGGED if term.field == "" else fields.lookup(term.field)
        if spec is None:
            return self._left_out(term, f"[{term.tag or term.field}] is not a PubMed field")
        text, key, kind = term.text, spec.key, spec.kind
        if kind == "text":
            if key == "" and not term.quoted and text.lower() in FILTER_WORDS:
                return SubsetClause(text, key, text.lower())
            if key in ("", "all", "tw"):
                self.note(CAVEAT_UNTAGGED)
            pattern = compile_text(text)
            if pattern is None:
                return Never(text, key)
            if term.proximity is not None and len(pattern.units) > 1:
                return ProximityClause(text, key, spec.sources, pattern, term.proximity, self.index)
            return TextClause(text, key, spec.sources, pattern, index=self.index)
        if kind in ("mesh", "majr"):
            if not term.noexp:
                self.note(CAVEAT_MESH)
            heading, _, qualifier = text.partition("/")
            return MeshClause(
                text,
                key,
                _fold_value(heading, key=True),
                qualifier_name(_fold_value(qualifier, key=True)) if qualifier.strip() else None,
                major=kind == "majr",
            )
        if kind == "subheading":
            if not term.noexp:
                self.note(CAVEAT_SUBHEADING)
            return SubheadingClause(text, key, qualifier_name(_fold_value(text, key=True)))
        if kind == "pt":
            name = _fold_value(text, key=True)
            explode = not term.noexp and not name.endswith("*")
            if explode:
                self.note(CAVEAT_PT)
            wanted = publication_type_family(name) if explode else frozenset({name})
            return PublicationTypeClause(text, key, "publication_type", wanted)
        if kind == "language":
            return LanguageClause(text, key, "language", frozenset({_fold_value(text)}))
        if kind in ("author", "first_author", "last_author", "full_author"):
            position = {"author": "any", "first_author": "first", "last_author": "last"}
            return AuthorClause(text, key, _fold_value(text), position.get(kind, "full"))
        if kind == "journal":
            return JournalClause(text, key, "journal", frozenset({_fold_value(text, key=True)}))
        if kind == "substance":
            return SubstanceClause(text, key, "substance", frozenset({_fold_value(text, key=True)}))
        if kind == "exact":
            value = _fold_value(text.rsplit("orcid.org/", 1)[-1])
            field = {"ids": "article_id", "si": "secondary_id"}.get(
                spec.record_field, spec.record_field
            )
            return IdentifierClause(text, key, field, frozenset({value}), spec.record_field)
        if kind == "date":
            when = parse_date_value(text)
            return DateClause(text, key, when, when, self.today)
        if kind == "subset":
            subset = _fold_value(text)
            if SubsetClause.answerable(subset):
                return SubsetClause(text, key, subset)
            return self._left_out(
                term,
                "subsets and filters other than MEDLINE status, hasabstract, books and "
                "PMC cannot be evaluated on a stored record",
            )
        return self._left_out(term, f"[{key}] cannot be evaluated locally: {spec.note}")


def _fold_value(text: str, *, key: bool = False) -> str:
    """A folded whole value, keeping a trailing ``*`` (truncation); ``key``: as a
    ``fold_name`` key (headings, types, substances, journals: spaces dropped)."""
    fold = fold_name if key else fold_heading
    stripped = text.strip()
    if stripped.endswith("*"):
        return fold(stripped.rstrip("*")) + "*"
    return fold(stripped)


def _merge_alternatives(parts: list[Clause]) -> list[Clause]:
    """OR-ed terms regrouped so that terms on the same fields are tested together."""
    texts: dict[tuple[str, ...], list[TextClause]] = {}
    headings: list[MeshClause] = []
    others: list[Clause] = []
    for part in parts:
        if isinstance(part, TextClause) and part.proximity is None:
            texts.setdefault(part.fields, []).append(part)
        elif isinstance(part, MeshClause) and part.plain:
            headings.append(part)
        else:
            others.append(part)
    merged: list[Clause] = []
    if headings:
        merged.append(AnyHeading(headings) if len(headings) > 1 else headings[0])
    for group in texts.values():
        merged.append(AnyText(group) if len(group) > 1 else group[0])
    return merged + others
