"""Word and phrase search on folded texts: ``randomi*[tiab]``, ``"back pain"``, ``[ti:~3]``.

Terms on the same fields OR-ed together are tested as one ``AnyText``. The
patterns of every query compiled together (one ``PatternIndex``: a claim
catalogue's rules, say) are looked for in a record all at once, per group of
fields (``PatternGroup``), and what was found is kept in the record's memo:
a term written in ten rules is searched once per record, and so is its
explanation.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

from .clauses import Clause, Hit
from .indexed import STEM, IndexedArticle, new_memo_key
from .sources import STRUCTURED, original_words
from .textmatch import TextPattern, within

_Candidates = list[tuple[int, TextPattern]]


class PatternGroup:
    """The word and phrase patterns searched on one tuple of fields, each with a number.

    ``matched(doc)`` is the set of numbers of the patterns the record holds.
    Whole words are a set intersection; phrases are tried only when each of
    their whole words is present; truncated words, and words joined by hyphens, only when a
    word of the record shares their first letters. Only the few candidates left
    are looked for in the text (a substring test, or their regex).
    """

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.ids: dict[TextPattern, int] = {}
        self._words: dict[str, list[int]] = {}
        self._phrases: dict[str, list[tuple[int, TextPattern, frozenset[str]]]] = {}
        self._stems: dict[str, _Candidates] = {}
        self._others: _Candidates = []
        self._word_keys: frozenset[str] = frozenset()
        self._phrase_keys: frozenset[str] = frozenset()
        self._stem_keys: frozenset[str] = frozenset()
        self.memo_key = new_memo_key()

    def add(self, pattern: TextPattern) -> int:
        """The pattern's number (the same for an equal pattern added again)."""
        found = self.ids.get(pattern)
        if found is not None:
            return found
        number = self.ids[pattern] = len(self.ids)
        first = pattern.text.split()[0].split("*")[0]
        if pattern.kind == "word":
            self._words.setdefault(pattern.text, []).append(number)
        elif pattern.kind == "phrase" and "*" not in pattern.text.split()[0]:
            whole = frozenset(w for w in pattern.text.split() if not w.endswith("*"))
            self._phrases.setdefault(first, []).append((number, pattern, whole))
        elif pattern.kind in ("stem", "regex") and len(first) >= STEM:
            self._stems.setdefault(first[:STEM], []).append((number, pattern))
        else:
            self._others.append((number, pattern))
        self._word_keys = frozenset(self._words)
        self._phrase_keys = frozenset(self._phrases)
        self._stem_keys = frozenset(self._stems)
        self.memo_key = new_memo_key()  # records searched before did not look for it
        return number

    def matched(self, doc: IndexedArticle) -> frozenset[int]:
        memo = doc.memo
        found: frozenset[int] | None = memo.get(self.memo_key)
        if found is None:
            found = memo[self.memo_key] = self._search(doc)
        return found

    def _search(self, doc: IndexedArticle) -> frozenset[int]:
        fields = self.fields
        words = doc.words(fields)
        found = [n for word in self._word_keys.intersection(words) for n in self._words[word]]
        candidates: _Candidates = []
        for key in self._phrase_keys.intersection(words):
            candidates.extend((n, p) for n, p, whole in self._phrases[key] if whole <= words)
        if self._stem_keys:
            for key in self._stem_keys.intersection(doc.stems(fields)):
                candidates.extend(self._stems[key])
        candidates.extend(self._others)
        if candidates:
            text = doc.joined(fields)
            found.extend(number for number, p in candidates if p.found_in(text))
        return frozenset(found)


class PatternIndex:
    """The pattern groups of queries compiled together, and keys for their explanations."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, ...], PatternGroup] = {}
        self._keys: dict[tuple[object, ...], int] = {}

    def group(self, fields: tuple[str, ...]) -> PatternGroup:
        found = self._groups.get(fields)
        if found is None:
            found = self._groups[fields] = PatternGroup(fields)
        return found

    def memo_key(self, *identity: object) -> int:
        """The same memo key for equal ``identity`` (all a result depends on)."""
        found = self._keys.get(identity)
        if found is None:
            found = self._keys[identity] = new_memo_key()
        return found


class WordSearch(Clause):
    """Word and phrase patterns tested together against one group of fields."""

    def __init__(
        self,
        term: str,
        tag: str,
        fields: tuple[str, ...],
        patterns: Iterable[TextPattern],
        index: PatternIndex | None = None,
    ) -> None:
        super().__init__(term, tag)
        self.fields = fields
        self.index = index if index is not None else PatternIndex()
        self.group = self.index.group(fields)
        self.numbers = frozenset(self.group.add(p) for p in patterns)

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        found = doc.memo.get(self.group.memo_key)  # group.matched, inlined: the hot path
        if found is None:
            found = self.group.matched(doc)
        return not self.numbers.isdisjoint(found)


class TextClause(WordSearch):
    """One word or phrase (``randomi*[tiab]``, ``"back pain"``)."""

    def __init__(
        self,
        term: str,
        tag: str,
        fields: tuple[str, ...],
        pattern: TextPattern,
        proximity: int | None = None,
        index: PatternIndex | None = None,
    ) -> None:
        super().__init__(term, tag, fields, [pattern], index)
        self.pattern = pattern
        self.proximity = proximity if len(pattern.units) > 1 else None
        self.hits_key = self.index.memo_key(type(self), fields, tag, term, pattern, self.proximity)

    def hits(self, doc: IndexedArticle) -> list[Hit]:
        memo = doc.memo
        found: tuple[Hit, ...] | None = memo.get(self.hits_key)
        if found is None:
            found = memo[self.hits_key] = tuple(self._hits(doc))
        return list(found)

    def _hits(self, doc: IndexedArticle) -> list[Hit]:
        """The first match in each value of each field, in field and value order."""
        if self.proximity is not None:
            return self._near_hits(doc)
        # Searched in the fields' joined text: a match never spans two values (they
        # are " | "-separated), so the first match inside a value's stretch is the
        # first match a search of that value alone would find; the next search
        # starts at the next value.
        starts, values = doc.stretches(self.fields)
        text = doc.joined(self.fields)
        search = self.pattern.regex.search
        found = []
        match = search(text)
        while match is not None:
            index = bisect_right(starts, match.start()) - 1
            field, original, padded = values[index]
            first = text.count(" ", starts[index], match.start())  # words before it
            words = len(match.group().split())
            matched = _original(field, original, padded[1:-1], first, words)
            if matched:
                found.append(self.hit(field, matched))
            if index + 1 == len(starts):
                break
            match = search(text, starts[index + 1])  # the next value's first match
        return found

    def _near_hits(self, doc: IndexedArticle) -> list[Hit]:
        assert self.proximity is not None
        found = []
        for field in self.fields:
            for original, padded in doc.folded(field):
                where = within((tuple(padded.split()),), self.pattern.units, self.proximity)
                if where is not None:
                    _, first, last = where
                    matched = _original(field, original, padded[1:-1], first, last - first + 1)
                    if matched:
                        found.append(self.hit(field, matched))
        return found


class ProximityClause(TextClause):
    """``"a b"[tiab:~N]``: every word within N words of the others, in any order."""

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        units, distance = self.pattern.units, self.proximity
        assert distance is not None
        return any(within(doc.values(f), units, distance) for f in self.fields)


def _original(field: str, original: str, folded: str, first: int, count: int) -> str:
    if field in STRUCTURED:
        return original  # a heading or name: show it whole
    return original_words(original, first, count, folded)


class AnyText(WordSearch):
    """Several word/phrase terms on the same fields, OR-ed: tested together."""

    def __init__(self, parts: list[TextClause]) -> None:
        first = parts[0]
        patterns = [p.pattern for p in parts]
        super().__init__("OR", first.tag, first.fields, patterns, first.index)
        self.parts = parts
        self.numbered = [(self.group.add(p.pattern), p) for p in parts]

    def hits(self, doc: IndexedArticle) -> list[Hit]:
        # A part matches exactly when its own pattern does: one look at the group's set.
        matched = self.group.matched(doc)
        return [hit for n, part in self.numbered if n in matched for hit in part.hits(doc)]
