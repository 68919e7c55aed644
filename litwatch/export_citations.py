"""Citation formats for reference managers: RIS (rispy), BibTeX (bibtexparser), MEDLINE text.

Where the triage state goes, so Zotero, EndNote, Rayyan and Covidence show it:
RIS ``N1`` (notes) and ``KW`` (keywords), BibTeX ``note`` and ``keywords``.
Identifiers: RIS ``AN`` (PMID, with ``DB``/``DP`` naming PubMed), ``DO``, ``C2``
(PMCID, as EndNote exports it) and a ``PMID:``/``PMCID:`` note line (the form
Zotero keeps in Extra); BibTeX ``pmid``, ``pmcid``, ``doi``. MEDLINE is
PubMed's own tagged format, for tools that import ``.nbib`` files; it carries
the PubMed record only (the format has no place for screening decisions).
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Iterable
from typing import Any, TextIO

import rispy
from bibtexparser.entrypoint import write_string
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field

from .article import Article, Author
from .export import ExportRecord
from .links import article_links, pubmed_url

# -- RIS --------------------------------------------------------------------------


def ris_entry(record: ExportRecord) -> dict[str, Any]:
    """The record as a rispy entry (rispy's field names)."""
    a = record.article
    entry: dict[str, Any] = {
        "type_of_reference": "BOOK" if a.kind == "book" else "JOUR",
        "title": _one_line(a.title),
        "authors": [_ris_name(author) for author in a.authors if _ris_name(author)],
        "accession_number": a.pmid,
        "name_of_database": "PubMed",
        "database_provider": "National Library of Medicine",
        "urls": [url for _label, url in article_links(a, record.trial_ids)],
        "keywords": [m.descriptor for m in a.mesh] + list(a.keywords) + record.triage_keywords(),
        "notes": [*record.triage_notes(), _identifier_note(a)],
    }
    optional = {
        "secondary_title": a.journal_title,
        "alternate_title1": a.journal_iso,
        "year": str(a.pub_year) if a.pub_year else None,
        "date": _ris_date(a),
        "volume": a.volume,
        "number": a.issue,
        "abstract": _one_line(a.abstract_text.replace("\n", " ")),
        "doi": a.doi,
        "issn": a.issn,
        "language": ", ".join(a.languages),
        "custom2": a.pmcid,
    }
    start, end = page_range(a.pages)
    optional |= {"start_page": start, "end_page": end}
    entry |= {key: value for key, value in optional.items() if value}
    return entry


class _RisWriter(rispy.RisWriter):  # type: ignore[misc]  # rispy is untyped
    """rispy's writer without its "1." line before each record, which EndNote never writes."""

    def set_header(self, count: int) -> str:
        return ""


def write_ris(records: Iterable[ExportRecord], out: TextIO) -> int:
    count = 0
    for record in records:
        if count:
            out.write("\n")
        out.write(rispy.dumps([ris_entry(record)], implementation=_RisWriter))
        count += 1
    return count


def _ris_name(author: Author) -> str:
    if author.collective_name:
        return _one_line(author.collective_name)
    if author.last_name and author.fore_name:
        return f"{author.last_name}, {author.fore_name}"
    return author.last_name or author.fore_name or ""


def _ris_date(article: Article) -> str | None:
    """RIS ``DA``: ``YYYY/MM/DD/`` with unknown parts left empty."""
    date = article.pub_date
    if date is None or date.year is None:
        return None
    month = f"{date.month:02d}" if date.month else ""
    day = f"{date.day:02d}" if date.day else ""
    return f"{date.year:04d}/{month}/{day}/"


def _identifier_note(article: Article) -> str:
    parts = [f"PMID: {article.pmid}"]
    if article.pmcid:
        parts.append(f"PMCID: {article.pmcid}")
    return "; ".join(parts)


# One MEDLINE page range: optional letter prefix (S, e, …) and digits at each end.
_RANGE_RE = re.compile(r"([A-Za-z]*)(\d+)\s*-\s*([A-Za-z]*)(\d+)")


def page_range(pages: str | None) -> tuple[str | None, str | None]:
    """First and last page, with MEDLINE's abbreviated end expanded.

    PubMed writes ``1036-51`` for 1036–1051 and ``S12-4`` for S12–S14; reference
    managers take the end page literally, so it is expanded here. Only the first
    range of a list (``1036-51, 1060``) is used; anything else that does not parse
    (roman numerals, mixed prefixes) gives the start page alone.
    """
    if not pages or not pages.strip():
        return None, None
    first_range = re.split(r"[,;]", pages, maxsplit=1)[0].strip()
    match = _RANGE_RE.fullmatch(first_range)
    start_text = first_range.partition("-")[0].strip() or None
    if match is None:
        return start_text, None
    prefix, start, end_prefix, end = match.groups()
    if end_prefix and end_prefix != prefix:
        return start_text, None
    if len(end) < len(start):
        end = start[: len(start) - len(end)] + end
    if int(end) < int(start):
        return start_text, None
    return f"{prefix}{start}", f"{prefix}{end}"


def _one_line(text: str) -> str:
    """RIS values are one line each."""
    return " ".join(text.split())


# -- BibTeX -----------------------------------------------------------------------

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_RE = re.compile("|".join(re.escape(c) for c in _LATEX_SPECIAL))
# The only tags AbstractSection/title markup may contain (see litwatch.article).
_MARKUP_COMMANDS = {
    "i": r"\textit{",
    "b": r"\textbf{",
    "sup": r"\textsuperscript{",
    "sub": r"\textsubscript{",
    "u": r"\underline{",
}
_TAG_RE = re.compile(r"<(/?)(i|b|sup|sub|u)>")


def latex_escape(text: str) -> str:
    """Plain text for a BibTeX field: LaTeX's special characters escaped, UTF-8 kept."""
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group()], text)


def markup_to_latex(markup: str) -> str:
    """Title markup (``<i>``, ``<sub>`` …, the rest HTML-escaped) as LaTeX."""
    parts: list[str] = []
    position = 0
    depth = 0
    for match in _TAG_RE.finditer(markup):
        parts.append(latex_escape(html.unescape(markup[position : match.start()])))
        closing, name = match.groups()
        if closing:
            if depth:
                parts.append("}")
                depth -= 1
        else:
            parts.append(_MARKUP_COMMANDS[name])
            depth += 1
        position = match.end()
    parts.append(latex_escape(html.unescape(markup[position:])))
    return "".join(parts) + "}" * depth  # unbalanced markup still gives balanced braces


def bibtex_entry(record: ExportRecord) -> Entry:
    a = record.article
    fields: list[tuple[str, str | None]] = [
        ("title", markup_to_latex(a.title_markup) if a.title_markup else latex_escape(a.title)),
        ("author", " and ".join(_bibtex_name(x) for x in a.authors) or None),
        ("journal", _escaped(a.journal_title)),
        ("shortjournal", _escaped(a.journal_iso)),
        ("year", str(a.pub_year) if a.pub_year else None),
        ("month", str(a.pub_date.month) if a.pub_date and a.pub_date.month else None),
        ("volume", _escaped(a.volume)),
        ("number", _escaped(a.issue)),
        ("pages", _escaped(_bibtex_pages(a.pages))),
        ("issn", _escaped(a.issn)),
        ("doi", _escaped(a.doi)),
        ("pmid", a.pmid),
        ("pmcid", _escaped(a.pmcid)),
        ("url", _escaped(pubmed_url(a.pmid))),
        ("language", _escaped(", ".join(a.languages))),
        ("abstract", _escaped(a.abstract_text.replace("\n", " "))),
        ("keywords", latex_escape(", ".join(record.triage_keywords() + list(a.keywords)))),
        ("note", latex_escape(_sentences(record.triage_notes()))),
    ]
    entry_type = "book" if a.kind == "book" else "article"
    return Entry(entry_type, f"pmid{a.pmid}", [Field(k, v) for k, v in fields if v])


def write_bibtex(records: Iterable[ExportRecord], out: TextIO) -> int:
    count = 0
    for record in records:
        out.write(write_string(Library([bibtex_entry(record)])).strip() + "\n\n")
        count += 1
    return count


def _bibtex_pages(pages: str | None) -> str | None:
    start, end = page_range(pages)
    return f"{start}--{end}" if start and end else start


def _sentences(lines: list[str]) -> str:
    """Lines as one paragraph (a BibTeX note is one field)."""
    return " ".join(line if line.endswith((".", "!", "?")) else line + "." for line in lines)


def _bibtex_name(author: Author) -> str:
    if author.collective_name:
        return "{" + latex_escape(author.collective_name) + "}"  # one name, never split
    last = latex_escape(author.last_name or "")
    if " and " in last or "," in last:
        last = "{" + last + "}"
    fore = latex_escape(author.fore_name or author.initials or "")
    return f"{last}, {fore}" if fore else last


def _escaped(text: str | None) -> str | None:
    return latex_escape(text) if text else None


# -- MEDLINE ------------------------------------------------------------------------

_MEDLINE_WIDTH = 88
# CommentsCorrections@RefType -> MEDLINE tag.
_COMMENT_TAGS = {
    "CommentIn": "CIN",
    "CommentOn": "CON",
    "ErratumIn": "EIN",
    "ErratumFor": "EFR",
    "RetractionIn": "RIN",
    "RetractionOf": "ROF",
    "UpdateIn": "UIN",
    "UpdateOf": "UOF",
    "RepublishedIn": "RPI",
    "RepublishedFrom": "RPF",
    "ExpressionOfConcernIn": "ECI",
    "ExpressionOfConcernFor": "ECF",
    "CorrectedandRepublishedIn": "CRI",
    "CorrectedandRepublishedFrom": "CRF",
    "RetractedandRepublishedIn": "RRI",
    "RetractedandRepublishedFrom": "RRF",
}
_HISTORY_ORDER = ("received", "revised", "accepted", "aheadofprint", "entrez", "pubmed", "medline")


def medline_lines(article: Article) -> list[str]:
    """The record in PubMed's MEDLINE format (as pubmed.gov saves ``.nbib`` files)."""
    fields: list[tuple[str, str | None]] = [
        ("PMID", article.pmid),
        ("STAT", article.status),
        ("DCOM", _ymd(article.date_completed)),
        ("LR", _ymd(article.date_revised)),
        ("IS", article.issn),
        ("VI", article.volume),
        ("IP", article.issue),
        ("DP", article.pub_date.text if article.pub_date else None),
        ("TI", article.title),
        ("PG", article.pages),
        ("LID", f"{article.doi} [doi]" if article.doi else None),
        ("AB", " ".join(article.abstract_text.split("\n")) or None),
    ]
    for author in article.authors:
        if author.collective_name:
            fields.append(("CN", author.collective_name))
            continue
        fields.append(("FAU", ", ".join(p for p in (author.last_name, author.fore_name) if p)))
        fields.append(("AU", author.display_name))
        if author.orcid:
            fields.append(("AUID", f"ORCID: {author.orcid}"))
        fields += [("AD", affiliation) for affiliation in author.affiliations]
    fields += [("LA", language) for language in article.languages]
    fields += [("SI", f"{r.registry}/{r.accession}") for r in article.registry_ids]
    fields += [("PT", p.name) for p in article.publication_types]
    fields += [("TA", article.journal_iso), ("JT", article.journal_title)]
    fields += [("RN", f"0 ({name})") for name in article.chemicals]
    for comment in article.comments_corrections:
        tag = _COMMENT_TAGS.get(comment.ref_type)
        if tag:
            pmid = f" PMID: {comment.pmid}" if comment.pmid else ""
            fields.append((tag, f"{comment.ref_source}{pmid}".strip()))
    fields += [("MH", _mesh_text(heading)) for heading in article.mesh]
    fields += [("OT", keyword) for keyword in article.keywords]
    for status in sorted(article.history, key=_history_rank):
        fields.append(("PHST", f"{article.history[status]:%Y/%m/%d} 00:00 [{status}]"))
    fields += [
        ("AID", f"{article.doi} [doi]" if article.doi else None),
        ("AID", f"{article.pii} [pii]" if article.pii else None),
        ("PMC", article.pmcid),
    ]
    lines: list[str] = []
    for tag, value in fields:
        if value:
            lines += _medline_field(tag, value)
    return lines


def write_medline(records: Iterable[ExportRecord], out: TextIO) -> int:
    count = 0
    for record in records:
        if count:
            out.write("\n")
        out.write("\n".join(medline_lines(record.article)) + "\n")
        count += 1
    return count


def _medline_field(tag: str, value: str) -> list[str]:
    """``TAG - value`` wrapped at PubMed's width, continuation lines indented six spaces."""
    wrapped = textwrap.wrap(
        " ".join(value.split()),
        _MEDLINE_WIDTH - 6,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [value]
    return [f"{tag:<4}- {wrapped[0]}"] + [f"      {line}" for line in wrapped[1:]]


def _mesh_text(heading: Any) -> str:
    text = ("*" if heading.major else "") + heading.descriptor
    for qualifier in heading.qualifiers:
        text += "/" + ("*" if qualifier.major else "") + qualifier.name
    return str(text)


def _history_rank(status: str) -> tuple[int, str]:
    return (_HISTORY_ORDER.index(status) if status in _HISTORY_ORDER else 99, status)


def _ymd(value: Any) -> str | None:
    return value.strftime("%Y%m%d") if value else None
