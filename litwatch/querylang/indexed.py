"""An Article folded once for searching: ``IndexedArticle.from_article``.

Each searchable text is folded (lower case, accents and punctuation away,
``textmatch.fold_search``) into one string per field, padded with spaces, with
`` | `` between separate values (two MeSH headings, two keywords) so that a
phrase never runs from one value into the next. Word sets for a group of
fields are built on first use and kept, so one record serves many rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from ..article import Article
from . import fields as f
from . import sources
from .dates import Period, parse_date_value
from .textmatch import fold_search
from .vocab import LANGUAGES, fold_heading

SEPARATOR = "|"


@dataclass(frozen=True, slots=True)
class IndexedHeading:
    name: str  # folded descriptor
    major: bool  # descriptor or any qualifier starred ([majr])
    descriptor_major: bool
    qualifiers: tuple[tuple[str, bool], ...]  # (folded qualifier, major)
    index: int  # position in article.mesh


@dataclass(frozen=True, slots=True)
class IndexedAuthor:
    last: str
    initials: str
    fore: str
    collective: str
    index: int


@dataclass(slots=True)
class IndexedArticle:
    article: Article
    texts: dict[str, str]  # source name -> " folded words | next value "
    headings: tuple[IndexedHeading, ...]
    publication_types: tuple[str, ...]  # folded
    languages: frozenset[str]
    authors: tuple[IndexedAuthor, ...]
    journal_names: frozenset[str]
    substances: tuple[str, ...]  # folded
    identifiers: dict[str, frozenset[str]]  # record_field -> folded values
    dates: dict[str, Period | None]
    _words: dict[tuple[str, ...], frozenset[str]] = field(default_factory=dict)
    _positions: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)

    @classmethod
    def from_article(cls, article: Article) -> IndexedArticle:
        headings = tuple(
            IndexedHeading(
                fold_heading(m.descriptor),
                m.is_major,
                m.major,
                tuple((fold_heading(q.name), q.major) for q in m.qualifiers),
                index,
            )
            for index, m in enumerate(article.mesh)
        )
        pts = tuple(fold_heading(p.name) for p in article.publication_types)
        substances = tuple(fold_heading(c) for c in article.chemicals)
        authors = tuple(
            IndexedAuthor(
                fold_heading(a.last_name or ""),
                fold_heading(a.initials or "").replace(" ", ""),
                fold_heading(a.fore_name or ""),
                fold_heading(a.collective_name or ""),
                index,
            )
            for index, a in enumerate(article.authors)
        )
        journal_names = frozenset(
            fold_heading(name)
            for name in (article.journal_title, article.journal_iso, article.issn)
            if name
        )
        texts = {}
        for source in f.ALL_SOURCES:
            fold = sources.folder(source)
            texts[source] = _pad(fold(value) for value in sources.values(article, source))
        languages = set()
        for code in article.languages:
            folded = fold_heading(code)
            languages.add(folded)
            languages.add(LANGUAGES.get(folded, folded))
        return cls(
            article=article,
            texts=texts,
            headings=headings,
            publication_types=pts,
            languages=frozenset(languages),
            authors=authors,
            journal_names=journal_names,
            substances=substances,
            identifiers=_identifiers(article),
            dates=_dates(article),
        )

    def words(self, names: tuple[str, ...]) -> frozenset[str]:
        """Every word of the given texts (built once per group of fields)."""
        found = self._words.get(names)
        if found is None:
            collected: set[str] = set()
            for name in names:
                collected.update(self.texts[name].split())
            collected.discard(SEPARATOR)
            found = frozenset(collected)
            self._words[names] = found
        return found

    def values(self, name: str) -> tuple[tuple[str, ...], ...]:
        """The words of each value of one text, for proximity search."""
        found = self._positions.get(name)
        if found is None:
            found = tuple(
                tuple(value.split()) for value in self.texts[name].split(f" {SEPARATOR} ")
            )
            self._positions[name] = found
        return found


def _pad(values: Iterable[str]) -> str:
    joined = f" {SEPARATOR} ".join(v for v in values if v)
    return f" {joined} " if joined else " "


def _identifiers(article: Article) -> dict[str, frozenset[str]]:
    def folded(*values: str | None) -> frozenset[str]:
        return frozenset(fold_search(v) for v in values if v and fold_search(v))

    pages = article.pages or ""
    first_page = pages.split("-")[0].strip() if pages else None
    pmcid = article.pmcid or ""
    orcids = [a.orcid.rsplit("/", 1)[-1] for a in article.authors if a.orcid]
    return {
        "pmid": folded(article.pmid),
        "doi": folded(article.doi),
        "ids": folded(article.doi, article.pii, pmcid, pmcid.upper().removeprefix("PMC") or None),
        "si": folded(
            *(r.accession for r in article.registry_ids),
            *(f"{r.registry}/{r.accession}" for r in article.registry_ids),
        ),
        "orcid": folded(*orcids),
        "volume": folded(article.volume),
        "issue": folded(article.issue),
        "pages": folded(pages, first_page),
        "issn": folded(article.issn),
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
