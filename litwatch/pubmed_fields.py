"""Fields of one PubMed record (an lxml element) read into an ``Article``.

``article_from_pubmed_article`` reads ``PubmedArticle`` (MedlineCitation +
PubmedData), also a bare ``MedlineCitation`` (MedlineCitationSet files, no
PubmedData); ``article_from_book`` reads ``PubmedBookArticle``. Lookups use
``find``/``findtext`` on the known paths (much faster than XPath), and the
record's own identifiers are read only from its own ArticleIdList, never from
the ArticleIdLists inside its ReferenceList.

A record that cannot be what it claims (no PMID, a PMID or Version that is not
a number) raises ``RecordError``; the caller names the file and record.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from lxml import etree

from .article import (
    AbstractSection,
    Article,
    Author,
    CommentCorrection,
    MeshHeading,
    PartialDate,
    PublicationType,
    Qualifier,
    RegistryId,
)
from .inline_markup import collapse, plain_text, text_and_markup
from .pubdate import full_date, partial_from_parts, partial_from_text

Element = etree._Element

# DataBankList names that are trial registries (NLM's list of secondary source
# ids); GenBank, PDB, Dryad, figshare and the like are data, not trials.
TRIAL_REGISTRIES = frozenset(
    name.lower()
    for name in (
        "ClinicalTrials.gov",
        "ISRCTN",
        "EudraCT",
        "ANZCTR",
        "ChiCTR",
        "CRiS",
        "CTRI",
        "DRKS",
        "IRCT",
        "JPRN",
        "NTR",
        "PACTR",
        "ReBec",
        "RPCEC",
        "SLCTR",
        "TCTR",
        "UMIN CTR",
        "UMIN-CTR",
        "JapicCTI",
        "jRCT",
        "CTIS",
        "EU Clinical Trials Register",
        "REPEC",
        "LBCTR",
        "ITMCTR",
    )
)

_ORCID_PREFIXES = ("https://orcid.org/", "http://orcid.org/", "orcid.org/")


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
            mesh = _mesh(child)
        elif tag == "DateRevised":
            date_revised = child
        elif tag == "DateCompleted":
            date_completed = child
        elif tag == "MedlineJournalInfo":
            journal_info = child
        elif tag == "KeywordList":
            keywords.extend(_texts(child))
        elif tag == "ChemicalList":
            chemicals.extend(
                _texts(c for chem in child for c in chem if c.tag == "NameOfSubstance")
            )
        elif tag == "SupplMeshList":
            # Supplementary concepts are searched by [nm] too.
            chemicals.extend(n for n in _texts(child) if n not in chemicals)
        elif tag == "CommentsCorrectionsList":
            links = _comments_corrections(child)
    pmid, version = _pmid_and_version(pmid_elem, citation.tag)
    if art is None:
        raise RecordError("MedlineCitation without Article", pmid)

    fields = _ArticleFields(art)
    ids: dict[str, str] = {}
    history: dict[str, date] = {}
    if pubmed_data is not None:
        for child in pubmed_data:
            if child.tag == "ArticleIdList":
                ids = _article_ids(child)
            elif child.tag == "History":
                history = _history(child)
    journal_iso = fields.journal_iso
    issn = fields.issn
    if journal_info is not None and (journal_iso is None or issn is None):
        journal_iso = journal_iso or _findtext(journal_info, "MedlineTA")
        issn = issn or _findtext(journal_info, "ISSNLinking")

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
        pmcid=_pmcid(ids),
        pii=ids.get("pii") or fields.locations.get("pii"),
        registry_ids=fields.registry_ids,
        comments_corrections=links,
        history=history,
        date_completed=_date_of(date_completed),
        date_revised=_date_of(date_revised),
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
                self.abstract = _abstract(child)
            elif tag == "PublicationTypeList":
                self.publication_types = _publication_types(child)
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
                self.pages = _pages(child)
            elif tag == "DataBankList":
                self.registry_ids = _registry_ids(child)
            elif tag == "VernacularTitle":
                self.vernacular_title = plain_text(child) or None
            elif tag == "Affiliation":
                legacy_affiliation = child
        if author_list is not None:
            self.authors = _authors(author_list, legacy_affiliation)

    def _journal(self, journal: Element) -> None:
        for child in journal:
            tag = child.tag
            if tag == "Title":
                self.journal_title = _text_of(child)
            elif tag == "ISOAbbreviation":
                self.journal_iso = _text_of(child)
            elif tag == "ISSN":
                self.issn = self.issn or _text_of(child)
            elif tag == "JournalIssue":
                for part in child:
                    if part.tag == "Volume":
                        self.volume = _text_of(part)
                    elif part.tag == "Issue":
                        self.issue = _text_of(part)
                    elif part.tag == "PubDate":
                        self.pub_date = _pub_date(part)


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
        title, title_markup = _title(chapter_title)
        container = plain_text(book_title_elem) or None
    else:
        title, title_markup = _title(book_title_elem)
        container = None
    ids = _article_ids(document.find("ArticleIdList"))
    ids.update(_article_ids(book_data.find("ArticleIdList") if book_data is not None else None))
    chapter_authors = document.find("AuthorList")
    book_authors = book.find("AuthorList") if book is not None else None
    authors = _authors(chapter_authors, None) if chapter_authors is not None else ()
    if not authors and book_authors is not None:
        authors = _authors(book_authors, None)
    pub_date = _pub_date(book.find("PubDate") if book is not None else None)
    return Article(
        pmid=pmid,
        version=version,
        kind="book",
        status=None,
        title=title,
        title_markup=title_markup,
        vernacular_title=_optional_text(document.find("VernacularTitle")),
        abstract=_abstract(document.find("Abstract")),
        journal_title=container,
        volume=_findtext(book, "Volume"),
        pages=_pages(document.find("Pagination")),
        pub_date=pub_date,
        authors=authors,
        languages=_texts(document.iterfind("Language")),
        publication_types=_publication_types(document),
        keywords=_texts(document.iterfind("KeywordList/Keyword")),
        doi=ids.get("doi"),
        pmcid=_pmcid(ids),
        pii=ids.get("pii"),
        history=_history(book_data.find("History") if book_data is not None else None),
        date_revised=_date_of(document.find("DateRevised")),
    )


def read_pmid(parent: Element) -> tuple[str, int]:
    """``(PMID, Version)`` of a MedlineCitation / BookDocument, checked."""
    return _pmid_and_version(parent.find("PMID"), parent.tag)


def _pmid_and_version(elem: Element | None, where: str) -> tuple[str, int]:
    if elem is None:
        raise RecordError(f"{where} without PMID")
    pmid = (elem.text or "").strip()
    if not pmid.isdigit() or int(pmid) <= 0:
        raise RecordError(f"PMID is not a number: {pmid!r}")
    raw_version = (elem.get("Version") or "1").strip()
    if not raw_version.isdigit():
        raise RecordError(f"PMID Version is not a number: {raw_version!r}", pmid)
    return pmid, int(raw_version)


# -- small readers ----------------------------------------------------------------


def _text_of(elem: Element) -> str | None:
    """Collapsed text of a leaf element, None when empty."""
    return collapse(elem.text or "") or None


def _findtext(parent: Element | None, path: str) -> str | None:
    if parent is None:
        return None
    value = parent.findtext(path)
    if value is None:
        return None
    return collapse(value) or None


def _optional_text(elem: Element | None) -> str | None:
    return plain_text(elem) or None


def _texts(elems: Iterable[Element]) -> tuple[str, ...]:
    out = []
    for elem in elems:
        value = plain_text(elem)
        if value:
            out.append(value)
    return tuple(out)


def _title(elem: Element | None) -> tuple[str, str]:
    if elem is None:
        return "", ""
    return text_and_markup(elem)


def _abstract(abstract: Element | None) -> tuple[AbstractSection, ...]:
    if abstract is None:
        return ()
    sections = []
    for elem in abstract:
        if elem.tag != "AbstractText":  # CopyrightInformation
            continue
        text, markup = text_and_markup(elem)
        label = elem.get("Label")
        if not text and not label:
            continue
        sections.append(AbstractSection(text, markup, label or None, elem.get("NlmCategory")))
    return tuple(sections)


def _pages(pagination: Element | None) -> str | None:
    if pagination is None:
        return None
    parts: dict[str, str] = {}
    for child in pagination:
        value = _text_of(child) if isinstance(child.tag, str) else None
        if value:
            parts.setdefault(child.tag, value)
    if "MedlinePgn" in parts:
        return parts["MedlinePgn"]
    start, end = parts.get("StartPage"), parts.get("EndPage")
    if start and end:
        return f"{start}-{end}"
    return start


def _parts(elem: Element) -> dict[str, str]:
    """Leaf children by tag (first of each): the pieces of a date."""
    found: dict[str, str] = {}
    for child in elem:
        if child.text and child.tag not in found:
            found[child.tag] = child.text
    return found


def _pub_date(elem: Element | None) -> PartialDate | None:
    if elem is None:
        return None
    parts = _parts(elem)
    if "MedlineDate" in parts:
        return partial_from_text(parts["MedlineDate"])
    return partial_from_parts(
        parts.get("Year"), parts.get("Month"), parts.get("Day"), parts.get("Season")
    )


def _date_of(elem: Element | None) -> date | None:
    if elem is None:
        return None
    parts = _parts(elem)
    return full_date(parts.get("Year"), parts.get("Month"), parts.get("Day"))


def _history(history: Element | None) -> dict[str, date]:
    if history is None:
        return {}
    found: dict[str, date] = {}
    for elem in history:
        status = elem.get("PubStatus")
        if not status or status in found:
            continue
        value = _date_of(elem)
        if value is not None:
            found[status] = value
    return found


def normalise_orcid(value: str) -> str:
    """``0000-0002-1825-0097`` from a bare, URL or undashed ORCID iD."""
    value = value.strip()
    for prefix in _ORCID_PREFIXES:
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
            break
    compact = value.replace("-", "")
    if len(compact) == 16:
        return "-".join(compact[i : i + 4] for i in range(0, 16, 4)).upper()
    return value


def _authors(author_list: Element, legacy_affiliation: Element | None) -> tuple[Author, ...]:
    authors = []
    for elem in author_list:
        if elem.tag != "Author" or elem.get("ValidYN") == "N":
            continue  # ValidYN="N": listed in error, kept by PubMed for the record
        authors.append(_author(elem))
    if legacy_affiliation is not None and authors and not any(a.affiliations for a in authors):
        # Records before 2014 carry one Article/Affiliation: the first author's.
        legacy = plain_text(legacy_affiliation)
        if legacy:
            first = authors[0]
            authors[0] = Author(
                first.last_name,
                first.fore_name,
                first.initials,
                first.collective_name,
                first.orcid,
                (legacy,),
            )
    return tuple(authors)


def _author(elem: Element) -> Author:
    last = fore = initials = collective = orcid = None
    affiliations: list[str] = []
    for child in elem:
        tag = child.tag
        if tag == "LastName":
            last = _text_of(child)
        elif tag == "ForeName" or tag == "FirstName":
            fore = _text_of(child)
        elif tag == "Initials":
            initials = _text_of(child)
        elif tag == "AffiliationInfo":
            for part in child:
                if part.tag == "Affiliation":
                    affiliation = plain_text(part)
                    if affiliation:
                        affiliations.append(affiliation)
        elif tag == "Identifier":
            if orcid is None and child.text and (child.get("Source") or "").upper() == "ORCID":
                orcid = normalise_orcid(child.text)
        elif tag == "CollectiveName":
            collective = plain_text(child) or None
        elif tag == "Affiliation":  # DTDs before 2014 put it straight under Author
            affiliation = plain_text(child)
            if affiliation:
                affiliations.append(affiliation)
    return Author(last, fore, initials, collective, orcid, tuple(affiliations))


def _publication_types(parent: Element) -> tuple[PublicationType, ...]:
    found = []
    for elem in parent:
        if elem.tag == "PublicationType":
            name = plain_text(elem)
            if name:
                found.append(PublicationType(name, elem.get("UI")))
    return tuple(found)


def _mesh(heading_list: Element) -> tuple[MeshHeading, ...]:
    # One C-level walk over just the names; a DescriptorName opens a heading.
    headings: list[MeshHeading] = []
    descriptor: tuple[str, str | None, bool] | None = None
    qualifiers: list[Qualifier] = []
    for elem in heading_list.iter("DescriptorName", "QualifierName"):
        text = elem.text
        if elem.tag == "DescriptorName":
            if descriptor is not None:
                headings.append(MeshHeading(*descriptor, tuple(qualifiers)))
            qualifiers = []
            descriptor = (
                (text.strip(), elem.get("UI"), elem.get("MajorTopicYN") == "Y") if text else None
            )
        elif text and descriptor is not None:
            qualifiers.append(
                Qualifier(text.strip(), elem.get("UI"), elem.get("MajorTopicYN") == "Y")
            )
    if descriptor is not None:
        headings.append(MeshHeading(*descriptor, tuple(qualifiers)))
    return tuple(headings)


def _article_ids(id_list: Element | None) -> dict[str, str]:
    """``IdType -> value`` of one ArticleIdList (first value of each type)."""
    if id_list is None:
        return {}
    found: dict[str, str] = {}
    for elem in id_list:
        id_type = elem.get("IdType")
        value = (elem.text or "").strip()
        if id_type and value and id_type not in found:
            found[id_type] = value
    return found


def _pmcid(ids: dict[str, str]) -> str | None:
    value = ids.get("pmc") or ids.get("pmcid")
    if not value:
        return None
    # Old files write "pmc-id: PMC123456;" under IdType="pmcid".
    for token in value.replace(";", " ").replace(":", " ").split():
        if token.upper().startswith("PMC") and token[3:].isdigit():
            return token.upper()
    return value if value.upper().startswith("PMC") else None


def _registry_ids(bank_list: Element) -> tuple[RegistryId, ...]:
    found = []
    for bank in bank_list.iterfind("DataBank"):
        name = _findtext(bank, "DataBankName")
        if not name or name.lower() not in TRIAL_REGISTRIES:
            continue
        for number in bank.iterfind("AccessionNumberList/AccessionNumber"):
            accession = collapse(number.text or "")
            if accession:
                found.append(RegistryId(name, accession))
    return tuple(found)


def _comments_corrections(cc_list: Element) -> tuple[CommentCorrection, ...]:
    links = []
    for elem in cc_list:
        ref_type = elem.get("RefType")
        if not ref_type or ref_type == "Cites":
            # "Cites" is the reference list as DTDs before 2019 wrote it, not a
            # link a reader must know about.
            continue
        parts = _parts(elem)
        pmid = parts.get("PMID")
        note = parts.get("Note")
        links.append(
            CommentCorrection(
                ref_type,
                collapse(parts.get("RefSource", "")),
                pmid.strip() if pmid else None,
                collapse(note) if note else None,
            )
        )
    return tuple(links)
