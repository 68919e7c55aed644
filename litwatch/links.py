"""The one place that turns identifiers into URLs: PubMed, DOI, PubMed Central, trial registries.

The digest, the triage screen, ``hits list --json`` and every export link
through here, so one record gives the same URLs everywhere. Identifiers are
URL-quoted: DOIs may hold ``<``, ``>``, ``#``, ``?`` or spaces (SICI DOIs do),
and registry numbers arrive as written in the record (``EudraCT 2026-001234-56``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from .article import Article

PUBMED = "PubMed"
DOI = "DOI"
PMC = "PMC"

_ICTRP = "https://trialsearch.who.int/Trial2.aspx?TrialID={}"
# (pattern, URL template): "{}" receives the accession (or its first group), URL-quoted.
_REGISTRIES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(NCT\d{8})$", re.IGNORECASE), "https://clinicaltrials.gov/study/{}"),
    (re.compile(r"^(ISRCTN\d{8})$", re.IGNORECASE), "https://www.isrctn.com/{}"),
    (
        re.compile(r"^(?:EudraCT\s*(?:No\.?|Number)?:?\s*)?(\d{4}-\d{6}-\d{2})$", re.I),
        "https://www.clinicaltrialsregister.eu/ctr-search/search?query={}",
    ),
    (re.compile(r"^(ACTRN\d{14})$", re.IGNORECASE), "https://www.anzctr.org.au/{}.aspx"),
    (re.compile(r"^(DRKS\d{8})$", re.IGNORECASE), "https://drks.de/search/en/trial/{}"),
    # ChiCTR, CTRI, JPRN and the other WHO primary registries: ICTRP finds them all.
    (
        re.compile(r"^((?:ChiCTR|CTRI/|JPRN-|jRCT|IRCT|KCT|TCTR|PACTR|RBR-|SLCTR|NL)\S+)$", re.I),
        _ICTRP,
    ),
)
_UPPERCASE_SCHEMES = ("nct", "isrctn", "actrn", "drks")


def pubmed_url(pmid: str) -> str:
    return f"https://pubmed.ncbi.nlm.nih.gov/{quote(pmid, safe='')}/"


def doi_url(doi: str) -> str:
    # ";" is quoted too: RIS readers (rispy, EndNote) split a UR line on it.
    return "https://doi.org/" + quote(doi, safe="/:()._-")


def pmc_url(pmcid: str) -> str:
    return f"https://pmc.ncbi.nlm.nih.gov/articles/{quote(pmcid, safe='')}/"


def registry_url(accession: str) -> str | None:
    """The registry's page for a trial number, or None for a scheme litwatch does not know."""
    text = accession.strip()
    for pattern, template in _REGISTRIES:
        match = pattern.match(text)
        if match:
            value = match.group(1)
            if value.lower().startswith(_UPPERCASE_SCHEMES):
                value = value.upper()
            return template.format(quote(value, safe=""))
    return None


def record_links(article: Article) -> list[tuple[str, str]]:
    """(label, URL) for the record itself: PubMed, then DOI and PMC when it has them."""
    links = [(PUBMED, pubmed_url(article.pmid))]
    if article.doi:
        links.append((DOI, doi_url(article.doi)))
    if article.pmcid:
        links.append((PMC, pmc_url(article.pmcid)))
    return links


def article_links(article: Article, registry_ids: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The record's links, then one per trial number (the tagger's, else the record's own).

    A trial number in a scheme litwatch does not know gets no link (it is still
    shown as text wherever trial numbers are listed).
    """
    links = record_links(article)
    for accession in registry_ids or [r.accession for r in article.registry_ids]:
        url = registry_url(accession)
        if url:
            links.append((accession, url))
    return links
