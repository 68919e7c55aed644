"""A compiled query as generated Python functions: ``generate(root) -> (test, explain)``.

The tagger runs every rule of a catalogue over every record; most of a rule
is set tests (word groups, MeSH headings) joined by AND / OR. Evaluated clause
by clause, the calls cost more than the tests. Here the whole query becomes a
single expression with Python's own ``and`` / ``or`` / ``not`` (the same
operands, in the same order, stopping where the clause tree stops) and the
common tests written inline; any other clause is called as it is.

``explain`` is the clause tree's ``hits`` for a record the test accepted,
unrolled the same way: each operand that holds adds its leaves' hits, in
order (``AllOf.hits``, ``AnyOf.hits``, ``Without.hits``).

None when a clause is left out (``Ignored``): three-valued logic stays with
the clause tree.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

from .clauses import AnyHeading, Clause, Hit, Ignored, MeshClause
from .composite import AllOf, AnyOf, Without
from .indexed import IndexedArticle
from .wordsearch import WordSearch

_serial = count()  # names each generated function apart (profiles, tracebacks)
Test = Callable[[IndexedArticle], Any]
_HEADS = "_uses_headings"  # a key in the generated code's names: ``heads`` is needed
Explain = Callable[[IndexedArticle], list[Hit]]


def generate(root: Clause) -> tuple[Test, Explain] | None:
    """``root``'s two-valued test and explanation; None if any clause is left out."""
    names: dict[str, Any] = {}
    expression = _expression(root, names)
    if expression is None:
        return None
    # The record's folded headings, looked up once per call by rules that test them.
    start = ["    memo = doc.memo"] + (["    heads = doc.heading_names"] if _HEADS in names else [])
    lines = ["def test(doc):", *start, f"    return {expression}"]
    lines += ["def explain(doc):", *start, "    found = []"]
    lines += _explain(root, names, "    ")
    lines.append("    return found")
    # Text generated here from compiled clauses: their values are passed by name.
    try:
        code = compile("\n".join(lines) + "\n", f"<querylang.codegen {next(_serial)}>", "exec")
    except (SyntaxError, MemoryError, RecursionError):
        # Nesting deeper than Python's parser takes (~50 indented blocks, ~200
        # parentheses): the clause tree evaluates such a rule as it is.
        return None
    exec(code, names)
    return names["test"], names["explain"]


def _explain(clause: Clause, names: dict[str, Any], indent: str) -> list[str]:
    """Statements adding ``clause``'s hits to ``found`` (its test known to hold)."""
    if isinstance(clause, AllOf | AnyOf):
        lines = []
        for part in clause.parts:
            lines.append(f"{indent}if {_expression(part, names)}:")
            lines += _explain(part, names, indent + "    ")
        return lines
    if isinstance(clause, Without):
        left, right = _expression(clause.left, names), _expression(clause.right, names)
        then = _explain(clause.left, names, indent + "    ")
        return [f"{indent}if {left} and not {right}:", *then]
    name = f"h{len(names)}"
    names[name] = clause.hits
    return [f"{indent}found += {name}(doc)"]


def _expression(clause: Clause, names: dict[str, Any]) -> str | None:
    if isinstance(clause, AllOf | AnyOf):
        parts = [_expression(part, names) for part in clause.parts]
        if any(p is None for p in parts):
            return None
        joiner = " and " if isinstance(clause, AllOf) else " or "
        return "(" + joiner.join(p for p in parts if p is not None) + ")"
    if isinstance(clause, Without):
        left, right = _expression(clause.left, names), _expression(clause.right, names)
        if left is None or right is None:
            return None
        return f"({left} and not {right})"
    if isinstance(clause, Ignored):
        return None
    name = f"c{len(names)}"
    kind = type(clause)
    if isinstance(clause, WordSearch) and kind.evaluate is WordSearch.evaluate:
        # WordSearch.evaluate inline; the group's memo key is read at each call, as
        # there: a group searched again after more patterns joined it gets a new key.
        names[name] = clause.group
        names[f"{name}n"] = clause.numbers
        return f"(not {name}n.isdisjoint(memo.get({name}.memo_key) or {name}.matched(doc)))"
    if kind is AnyHeading:
        assert isinstance(clause, AnyHeading)
        names[name] = names[_HEADS] = clause.names
        return f"(not {name}.isdisjoint(heads))"
    if kind is MeshClause and isinstance(clause, MeshClause) and clause.plain:
        names[name] = names[_HEADS] = clause.heading
        return f"({name} in heads)"
    names[name] = clause.evaluate
    return f"{name}(doc)"
