"""Compiled search terms: each answers ``evaluate(doc)`` and ``hits(doc)`` for one record.

``evaluate`` returns True or False, or None for a clause that cannot be
evaluated on a stored record (the boolean layer then leaves it out, see
``evaluate.py``). ``hits`` says where a matching term matched.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

from .dates import DateValue, Period, resolve
from .fields import AUTHOR
from .indexed import IndexedArticle, IndexedHeading
from .vocab import (
    LANGUAGES,
    SUBSET_BOOKS,
    SUBSET_HAS_ABSTRACT,
    SUBSET_PMC,
    SUBSET_STATUSES,
    fold_heading,
    fold_name,
)


class Hit(NamedTuple):
    """Why a record matched: ``Hit("title", "tiab", "randomi*", "Randomised")``.

    ``field`` names the part of the record, ``tag`` the query's field (canonical
    short tag, "" when untagged), ``term`` the term as the query has it and
    ``matched`` the words (or heading, type, date) as the record has them.
    A named tuple: the tagger makes and deduplicates (hashes) many per record.
    """

    field: str
    tag: str
    term: str
    matched: str


class Clause:
    """One search term, compiled."""

    def __init__(self, term: str, tag: str) -> None:
        self.term = term
        self.tag = tag

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        raise NotImplementedError

    def hits(self, doc: IndexedArticle) -> list[Hit]:
        return []

    def hit(self, field: str, matched: str) -> Hit:
        return Hit(field, self.tag, self.term, matched)


class Ignored(Clause):
    """A clause no stored record can answer: left out of the query."""

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        return None


class Never(Clause):
    """A term with no letters or digits: PubMed finds nothing for it either."""

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        return False


class MeshClause(Clause):
    """``heading[mh]``, ``heading/qualifier[mh]``, ``[majr]``: exact (folded) headings."""

    def __init__(
        self, term: str, tag: str, heading: str, qualifier: str | None, major: bool
    ) -> None:
        super().__init__(term, tag)
        self.heading = heading
        self.truncated = heading.endswith("*")
        self.qualifier = qualifier
        self.major = major
        self.plain = not self.truncated and qualifier is None and not major

    def _candidates(self, doc: IndexedArticle) -> Iterable[IndexedHeading]:
        if self.truncated:
            return (h for h in doc.headings if _same(h.name, self.heading))
        return doc.headings_named(self.heading)

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        if self.plain:
            return self.heading in doc.heading_names
        for heading in self._candidates(doc):
            if self.qualifier is None:
                if not self.major or heading.major:
                    return True
                continue
            for name, major in heading.qualifiers:
                if _same(name, self.qualifier) and (
                    not self.major or major or heading.descriptor_major
                ):
                    return True
        return False

    def _matches(self, doc: IndexedArticle) -> list[str]:
        if self.plain:  # the descriptors themselves: no need to fold their qualifiers
            if self.heading not in doc.heading_names:
                return []
            wanted = self.heading
            return [m.descriptor for m in doc.article.mesh if fold_name(m.descriptor) == wanted]
        found = []
        for heading in self._candidates(doc):
            original = doc.article.mesh[heading.index]
            if self.qualifier is None:
                if not self.major or heading.major:
                    found.append(original.descriptor)
                continue
            for (name, major), q in zip(heading.qualifiers, original.qualifiers, strict=True):
                if _same(name, self.qualifier) and (
                    not self.major or major or heading.descriptor_major
                ):
                    found.append(f"{original.descriptor}/{q.name}")
        return found

    def hits(self, doc: IndexedArticle) -> list[Hit]:
        return [self.hit("mesh", m) for m in self._matches(doc)]


class SubheadingClause(Clause):
    def __init__(self, term: str, tag: str, qualifier: str) -> None:
        super().__init__(term, tag)
        self.qualifier = qualifier

    def _matches(self, doc: IndexedArticle) -> list[str]:
        found = []
        for heading in doc.headings:
            original = doc.article.mesh[heading.index]
            for (name, _), q in zip(heading.qualifiers, original.qualifiers, strict=True):
                if _same(name, self.qualifier):
                    found.append(f"{original.descriptor}/{q.name}")
        return found

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        return bool(self._matches(doc))

    def hits(self, doc: IndexedArticle) -> list[Hit]:
        return [self.hit("mesh", m) for m in self._matches(doc)]


class ValueClause(Clause):
    """A whole-value match on a list of folded values: types, languages, journals, ids."""

    def __init__(self, term: str, tag: str, field: str, wanted: frozenset[str]) -> None:
        super().__init__(term, tag)
        self.field = field
        self.wanted = wanted
        self.prefixes = tuple(w[:-1] for w in wanted if w.endswith("*"))

    def _accepts(self, value: str) -> bool:
        return value in self.wanted or any(value.startswith(p) for p in self.prefixes)

    def candidates(self, doc: IndexedArticle) -> list[tuple[str, str]]:
        """(folded value, value as the record has it)."""
        raise NotImplementedError

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        return any(self._accepts(folded) for folded, _ in self.candidates(doc))

    def hits(self, doc: IndexedArticle) -> list[Hit]:
        return [
            self.hit(self.field, shown) for f, shown in self.candidates(doc) if self._accepts(f)
        ]


class PublicationTypeClause(ValueClause):
    def evaluate(self, doc: IndexedArticle) -> bool | None:
        if self.prefixes:
            return super().evaluate(doc)
        return not self.wanted.isdisjoint(doc.publication_types)  # the common case: one set test

    def candidates(self, doc: IndexedArticle) -> list[tuple[str, str]]:
        return [
            (folded, pt.name)
            for folded, pt in zip(doc.publication_types, doc.article.publication_types, strict=True)
        ]


class SubstanceClause(ValueClause):
    def candidates(self, doc: IndexedArticle) -> list[tuple[str, str]]:
        return list(zip(doc.substances, doc.article.chemicals, strict=True))


class LanguageClause(ValueClause):
    def candidates(self, doc: IndexedArticle) -> list[tuple[str, str]]:
        found = []
        for code in doc.article.languages:
            folded = fold_heading(code)
            found.append((folded, code))
            if folded in LANGUAGES:
                found.append((LANGUAGES[folded], code))
        return found


class JournalClause(ValueClause):
    def candidates(self, doc: IndexedArticle) -> list[tuple[str, str]]:
        a = doc.article
        return [(fold_name(n), n) for n in (a.journal_title, a.journal_iso, a.issn) if n]


class IdentifierClause(ValueClause):
    def __init__(self, term: str, tag: str, field: str, wanted: frozenset[str], key: str) -> None:
        super().__init__(term, tag, field, wanted)
        self.key = key

    def candidates(self, doc: IndexedArticle) -> list[tuple[str, str]]:
        return list(doc.identifiers.get(self.key, ()))


_AUTHOR_SOURCE = (AUTHOR,)


class AuthorClause(Clause):
    """``smith j[au]`` (initials truncated as PubMed does), ``John Smith[au]``, groups."""

    def __init__(self, term: str, tag: str, name: str, position: str) -> None:
        super().__init__(term, tag)
        self.truncated = name.endswith("*")
        self.name = name.rstrip("*").strip()
        self.position = position  # any, first, last, full
        # Every way a name can match puts one of its words among the record's
        # author words: a cheap test that spares most records the full one.
        self.words = frozenset(self.name.split())

    def _accepts(self, last: str, initials: str, fore: str, collective: str) -> bool:
        name = self.name
        if collective and f" {name} " in f" {collective} ":
            return True
        if not last:
            return False
        if self.truncated and last.startswith(name):
            return True
        if fore and name in (f"{fore} {last}", f"{last} {fore}"):
            return True
        if self.position == "full":
            return False
        if name == last:
            return True
        if name.startswith(last + " "):
            rest = name[len(last) + 1 :].replace(" ", "")
            return initials.startswith(rest)
        return False

    def _matches(self, doc: IndexedArticle) -> list[str]:
        authors = doc.authors
        if self.position == "first":
            authors = authors[:1]
        elif self.position == "last":
            authors = authors[-1:]
        found = []
        for a in authors:
            if self._accepts(a.last, a.initials, a.fore, a.collective):
                found.append(doc.article.authors[a.index].display_name)
        return found

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        if not self.truncated and self.words.isdisjoint(doc.words(_AUTHOR_SOURCE)):
            return False
        return bool(self._matches(doc))

    def hits(self, doc: IndexedArticle) -> list[Hit]:
        return [self.hit("author", name) for name in self._matches(doc)]


DATE_FIELDS = {
    "dp": "publication_date",
    "crdt": "create_date",
    "edat": "entrez_date",
    "mhda": "mesh_date",
    "dcom": "completion_date",
    "lr": "revision_date",
    "mdat": "modification_date",
}


class DateClause(Clause):
    """A record's date (or publication period) within a date or range."""

    def __init__(
        self, term: str, tag: str, start: DateValue, end: DateValue, today: date | None
    ) -> None:
        super().__init__(term, tag)
        self.start = start
        self.end = end
        self.today = today
        self.window = (
            Period(start.first, end.last)
            if isinstance(start, Period) and isinstance(end, Period)
            else None
        )

    def _window(self) -> Period:
        if self.window is not None:
            return self.window
        today = self.today or date.today()
        return Period(resolve(self.start, today).first, resolve(self.end, today).last)

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        value = doc.dates.get(self.tag)
        if value is None:
            return False
        window = self._window()
        return value.first <= window.last and window.first <= value.last

    def hits(self, doc: IndexedArticle) -> list[Hit]:
        if not self.evaluate(doc):
            return []
        article = doc.article
        if self.tag == "dp" and article.pub_date is not None:
            shown = article.pub_date.text
        else:
            value = doc.dates[self.tag]
            shown = value.first.isoformat() if value else ""
        return [self.hit(DATE_FIELDS[self.tag], shown)]


class SubsetClause(Clause):
    """The [sb] values a stored record can answer (vocab.SUBSET_*)."""

    def __init__(self, term: str, tag: str, subset: str) -> None:
        super().__init__(term, tag)
        self.subset = subset

    @staticmethod
    def answerable(subset: str) -> bool:
        return subset in SUBSET_STATUSES or subset in (
            SUBSET_HAS_ABSTRACT | SUBSET_BOOKS | SUBSET_PMC
        )

    def _shown(self, doc: IndexedArticle) -> tuple[str, str] | None:
        article = doc.article
        if self.subset in SUBSET_STATUSES:
            ok = article.status in SUBSET_STATUSES[self.subset]
            return ("status", article.status or "") if ok else None
        if self.subset in SUBSET_HAS_ABSTRACT:
            return ("abstract", "has an abstract") if article.abstract else None
        if self.subset in SUBSET_BOOKS:
            return ("kind", "book") if article.kind == "book" else None
        if self.subset in SUBSET_PMC:
            return ("pmcid", article.pmcid) if article.pmcid else None
        return None

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        return self._shown(doc) is not None

    def hits(self, doc: IndexedArticle) -> list[Hit]:
        shown = self._shown(doc)
        return [self.hit(*shown)] if shown else []


def _same(value: str, wanted: str) -> bool:
    """Folded equality, or a prefix when ``wanted`` ends in ``*``."""
    if wanted.endswith("*"):
        return value.startswith(wanted.rstrip("*").strip())
    return value == wanted


class AnyHeading(Clause):
    """Several plain ``heading[mh]`` terms OR-ed: one set test."""

    def __init__(self, parts: list[MeshClause]) -> None:
        super().__init__("OR", parts[0].tag)
        self.parts = parts
        self.names = frozenset(p.heading for p in parts)

    def evaluate(self, doc: IndexedArticle) -> bool | None:
        return not self.names.isdisjoint(doc.heading_names)

    def hits(self, doc: IndexedArticle) -> list[Hit]:
        return [hit for part in self.parts if part.evaluate(doc) for hit in part.hits(doc)]
