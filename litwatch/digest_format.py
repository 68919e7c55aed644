"""Small pure helpers the digest templates need: safe markup, excerpts, links, labels.

The HTML part shows PubMed's inline markup (``<i>``, ``<b>``, ``<sup>``,
``<sub>``, ``<u>``): ``safe_markup`` re-parses whatever the record holds and
lets exactly those tags through, without attributes and balanced; every
other tag is dropped and all text is escaped. It does not trust the parser
to have done this already: the digest is the last line before a mail client.
"""

from __future__ import annotations

import json
import re
from html import escape, unescape
from html.parser import HTMLParser
from typing import Any

from markupsafe import Markup

from .article import AbstractSection, Article
from .links import PMC, record_links
from .links import pubmed_url as pubmed_url  # re-exported for the templates' view model
from .links import registry_url as registry_url

ALLOWED_TAGS = frozenset({"i", "b", "sup", "sub", "u"})

# Strongest first; the tagger's ids (issue 5) with the words a reader expects.
EVIDENCE_LEVELS: dict[str, str] = {
    "rct": "Randomised controlled trial",
    "clinical-trial": "Clinical trial",
    "systematic-review": "Systematic review / meta-analysis",
    "trial-protocol": "Trial protocol",
    "observational": "Observational study",
    "case-report": "Case report / series",
    "review": "Review",
    "animal": "Animal study",
    "in-vitro": "In vitro study",
    "other": "Other",
}


def evidence_label(level: str | None) -> str:
    if level is None:
        return "Not yet classified"
    return EVIDENCE_LEVELS.get(level, level.replace("-", " ").capitalize())


def evidence_rank(level: str | None) -> int:
    """Position in ``EVIDENCE_LEVELS`` (unknown and unclassified last)."""
    order = list(EVIDENCE_LEVELS)
    return order.index(level) if level in EVIDENCE_LEVELS else len(order)


# -- inline markup ------------------------------------------------------------


class _Sanitiser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ALLOWED_TAGS:
            self.out.append(f"<{tag}>")
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # <i/> means nothing; <br/> and friends are dropped

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.open:
            return  # a stray closer
        while self.open:  # close anything left open inside it, then it
            inner = self.open.pop()
            self.out.append(f"</{inner}>")
            if inner == tag:
                break

    def handle_data(self, data: str) -> None:
        self.out.append(escape(data, quote=False))

    def result(self) -> str:
        self.close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")
        return "".join(self.out)


def safe_markup(markup: str | None) -> Markup:
    """``markup`` with only ``<i> <b> <sup> <sub> <u>`` kept as tags; all else escaped text."""
    if not markup:
        return Markup("")
    sanitiser = _Sanitiser()
    sanitiser.feed(markup)
    return Markup(sanitiser.result())  # escaped text and fixed tags only


_TAG = re.compile(r"<[^>]*>")


def plain_text(markup: str) -> str:
    """The text of ``markup`` without any tags (for the plain-text part)."""
    parser = _Sanitiser()
    parser.feed(markup)
    return unescape(_TAG.sub("", parser.result()))


def title_markup(article: Article) -> Markup:
    if article.title_markup:
        return safe_markup(article.title_markup)
    return Markup(escape(article.title or "(no title)", quote=False))


# -- excerpts -------------------------------------------------------------------

# A sentence ends at . ! or ? followed by space and a capital, digit or opening
# bracket, but not after common abbreviations ("et al.", "e.g.", "vs.", "Fig.").
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“(\[<A-Z0-9])")
_ABBREVIATION = re.compile(r"(?:\bet al|\be\.g|\bi\.e|\bvs|\bFig|\bNo|\bDr|\bca|\bapprox)\.$")
_CONCLUSION_LABEL = re.compile(r"conclu|interpretation|implication|significance", re.IGNORECASE)
EXCERPT_MAX_CHARS = 600


def sentences(text: str) -> list[str]:
    pieces = _SENTENCE_END.split(text.strip())
    merged: list[str] = []
    for piece in pieces:
        if merged and _ABBREVIATION.search(merged[-1]):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return [s for s in merged if s]


def _conclusions(abstract: tuple[AbstractSection, ...]) -> AbstractSection | None:
    for section in abstract:
        if section.category == "CONCLUSIONS" or (
            section.label and _CONCLUSION_LABEL.search(section.label)
        ):
            return section
    return None


def excerpt(article: Article) -> tuple[str, str]:
    """(label, markup) of a two- or three-sentence excerpt of the abstract.

    A structured abstract gives its conclusions (up to three sentences);
    otherwise the abstract's last two sentences, where authors state what they
    found. Empty when the record has no abstract.
    """
    section = _conclusions(article.abstract)
    if section is not None:
        label = "Conclusions"
        chosen = sentences(section.markup or escape(section.text, quote=False))[:3]
    else:
        text = " ".join(s.markup or escape(s.text, quote=False) for s in article.abstract)
        every = sentences(text)
        label = "From the abstract"
        chosen = every[-2:]
    joined = " ".join(chosen)
    if len(joined) > EXCERPT_MAX_CHARS:
        cut = joined.rfind(" ", 0, EXCERPT_MAX_CHARS)
        joined = joined[: cut if cut > 0 else EXCERPT_MAX_CHARS].rstrip(",;: ") + " …"
    return (label, joined) if joined else ("", "")


# -- people, sources, links -------------------------------------------------------


def authors_line(article: Article, first: int = 3) -> str:
    names = [a.display_name for a in article.authors if a.display_name]
    if not names:
        return "No authors listed"
    shown = ", ".join(names[:first])
    return f"{shown}, et al." if len(names) > first else shown


def source_line(article: Article) -> str:
    """``J Neurol. 2026 Nov;273(11):1234-40`` as PubMed cites it."""
    journal = article.journal_iso or article.journal_title or "Unknown journal"
    line = journal.rstrip(".") + "."
    if article.pub_date and article.pub_date.text:
        line += f" {article.pub_date.text}"
    where = ""
    if article.volume:
        where += article.volume
    if article.issue:
        where += f"({article.issue})"
    if article.pages:
        where += f":{article.pages}"
    return f"{line};{where}" if where else line


def article_links(article: Article) -> list[tuple[str, str]]:
    """The record's own links (trial numbers are listed apart, with ``registry_url``)."""
    return [(_DIGEST_LABELS.get(label, label), url) for label, url in record_links(article)]


_DIGEST_LABELS = {PMC: "PMC full text"}


def registry_ids_of(entry_ids: tuple[str, ...], article: Article) -> tuple[str, ...]:
    """The tagger's registry numbers, or (before tagging) the record's own DataBankList."""
    if entry_ids:
        return entry_ids
    return tuple(dict.fromkeys(r.accession for r in article.registry_ids))


def badges(article: Article) -> list[tuple[str, str]]:
    """(kind, label) flags a reader must not miss."""
    found = []
    if article.is_retracted:
        found.append(("retracted", "RETRACTED"))
    if article.has_erratum:
        found.append(("erratum", "Erratum"))
    if not article.is_indexed:
        found.append(("unindexed", "Not yet indexed (no MeSH)"))
    return found


# -- tag reasons ----------------------------------------------------------------


REASON_MAX_CHARS = 200  # a reason is one line under the claim, not the whole record


def describe_reason(reason: Any) -> str:
    """One readable line from a tag's stored reason (JSON written by the tagger or a curator)."""
    if reason is None:
        return ""
    if isinstance(reason, str):
        return reason
    if isinstance(reason, list):
        return "; ".join(filter(None, (describe_reason(r) for r in reason)))
    if isinstance(reason, dict):
        for key in ("hits", "matches", "matched_terms"):
            if isinstance(reason.get(key), list):
                return _describe_hits(reason[key], reason)
        if "field" in reason and "matched" in reason:
            return _describe_hits([reason], {})
        if reason.get("by"):  # a curator's tag
            note = reason.get("note")
            return f"tagged by {reason['by']}" + (f": {note}" if note else "")
        for key in ("summary", "text", "note", "reason", "via", "parent_of"):
            value = reason.get(key)
            if value:
                prefix = "via " if key in ("via", "parent_of") else ""
                return prefix + (value if isinstance(value, str) else describe_reason(value))
    return json.dumps(reason, ensure_ascii=False, sort_keys=True)


def _describe_hits(hits: list[Any], reason: dict[str, Any]) -> str:
    by_field: dict[str, list[str]] = {}
    for hit in hits:
        if isinstance(hit, dict):
            field = str(hit.get("field") or hit.get("tag") or "record")
            words = str(hit.get("matched") or hit.get("term") or "")
        elif isinstance(hit, list | tuple) and len(hit) >= 2:
            field, words = str(hit[0]), str(hit[-1])
        else:
            field, words = "record", str(hit)
        seen = by_field.setdefault(field, [])
        if words and words.casefold() not in (w.casefold() for w in seen):
            seen.append(words)
    parts = [f"{field}: " + ", ".join(f"“{w}”" for w in words) for field, words in by_field.items()]
    text = "; ".join(parts)
    if len(text) > REASON_MAX_CHARS:  # cut at the last whole field that fits
        cut = text.rfind(";", 0, REASON_MAX_CHARS)
        text = text[: cut if cut > 0 else REASON_MAX_CHARS] + " …"
    via = reason.get("via") or reason.get("parent_of")
    if via:
        text = f"{text} (via {via})" if text else f"via {via}"
    return text
