"""The query tree and its canonical text.

``Term`` is one search term (a word, a phrase or a run of words before a
tag), ``DateRange`` a ``from:to[field]`` range, ``And``/``Or`` hold two or
more operands, ``Not`` removes ``right`` from ``left``. PubMed evaluates
operators left to right with no precedence, so ``a OR b AND c`` is
``And(Or(a, b), c)``; chains of one operator are flattened.

Equality ignores columns and how a tag was spelt (``[mh]`` equals
``[MeSH Terms]``): ``parse(to_query(tree)) == tree`` for every tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as attribute

from . import fields


@dataclass(frozen=True, slots=True)
class Term:
    text: str  # as written, without quotes (curly quotes straightened)
    field: str = ""  # canonical tag key ("" = untagged); an unknown tag keeps its own name
    quoted: bool = False
    noexp: bool = False
    proximity: int | None = None  # N of [tiab:~N]
    tag: str | None = attribute(default=None, compare=False)  # the tag as written, no brackets
    column: int = attribute(default=1, compare=False)  # 1-based column of the term
    tag_column: int | None = attribute(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class DateRange:
    start: str
    end: str
    field: str
    tag: str | None = attribute(default=None, compare=False)
    column: int = attribute(default=1, compare=False)
    tag_column: int | None = attribute(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    left: Node
    right: Node


Node = Term | DateRange | And | Or | Not


def walk(node: Node) -> Iterator[Node]:
    """Every node, depth first, left to right."""
    stack = [node]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, And | Or):
            stack.extend(reversed(item.children))
        elif isinstance(item, Not):
            stack.extend((item.right, item.left))


def unknown_fields(node: Node) -> list[tuple[str, int]]:
    """Tags PubMed does not know, as written, with the 1-based column of their ``[``."""
    found = []
    for item in walk(node):
        if isinstance(item, Term | DateRange) and fields.lookup(item.field) is None:
            if isinstance(item, Term) and item.field == "":
                continue
            found.append((item.tag or item.field, item.tag_column or item.column))
    return found


# -- canonical text ---------------------------------------------------------------

_NEEDS_QUOTES = frozenset(' ()[]:"')


def to_query(node: Node) -> str:
    """Canonical PubMed text: short tags, straight quotes, parentheses around groups."""
    if isinstance(node, Term):
        return _term_text(node) + _tag_text(node.field, node.noexp, node.proximity)
    if isinstance(node, DateRange):
        return f"{node.start}:{node.end}{_tag_text(node.field, False, None)}"
    if isinstance(node, And):
        return " AND ".join(_operand(child) for child in node.children)
    if isinstance(node, Or):
        return " OR ".join(_operand(child) for child in node.children)
    return f"{_operand(node.left)} NOT {_operand(node.right)}"


def _operand(node: Node) -> str:
    text = to_query(node)
    return f"({text})" if isinstance(node, And | Or | Not) else text


def _term_text(term: Term) -> str:
    if term.quoted:
        return f'"{term.text}"'
    if term.field == "" and any(ch in _NEEDS_QUOTES for ch in term.text):
        return f'"{term.text}"'  # cannot happen for parsed trees; keeps built ones valid
    return term.text


def _tag_text(key: str, noexp: bool, proximity: int | None) -> str:
    if key == "":
        return ""
    suffix = ":noexp" if noexp else f":~{proximity}" if proximity is not None else ""
    return f"[{key}{suffix}]"


def translate(node: Node) -> str:
    """A QueryTranslation in PubMed's style: ``"pain"[Title/Abstract] AND ...``."""
    if isinstance(node, Term):
        return f'"{node.text}"{_long_tag(node.field, node.tag, node.noexp, node.proximity)}'
    if isinstance(node, DateRange):
        return f'"{node.start}"{_long_tag(node.field, node.tag)} : ' + (
            f'"{node.end}"{_long_tag(node.field, node.tag)}'
        )
    if isinstance(node, And | Or):
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(translate(child) for child in node.children) + ")"
    return f"({translate(node.left)} NOT {translate(node.right)})"


def _long_tag(key: str, tag: str | None, noexp: bool = False, proximity: int | None = None) -> str:
    spec = fields.by_key(key) if key == "" or fields.lookup(key) else None
    name = spec.name if spec is not None and key else "All Fields" if key == "" else tag or key
    suffix = ":noexp" if noexp else f":~{proximity}" if proximity is not None else ""
    return f"[{name}{suffix}]"
