"""PubMed query text -> tree (``nodes.py``), with PubMed's reading of the syntax.

- Operators apply left to right with no precedence; parentheses group.
- Terms side by side are joined by AND.
- A field tag applies to the run of words just before it: ``systematic
  review[ti]`` is one term, the phrase *systematic review* in the title.
  Untagged words stand alone (``post partum`` is ``post AND partum``).
- ``and``/``or``/``not`` in lower case are operators too, except inside a
  run of words before a tag (``sensitivity and specificity[mh]``,
  ``Journal of Law, Medicine, and Ethics[ta]``), where PubMed reads a name.
- ``2020/01/01:2020/12/31[dp]`` and ``"2017"[dp] : "3000"[dp]`` are ranges;
  any other colon belongs to the words around it (``Bioethics: AJOB[ta]``).

Errors raise ``QuerySyntaxError`` with the 1-based column and what was expected.
"""

from __future__ import annotations

from ..errors import QuerySyntaxError
from . import dates, fields
from .lexer import Kind, Token, tokenize
from .nodes import And, DateRange, Node, Not, Or, Term

# Bare words PubMed reads as filters, never as part of a tagged phrase.
FILTER_WORDS = frozenset({"hasabstract", "pmcbook"})

_Item = Token | DateRange


def parse(text: str) -> Node:
    """The tree of a PubMed query; raises QuerySyntaxError(query, column, message)."""
    tokens = tokenize(text)
    if not tokens:
        raise QuerySyntaxError(text, 1, "empty query: expected a search term")
    return _Parser(text, _join_ranges(text, tokens)).parse()


class _Parser:
    def __init__(self, query: str, items: list[_Item]) -> None:
        self.query = query
        self.items = items
        self.pos = 0

    def error(self, column: int, message: str) -> QuerySyntaxError:
        return QuerySyntaxError(self.query, column, message)

    def peek(self) -> _Item | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def parse(self) -> Node:
        """One pass, left to right; an explicit stack of open parentheses (no recursion,
        so nesting depth is unlimited)."""
        combiner = _Combiner(self)
        open_groups: list[tuple[Token, _Combiner]] = []
        while True:
            item = self.peek()
            if item is None:
                if open_groups:
                    raise self.error(
                        open_groups[-1][0].column,
                        "unbalanced parenthesis: expected ')' to close this '('",
                    )
                return combiner.finish(len(self.query) + 1)
            self.pos += 1
            if isinstance(item, DateRange):
                combiner.operand(item)
            elif item.kind is Kind.RPAREN:
                if not open_groups:
                    raise self.error(item.column, "unexpected ')': no '(' is open here")
                group = combiner.finish(item.column)
                _, combiner = open_groups.pop()
                combiner.operand(group)
            elif item.kind is Kind.LPAREN:
                open_groups.append((item, combiner))
                combiner = _Combiner(self)
            elif item.kind is Kind.OP:
                combiner.operator(item)
            elif item.kind is Kind.TAG:
                raise self.error(item.column, f"field tag [{item.text}] must follow a search term")
            elif item.kind is Kind.COLON:
                raise self.error(
                    item.column, "':' must join two dates, as in 2020/01/01:2020/12/31[dp]"
                )
            else:
                self.pos -= 1
                for part in self._segment():
                    if isinstance(part, Token):
                        combiner.operator(part)
                    else:
                        combiner.operand(part)

    # -- runs of words ----------------------------------------------------------

    def _segment(self) -> list[Node | Token]:
        """Words, phrases, colons and lower-case operators up to a tag, which ends the run."""
        atoms: list[Token] = []
        while True:
            item = self.peek()
            if not isinstance(item, Token):
                break
            if item.kind in (Kind.WORD, Kind.PHRASE, Kind.COLON) or (
                item.kind is Kind.OP and not item.upper
            ):
                atoms.append(item)
                self.pos += 1
            else:
                break
        tag = None
        item = self.peek()
        if isinstance(item, Token) and item.kind is Kind.TAG:
            tag = item
            self.pos += 1
        run_start = _tagged_run_start(atoms) if tag else len(atoms)
        if tag is not None and run_start == len(atoms):
            raise self.error(tag.column, f"field tag [{tag.text}] must follow a search term")
        parts: list[Node | Token] = []
        for atom in atoms[:run_start]:
            if atom.kind is Kind.OP:
                parts.append(atom)
            elif atom.kind is Kind.WORD:
                parts.append(Term(atom.text, column=atom.column))
            elif atom.kind is Kind.PHRASE:
                parts.append(self._phrase(atom, None))
            # a colon between untagged words is punctuation: the words stand alone
        if tag is not None:
            run = atoms[run_start:]
            while len(run) > 1 and run[0].kind is Kind.WORD and run[0].text.lower() in FILTER_WORDS:
                parts.append(Term(run[0].text, column=run[0].column))
                run = run[1:]
            if run[0].kind is Kind.PHRASE:
                parts.append(self._phrase(run[0], tag))
            else:
                parts.append(self._tagged(_join_run(run), False, run[0].column, tag))
        return parts

    def _phrase(self, atom: Token, tag: Token | None) -> Term:
        if not atom.text.strip():
            raise self.error(atom.column, "empty quoted phrase: expected words between the quotes")
        text = " ".join(atom.text.split())
        if tag is None:
            return Term(text, quoted=True, column=atom.column)
        return self._tagged(text, True, atom.column, tag)

    def _tagged(self, text: str, quoted: bool, column: int, tag: Token) -> Term:
        key, noexp, proximity = read_tag(self.query, tag)
        spec = fields.lookup(key)
        if spec is not None and spec.kind == "date":
            try:
                dates.parse_date_value(text)
            except dates.DateValueError as exc:
                raise self.error(column, f"[{tag.text}]: {exc}") from None
        return Term(
            text,
            key,
            quoted=quoted,
            noexp=noexp,
            proximity=proximity,
            tag=tag.text,
            column=column,
            tag_column=tag.column,
        )


def read_tag(query: str, tag: Token) -> tuple[str, bool, int | None]:
    """``"MeSH: NoExp"`` -> ("mh", True, None); ``"tiab:~3"`` -> ("tiab", False, 3)."""
    name, _, modifier = tag.text.partition(":")
    spec = fields.lookup(name)
    key = spec.key if spec else fields.normalise_tag_name(name)
    if not key:
        raise QuerySyntaxError(query, tag.column, "empty field tag: expected a field name")
    modifier = modifier.strip().lower().replace(" ", "")
    if not modifier:
        if ":" in tag.text:
            raise QuerySyntaxError(
                query, tag.column, f"[{tag.text}]: expected noexp or ~N after ':'"
            )
        return key, False, None
    if modifier == "noexp":
        if spec is not None and not spec.explodes:
            raise QuerySyntaxError(
                query,
                tag.column,
                f"[{tag.text}]: ':noexp' applies only to [mh], [majr], [sh] and [pt]",
            )
        return key, True, None
    if modifier.startswith("~") and modifier[1:].isdigit():
        if spec is not None and not spec.proximity:
            raise QuerySyntaxError(
                query,
                tag.column,
                f"[{tag.text}]: proximity (~N) works only with [ti], [tiab] and [ad]",
            )
        return key, False, int(modifier[1:])
    raise QuerySyntaxError(
        query, tag.column, f"[{tag.text}]: expected noexp or ~N after ':', not {modifier!r}"
    )


class _Combiner:
    """Folds operands left to right: ``a OR b AND c`` -> ``And(Or(a, b), c)``."""

    def __init__(self, parser: _Parser) -> None:
        self.parser = parser
        self.tree: Node | None = None
        self.pending: Token | None = None

    def operator(self, op: Token) -> None:
        if self.tree is None:
            raise self.parser.error(
                op.column, f"expected a search term before {op.text}: a query cannot start with it"
            )
        if self.pending is not None:
            raise self.parser.error(
                op.column, f"expected a search term after {self.pending.text}, found {op.text}"
            )
        self.pending = op

    def operand(self, node: Node) -> None:
        if self.tree is None:
            self.tree = node
        elif self.pending is None or self.pending.text == "AND":
            self.tree = _flatten(And, self.tree, node)
        elif self.pending.text == "OR":
            self.tree = _flatten(Or, self.tree, node)
        else:
            self.tree = Not(self.tree, node)
        self.pending = None

    def finish(self, column: int) -> Node:
        if self.pending is not None:
            raise self.parser.error(column, f"expected a search term after {self.pending.text}")
        if self.tree is None:
            raise self.parser.error(column, "expected a search term")
        return self.tree


def _flatten(kind: type[And] | type[Or], left: Node, right: Node) -> Node:
    children: list[Node] = []
    for side in (left, right):
        children.extend(side.children if isinstance(side, kind) else (side,))
    return kind(tuple(children))


def _tagged_run_start(atoms: list[Token]) -> int:
    """Index where the words a tag applies to begin (a quoted phrase takes it alone)."""
    if not atoms:
        return 0
    last = len(atoms) - 1
    if atoms[last].kind is Kind.PHRASE:
        return last
    index = last
    while index >= 0:
        kind = atoms[index].kind
        if kind is Kind.WORD:
            index -= 1
        elif (
            index not in (0, last)
            and atoms[index - 1].kind is Kind.WORD
            and kind
            in (
                Kind.OP,
                Kind.COLON,
            )
        ):
            index -= 1  # "and" / ":" inside a name
        else:
            break
    start = index + 1
    while start <= last and atoms[start].kind is not Kind.WORD:
        start += 1
    return start


def _join_run(run: list[Token]) -> str:
    words: list[str] = []
    for atom in run:
        if atom.kind is Kind.COLON and words:
            words[-1] += ":"
        elif atom.kind is Kind.OP:
            words.append(atom.text.lower())
        else:
            words.append(atom.text)
    return " ".join(words)


# -- date ranges ------------------------------------------------------------------


def _is_date_atom(item: _Item | None) -> bool:
    return (
        isinstance(item, Token)
        and item.kind in (Kind.WORD, Kind.PHRASE)
        and dates.looks_like_date(item.text)
    )


def _join_ranges(query: str, tokens: list[Token]) -> list[_Item]:
    """Replace ``date [tag] : date [tag]`` by one DateRange item."""
    items: list[_Item] = []
    i = 0
    while i < len(tokens):
        start = tokens[i]
        j = i + 1
        left_tag = None
        if _is_date_atom(start) and j < len(tokens) and tokens[j].kind is Kind.TAG:
            left_tag = tokens[j]
            j += 1
        if not (_is_date_atom(start) and j < len(tokens) and tokens[j].kind is Kind.COLON):
            items.append(start)
            i += 1
            continue
        k = j + 1
        if k >= len(tokens) or not _is_date_atom(tokens[k]):
            if left_tag is None:  # "Report 2014: a review" - a literal colon
                items.append(start)
                i += 1
                continue
            where = tokens[k].column if k < len(tokens) else len(query) + 1
            raise QuerySyntaxError(query, where, "expected the end date of the range after ':'")
        end = tokens[k]
        k += 1
        right_tag = tokens[k] if k < len(tokens) and tokens[k].kind is Kind.TAG else None
        if right_tag is not None:
            k += 1
        items.append(_range(query, start, end, left_tag, right_tag))
        i = k
    return items


def _range(
    query: str,
    start: Token,
    end: Token,
    left_tag: Token | None,
    right_tag: Token | None,
) -> DateRange:
    tag = right_tag or left_tag
    if tag is None:
        raise QuerySyntaxError(
            query,
            end.end_column,
            "expected a date field tag such as [dp] or [crdt] after the range",
        )
    key, noexp, proximity = read_tag(query, tag)
    if left_tag is not None and right_tag is not None:
        left_key = read_tag(query, left_tag)[0]
        if left_key != key:
            raise QuerySyntaxError(
                query,
                right_tag.column,
                f"a range must use one field: [{left_tag.text}] and [{right_tag.text}] differ",
            )
    spec = fields.lookup(key)
    if (spec is not None and spec.kind != "date") or noexp or proximity is not None:
        raise QuerySyntaxError(
            query,
            tag.column,
            f"[{tag.text}] is not a date field: a range needs [dp], [crdt], [edat], [mhda], "
            "[dcom], [lr] or [mdat]",
        )
    for value in (start, end):
        try:
            dates.parse_date_value(value.text)
        except dates.DateValueError as exc:
            raise QuerySyntaxError(query, value.column, str(exc)) from None
    return DateRange(
        start.text.strip(),
        end.text.strip(),
        key,
        tag=tag.text,
        column=start.column,
        tag_column=tag.column,
    )
