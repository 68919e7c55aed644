"""Bio.Entrez.read with DTDs that are always local.

Biopython validates every document against the DTD its DOCTYPE names and, if
it does not ship that DTD, downloads it. litwatch never lets it: a vendored
cache (``dtd_cache/``) supplies DTDs Biopython lacks (pubmed_260101.dtd,
efetch.dtd), a later ``pubmed_YYMMDD.dtd`` falls back to the newest PubMed DTD
at hand, and any other unknown DTD is an error instead of a download.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from Bio import Entrez
from Bio.Entrez import Parser

from ..errors import EutilsPermanentError, EutilsTransientError

log = logging.getLogger(__name__)

VENDORED_CACHE = Path(__file__).resolve().parent / "dtd_cache"
_DOCTYPE = re.compile(
    rb'<!DOCTYPE\s+(?P<root>[\w.-]+)\s+PUBLIC\s+"(?P<public>[^"]*)"\s+"(?P<system>[^"]*)"\s*>'
)
_PUBMED_DTD = re.compile(r"^pubmed_(\d{6})\.dtd$")
_setup_lock = threading.Lock()
_ready = False


def use_vendored_dtds() -> None:
    """Point Bio.Entrez's DTD cache at litwatch's vendored folder (once per process)."""
    global _ready
    with _setup_lock:
        if not _ready:
            Parser.DataHandler.directory = str(VENDORED_CACHE)
            _ready = True


def _dtd_dirs() -> list[Path]:
    dirs = [Path(Parser.DataHandler.global_dtd_dir)]
    if Parser.DataHandler.local_dtd_dir:
        dirs.insert(0, Path(Parser.DataHandler.local_dtd_dir))
    return dirs


def available_dtd(name: str) -> bool:
    return any((d / name).is_file() for d in _dtd_dirs())


def newest_pubmed_dtd() -> str:
    """The newest ``pubmed_YYMMDD.dtd`` Biopython or the vendored cache holds."""
    # YYMMDD with 2-digit years sorts as text: NCBI's PubMed DTDs all date from 2000 on.
    names = {
        p.name for d in _dtd_dirs() for p in d.glob("pubmed_*.dtd") if _PUBMED_DTD.match(p.name)
    }
    return max(names)


def localise_doctype(body: bytes) -> bytes:
    """``body`` with a DOCTYPE Biopython can resolve offline.

    Legacy ``http://www.ncbi...`` system ids become https (Biopython refuses
    http, and reads the file locally anyway); an unknown later PubMed DTD is
    replaced by the newest one available. Raises EutilsPermanentError for a
    DTD there is no local copy of.
    """
    match = _DOCTYPE.search(body, 0, 4096)
    if match is None:
        return body
    system = match.group("system").decode("ascii", "replace")
    parts = urlsplit(system)
    name = parts.path.rsplit("/", 1)[-1]
    new_system = system
    if parts.scheme == "http" and (parts.hostname or "").endswith("nih.gov"):
        host = parts.netloc if parts.netloc.endswith("nlm.nih.gov") else "www.ncbi.nlm.nih.gov"
        new_system = urlunsplit(("https", host, parts.path, "", ""))
    if not available_dtd(name):
        if _PUBMED_DTD.match(name):
            fallback = newest_pubmed_dtd()
            log.warning("no local copy of %s: validating against %s instead", name, fallback)
            new_system = new_system.rsplit("/", 1)[0] + "/" + fallback
        else:
            raise EutilsPermanentError(
                f"response names DTD {name}, which litwatch has no local copy of "
                "(DTDs are never downloaded)"
            )
    if new_system == system:
        return body
    start, end = match.span("system")
    return body[:start] + new_system.encode("ascii") + body[end:]


def entrez_read(body: bytes, *, what: str = "response") -> Any:
    """``Bio.Entrez.read`` of one E-utilities XML document, offline.

    ``<ERROR>`` elements come back as values (``ignore_errors``) for the
    caller to classify. A truncated body is transient (it may arrive whole
    next time). An element the DTD does not know (NCBI added one) is logged
    and the document is read again without validation rather than lost.
    """
    use_vendored_dtds()
    data = localise_doctype(body)
    try:
        try:
            return Entrez.read(io.BytesIO(data), validate=True, ignore_errors=True)  # type: ignore[no-untyped-call]
        except Parser.ValidationError as exc:
            log.warning("%s: %s; reading it without validation", what, exc)
            return Entrez.read(io.BytesIO(data), validate=False, ignore_errors=True)  # type: ignore[no-untyped-call]
    except Parser.CorruptedXMLError as exc:
        raise EutilsTransientError(f"{what}: truncated or corrupt XML: {exc}") from exc
    except Parser.NotXMLError as exc:
        raise EutilsTransientError(f"{what}: not XML: {exc}") from exc
    except ValueError as exc:  # no DOCTYPE, or a DOCTYPE Biopython will not trust
        raise EutilsTransientError(f"{what}: unusable XML: {exc}") from exc
