"""The stub's PubMed: records from PubMed XML files, versioned by date.

A corpus may hold several versions of one PMID (the same PMID in several
files, differing DateRevised, Status, MeSH, CommentsCorrections). As of a
day ``today``, a record exists once its create date (entrez) has come, and
the version served is the latest whose ``Article.modified`` has come. Each
record keeps its original XML element, so efetch serves real records as they
were written. ``StubCorpus.synthetic`` makes thousands of records from one
template in memory, quickly, for tests of NCBI's 9,999-id window.
"""

from __future__ import annotations

import gzip
import io
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from lxml import etree

from ..article import Article
from ..errors import InputError
from ..pubmed_xml import DeletedCitations, parse_pubmed_xml
from ..querylang import IndexedArticle

_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation")
_XML_SUFFIXES = (".xml", ".xml.gz")


class StubRecord:
    """One version of one record: the parsed Article and its XML element."""

    __slots__ = ("_render", "_xml", "article", "content_key", "dates", "order")

    def __init__(
        self,
        article: Article,
        xml: bytes | Callable[[], bytes],
        *,
        order: int,
        content_key: object = None,
    ) -> None:
        self.article = article
        self.dates = _history_dates(article)
        self.order = order  # load order: a later file wins a tie on modified date
        # Records with equal content_key have the same text, so a term matches
        # all of them or none (synthetic records share their template's).
        self.content_key = content_key if content_key is not None else object()
        if callable(xml):
            self._xml: bytes | None = None
            self._render: Callable[[], bytes] | None = xml
        else:
            self._xml, self._render = xml, None

    @property
    def pmid(self) -> str:
        return self.article.pmid

    @property
    def xml(self) -> bytes:
        if self._xml is None:
            assert self._render is not None
            return self._render()
        return self._xml

    def date_of(self, field: str) -> date | None:
        """The record's date for ``crdt``, ``edat``, ``mdat`` or ``pdat``."""
        return self.dates[field]


def _history_dates(article: Article) -> dict[str, date | None]:
    """The dates ESearch windows read, worked out once per record."""
    return {
        "crdt": article.created,
        "edat": article.entrez_date,
        "mdat": article.modified,
        "pdat": article.pub_date.sortable if article.pub_date else None,
    }


@dataclass(frozen=True)
class Snapshot:
    """The corpus as of one day: newest first, as PubMed lists search results."""

    today: date | None
    records: list[StubRecord]
    by_pmid: dict[str, StubRecord]
    deleted: frozenset[str]


class StubCorpus:
    """Versioned PubMed records. Thread-safe; grows with ``add`` and ``reload``."""

    def __init__(self, sources: Path | str | Iterable[Path | str] = ()) -> None:
        if isinstance(sources, Path | str):
            sources = [sources]
        self.sources = [Path(p) for p in sources]
        self._lock = threading.RLock()
        self._versions: dict[str, list[StubRecord]] = {}
        self._deleted: dict[str, date | None] = {}
        self._order = 0
        self._snapshots: dict[date | None, Snapshot] = {}
        self._indexed: dict[object, IndexedArticle] = {}
        for source in self.sources:
            self._load_path(source)

    # -- growing --------------------------------------------------------------

    def add(self, source: Path | str | bytes, *, name: str | None = None) -> int:
        """Records from a PubMed XML file, folder or document; returns how many."""
        if isinstance(source, bytes):
            return self._load_document(source, name or "<bytes>")
        return self._load_path(Path(source))

    def add_record(
        self, article: Article, xml: bytes | Callable[[], bytes], content_key: object = None
    ) -> StubRecord:
        with self._lock:
            record = StubRecord(article, xml, order=self._order, content_key=content_key)
            self._order += 1
            self._versions.setdefault(article.pmid, []).append(record)
            self._snapshots.clear()
            return record

    def delete(self, pmid: str, on: date | None = None) -> None:
        """PubMed deletes ``pmid`` on day ``on`` (always, when None)."""
        with self._lock:
            self._deleted[pmid] = on
            self._snapshots.clear()

    def reload(self) -> None:
        """Forget everything and read the source files and folders again."""
        with self._lock:
            self._versions.clear()
            self._deleted.clear()
            self._order = 0
            self._snapshots.clear()
            self._indexed.clear()
            for source in self.sources:
                self._load_path(source)

    def __len__(self) -> int:
        """Distinct PMIDs held, whatever their dates."""
        return len(self._versions)

    # -- reading --------------------------------------------------------------

    def snapshot(self, today: date | None) -> Snapshot:
        """What PubMed holds on ``today`` (everything, when None).

        Cached until the corpus changes.
        """
        with self._lock:
            cached = self._snapshots.get(today)
            if cached is not None:
                return cached
            deleted = frozenset(
                pmid
                for pmid, on in self._deleted.items()
                if on is None or today is None or on <= today
            )
            chosen: list[StubRecord] = []
            for pmid, versions in self._versions.items():
                if pmid in deleted:
                    continue
                current = [v for v in versions if _visible(v.article, today)]
                if current:
                    chosen.append(
                        max(current, key=lambda v: (v.article.modified or date.min, v.order))
                    )
            chosen.sort(key=lambda r: (r.article.created or date.min, int(r.pmid)), reverse=True)
            snapshot = Snapshot(today, chosen, {r.pmid: r for r in chosen}, deleted)
            self._snapshots[today] = snapshot
            return snapshot

    def indexed(self, record: StubRecord, *, per_record: bool = False) -> IndexedArticle:
        """The record prepared for querylang, built once per distinct text.

        ``per_record`` when the query reads values records sharing their text
        do not share (PMID, dates): then each record gets its own.
        """
        key = (record.content_key, record.pmid) if per_record else record.content_key
        found = self._indexed.get(key)
        if found is None:
            found = IndexedArticle.from_article(record.article)
            with self._lock:
                self._indexed[key] = found
        return found

    # -- loading --------------------------------------------------------------

    def _load_path(self, path: Path) -> int:
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.is_file() and p.name.endswith(_XML_SUFFIXES)
            )
            return sum(self._load_path(p) for p in files)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(path, f"cannot read: {exc.strerror or exc}") from exc
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return self._load_document(data, str(path))

    def _load_document(self, data: bytes, name: str) -> int:
        added = 0
        context = etree.iterparse(
            io.BytesIO(data),
            events=("end",),
            tag=_RECORD_TAGS,
            load_dtd=False,
            no_network=True,
            resolve_entities=False,
        )
        try:
            for _event, elem in context:
                if elem.tag == "DeleteCitation":
                    for pmid in elem.iterfind("PMID"):
                        self.delete((pmid.text or "").strip())
                else:
                    xml = etree.tostring(elem, encoding="unicode", with_tail=False).encode()
                    self.add_record(_article_of(xml, name), xml)
                    added += 1
                elem.clear(keep_tail=False)
        except etree.XMLSyntaxError as exc:
            raise InputError(name, f"not well-formed XML: {exc}") from None
        return added

    # -- synthetic ------------------------------------------------------------

    @classmethod
    def synthetic(
        cls,
        count: int,
        *,
        created: Callable[[int], date] | Sequence[date],
        first_pmid: int = 90_000_001,
        template: bytes | None = None,
        revised: date | None = None,
    ) -> StubCorpus:
        """``count`` records made from one template (a PubmedArticle element).

        Record ``n`` (0-based) gets PMID ``first_pmid + n`` and the create and
        Entrez date ``created(n)`` (or ``created[n % len(created)]``). Only
        the PMID and dates differ, so every record matches the same terms.
        ``revised`` gives every record that DateRevised (and so that mdat).
        """
        corpus = cls()
        raw = template or _template_element(SYNTHETIC_TEMPLATE_FILE.read_bytes())
        base = _article_of(raw, "synthetic template")
        pick = created if callable(created) else (lambda n: created[n % len(created)])
        key = ("synthetic", id(corpus))
        for n in range(count):
            pmid = str(first_pmid + n)
            day = pick(n)
            history = {**base.history, "entrez": day, "pubmed": day}
            article = replace(base, pmid=pmid, history=history, date_revised=revised)
            corpus.add_record(article, _Renderer(raw, pmid, day, revised), content_key=key)
        return corpus


def _visible(article: Article, today: date | None) -> bool:
    if today is None:
        return True
    created = article.created
    modified = article.modified
    return (created is None or created <= today) and (modified is None or modified <= today)


def _template_element(document: bytes) -> bytes:
    """The PubmedArticle element of a template file, without declaration or comments."""
    start = document.index(b"<PubmedArticle>")
    end = document.index(b"</PubmedArticle>") + len(b"</PubmedArticle>")
    return document[start:end]


def _article_of(xml: bytes, name: str) -> Article:
    for item in parse_pubmed_xml(b"<PubmedArticleSet>" + xml + b"</PubmedArticleSet>", name=name):
        if isinstance(item, Article):
            return item
        if isinstance(item, DeletedCitations):  # pragma: no cover - tags filtered above
            break
    raise InputError(name, "record could not be read")


_PMID_ELEMENT = re.compile(rb'(<PMID Version="\d+">)\d+(</PMID>)')
_PUBMED_ID = re.compile(rb'(<ArticleId IdType="pubmed">)\d+(</ArticleId>)')
_HISTORY_DATE = re.compile(
    rb'(<PubMedPubDate PubStatus="(?:entrez|pubmed)">)\s*<Year>\d+</Year>\s*<Month>\d+</Month>'
    rb"\s*<Day>\d+</Day>(.*?</PubMedPubDate>)",
    re.DOTALL,
)
_DATE_REVISED = re.compile(rb"<DateRevised>.*?</DateRevised>\s*", re.DOTALL)


@dataclass(frozen=True)
class _Renderer:
    """The template's XML with one record's PMID and dates, made when served."""

    template: bytes
    pmid: str
    day: date
    revised: date | None = None

    def __call__(self) -> bytes:
        pmid = self.pmid.encode()
        xml = _PMID_ELEMENT.sub(rb"\g<1>" + pmid + rb"\g<2>", self.template, count=1)
        xml = _PUBMED_ID.sub(rb"\g<1>" + pmid + rb"\g<2>", xml, count=1)
        xml = _DATE_REVISED.sub(b"", xml, count=1)
        if self.revised is not None:
            # MedlineCitation: PMID, DateCompleted?, DateRevised?, Article ...
            after = b"</DateCompleted>" if b"</DateCompleted>" in xml else b"</PMID>"
            element = b"<DateRevised>" + _ymd(self.revised) + b"</DateRevised>"
            xml = xml.replace(after, after + b"\n" + element, 1)
        return _HISTORY_DATE.sub(rb"\g<1>" + _ymd(self.day) + rb"\g<2>", xml)


def _ymd(day: date) -> bytes:
    return b"<Year>%d</Year><Month>%02d</Month><Day>%02d</Day>" % (day.year, day.month, day.day)


# The record ``StubCorpus.synthetic`` copies unless given another.
SYNTHETIC_TEMPLATE_FILE = Path(__file__).resolve().parent / "synthetic_template.xml"
