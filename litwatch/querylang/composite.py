"""AND, OR and NOT over compiled clauses, with the clause tree's three-valued logic.

A clause that cannot be evaluated (None) is left out: ``a AND x`` is ``a``,
``a OR x`` is ``a``, ``a NOT x`` is ``a``. ``hits`` explains a match from
the operands that hold (never from under NOT).
"""

from __future__ import annotations

from .clauses import Clause, Hit
from .indexed import IndexedArticle


class _Operands(Clause):
    """AND / OR: operands in order; a match is explained by those that hold."""

    def __init__(self, operator: str, parts: list[Clause]) -> None:
        super().__init__(operator, "")
        self.parts = parts

    def hits(self, doc: IndexedArticle) -> list[Hit]:
        return [hit for part in self.parts if part.evaluate(doc) for hit in part.hits(doc)]


class AllOf(_Operands):
    def __init__(self, parts: list[Clause]) -> None:
        super().__init__("AND", parts)

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        result = None
        for part in self.parts:
            value = part.evaluate(doc)
            if value is False:
                return False
            if value:
                result = True
        return result


class AnyOf(_Operands):
    def __init__(self, parts: list[Clause]) -> None:
        super().__init__("OR", parts)

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        result = None
        for part in self.parts:
            value = part.evaluate(doc)
            if value:
                return True
            if value is False:
                result = False
        return result


class Without(Clause):
    def __init__(self, left: Clause, right: Clause) -> None:
        super().__init__("NOT", "")
        self.left = left
        self.right = right

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        left = self.left.evaluate(doc)
        if left is False:
            return False
        right = self.right.evaluate(doc)
        if right is None:
            return left
        return not right

    def hits(self, doc: IndexedArticle) -> list[Hit]:
        return self.left.hits(doc) if self.evaluate(doc) else []
