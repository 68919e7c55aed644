"""Split a PubMed query into tokens, each with its 1-based column.

Tokens: ``(`` ``)``, words, quoted phrases (straight or curly quotes), field
tags (the text between ``[`` and ``]``), ``:`` (the range mark of
``2020:2021[dp]``, or a literal colon in a journal name) and the operators
AND / OR / NOT. Lower-case ``and``/``or``/``not`` become operator tokens too,
flagged ``upper=False``: the parser decides whether they are operators or
words of a name such as ``sensitivity and specificity[mh]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from ..errors import QuerySyntaxError


class Kind(Enum):
    LPAREN = "("
    RPAREN = ")"
    WORD = "word"
    PHRASE = "phrase"
    TAG = "tag"
    COLON = ":"
    OP = "operator"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str  # words as written; phrases without quotes; tags without brackets
    column: int  # 1-based position of the token's first character
    upper: bool = True  # operators only: written in capitals

    @property
    def end_column(self) -> int:
        """Column just past the token as written (quotes and brackets included)."""
        extra = 2 if self.kind in (Kind.PHRASE, Kind.TAG) else 0
        return self.column + len(self.text) + extra


OPEN_QUOTES = frozenset('"\u201c\u201d\u201e\u201f\u2033')
# Characters a field tag may hold: [Title/Abstract], [Date - Publication], [tiab:~3].
_TAG_CHAR = re.compile(r"[A-Za-z0-9 /:~\-_.,]")
_OPERATORS = frozenset({"AND", "OR", "NOT"})
_HISTORY_REF = re.compile(r"#\d*")
# A word ends at white space, a bracket, a parenthesis, a quote or a colon.
_WORD_END = frozenset('()[]:"\u201c\u201d\u201e\u201f\u2033')


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        col = i + 1
        if ch.isspace():
            i += 1
        elif ch == "(":
            tokens.append(Token(Kind.LPAREN, ch, col))
            i += 1
        elif ch == ")":
            tokens.append(Token(Kind.RPAREN, ch, col))
            i += 1
        elif ch == ":":
            tokens.append(Token(Kind.COLON, ch, col))
            i += 1
        elif ch == "]":
            raise QuerySyntaxError(query, col, "unexpected ']': no '[' opens a field tag here")
        elif ch == "[":
            i = _read_tag(query, i, tokens)
        elif ch in OPEN_QUOTES:
            i = _read_phrase(query, i, tokens)
        else:
            i = _read_word(query, i, tokens)
    return tokens


def _read_tag(query: str, start: int, tokens: list[Token]) -> int:
    i = start + 1
    while i < len(query) and query[i] != "]":
        if not _TAG_CHAR.match(query[i]):
            shown = query[start:i]
            what = "unterminated field tag" if query[i] in '()[]"' else "unexpected character in"
            raise QuerySyntaxError(
                query, i + 1, f"{what} {shown}: expected ']' but found {query[i]!r}"
            )
        i += 1
    if i >= len(query):
        raise QuerySyntaxError(
            query, start + 1, f"unterminated field tag {query[start:]}: expected ']'"
        )
    tokens.append(Token(Kind.TAG, query[start + 1 : i], start + 1))
    return i + 1


def _read_phrase(query: str, start: int, tokens: list[Token]) -> int:
    i = start + 1
    while i < len(query) and query[i] not in OPEN_QUOTES:
        i += 1
    if i >= len(query):
        raise QuerySyntaxError(
            query, start + 1, "unterminated quoted phrase: expected a closing quote"
        )
    tokens.append(Token(Kind.PHRASE, query[start + 1 : i], start + 1))
    return i + 1


def _read_word(query: str, start: int, tokens: list[Token]) -> int:
    i = start
    while i < len(query) and not query[i].isspace() and query[i] not in _WORD_END:
        i += 1
    word = query[start:i]
    col = start + 1
    if word.startswith("#") and _HISTORY_REF.fullmatch(word):
        raise QuerySyntaxError(
            query,
            col,
            f"{word} is a reference to PubMed's search history, which only exists in a "
            "PubMed session: expected a search term (paste the search it stands for)",
        )
    if word.upper() in _OPERATORS:
        tokens.append(Token(Kind.OP, word.upper(), col, upper=word.isupper()))
    elif set(word) == {"*"} and tokens and tokens[-1].kind is Kind.WORD:
        # "diagnostic * [mh]": a stray truncation mark belongs to the word before it.
        last = tokens.pop()
        tokens.append(Token(Kind.WORD, last.text + word, last.column))
    else:
        tokens.append(Token(Kind.WORD, word, col))
    return i
