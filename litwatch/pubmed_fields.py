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
    """A ``PubmedArticle`` element, or a bare ``MedlineCitation``."""
    if record.tag == "MedlineCitation":
        citation: Element | None = record
        pubmed_data = None
    else:
        citation = record.find("MedlineCitation")
        pubmed_data = record.find("PubmedData")
    if citation is None:
        raise RecordError("PubmedArticle without MedlineCitation")
    pmid, version = read_pmid(citation)
    art = citation.find("Article")
    if art is None:
        raise RecordError("MedlineCitation without Article", pmid)

    title, title_markup = _title(art.find("ArticleTitle"))
    journal = art.find("Journal")
    issue = journal.find("JournalIssue") if journal is not None else None
    ids = _article_ids(pubmed_data.find("ArticleIdList") if pubmed_data is not None else None)
    locations = _elocation_ids(art)
    history = _history(pubmed_data.find("History") if pubmed_data is not None else None)
    journal_info = citation.find("MedlineJournalInfo")

    return Article(
        pmid=pmid,
        version=version,
        kind="article",
        status=citation.get("Status"),
        title=title,
        title_markup=title_markup,
        vernacular_title=_optional_text(art.find("VernacularTitle")),
        abstract=_abstract(art.find("Abstract")),
        journal_title=_findtext(journal, "Title"),
        journal_iso=_findtext(journal, "ISOAbbreviation") or _findtext(journal_info, "MedlineTA"),
        issn=_findtext(journal, "ISSN") or _findtext(journal_info, "ISSNLinking"),
        volume=_findtext(issue, "Volume"),
        issue=_findtext(issue, "Issue"),
        pages=_pages(art.find("Pagination")),
        pub_date=_pub_date(issue.find("PubDate") if issue is not None else None),
        authors=_authors(art.find("AuthorList"), art),
        languages=_texts(art.iterfind("Language")),
        publication_types=_publication_types(art.find("PublicationTypeList")),
        mesh=_mesh(citation.find("MeshHeadingList")),
        keywords=_keywords(citation),
        chemicals=_chemicals(citation),
        doi=ids.get("doi") or locations.get("doi"),
        pmcid=_pmcid(ids),
        pii=ids.get("pii") or locations.get("pii"),
        registry_ids=_registry_ids(art.find("DataBankList")),
        comments_corrections=_comments_corrections(citation.find("CommentsCorrectionsList")),
        history=history,
        date_completed=_date_of(citation.find("DateCompleted")),
        date_revised=_date_of(citation.find("DateRevised")),
    )


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
    authors = _authors(document.find("AuthorList"), None)
    if not authors and book is not None:
        authors = _authors(book.find("AuthorList"), None)
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
        keywords=_keywords(document),
        doi=ids.get("doi"),
        pmcid=_pmcid(ids),
        pii=ids.get("pii"),
        history=_history(book_data.find("History") if book_data is not None else None),
        date_revised=_date_of(document.find("DateRevised")),
    )


def read_pmid(parent: Element) -> tuple[str, int]:
    """``(PMID, Version)`` of a MedlineCitation / BookDocument, checked."""
    elem = parent.find("PMID")
    if elem is None:
        raise RecordError(f"{parent.tag} without PMID")
    pmid = (elem.text or "").strip()
    if not pmid.isdigit() or int(pmid) <= 0:
        raise RecordError(f"PMID is not a number: {pmid!r}")
    raw_version = (elem.get("Version") or "1").strip()
    if not raw_version.isdigit():
        raise RecordError(f"PMID Version is not a number: {raw_version!r}", pmid)
    return pmid, int(raw_version)


# -- small readers ----------------------------------------------------------------


def _findtext(parent: Element | None, path: str) -> str | None:
    if parent is None:
        return None
    value = parent.findtext(path)
    if value is None:
        return None
    value = collapse(value)
    return value or None


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
    for elem in abstract.iterfind("AbstractText"):
        text, markup = text_and_markup(elem)
        label = elem.get("Label")
        if not text and not label:
            continue
        sections.append(AbstractSection(text, markup, label or None, elem.get("NlmCategory")))
    return tuple(sections)


def _pages(pagination: Element | None) -> str | None:
    if pagination is None:
        return None
    medline = _findtext(pagination, "MedlinePgn")
    if medline:
        return medline
    start = _findtext(pagination, "StartPage")
    end = _findtext(pagination, "EndPage")
    if start and end:
        return f"{start}-{end}"
    return start


def _pub_date(elem: Element | None) -> PartialDate | None:
    if elem is None:
        return None
    medline_date = elem.findtext("MedlineDate")
    if medline_date is not None:
        return partial_from_text(medline_date)
    return partial_from_parts(
        elem.findtext("Year"),
        elem.findtext("Month"),
        elem.findtext("Day"),
        elem.findtext("Season"),
    )


def _date_of(elem: Element | None) -> date | None:
    if elem is None:
        return None
    return full_date(elem.findtext("Year"), elem.findtext("Month"), elem.findtext("Day"))


def _history(history: Element | None) -> dict[str, date]:
    if history is None:
        return {}
    found: dict[str, date] = {}
    for elem in history.iterfind("PubMedPubDate"):
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


def _authors(author_list: Element | None, article: Element | None) -> tuple[Author, ...]:
    if author_list is None:
        return ()
    authors = []
    for elem in author_list.iterfind("Author"):
        if elem.get("ValidYN") == "N":  # listed in error, kept by PubMed for the record
            continue
        orcid = None
        for identifier in elem.iterfind("Identifier"):
            if (identifier.get("Source") or "").upper() == "ORCID" and identifier.text:
                orcid = normalise_orcid(identifier.text)
                break
        affiliations = [plain_text(a) for a in elem.iterfind("AffiliationInfo/Affiliation")]
        # DTDs before 2014 put one Affiliation straight under Author.
        affiliations.extend(plain_text(a) for a in elem.iterfind("Affiliation"))
        authors.append(
            Author(
                last_name=_findtext(elem, "LastName"),
                fore_name=_findtext(elem, "ForeName") or _findtext(elem, "FirstName"),
                initials=_findtext(elem, "Initials"),
                collective_name=_optional_text(elem.find("CollectiveName")),
                orcid=orcid,
                affiliations=tuple(a for a in affiliations if a),
            )
        )
    if article is not None and authors and not any(a.affiliations for a in authors):
        # Older records carry one Article/Affiliation: it belongs to the first author.
        legacy = _optional_text(article.find("Affiliation"))
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


def _publication_types(parent: Element | None) -> tuple[PublicationType, ...]:
    if parent is None:
        return ()
    return tuple(
        PublicationType(plain_text(elem), elem.get("UI"))
        for elem in parent.iterfind("PublicationType")
        if plain_text(elem)
    )


def _mesh(heading_list: Element | None) -> tuple[MeshHeading, ...]:
    if heading_list is None:
        return ()
    headings = []
    for heading in heading_list.iterfind("MeshHeading"):
        descriptor = heading.find("DescriptorName")
        if descriptor is None or not descriptor.text:
            continue
        qualifiers = tuple(
            Qualifier(collapse(q.text or ""), q.get("UI"), q.get("MajorTopicYN") == "Y")
            for q in heading.iterfind("QualifierName")
            if q.text
        )
        headings.append(
            MeshHeading(
                collapse(descriptor.text),
                descriptor.get("UI"),
                descriptor.get("MajorTopicYN") == "Y",
                qualifiers,
            )
        )
    return tuple(headings)


def _keywords(parent: Element) -> tuple[str, ...]:
    return _texts(parent.iterfind("KeywordList/Keyword"))


def _chemicals(citation: Element) -> tuple[str, ...]:
    names = list(_texts(citation.iterfind("ChemicalList/Chemical/NameOfSubstance")))
    # Supplementary concepts are searched by [nm] too.
    for name in _texts(citation.iterfind("SupplMeshList/SupplMeshName")):
        if name not in names:
            names.append(name)
    return tuple(names)


def _article_ids(id_list: Element | None) -> dict[str, str]:
    """``IdType -> value`` of one ArticleIdList (first value of each type)."""
    if id_list is None:
        return {}
    found: dict[str, str] = {}
    for elem in id_list.iterfind("ArticleId"):
        id_type = elem.get("IdType")
        value = (elem.text or "").strip()
        if id_type and value and id_type not in found:
            found[id_type] = value
    return found


def _elocation_ids(article: Element) -> dict[str, str]:
    """The article's own ELocationIDs: used when PubmedData has no such id."""
    found: dict[str, str] = {}
    for elem in article.iterfind("ELocationID"):
        kind = elem.get("EIdType")
        value = (elem.text or "").strip()
        if kind and value and elem.get("ValidYN") != "N" and kind not in found:
            found[kind] = value
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


def _registry_ids(bank_list: Element | None) -> tuple[RegistryId, ...]:
    if bank_list is None:
        return ()
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


def _comments_corrections(cc_list: Element | None) -> tuple[CommentCorrection, ...]:
    if cc_list is None:
        return ()
    links = []
    for elem in cc_list.iterfind("CommentsCorrections"):
        ref_type = elem.get("RefType")
        if not ref_type or ref_type == "Cites":
            # "Cites" is the reference list as DTDs before 2019 wrote it, not a
            # link a reader must know about.
            continue
        pmid = _findtext(elem, "PMID")
        links.append(
            CommentCorrection(
                ref_type,
                _findtext(elem, "RefSource") or "",
                pmid,
                _findtext(elem, "Note"),
            )
        )
    return tuple(links)
