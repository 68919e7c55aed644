"""NCBI's response bodies, byte for byte where it matters.

The XML declarations and DOCTYPE lines are NCBI's own (https system ids on
*.nlm.nih.gov, DTD basenames Biopython ships), so ``Bio.Entrez.read`` with
validation accepts what the stub sends. JSON follows NCBI's esearch
annotations: lower-case keys, every number a string.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

ESEARCH_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" ?>\n'
    b'<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
    b'"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)
EPOST_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" ?>\n'
    b'<!DOCTYPE ePostResult PUBLIC "-//NLM//DTD epost 20090526//EN" '
    b'"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20090526/epost.dtd">'
)
EFETCH_ERROR_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" ?>\n'
    b'<!DOCTYPE eFetchResult PUBLIC "-//NLM//DTD efetch 20131226//EN" '
    b'"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20131226/efetch.dtd">\n'
)
# PubMed DTD editions by their DOCTYPE date; 250101 is what NCBI served in 2025
# and the newest Biopython ships.
PUBMED_DTD_TITLES = {
    "250101": "1st January 2025",
    "260101": "1st January 2026",
}


def pubmed_head(edition: str = "250101") -> bytes:
    title = PUBMED_DTD_TITLES.get(edition, f"{edition}")
    return (
        b'<?xml version="1.0" ?>\n'
        b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
        + title.encode("ascii")
        + b'//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_'
        + edition.encode("ascii")
        + b'.dtd">\n'
    )


def _text(value: str) -> str:
    return escape(value)


def esearch_xml(
    *,
    count: int,
    ids: Sequence[str],
    retstart: int,
    query_translation: str,
    query_key: str | None = None,
    webenv: str | None = None,
    phrases_not_found: Iterable[str] = (),
    fields_not_found: Iterable[str] = (),
    output_messages: Iterable[str] = (),
) -> bytes:
    parts = [f"<eSearchResult><Count>{count}</Count><RetMax>{len(ids)}</RetMax>"]
    parts.append(f"<RetStart>{retstart}</RetStart>")
    if query_key is not None and webenv is not None:
        parts.append(f"<QueryKey>{query_key}</QueryKey><WebEnv>{webenv}</WebEnv>")
    if ids:
        parts.append("<IdList>\n" + "".join(f"<Id>{i}</Id>\n" for i in ids) + "</IdList>")
    else:
        parts.append("<IdList/>")
    parts.append("<TranslationSet/>")
    parts.append(f"<QueryTranslation>{_text(query_translation)}</QueryTranslation>")
    errors = [f"<PhraseNotFound>{_text(p)}</PhraseNotFound>" for p in phrases_not_found]
    errors += [f"<FieldNotFound>{_text(f)}</FieldNotFound>" for f in fields_not_found]
    if errors:
        parts.append("<ErrorList>" + "".join(errors) + "</ErrorList>")
    messages = [f"<OutputMessage>{_text(m)}</OutputMessage>" for m in output_messages]
    if messages:
        parts.append("<WarningList>" + "".join(messages) + "</WarningList>")
    parts.append("</eSearchResult>\n")
    return ESEARCH_HEAD + "".join(parts).encode("utf-8")


def esearch_json(
    *,
    count: int,
    ids: Sequence[str],
    retstart: int,
    query_translation: str,
    query_key: str | None = None,
    webenv: str | None = None,
    phrases_not_found: Iterable[str] = (),
    fields_not_found: Iterable[str] = (),
    output_messages: Iterable[str] = (),
) -> bytes:
    result: dict[str, object] = {
        "count": str(count),
        "retmax": str(len(ids)),
        "retstart": str(retstart),
    }
    if query_key is not None and webenv is not None:
        result["querykey"] = query_key
        result["webenv"] = webenv
    result["idlist"] = list(ids)
    result["translationset"] = []
    result["querytranslation"] = query_translation
    phrases, fields = list(phrases_not_found), list(fields_not_found)
    if phrases or fields:
        result["errorlist"] = {"phrasesnotfound": phrases, "fieldsnotfound": fields}
    messages = list(output_messages)
    if messages:
        result["warninglist"] = {
            "phrasesignored": [],
            "quotedphrasesnotfound": [],
            "outputmessages": messages,
        }
    document = {"header": {"type": "esearch", "version": "0.3"}, "esearchresult": result}
    return json.dumps(document, indent=4).encode("utf-8")


def esearch_error_xml(message: str) -> bytes:
    return (
        ESEARCH_HEAD
        + f"<eSearchResult>\n\t<ERROR>{_text(message)}</ERROR>\n</eSearchResult>\n".encode()
    )


def esearch_error_json(message: str) -> bytes:
    return json.dumps({"esearchresult": {"ERROR": message}}).encode("utf-8")


def epost_xml(query_key: str, webenv: str) -> bytes:
    body = f"<ePostResult>\n\t<QueryKey>{query_key}</QueryKey>\n\t<WebEnv>{webenv}</WebEnv>\n"
    return EPOST_HEAD + (body + "</ePostResult>\n").encode("utf-8")


def epost_error_xml(messages: Sequence[str]) -> bytes:
    errors = "".join(f"\n\t<ERROR>{_text(m)}</ERROR>" for m in messages)
    return EPOST_HEAD + f"<ePostResult>{errors}</ePostResult>\n".encode()


def efetch_error_xml(message: str) -> bytes:
    return (
        EFETCH_ERROR_HEAD
        + f"<eFetchResult>\n\t<ERROR>{_text(message)}</ERROR>\n</eFetchResult>\n".encode()
    )


def pubmed_set_start(edition: str = "250101") -> bytes:
    return pubmed_head(edition) + b"<PubmedArticleSet>\n"


PUBMED_SET_END = b"</PubmedArticleSet>\n"


def delete_citation(pmids: Sequence[str]) -> bytes:
    inner = "".join(f'<PMID Version="1">{p}</PMID>' for p in pmids)
    return f"<DeleteCitation>{inner}</DeleteCitation>\n".encode("ascii")


# Bodies NCBI sends when things go wrong (see fixtures/eutils/FROM_ISSUE_THREADS.txt).
BLOCK_PAGE = (
    b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" '
    b'"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">'
    b'<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en"><head>'
    b"<title>NCBI - WWW Error Blocked Diagnostic</title></head><body>"
    b"<h1>Access Denied</h1><p>Your access to the NCBI website has been temporarily "
    b"blocked due to a possible misuse/abuse situation involving your site.</p>"
    b"</body></html>\n"
)
GATEWAY_TEXT = b"Unable to route request!\n\nservice name: /http/service/ratecontrol\n"
BACKEND_FAILED = "Search Backend failed: Unable to open connection to #PMQuerySrv?dbaf=pubmed"
RETSTART_ERROR = (
    "Search Backend failed: Exception:\n'retstart' cannot be larger than 9998. For PubMed, "
    "ESearch can only retrieve the first 9,999 records matching the query. To obtain more "
    "than 9,999 PubMed records, consider using EDirect that contains additional logic to "
    "batch PubMed search results automatically so that an arbitrary number can be retrieved. "
    "For details see https://www.ncbi.nlm.nih.gov/books/NBK25499/"
)


def rate_limit_json(who: str, count: int, limit: int) -> bytes:
    """NCBI's 429 body (biocommons/bioutils#16): every value a string."""
    document = {
        "error": "API rate limit exceeded",
        "api-key": who,
        "count": str(count),
        "limit": str(limit),
    }
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def invalid_key_json(key: str) -> bytes:
    document = {"error": "API key invalid", "api-key": key, "type": "invalid", "status": "unknown"}
    return json.dumps(document, separators=(",", ":")).encode("utf-8")
