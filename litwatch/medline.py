"""MEDLINE text (``.nbib`` / ``.txt`` saved from pubmed.gov) read into ``Article``.

Bio.Medline reads the fields. Before handing it a record we join each field's
continuation lines into one line ourselves, because Bio.Medline keeps the
continuation of a list field (``CIN``, ``OT``, ``AUID`` …) as a separate list
item, which would cut "PMID: 35654591" in two. The joined lines also keep the
order of fields across tags, which Bio's dict loses and authors need: ``AD``
and ``AUID`` belong to the ``FAU``/``AU`` before them, ``CN`` is a
collective author in its place in the list.

The bytes must be UTF-8 (what PubMed writes); anything else is an
``InputError`` naming the line. A record without a PMID is one too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from html import escape
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from Bio import Medline

from .article import (
    AbstractSection,
    Article,
    Author,
    CommentCorrection,
    MeshHeading,
    PublicationType,
    Qualifier,
    RegistryId,
    is_pmid,
)
from .errors import InputError
from .pubdate import full_date, partial_from_text
from .pubmed_parts import TRIAL_REGISTRIES, normalise_orcid

# "TAG - value" with the tag left-aligned in four columns.
FIELD_LINE = re.compile(r"^([A-Z][A-Z0-9]{0,3}) {0,3}- ")

# MEDLINE tags of CommentsCorrections links, to the XML RefType they stand for.
LINK_TAGS = {
    "CIN": "CommentIn",
    "CON": "CommentOn",
    "EIN": "ErratumIn",
    "EFR": "ErratumFor",
    "RIN": "RetractionIn",
    "ROF": "RetractionOf",
    "UIN": "UpdateIn",
    "UOF": "UpdateOf",
    "CRI": "CorrectedandRepublishedIn",
    "CRF": "CorrectedandRepublishedFrom",
    "RPI": "RepublishedIn",
    "RPF": "RepublishedFrom",
    "RRI": "RetractedandRepublishedIn",
    "RRF": "RetractedandRepublishedFrom",
    "ECI": "ExpressionOfConcernIn",
    "ECF": "ExpressionOfConcernFor",
    "SPIN": "SummaryForPatientsIn",
    "ORI": "OriginalReportIn",
}

_LINK_PMID = re.compile(r"\s*PMID:\s*(\d+)\s*\.?\s*$")
_TYPED_ID = re.compile(r"^(.*\S)\s*\[([a-z-]+)\]$")
_PHST = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:\s+\d{1,2}:\d{2})?\s*\[([^\]]+)\]$")
_SLASH_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})")


# Bio.Medline is untyped: this is the shape we rely on.
_bio_parse: Callable[[list[str]], Iterator[dict[str, Any]]] = Medline.parse

# A path, the bytes, or lines (an open text or binary file, a list of lines).
MedlineSource = str | Path | bytes | TextIO | BinaryIO | Iterable[str] | Iterable[bytes]


def parse_medline(source: MedlineSource, *, name: str | None = None) -> Iterator[Article]:
    """Records of a MEDLINE text file, one at a time.

    ``source`` is a path, the file's bytes, or its lines (an open text or
    binary file, not closed here). ``name`` labels errors; it defaults to the path.
    """
    label = name or (str(source) if isinstance(source, str | Path) else "<medline>")
    if isinstance(source, str | Path):
        try:
            handle = open(source, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InputError(label, f"cannot read: {exc.strerror or exc}") from exc
        with handle:
            yield from _records(_decoded_lines(handle, label), label)
    elif isinstance(source, bytes):
        yield from _records(_decoded_lines(source.splitlines(keepends=True), label), label)
    else:
        yield from _records(_decoded_lines(source, label), label)


def is_medline_start(text: str) -> bool:
    """Does this (first non-blank) line look like a MEDLINE field?"""
    return FIELD_LINE.match(text) is not None


# -- lines and records ---------------------------------------------------------------


def _decoded_lines(lines: Iterable[bytes | str], label: str) -> Iterator[tuple[int, str]]:
    """``(line number, text without line end)``; bytes must be UTF-8."""
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.start + 1].hex()
                raise InputError(
                    label,
                    f"not UTF-8 text (byte 0x{bad} at column {exc.start + 1}); "
                    "save the file from PubMed again, or convert it to UTF-8",
                    line=number,
                ) from None
        else:
            text = raw.lstrip("\ufeff") if number == 1 else raw
        yield number, text.rstrip("\r\n")


def _logical_records(
    lines: Iterable[tuple[int, str]], label: str
) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """``(first line, [(tag, value), …])`` per record, continuation lines joined."""
    fields: list[tuple[str, str]] = []
    start = 0
    for number, text in lines:
        if not text.strip():
            if fields:
                yield start, fields
                fields = []
            continue
        if text.startswith("      ") and fields:
            tag, value = fields[-1]
            fields[-1] = (tag, f"{value} {text.strip()}".strip())
            continue
        match = FIELD_LINE.match(text)
        if match is None:
            raise InputError(label, f"not a MEDLINE field line: {text[:60]!r}", line=number)
        tag = match.group(1)
        if tag == "PMID" and any(t == "PMID" for t, _ in fields):
            yield start, fields  # records not separated by a blank line
            fields = []
        if not fields:
            start = number
        fields.append((tag, text[match.end() :].strip()))
    if fields:
        yield start, fields


def _records(lines: Iterable[tuple[int, str]], label: str) -> Iterator[Article]:
    for index, (line, fields) in enumerate(_logical_records(lines, label), start=1):
        bio_lines = [f"{tag:<4}- {value}\n" for tag, value in fields]
        record = next(_bio_parse(bio_lines), {})
        pmid = str(record.get("PMID", "")).strip()
        if not is_pmid(pmid):
            what = f"PMID is not a number: {pmid!r}" if pmid else "record without PMID"
            raise InputError(label, what, line=line, record=f"record {index}")
        yield _article(pmid, record, fields)


# -- fields ----------------------------------------------------------------------------


def _article(pmid: str, record: dict[str, Any], fields: list[tuple[str, str]]) -> Article:
    ids = _typed_ids(_list(record, "AID"))
    locations = _typed_ids(_list(record, "LID"))
    abstract_text = _text(record, "AB")
    title = _text(record, "TI") or ""

    return Article(
        pmid=pmid,
        status=_text(record, "STAT"),
        title=title,
        title_markup=_escape(title),
        vernacular_title=_text(record, "TT"),
        abstract=(AbstractSection(abstract_text, _escape(abstract_text)),) if abstract_text else (),
        journal_title=_text(record, "JT"),
        journal_iso=_text(record, "TA"),
        issn=_issn(_list(record, "IS")),
        volume=_text(record, "VI"),
        issue=_text(record, "IP"),
        pages=_text(record, "PG"),
        pub_date=partial_from_text(_text(record, "DP")),
        authors=_authors(fields),
        languages=tuple(_list(record, "LA")),
        publication_types=tuple(PublicationType(pt) for pt in _list(record, "PT")),
        mesh=tuple(_mesh(term) for term in _list(record, "MH")),
        keywords=tuple(_list(record, "OT")),
        chemicals=tuple(_chemical(rn) for rn in _list(record, "RN")),
        doi=ids.get("doi") or locations.get("doi"),
        pmcid=_text(record, "PMC"),
        pii=ids.get("pii") or locations.get("pii"),
        registry_ids=_registry_ids(_list(record, "SI")),
        comments_corrections=_links(fields),
        history=_history(record),
        date_completed=_compact_date(_text(record, "DCOM")),
        date_revised=_compact_date(_text(record, "LR")),
    )


def _text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if isinstance(value, list):
        value = " ".join(value)
    if not value:
        return None
    return " ".join(str(value).split()) or None


def _list(record: dict[str, Any], key: str) -> list[str]:
    value = record.get(key, [])
    items = [value] if isinstance(value, str) else list(value)
    return [" ".join(item.split()) for item in items if item and item.strip()]


def _escape(text: str | None) -> str:
    return escape(text or "", quote=False)


def _issn(values: list[str]) -> str | None:
    # "1533-4406 (Electronic)": the number, first given first (as in the XML's ISSN).
    for value in values:
        for token in value.split():
            if len(token) == 9 and token[4] == "-":
                return token
    return None


def _typed_ids(values: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values:
        match = _TYPED_ID.match(value)
        if match and match.group(2) not in found:
            found[match.group(2)] = match.group(1)
    return found


def _mesh(term: str) -> MeshHeading:
    # "*Neoplasms/drug therapy/*genetics": a star marks a major topic.
    descriptor, *qualifiers = term.split("/")
    return MeshHeading(
        descriptor.lstrip("*").strip(),
        None,
        descriptor.startswith("*"),
        tuple(Qualifier(q.lstrip("*").strip(), None, q.startswith("*")) for q in qualifiers),
    )


def _chemical(value: str) -> str:
    # "0D3Q044KCA (Galantamine)", "EC 2.7.10.2 (Agammaglobulinaemia Tyrosine Kinase)".
    if value.endswith(")") and " (" in value:
        return value[value.index(" (") + 2 : -1]
    return value


def _registry_ids(values: list[str]) -> tuple[RegistryId, ...]:
    # "ClinicalTrials.gov/NCT01886872"; GENBANK, PDB … are data banks, not trials.
    found = []
    for value in values:
        registry, _, accession = value.partition("/")
        if accession and registry.lower() in TRIAL_REGISTRIES:
            found.append(RegistryId(registry, accession.strip()))
    return tuple(found)


def _links(fields: list[tuple[str, str]]) -> tuple[CommentCorrection, ...]:
    links = []
    for tag, value in fields:
        ref_type = LINK_TAGS.get(tag)
        if ref_type is None:
            continue
        match = _LINK_PMID.search(value)
        pmid = match.group(1) if match else None
        source = value[: match.start()].strip() if match else value
        links.append(CommentCorrection(ref_type, source, pmid))
    return tuple(links)


def _history(record: dict[str, Any]) -> dict[str, date]:
    history: dict[str, date] = {}
    for value in _list(record, "PHST"):
        match = _PHST.match(value)
        if match is None:
            continue
        year, month, day, status = match.groups()
        when = full_date(year, month, day)
        if when is not None and status not in history:
            history[status] = when
    # Records saved without PHST still carry the three Entrez dates.
    for key, status in (("CRDT", "entrez"), ("EDAT", "pubmed"), ("MHDA", "medline")):
        if status not in history:
            found = _SLASH_DATE.match(_text(record, key) or "")
            when = full_date(*found.groups()) if found else None
            if when is not None:
                history[status] = when
    return history


def _compact_date(value: str | None) -> date | None:
    # DCOM / LR: "20190111".
    if not value or len(value) < 8 or not value[:8].isdigit():
        return None
    return full_date(value[:4], value[4:6], value[6:8])


def _authors(fields: list[tuple[str, str]]) -> tuple[Author, ...]:
    """Authors in list order from FAU/AU/CN, with the AD/AUID lines that follow each."""
    authors: list[dict[str, Any]] = []
    for tag, value in fields:
        if tag == "FAU" or (tag == "AU" and (not authors or authors[-1].get("au_seen"))):
            authors.append({"affiliations": []})
        elif tag == "CN":
            authors.append({"collective_name": value, "affiliations": [], "au_seen": True})
            continue
        elif not authors or tag not in {"AU", "AD", "AUID"}:
            continue
        current = authors[-1]
        if tag == "FAU":
            last, _, fore = value.partition(",")
            current["last_name"] = last.strip() or None
            current["fore_name"] = fore.strip() or None
        elif tag == "AU":
            current["au_seen"] = True
            name, _, initials = value.rpartition(" ")
            if "last_name" not in current:
                current["last_name"] = name or value
            current["initials"] = initials if name else None
        elif tag == "AD":
            current["affiliations"].append(value)
        elif tag == "AUID" and value.upper().startswith("ORCID:"):
            current["orcid"] = normalise_orcid(value[6:])
    return tuple(
        Author(
            last_name=a.get("last_name"),
            fore_name=a.get("fore_name"),
            initials=a.get("initials"),
            collective_name=a.get("collective_name"),
            orcid=a.get("orcid"),
            affiliations=tuple(a["affiliations"]),
        )
        for a in authors
    )
