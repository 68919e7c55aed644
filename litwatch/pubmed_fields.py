"""Fields of one PubMed record (an lxml element) read into an ``Article``.

``article_from_pubmed_article`` reads ``PubmedArticle`` (MedlineCitation +
PubmedData), also a bare ``MedlineCitation`` (MedlineCitationSet files, no
PubmedData); ``article_from_book`` reads ``PubmedBookArticle``. Each container
is walked once, dispatching on child tags (``pubmed_parts`` reads the pieces),
and the record's own identifiers are read only from its own ArticleIdList,
never from the ArticleIdLists inside its ReferenceList.

A record that cannot be what it claims (no PMID, a PMID or Version that is not
a number) raises ``RecordError``; the caller names the file and record.
"""

from __future__ import annotations

from datetime import date

from lxml import etree

from . import pubmed_parts as parts
from .article import (
    AbstractSection,
    Article,
    Author,
    CommentCorrection,
    MeshHeading,
    PartialDate,
    PublicationType,
    RegistryId,
    is_pmid,
)
from .inline_markup import plain_text, text_and_markup

Element = etree._Element


class RecordError(ValueError):
    """The record breaks a rule every PubMed record keeps."""

    def __init__(self, message: str, pmid: str | None = None) -> None:
        super().__init__(message)
        self.pmid = pmid


# -- the two record kinds -------------------------------------------------------


def article_from_pubmed_article(record: Element) -> Article:
    """A ``PubmedArticle`` element, or a bare ``MedlineCitation``.

    Each container's children are walked once and dispatched on their tag:
    several times faster than one ``find`` per field on records this size.
    """
    citation: Element | None = None
    pubmed_data: Element | None = None
    if record.tag == "MedlineCitation":
        citation = record
    else:
        for child in record:
            if child.tag == "MedlineCitation":
                citation = child
            elif child.tag == "PubmedData":
                pubmed_data = child
    if citation is None:
        raise RecordError("PubmedArticle without MedlineCitation")

    pmid_elem = art = journal_info = date_completed = date_revised = None
    mesh: tuple[MeshHeading, ...] = ()
    links: tuple[CommentCorrection, ...] = ()
    keywords: list[str] = []
    chemicals: list[str] = []
    for child in citation:
        tag = child.tag
        if tag == "PMID":
            pmid_elem = child
        elif tag == "Article":
            art = child
        elif tag == "MeshHeadingList":
            mesh = parts.read_mesh(child)
        elif tag == "DateRevised":
            date_revised = child
        elif tag == "DateCompleted":
            date_completed = child
        elif tag == "MedlineJournalInfo":
            journal_info = child
        elif tag == "KeywordList":
            keywords.extend(parts.texts_of(child))
        elif tag == "ChemicalList":
            chemicals.extend(
                parts.texts_of(c for chem in child for c in chem if c.tag == "NameOfSubstance")
            )
        elif tag == "SupplMeshList":
            # Supplementary concepts are searched by [nm] too.
            chemicals.extend(n for n in parts.texts_of(child) if n not in chemicals)
        elif tag == "CommentsCorrectionsList":
            links = parts.read_comments_corrections(child)
    pmid, version = _pmid_and_version(pmid_elem, citation.tag)
    if art is None:
        raise RecordError("MedlineCitation without Article", pmid)

    fields = _ArticleFields(art)
    ids: dict[str, str] = {}
    history: dict[str, date] = {}
    if pubmed_data is not None:
        for child in pubmed_data:
            if child.tag == "ArticleIdList":
                ids = parts.read_article_ids(child)
            elif child.tag == "History":
                history = parts.read_history(child)
    journal_iso = fields.journal_iso
    issn = fields.issn
    if journal_info is not None and (journal_iso is None or issn is None):
        journal_iso = journal_iso or parts.find_text(journal_info, "MedlineTA")
        issn = issn or parts.find_text(journal_info, "ISSNLinking")

    return Article(
        pmid=pmid,
        version=version,
        kind="article",
        status=citation.get("Status"),
        title=fields.title,
        title_markup=fields.title_markup,
        vernacular_title=fields.vernacular_title,
        abstract=fields.abstract,
        journal_title=fields.journal_title,
        journal_iso=journal_iso,
        issn=issn,
        volume=fields.volume,
        issue=fields.issue,
        pages=fields.pages,
        pub_date=fields.pub_date,
        authors=fields.authors,
        languages=tuple(fields.languages),
        publication_types=fields.publication_types,
        mesh=mesh,
        keywords=tuple(keywords),
        chemicals=tuple(chemicals),
        doi=ids.get("doi") or fields.locations.get("doi"),
        pmcid=parts.pick_pmcid(ids),
        pii=ids.get("pii") or fields.locations.get("pii"),
        registry_ids=fields.registry_ids,
        comments_corrections=links,
        history=history,
        date_completed=parts.read_date(date_completed),
        date_revised=parts.read_date(date_revised),
    )


class _ArticleFields:
    """What MedlineCitation/Article holds, read in one pass over its children."""

    __slots__ = (
        "abstract",
        "authors",
        "issn",
        "issue",
        "journal_iso",
        "journal_title",
        "languages",
        "locations",
        "pages",
        "pub_date",
        "publication_types",
        "registry_ids",
        "title",
        "title_markup",
        "vernacular_title",
        "volume",
    )

    def __init__(self, art: Element) -> None:
        self.title = self.title_markup = ""
        self.vernacular_title: str | None = None
        self.abstract: tuple[AbstractSection, ...] = ()
        self.journal_title: str | None = None
        self.journal_iso: str | None = None
        self.issn: str | None = None
        self.volume: str | None = None
        self.issue: str | None = None
        self.pub_date: PartialDate | None = None
        self.pages: str | None = None
        self.authors: tuple[Author, ...] = ()
        self.languages: list[str] = []
        self.publication_types: tuple[PublicationType, ...] = ()
        self.registry_ids: tuple[RegistryId, ...] = ()
        self.locations: dict[str, str] = {}
        author_list = legacy_affiliation = None
        for child in art:
            tag = child.tag
            if tag == "ArticleTitle":
                self.title, self.title_markup = text_and_markup(child)
            elif tag == "Journal":
                self._journal(child)
            elif tag == "AuthorList":
                author_list = child
            elif tag == "Abstract":
                self.abstract = parts.read_abstract(child)
            elif tag == "PublicationTypeList":
                self.publication_types = parts.read_publication_types(child)
            elif tag == "Language":
                language = plain_text(child)
                if language:
                    self.languages.append(language)
            elif tag == "ELocationID":
                kind = child.get("EIdType")
                value = (child.text or "").strip()
                if kind and value and child.get("ValidYN") != "N":
                    self.locations.setdefault(kind, value)
            elif tag == "Pagination":
                self.pages = parts.read_pages(child)
            elif tag == "DataBankList":
                self.registry_ids = parts.read_registry_ids(child)
            elif tag == "VernacularTitle":
                self.vernacular_title = plain_text(child) or None
            elif tag == "Affiliation":
                legacy_affiliation = child
        if author_list is not None:
            self.authors = parts.read_authors(author_list, legacy_affiliation)

    def _journal(self, journal: Element) -> None:
        for child in journal:
            tag = child.tag
            if tag == "Title":
                self.journal_title = parts.text_of(child)
            elif tag == "ISOAbbreviation":
                self.journal_iso = parts.text_of(child)
            elif tag == "ISSN":
                self.issn = self.issn or parts.text_of(child)
            elif tag == "JournalIssue":
                for part in child:
                    if part.tag == "Volume":
                        self.volume = parts.text_of(part)
                    elif part.tag == "Issue":
                        self.issue = parts.text_of(part)
                    elif part.tag == "PubDate":
                        self.pub_date = parts.read_pub_date(part)


def article_from_book(record: Element) -> Article:
    """A ``PubmedBookArticle``: a book or a chapter on the NCBI Bookshelf."""
    document = record.find("BookDocument")
    if document is None:
        raise RecordError("PubmedBookArticle without BookDocument")
    pmid, version = read_pmid(document)
    book = document.find("Book")
    book_data = record.find("PubmedBookData")
    book_title_elem = book.find("BookTitle") if book is not None else None
    chapter_title = document.find("ArticleTitle")
    if chapter_title is not None:
        title, title_markup = parts.title_of(chapter_title)
        container = plain_text(book_title_elem) or None
    else:
        title, title_markup = parts.title_of(book_title_elem)
        container = None
    ids = parts.read_article_ids(document.find("ArticleIdList"))
    ids.update(
        parts.read_article_ids(book_data.find("ArticleIdList") if book_data is not None else None)
    )
    chapter_authors = document.find("AuthorList")
    book_authors = book.find("AuthorList") if book is not None else None
    authors = parts.read_authors(chapter_authors, None) if chapter_authors is not None else ()
    if not authors and book_authors is not None:
        authors = parts.read_authors(book_authors, None)
    pub_date = parts.read_pub_date(book.find("PubDate") if book is not None else None)
    return Article(
        pmid=pmid,
        version=version,
        kind="book",
        status=None,
        title=title,
        title_markup=title_markup,
        vernacular_title=parts.optional_text(document.find("VernacularTitle")),
        abstract=parts.read_abstract(document.find("Abstract")),
        journal_title=container,
        volume=parts.find_text(book, "Volume"),
        pages=parts.read_pages(document.find("Pagination")),
        pub_date=pub_date,
        authors=authors,
        languages=parts.texts_of(document.iterfind("Language")),
        publication_types=parts.read_publication_types(document),
        keywords=parts.texts_of(document.iterfind("KeywordList/Keyword")),
        doi=ids.get("doi"),
        pmcid=parts.pick_pmcid(ids),
        pii=ids.get("pii"),
        history=parts.read_history(book_data.find("History") if book_data is not None else None),
        date_revised=parts.read_date(document.find("DateRevised")),
    )


# PubMed's versions are single digits; the store's column is a 32-bit integer.
MAX_VERSION = 9999


def read_pmid(parent: Element) -> tuple[str, int]:
    """``(PMID, Version)`` of a MedlineCitation / BookDocument, checked."""
    return _pmid_and_version(parent.find("PMID"), parent.tag)


def _pmid_and_version(elem: Element | None, where: str) -> tuple[str, int]:
    if elem is None:
        raise RecordError(f"{where} without PMID")
    pmid = (elem.text or "").strip()
    if not is_pmid(pmid):
        raise RecordError(f"PMID is not a number: {pmid!r}")
    raw_version = (elem.get("Version") or "1").strip()
    if not (raw_version.isascii() and raw_version.isdigit()):
        raise RecordError(f"PMID Version is not a number: {raw_version!r}", pmid)
    if int(raw_version) > MAX_VERSION:
        raise RecordError(
            f"PMID Version is out of range: {raw_version} (at most {MAX_VERSION})", pmid
        )
    return pmid, int(raw_version)
