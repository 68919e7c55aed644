"""ESearch responses (XML via Bio.Entrez, and JSON) as ``SearchResult``.

ErrorList and WarningList are kept, never dropped: a PhraseNotFound next to
real hits means PubMed silently searched without one of the terms, and an
OutputMessage such as "Restrictions achieved ..." means the id list was cut.
A top-level ``<ERROR>`` is raised as transient or permanent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import EutilsTransientError
from .dtds import entrez_read
from .retry import check_xml_start, classify_error_message

ERROR_KINDS = ("PhraseNotFound", "FieldNotFound")
WARNING_KINDS = ("PhraseIgnored", "QuotedPhraseNotFound", "OutputMessage")
# NCBI's JSON names for the same lists (esearch.dtd JSON annotations).
_JSON_ERRORS = {"phrasesnotfound": "PhraseNotFound", "fieldsnotfound": "FieldNotFound"}
_JSON_WARNINGS = {
    "phrasesignored": "PhraseIgnored",
    "quotedphrasesnotfound": "QuotedPhraseNotFound",
    "outputmessages": "OutputMessage",
}


@dataclass(frozen=True)
class SearchResult:
    """One ESearch answer.

    ``errors`` and ``warnings`` read like ``"PhraseNotFound: fleegle[MeSH Terms]"``.
    """

    count: int
    ids: list[str]
    query_translation: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    webenv: str | None = None
    query_key: str | None = None
    retstart: int = 0
    retmax: int = 0

    @property
    def truncated(self) -> bool:
        """Fewer ids than hits: page further, or split the search."""
        return self.retstart + len(self.ids) < self.count


def parse_esearch(body: bytes) -> SearchResult:
    """An eSearchResult XML document (any DOCTYPE NCBI has used)."""
    check_xml_start(body[:512])
    record = entrez_read(body, what="esearch")
    if not isinstance(record, Mapping):
        raise EutilsTransientError(f"esearch: unexpected document {type(record).__name__}")
    if "ERROR" in record and "Count" not in record:
        raise classify_error_message(str(record["ERROR"]))
    if "Count" not in record:
        raise EutilsTransientError("esearch: eSearchResult without Count")
    translation = record.get("QueryTranslation")
    return SearchResult(
        count=int(record["Count"]),
        ids=[str(i) for i in record.get("IdList", [])],
        query_translation=str(translation) if translation is not None else None,
        errors=_messages(record.get("ErrorList"), ERROR_KINDS),
        warnings=_messages(record.get("WarningList"), WARNING_KINDS),
        webenv=_optional(record.get("WebEnv")),
        query_key=_optional(record.get("QueryKey")),
        retstart=int(record.get("RetStart", 0)),
        retmax=int(record.get("RetMax", 0)),
    )


def parse_esearch_json(body: bytes) -> SearchResult:
    """The ``retmode=json`` form: every number is a string; a fatal error is ``ERROR``."""
    check_xml_or_json = body.lstrip()[:1]
    if check_xml_or_json != b"{":
        check_xml_start(body[:512])  # raises: HTML, plain text, empty
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise EutilsTransientError(f"esearch: truncated or invalid JSON: {exc}") from exc
    result = document.get("esearchresult") if isinstance(document, dict) else None
    if not isinstance(result, dict):
        raise EutilsTransientError("esearch: JSON without esearchresult")
    if "ERROR" in result and "count" not in result:
        raise classify_error_message(str(result["ERROR"]))
    return SearchResult(
        count=int(result["count"]),
        ids=[str(i) for i in result.get("idlist", [])],
        query_translation=result.get("querytranslation"),
        errors=_json_messages(result.get("errorlist"), _JSON_ERRORS),
        warnings=_json_messages(result.get("warninglist"), _JSON_WARNINGS),
        webenv=result.get("webenv"),
        query_key=result.get("querykey"),
        retstart=int(result.get("retstart", 0)),
        retmax=int(result.get("retmax", 0)),
    )


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


def _messages(block: Any, kinds: tuple[str, ...]) -> list[str]:
    if not isinstance(block, Mapping):
        return []
    return [f"{kind}: {text}" for kind in kinds for text in block.get(kind, []) if str(text)]


def _json_messages(block: Any, names: Mapping[str, str]) -> list[str]:
    if not isinstance(block, dict):
        return []
    return [
        f"{kind}: {text}" for key, kind in names.items() for text in block.get(key, []) if str(text)
    ]
