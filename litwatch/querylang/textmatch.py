"""Word and phrase matching on folded text, compiled once per term.

Records and queries are folded the same way (``fold_search``): lower case,
accents away, punctuation to spaces, Greek letters spelt out (``β`` ->
``beta``), so ``Tümor`` finds ``tumor`` and ``SARS-CoV-2`` finds ``sars cov 2``.
Words of one query word joined by a hyphen or other punctuation may also be
written together in the record: ``day-case`` finds ``day case``, ``day-case``
and ``daycase``. ``*`` matches any ending (``randomi*``), also inside quotes.

A term compiles to a ``TextPattern``: a substring of the padded folded text
that decides alone (`` pain ``, `` pain`` for ``pain*``, `` back pain ``), or a
word-bounded regex behind a literal quick-rejection test (hyphen joins, ``*``
inside a word). ``wordsearch.WordSearch`` decides which records need either.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_GREEK_NAMES = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
    "rho sigma sigma tau upsilon phi chi psi omega"
)
_GREEK = dict(zip("αβγδεζηθικλμνξοπρσςτυφχψω", _GREEK_NAMES.split(" "), strict=True))
_APOSTROPHES = frozenset("'\u2018\u2019\u02bc")


def _special_characters() -> dict[str, str]:
    """How some non-ASCII characters fold: punctuation, spaces and symbols that
    ``fold_text`` would drop silently (joining the words around them) become word
    breaks; curly apostrophes vanish; Greek letters are spelt out."""
    table: dict[str, str] = dict.fromkeys(_APOSTROPHES - {"'"}, "")
    for upper_or_lower in (_GREEK, {k.upper(): v for k, v in _GREEK.items() if k != "ς"}):
        table.update(upper_or_lower)
    for code in range(0x80, 0x3000):
        ch = chr(code)
        if ch in _APOSTROPHES or ch in table:
            continue
        if unicodedata.category(ch)[0] in "PZS":
            decomposed = unicodedata.normalize("NFKD", ch)
            if not any(c.isascii() and c.isalnum() for c in decomposed):
                table[ch] = " "  # dashes, non-breaking spaces, ±, ≥, bullets ...
    return table


_SPECIAL = _special_characters()
_SPECIAL_RE = re.compile("[" + re.escape("".join(_SPECIAL)) + "]")


# ASCII text folds through a byte table: letters lower-cased, digits kept,
# apostrophes dropped, everything else a space. Same result as fold_text, and
# many times faster than Unicode normalisation.
_ASCII_FOLD = bytes(
    ord(chr(c).lower()) if chr(c).isascii() and chr(c).isalnum() else ord(" ") for c in range(256)
)


def fold_words(text: str) -> list[str]:
    """The words of ``fold_search(text)``."""
    if text.isascii():
        raw = text.encode("ascii")
    else:
        text = _SPECIAL_RE.sub(lambda m: _SPECIAL[m.group()], text)
        raw = unicodedata.normalize("NFKD", text).encode("ascii", "ignore")
    return raw.translate(_ASCII_FOLD, b"'").decode("ascii").split()


def fold_search(text: str) -> str:
    """``fold_text`` with non-ASCII punctuation as word breaks and Greek letters spelt out."""
    return " ".join(fold_words(text))


def fold_char(ch: str) -> str | None:
    """How one character folds: its letters/digits, "" if dropped, None if a word break."""
    if ch in _APOSTROPHES:
        return ""
    mapped = _SPECIAL.get(ch, ch)
    if mapped == " ":
        return None
    folded = unicodedata.normalize("NFKD", mapped).encode("ascii", "ignore").decode().lower()
    if folded == "" or folded.isalnum():
        return folded
    return None


def query_groups(text: str) -> list[list[str]]:
    """Words of a query term: one group per white-space word, one part per punctuated piece.

    ``meta-analy*`` -> ``[["meta", "analy*"]]``; ``ear plug*`` -> ``[["ear"], ["plug*"]]``.
    """
    groups = []
    for raw in text.split():
        pieces = [fold_search(piece) for piece in raw.split("*")]
        folded = "*".join(pieces).strip()
        parts: list[str] = []
        for part in folded.split():
            if part.strip("*") == "" and parts:
                parts[-1] += "*"
            elif part.strip("*"):
                parts.append(re.sub(r"\*+", "*", part))
        if parts:
            groups.append(parts)
    return groups


def _part_regex(part: str) -> str:
    return "[a-z0-9]*".join(re.escape(piece) for piece in part.split("*"))


@dataclass(frozen=True, slots=True)
class TextPattern:
    """A compiled word or phrase: see module docstring for the tests it picks."""

    text: str  # the folded words, for messages
    kind: str  # "word", "phrase" (plain words, maybe a truncated last one), "stem", "regex"
    needle: str | None  # a substring of the padded text that decides alone
    prefix: str  # otherwise: a literal part of every match (quick rejection) ...
    regex: re.Pattern[str]  # ... and the regex that decides; it also finds the words
    units: tuple[re.Pattern[str], ...]  # one per word, for proximity search

    def found_in(self, padded: str) -> bool:
        """Whether a padded folded text (``" a b | c d "``) holds the term."""
        if self.needle is not None:
            return self.needle in padded
        return self.prefix in padded and self.regex.search(padded) is not None


def compile_text(text: str) -> TextPattern | None:
    """None when the term has no letters or digits at all (it can match nothing)."""
    groups = query_groups(text)
    if not groups:
        return None
    words = [part for group in groups for part in group]
    joined = " ".join(words)
    units = tuple(re.compile(_part_regex(p) + r"\Z") for p in words)
    body = " ".join(" ?".join(_part_regex(p) for p in group) for group in groups)
    regex = re.compile(f" {body}(?![a-z0-9])")
    simple = all(len(g) == 1 for g in groups) and "*" not in joined.rstrip("*")
    if simple:
        # Words are space-delimited in the padded text: " pain " is the word, " pain"
        # its truncation, " back pain " the phrase.
        truncated = joined.endswith("*")
        needle = f" {joined.rstrip('*')}" if truncated else f" {joined} "
        kind = "phrase" if len(words) > 1 else "stem" if truncated else "word"
        return TextPattern(joined, kind, needle, needle, regex, units)
    # Every match holds each literal piece; the longest rejects best.
    pieces = [" " + groups[0][0].split("*")[0]]
    pieces.extend(piece for part in words for piece in part.split("*"))
    return TextPattern(joined, "regex", None, max(pieces, key=len), regex, units)


def within(
    values: tuple[tuple[str, ...], ...], units: tuple[re.Pattern[str], ...], distance: int
) -> tuple[int, int, int] | None:
    """(value index, first word, last word) where every unit occurs within ``distance``
    words of the others, in any order; None when nowhere."""
    need = len(units)
    for value_index, value in enumerate(values):
        events = [
            (position, unit)
            for position, word in enumerate(value)
            for unit, pattern in enumerate(units)
            if pattern.match(word)
        ]
        if len({unit for _, unit in events}) < need:
            continue
        counts = [0] * need
        covered = 0
        left = 0
        for right_position, right_unit in events:
            if counts[right_unit] == 0:
                covered += 1
            counts[right_unit] += 1
            while covered == need:
                left_position, left_unit = events[left]
                if right_position - left_position + 1 - need <= distance:
                    return value_index, left_position, right_position
                counts[left_unit] -= 1
                if counts[left_unit] == 0:
                    covered -= 1
                left += 1
    return None
