"""Readers for the parts of a PubMed record: authors, MeSH, dates, identifiers, links.

Each takes the container element and walks its children once, dispatching on
the tag (much faster than a ``find`` per field on records this size). They
are shared by the article and book readers in ``pubmed_fields``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date

from lxml import etree

from .article import (
    AbstractSection,
    Author,
    CommentCorrection,
    MeshHeading,
    PartialDate,
    PublicationType,
    Qualifier,
    RegistryId,
)
from .inline_markup import collapse, leaf_text, plain_text, text_and_markup
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


def text_of(elem: Element) -> str | None:
    """Collapsed text of a leaf element, None when empty."""
    return collapse(elem.text or "") or None


def find_text(parent: Element | None, path: str) -> str | None:
    if parent is None:
        return None
    value = parent.findtext(path)
    if value is None:
        return None
    return collapse(value) or None


def optional_text(elem: Element | None) -> str | None:
    return plain_text(elem) or None


def texts_of(elems: Iterable[Element]) -> tuple[str, ...]:
    out = []
    for elem in elems:
        value = plain_text(elem)
        if value:
            out.append(value)
    return tuple(out)


def title_of(elem: Element | None) -> tuple[str, str]:
    if elem is None:
        return "", ""
    return text_and_markup(elem)


def read_abstract(abstract: Element | None) -> tuple[AbstractSection, ...]:
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


def read_pages(pagination: Element | None) -> str | None:
    if pagination is None:
        return None
    parts: dict[str, str] = {}
    for child in pagination:
        value = text_of(child) if isinstance(child.tag, str) else None
        if value:
            parts.setdefault(child.tag, value)
    if "MedlinePgn" in parts:
        return parts["MedlinePgn"]
    start, end = parts.get("StartPage"), parts.get("EndPage")
    if start and end:
        return f"{start}-{end}"
    return start


def leaf_texts(elem: Element) -> dict[str, str]:
    """Leaf children by tag (first of each): the pieces of a date."""
    found: dict[str, str] = {}
    for child in elem:
        text = leaf_text(child)
        if text and child.tag not in found:
            found[child.tag] = text
    return found


def read_pub_date(elem: Element | None) -> PartialDate | None:
    if elem is None:
        return None
    found = leaf_texts(elem)
    if "MedlineDate" in found:
        return partial_from_text(found["MedlineDate"])
    return partial_from_parts(
        found.get("Year"), found.get("Month"), found.get("Day"), found.get("Season")
    )


def read_date(elem: Element | None) -> date | None:
    if elem is None:
        return None
    if len(elem) >= 3:
        # The usual shape, Year/Month/Day first: a record has half a dozen such
        # dates, and most of them are the same few days.
        year, month, day = elem[0], elem[1], elem[2]
        if year.tag == "Year" and month.tag == "Month" and day.tag == "Day":
            y, m, d = leaf_text(year), leaf_text(month), leaf_text(day)
            if y and m and d:
                return _full_date(y, m, d)
    found = leaf_texts(elem)
    return full_date(found.get("Year"), found.get("Month"), found.get("Day"))


_full_date = functools.lru_cache(maxsize=4096)(full_date)


def read_history(history: Element | None) -> dict[str, date]:
    if history is None:
        return {}
    found: dict[str, date] = {}
    for elem in history:
        status = elem.get("PubStatus")
        if not status or status in found:
            continue
        value = read_date(elem)
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


def read_authors(author_list: Element, legacy_affiliation: Element | None) -> tuple[Author, ...]:
    authors = []
    for elem in author_list:
        if elem.tag != "Author" or elem.get("ValidYN") == "N":
            continue  # ValidYN="N": listed in error, kept by PubMed for the record
        authors.append(read_author(elem))
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


def read_author(elem: Element) -> Author:
    last = fore = initials = collective = orcid = None
    affiliations: list[str] = []
    for child in elem:
        tag = child.tag
        if tag == "LastName":
            last = text_of(child)
        elif tag == "ForeName" or tag == "FirstName":
            fore = text_of(child)
        elif tag == "Initials":
            initials = text_of(child)
        elif tag == "AffiliationInfo":
            for part in child:
                if part.tag == "Affiliation":
                    affiliation = plain_text(part)
                    if affiliation:
                        affiliations.append(affiliation)
        elif tag == "Identifier":
            text = leaf_text(child)
            if orcid is None and text and (child.get("Source") or "").upper() == "ORCID":
                orcid = normalise_orcid(text)
        elif tag == "CollectiveName":
            collective = plain_text(child) or None
        elif tag == "Affiliation":  # DTDs before 2014 put it straight under Author
            affiliation = plain_text(child)
            if affiliation:
                affiliations.append(affiliation)
    return Author(last, fore, initials, collective, orcid, tuple(affiliations))


def read_publication_types(parent: Element) -> tuple[PublicationType, ...]:
    found = []
    for elem in parent:
        if elem.tag == "PublicationType":
            name = plain_text(elem)
            if name:
                found.append(PublicationType(name, elem.get("UI")))
    return tuple(found)


def read_mesh(heading_list: Element) -> tuple[MeshHeading, ...]:
    # One C-level walk over just the names; a DescriptorName opens a heading.
    headings: list[MeshHeading] = []
    descriptor: tuple[str, str | None, bool] | None = None
    qualifiers: list[Qualifier] = []
    for elem in heading_list.iter("DescriptorName", "QualifierName"):
        text = elem.text
        if text is None and len(elem):
            text = leaf_text(elem)  # a name holding a child: a blank may be gone
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


def read_article_ids(id_list: Element | None) -> dict[str, str]:
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


def pick_pmcid(ids: dict[str, str]) -> str | None:
    value = ids.get("pmc") or ids.get("pmcid")
    if not value:
        return None
    # Old files write "pmc-id: PMC123456;" under IdType="pmcid".
    for token in value.replace(";", " ").replace(":", " ").split():
        if token.upper().startswith("PMC") and token[3:].isdigit():
            return token.upper()
    return value if value.upper().startswith("PMC") else None


def read_registry_ids(bank_list: Element) -> tuple[RegistryId, ...]:
    found = []
    for bank in bank_list.iterfind("DataBank"):
        name = find_text(bank, "DataBankName")
        if not name or name.lower() not in TRIAL_REGISTRIES:
            continue
        for number in bank.iterfind("AccessionNumberList/AccessionNumber"):
            accession = collapse(number.text or "")
            if accession:
                found.append(RegistryId(name, accession))
    return tuple(found)


def read_comments_corrections(cc_list: Element) -> tuple[CommentCorrection, ...]:
    links = []
    for elem in cc_list:
        ref_type = elem.get("RefType")
        if not ref_type or ref_type == "Cites":
            # "Cites" is the reference list as DTDs before 2019 wrote it, not a
            # link a reader must know about.
            continue
        found = leaf_texts(elem)
        pmid = found.get("PMID")
        note = found.get("Note")
        links.append(
            CommentCorrection(
                ref_type,
                collapse(found.get("RefSource", "")),
                pmid.strip() if pmid else None,
                collapse(note) if note else None,
            )
        )
    return tuple(links)
