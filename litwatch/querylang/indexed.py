"""An Article folded for searching: ``IndexedArticle.from_article``.

Each searchable text is folded (lower case, accents and punctuation away,
``textmatch.fold_search``) into one string per field, padded with spaces, with
`` | `` between separate values (two MeSH headings, two keywords) so that a
phrase never runs from one value into the next. Alongside: the set of words
of each group of fields searched together, and the first four letters of
each word (truncated terms look there before scanning any text).

Everything is computed on first use and kept: a record is folded once however
many rules run over it, and a field no rule asks about (affiliations, say) is
never folded at all. ``memo`` keeps what compiled terms found in the record,
under keys from ``new_memo_key``: a term shared by several rules compiled
together (a claim catalogue repeats its drug names in most rules) is searched
and explained once per record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import count
from operator import itemgetter
from typing import Any

from ..article import Article
from . import sources
from .dates import Period, parse_date_value
from .textmatch import fold_search
from .vocab import fold_heading, fold_name

_memo_keys = count()
SEPARATOR = "|"
_stem = itemgetter(slice(None, 4))  # shorter words give shorter keys, which never match
STEM = 4  # truncated terms are looked up by their first four letters
Stretches = tuple[list[int], list[tuple[str, str, str]]]


def new_memo_key() -> int:
    """A key for ``IndexedArticle.memo``, unique in the process (``next`` is atomic)."""
    return next(_memo_keys)


@dataclass(frozen=True, slots=True)
class IndexedHeading:
    name: str  # descriptor as a fold_name key
    major: bool  # descriptor or any qualifier starred ([majr])
    descriptor_major: bool
    qualifiers: tuple[tuple[str, bool], ...]  # (qualifier as a fold_name key, major)
    index: int  # position in article.mesh


@dataclass(frozen=True, slots=True)
class IndexedAuthor:
    last: str
    initials: str
    fore: str
    collective: str
    index: int  # position in article.authors


class IndexedArticle:
    """Folded views of one Article, each built on first use."""

    __slots__ = (
        "_authors",
        "_dates",
        "_folded",
        "_heading_names",
        "_headings",
        "_identifiers",
        "_joined",
        "_publication_types",
        "_stems",
        "_stretches",
        "_substances",
        "_texts",
        "_tokens",
        "_values",
        "_words",
        "article",
        "memo",
    )

    def __init__(self, article: Article) -> None:
        self.article = article
        self._folded: dict[str, tuple[tuple[str, str], ...]] = {}
        self._texts: dict[str, str] = {}
        self._tokens: dict[str, list[str]] = {}
        self._joined: dict[tuple[str, ...], str] = {}
        self._words: dict[tuple[str, ...], frozenset[str]] = {}
        self._stems: dict[tuple[str, ...], frozenset[str]] = {}
        self._stretches: dict[tuple[str, ...], Stretches] = {}
        self._values: dict[str, tuple[tuple[str, ...], ...]] = {}
        self._headings: tuple[IndexedHeading, ...] | None = None
        self._heading_names: frozenset[str] | None = None
        self._publication_types: tuple[str, ...] | None = None
        self._substances: tuple[str, ...] | None = None
        self._authors: tuple[IndexedAuthor, ...] | None = None
        self._identifiers: dict[str, tuple[tuple[str, str], ...]] | None = None
        self._dates: dict[str, Period | None] | None = None
        self.memo: dict[int, Any] = {}  # new_memo_key() -> what a term found here

    @classmethod
    def from_article(cls, article: Article) -> IndexedArticle:
        return cls(article)

    # -- texts for word searches --------------------------------------------------

    def folded(self, name: str) -> tuple[tuple[str, str], ...]:
        """Each value of one source that has words: (as the record has it, ``" folded "``).

        Searches read the values joined (``text``); explanations read them one by one.
        """
        found = self._folded.get(name)
        if found is None:
            fold = sources.folder(name)
            found = tuple(
                (value, f" {folded} ")
                for value in sources.values(self.article, name)
                if (folded := fold(value))
            )
            self._folded[name] = found
        return found

    def text(self, name: str) -> str:
        """One source (``fields.TITLE`` ...) folded: ``" value one | value two "``."""
        found = self._texts.get(name)
        if found is None:
            found = SEPARATOR.join(padded for _, padded in self.folded(name)) or " "
            self._texts[name] = found
        return found

    def tokens(self, name: str) -> list[str]:
        """The folded words of one source, ``SEPARATOR`` between its values."""
        found = self._tokens.get(name)
        if found is None:
            found = self._tokens[name] = self.text(name).split()
        return found

    def joined(self, names: tuple[str, ...]) -> str:
        """Several sources as one padded text, `` | `` between them."""
        found = self._joined.get(names)
        if found is None:
            found = SEPARATOR.join(self.text(name) for name in names)
            self._joined[names] = found
        return found

    def stretches(self, names: tuple[str, ...]) -> Stretches:
        """Where each value starts in ``joined(names)``, and (source, value as the record
        has it, its ``" folded "`` text), in the same order: explanations find a match
        in the joined text and report it for the value it is in."""
        found = self._stretches.get(names)
        if found is None:
            starts: list[int] = []
            values: list[tuple[str, str, str]] = []
            offset = 0
            for name in names:
                folded = self.folded(name)
                for original, padded in folded:
                    starts.append(offset)
                    values.append((name, original, padded))
                    offset += len(padded) + 1  # and the separator after it
                if not folded:
                    offset += 2  # the " " of a source with no words, and the separator
            found = self._stretches[names] = (starts, values)
        return found

    def words(self, names: tuple[str, ...]) -> frozenset[str]:
        """Every word of the given sources."""
        found = self._words.get(names)
        if found is None:
            if len(names) == 1:
                found = frozenset(self.tokens(names[0]))
            else:  # each source's set is usually wanted alone too: built once, joined
                found = frozenset().union(*(self.words((name,)) for name in names))
            self._words[names] = found
        return found

    def stems(self, names: tuple[str, ...]) -> frozenset[str]:
        """The first ``STEM`` letters of every word at least that long (truncation search)."""
        found = self._stems.get(names)
        if found is None:
            if len(names) == 1:
                found = frozenset(map(_stem, self.words(names)))
            else:
                found = frozenset().union(*(self.stems((name,)) for name in names))
            self._stems[names] = found
        return found

    def values(self, name: str) -> tuple[tuple[str, ...], ...]:
        """The words of each value of one source, for proximity search."""
        found = self._values.get(name)
        if found is None:
            found = tuple(tuple(v.split()) for v in self.text(name).split(f" {SEPARATOR} "))
            self._values[name] = found
        return found

    # -- structured values --------------------------------------------------------

    @property
    def heading_names(self) -> frozenset[str]:
        """Folded descriptors (the common ``heading[mh]`` test needs nothing more)."""
        if self._heading_names is None:
            self._heading_names = frozenset(fold_name(m.descriptor) for m in self.article.mesh)
        return self._heading_names

    def headings_named(self, name: str) -> list[IndexedHeading]:
        """The headings whose folded descriptor is ``name``."""
        if name not in self.heading_names:
            return []
        return [h for h in self.headings if h.name == name]

    @property
    def headings(self) -> tuple[IndexedHeading, ...]:
        if self._headings is None:
            self._headings = tuple(
                IndexedHeading(
                    fold_name(m.descriptor),
                    m.is_major,
                    m.major,
                    tuple((fold_name(q.name), q.major) for q in m.qualifiers),
                    index,
                )
                for index, m in enumerate(self.article.mesh)
            )
        return self._headings

    @property
    def publication_types(self) -> tuple[str, ...]:
        if self._publication_types is None:
            self._publication_types = tuple(
                fold_name(p.name) for p in self.article.publication_types
            )
        return self._publication_types

    @property
    def substances(self) -> tuple[str, ...]:
        if self._substances is None:
            self._substances = tuple(fold_name(c) for c in self.article.chemicals)
        return self._substances

    @property
    def authors(self) -> tuple[IndexedAuthor, ...]:
        if self._authors is None:
            self._authors = tuple(
                IndexedAuthor(
                    fold_heading(a.last_name or ""),
                    fold_heading(a.initials or "").replace(" ", ""),
                    fold_heading(a.fore_name or ""),
                    fold_heading(a.collective_name or ""),
                    index,
                )
                for index, a in enumerate(self.article.authors)
            )
        return self._authors

    @property
    def identifiers(self) -> dict[str, tuple[tuple[str, str], ...]]:
        if self._identifiers is None:
            self._identifiers = _identifiers(self.article)
        return self._identifiers

    @property
    def dates(self) -> dict[str, Period | None]:
        if self._dates is None:
            self._dates = _dates(self.article)
        return self._dates


def _identifiers(article: Article) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each kind of identifier: (folded value, value as the record has it)."""

    def pairs(*values: str | None) -> tuple[tuple[str, str], ...]:
        found = ((fold_search(v), v) for v in values if v)
        return tuple((folded, v) for folded, v in found if folded)

    pages = article.pages or ""
    pmcid = article.pmcid or ""
    registry = article.registry_ids
    return {
        "pmid": pairs(article.pmid),
        "doi": pairs(article.doi),
        "ids": pairs(article.doi, article.pii, pmcid, pmcid.upper().removeprefix("PMC") or None),
        "si": pairs(
            *(r.accession for r in registry), *(f"{r.registry}/{r.accession}" for r in registry)
        ),
        "orcid": pairs(*(a.orcid.rsplit("/", 1)[-1] for a in article.authors if a.orcid)),
        "volume": pairs(article.volume),
        "issue": pairs(article.issue),
        "pages": pairs(pages, pages.split("-")[0].strip() or None),
        "issn": pairs(article.issn),
    }


def _point(day: date | None) -> Period | None:
    return Period(day, day) if day else None


def _dates(article: Article) -> dict[str, Period | None]:
    published = None
    pub = article.pub_date
    if pub is not None and pub.year is not None:
        text = f"{pub.year}" + (f"/{pub.month}" if pub.month else "")
        text += f"/{pub.day}" if pub.month and pub.day else ""
        try:
            value = parse_date_value(text)
            published = value if isinstance(value, Period) else None
        except ValueError:
            published = None
    return {
        "dp": published,
        "crdt": _point(article.created),
        "edat": _point(article.entrez_date),
        "mhda": _point(article.history.get("medline")),
        "dcom": _point(article.date_completed),
        "lr": _point(article.date_revised),
        "mdat": _point(article.modified),
    }
