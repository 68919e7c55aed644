"""Word and phrase search on folded texts: ``randomi*[tiab]``, ``"back pain"``, ``[ti:~3]``.

Terms on the same fields OR-ed together are tested as one ``AnyText``; see
``WordSearch`` for the cheap tests tried before any text is scanned.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from .clauses import Clause, Hit
from .indexed import STEM, IndexedArticle
from .sources import STRUCTURED, folder, original_words, values
from .textmatch import TextPattern, within


class WordSearch(Clause):
    """Word and phrase patterns tested together against one group of sources.

    Whole words are a set intersection; phrases are tried only when their first
    word is present; truncated words, and words joined by hyphens, only when a
    word of the record shares their first letters. Only the few candidates left
    are looked for in the text (a substring test, or their regex).
    """

    def __init__(
        self, term: str, tag: str, fields: tuple[str, ...], patterns: Iterable[TextPattern]
    ) -> None:
        super().__init__(term, tag)
        self.fields = fields
        words: set[str] = set()
        self.phrases: dict[str, list[TextPattern]] = {}
        self.stems: dict[str, list[TextPattern]] = {}
        self.others: list[TextPattern] = []
        for p in patterns:
            first = p.text.split()[0].split("*")[0]
            if p.kind == "word":
                words.add(p.text)
            elif p.kind == "phrase" and "*" not in p.text.split()[0]:
                self.phrases.setdefault(first, []).append(p)
            elif p.kind in ("stem", "regex") and len(first) >= STEM:
                self.stems.setdefault(first[:STEM], []).append(p)
            else:
                self.others.append(p)
        self.words = frozenset(words)
        self.phrase_keys = frozenset(self.phrases)
        self.stem_keys = frozenset(self.stems)

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        fields = self.fields
        words = doc.words(fields)
        if not self.words.isdisjoint(words):
            return True
        candidates: list[TextPattern] = []
        if self.phrase_keys and not self.phrase_keys.isdisjoint(words):
            for key in self.phrase_keys.intersection(words):
                candidates.extend(self.phrases[key])
        if self.stem_keys:
            stems = doc.stems(fields)
            if not self.stem_keys.isdisjoint(stems):
                for key in self.stem_keys.intersection(stems):
                    candidates.extend(self.stems[key])
        if self.others:
            candidates.extend(self.others)
        if not candidates:
            return False
        text = doc.joined(fields)
        return any(p.found_in(text) for p in candidates)


class TextClause(WordSearch):
    """One word or phrase (``randomi*[tiab]``, ``"back pain"``)."""

    def __init__(
        self,
        term: str,
        tag: str,
        fields: tuple[str, ...],
        pattern: TextPattern,
        proximity: int | None = None,
    ) -> None:
        super().__init__(term, tag, fields, [pattern])
        self.pattern = pattern
        self.proximity = proximity if len(pattern.units) > 1 else None

    def hits(self, doc: IndexedArticle) -> list[Hit]:
        found = []
        for field in self.fields:
            for original in values(doc.article, field):
                matched = self._match_in(field, original)
                if matched:
                    found.append(self.hit(field, matched))
        return found

    def _match_in(self, field: str, original: str) -> str | None:
        folded = _folded(field, original)
        if not folded:
            return None
        if self.proximity is not None:
            where = within((tuple(folded.split()),), self.pattern.units, self.proximity)
            if where is None:
                return None
            _, first, last = where
            return _original(field, original, folded, first, last - first + 1)
        match = self.pattern.regex.search(f" {folded} ")
        if match is None:
            return None
        first = len(f" {folded} "[: match.start()].split())
        return _original(field, original, folded, first, len(match.group().split()))


class ProximityClause(TextClause):
    """``"a b"[tiab:~N]``: every word within N words of the others, in any order."""

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        units, distance = self.pattern.units, self.proximity
        assert distance is not None
        return any(within(doc.values(f), units, distance) for f in self.fields)


@lru_cache(maxsize=4096)
def _folded(field: str, original: str) -> str:
    """A value folded for explaining, kept: every term of every rule looks at the same texts."""
    return folder(field)(original)


def _original(field: str, original: str, folded: str, first: int, count: int) -> str:
    if field in STRUCTURED:
        return original  # a heading or name: show it whole
    return original_words(original, first, count)


class AnyText(WordSearch):
    """Several word/phrase terms on the same fields, OR-ed: tested together."""

    def __init__(self, parts: list[TextClause]) -> None:
        super().__init__("OR", parts[0].tag, parts[0].fields, (p.pattern for p in parts))
        self.parts = parts

    def hits(self, doc: IndexedArticle) -> list[Hit]:
        return [hit for part in self.parts if part.evaluate(doc) for hit in part.hits(doc)]
