"""The Article record: one PubMed citation, independent of where it came from.

Parsers (PubMed XML, MEDLINE text) build it; the store saves it; the query
language, the tagger and the digest read it. It is immutable and converts to
and from plain JSON-able dicts (``to_dict`` / ``from_dict``) so the store can
keep the whole record in one column and hash it to notice changes. Its parts
(authors, headings, dates …) are NamedTuples: cheap to build, and written to
JSON as the arrays ``to_dict`` gives them.
"""

from __future__ import annotations

import hashlib
import operator
import re
import unicodedata
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, NamedTuple

import orjson

# Statuses of MedlineCitation@Status, for reference and validation.
STATUSES = (
    "Completed",
    "In-Process",
    "PubMed-not-MEDLINE",
    "In-Data-Review",
    "Publisher",
    "MEDLINE",
    "OLDMEDLINE",
)

# CommentsCorrections@RefType values that change what a reader must know.
RETRACTION_NOTICE_TYPES = frozenset({"RetractionIn", "RetractedandRepublishedIn"})
CORRECTION_TYPES = frozenset({"ErratumIn", "CorrectedandRepublishedIn"})


class PartialDate(NamedTuple):
    """A date as PubMed gives it (``2009 Jan-Feb``, ``1990 Spring``, ``2020 Mar 5``).

    ``text`` keeps the original; ``year``/``month``/``day`` hold what could be
    read from it, and ``sortable`` is the first day of the period it names.
    """

    text: str
    year: int | None = None
    month: int | None = None
    day: int | None = None

    @property
    def sortable(self) -> date | None:
        if self.year is None:
            return None
        return date(self.year, self.month or 1, self.day or 1)


class AbstractSection(NamedTuple):
    """One AbstractText element: ``text`` is plain, ``markup`` is safe HTML.

    ``markup`` contains only ``<i> <b> <sup> <sub> <u>`` tags; everything else
    is escaped, so templates may mark it safe.
    """

    text: str
    markup: str
    label: str | None = None
    category: str | None = None  # NlmCategory: BACKGROUND, METHODS, RESULTS, CONCLUSIONS ...


class Author(NamedTuple):
    last_name: str | None = None
    fore_name: str | None = None
    initials: str | None = None
    collective_name: str | None = None
    orcid: str | None = None
    affiliations: tuple[str, ...] = ()

    @property
    def display_name(self) -> str:
        """``Lastname AB`` as PubMed shows it, or the collective name."""
        if self.collective_name:
            return self.collective_name
        return " ".join(p for p in (self.last_name, self.initials) if p)


class PublicationType(NamedTuple):
    name: str
    ui: str | None = None


class Qualifier(NamedTuple):
    name: str
    ui: str | None = None
    major: bool = False


class MeshHeading(NamedTuple):
    descriptor: str
    ui: str | None = None
    major: bool = False  # the descriptor itself is a major topic
    qualifiers: tuple[Qualifier, ...] = ()

    @property
    def is_major(self) -> bool:
        """Major topic as ``[majr]`` sees it: descriptor or any qualifier starred."""
        return self.major or any(q.major for q in self.qualifiers)


class RegistryId(NamedTuple):
    """A trial registry accession, e.g. ``ClinicalTrials.gov`` / ``NCT02149199``."""

    registry: str
    accession: str


class CommentCorrection(NamedTuple):
    """A CommentsCorrections link, e.g. ``RetractionIn`` pointing at the notice's PMID."""

    ref_type: str
    ref_source: str = ""
    pmid: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """One PubMed record.

    ``history`` maps PubMedPubDate@PubStatus to its date: ``entrez`` is the
    create date (CRDT, what ``[crdt]`` searches), ``pubmed`` the Entrez date
    (EDAT), ``medline`` the MeSH date (MHDA). ``date_revised`` is
    MedlineCitation/DateRevised, which PubMed's modification date follows.
    """

    pmid: str
    version: int = 1
    kind: str = "article"  # "article" (PubmedArticle) or "book" (PubmedBookArticle)
    status: str | None = None  # MedlineCitation@Status
    title: str = ""
    title_markup: str = ""
    vernacular_title: str | None = None
    abstract: tuple[AbstractSection, ...] = ()
    journal_title: str | None = None
    journal_iso: str | None = None
    issn: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    pub_date: PartialDate | None = None
    authors: tuple[Author, ...] = ()
    languages: tuple[str, ...] = ()
    publication_types: tuple[PublicationType, ...] = ()
    mesh: tuple[MeshHeading, ...] = ()
    keywords: tuple[str, ...] = ()
    chemicals: tuple[str, ...] = ()  # NameOfSubstance, searched by [nm]
    doi: str | None = None
    pmcid: str | None = None
    pii: str | None = None
    registry_ids: tuple[RegistryId, ...] = ()
    comments_corrections: tuple[CommentCorrection, ...] = ()
    history: dict[str, date] = field(default_factory=dict)
    date_completed: date | None = None
    date_revised: date | None = None

    # -- derived views -------------------------------------------------------

    @property
    def abstract_text(self) -> str:
        """The abstract as one plain string, section labels kept."""
        parts = []
        for section in self.abstract:
            parts.append(f"{section.label}: {section.text}" if section.label else section.text)
        return "\n".join(parts)

    @property
    def pub_year(self) -> int | None:
        return self.pub_date.year if self.pub_date else None

    @property
    def created(self) -> date | None:
        """Create date (CRDT): when the record entered PubMed."""
        return self.history.get("entrez")

    @property
    def entrez_date(self) -> date | None:
        """Entrez date (EDAT); may be back-dated to the publication date."""
        return self.history.get("pubmed") or self.created

    @property
    def modified(self) -> date | None:
        """Last modification as PubMed's ``mdat`` sees it."""
        candidates = [d for d in (self.date_revised, self.created) if d is not None]
        return max(candidates) if candidates else None

    @property
    def is_retracted(self) -> bool:
        return any(c.ref_type in RETRACTION_NOTICE_TYPES for c in self.comments_corrections) or any(
            pt.name == "Retracted Publication" for pt in self.publication_types
        )

    @property
    def has_erratum(self) -> bool:
        return any(c.ref_type in CORRECTION_TYPES for c in self.comments_corrections)

    @property
    def is_indexed(self) -> bool:
        """MeSH has been assigned (false for Publisher / In-Process records)."""
        return bool(self.mesh)

    # -- serialisation -------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; ``from_dict(to_dict(a)) == a``."""
        return {
            "pmid": self.pmid,
            "version": self.version,
            "kind": self.kind,
            "status": self.status,
            "title": self.title,
            "title_markup": self.title_markup,
            "vernacular_title": self.vernacular_title,
            "abstract": [[s.text, s.markup, s.label, s.category] for s in self.abstract],
            "journal_title": self.journal_title,
            "journal_iso": self.journal_iso,
            "issn": self.issn,
            "volume": self.volume,
            "issue": self.issue,
            "pages": self.pages,
            "pub_date": (
                [self.pub_date.text, self.pub_date.year, self.pub_date.month, self.pub_date.day]
                if self.pub_date
                else None
            ),
            "authors": [
                [
                    a.last_name,
                    a.fore_name,
                    a.initials,
                    a.collective_name,
                    a.orcid,
                    list(a.affiliations),
                ]
                for a in self.authors
            ],
            "languages": list(self.languages),
            "publication_types": [[p.name, p.ui] for p in self.publication_types],
            "mesh": [
                [m.descriptor, m.ui, m.major, [[q.name, q.ui, q.major] for q in m.qualifiers]]
                for m in self.mesh
            ],
            "keywords": list(self.keywords),
            "chemicals": list(self.chemicals),
            "doi": self.doi,
            "pmcid": self.pmcid,
            "pii": self.pii,
            "registry_ids": [[r.registry, r.accession] for r in self.registry_ids],
            "comments_corrections": [
                [c.ref_type, c.ref_source, c.pmid, c.note] for c in self.comments_corrections
            ],
            "history": {k: v.isoformat() for k, v in sorted(self.history.items())},
            "date_completed": _iso(self.date_completed),
            "date_revised": _iso(self.date_revised),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Article:
        pub = d.get("pub_date")
        return cls(
            pmid=d["pmid"],
            version=d.get("version", 1),
            kind=d.get("kind", "article"),
            status=d.get("status"),
            title=d.get("title", ""),
            title_markup=d.get("title_markup", ""),
            vernacular_title=d.get("vernacular_title"),
            abstract=tuple(
                AbstractSection(t, m, lab, cat) for t, m, lab, cat in d.get("abstract", ())
            ),
            journal_title=d.get("journal_title"),
            journal_iso=d.get("journal_iso"),
            issn=d.get("issn"),
            volume=d.get("volume"),
            issue=d.get("issue"),
            pages=d.get("pages"),
            pub_date=PartialDate(*pub) if pub else None,
            authors=tuple(
                Author(last, fore, ini, coll, orcid, tuple(aff))
                for last, fore, ini, coll, orcid, aff in d.get("authors", ())
            ),
            languages=tuple(d.get("languages", ())),
            publication_types=tuple(
                PublicationType(n, ui) for n, ui in d.get("publication_types", ())
            ),
            mesh=tuple(
                MeshHeading(desc, ui, major, tuple(Qualifier(*q) for q in quals))
                for desc, ui, major, quals in d.get("mesh", ())
            ),
            keywords=tuple(d.get("keywords", ())),
            chemicals=tuple(d.get("chemicals", ())),
            doi=d.get("doi"),
            pmcid=d.get("pmcid"),
            pii=d.get("pii"),
            registry_ids=tuple(RegistryId(r, a) for r, a in d.get("registry_ids", ())),
            comments_corrections=tuple(
                CommentCorrection(t, s, p, n) for t, s, p, n in d.get("comments_corrections", ())
            ),
            history={k: date.fromisoformat(v) for k, v in d.get("history", {}).items()},
            date_completed=_from_iso(d.get("date_completed")),
            date_revised=_from_iso(d.get("date_revised")),
        )

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no spaces, non-ASCII kept (what the content hash reads).

        The text of ``json.dumps(self.to_dict(), ensure_ascii=False,
        separators=(",", ":"), sort_keys=True)``, written by orjson straight
        from the fields: the parts are tuples, which it writes as the arrays
        ``to_dict`` builds, and dates as ISO text. Several times faster, which
        matters when a large file is imported.
        """
        values = dict(zip(_FIELD_NAMES, _field_values(self), strict=True))
        return orjson.dumps(values, default=_as_array, option=orjson.OPT_SORT_KEYS).decode("utf-8")

    @classmethod
    def from_json(cls, text: str | bytes) -> Article:
        return cls.from_dict(orjson.loads(text))

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON form: equal hashes mean nothing changed."""
        return content_hash_of_json(self.to_json())


_FIELD_NAMES = tuple(f.name for f in fields(Article))
_field_values = operator.attrgetter(*_FIELD_NAMES)


def _as_array(value: object) -> list[object]:
    """How ``to_json`` writes a record's part (a NamedTuple)."""
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not part of an Article")


def is_pmid(text: str) -> bool:
    """A PMID as records write it: ASCII digits, not all zeros (``str.isdigit`` alone
    accepts "²", which ``int`` refuses)."""
    return text.isascii() and text.isdigit() and int(text) > 0


def content_hash_of_json(canonical_json: str) -> str:
    return hashlib.sha256(canonical_json.encode("utf-8")).hexdigest()


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _from_iso(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


# -- identity -----------------------------------------------------------------

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
# Dropped before folding, so "writer's", "Writer’s" and "writers" agree (NFKD
# would drop the curly one but turn the straight one into a word break).
_APOSTROPHES = re.compile("['\u2018\u2019\u02bc]")


def normalise_doi(doi: str | None) -> str | None:
    """Lower-case DOI without resolver prefix: DOIs are case-insensitive."""
    if not doi:
        return None
    cleaned = _DOI_PREFIX.sub("", doi.strip()).strip().lower()
    return cleaned or None


# ASCII folds through a byte table: letters lower-cased, digits kept, anything
# else a word break (runs of breaks collapse in split/join). Several times
# faster than the regex, and the same words.
_ASCII_FOLD = bytes(
    ord(chr(c).lower()) if chr(c).isascii() and chr(c).isalnum() else ord(" ") for c in range(256)
)


def fold_text(text: str) -> str:
    """Lower-case ASCII letters and digits only: accents and punctuation folded away."""
    if text.isascii():  # NFKD leaves ASCII as it is; only "'" needs dropping
        folded = text.encode("ascii").translate(_ASCII_FOLD, b"'")
    else:
        # Apostrophes go before NFKD: it turns some characters (e.g. the
        # full-width one) into a straight "'", which must stay a word break.
        decomposed = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", text))
        folded = decomposed.encode("ascii", "ignore").translate(_ASCII_FOLD)
    return " ".join(folded.decode("ascii").split())


def work_key(article: Article) -> str | None:
    """Identity of the work behind a record, to link one work found under two PMIDs.

    The normalised DOI when there is one; otherwise folded title + year + first
    author's last name. ``None`` when there is too little to go on.
    """
    doi = normalise_doi(article.doi)
    if doi:
        return f"doi:{doi}"
    title = fold_text(article.title)
    if not title or article.pub_year is None:
        return None
    first = article.authors[0] if article.authors else None
    who = fold_text((first.last_name or first.collective_name or "") if first else "")
    return f"tya:{title}|{article.pub_year}|{who}"
