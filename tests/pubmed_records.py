"""Synthetic PubMed records for the monitoring tests, in real PubMed XML shape.

Synthetic, honestly so: PMIDs from the reserved range >= 90,000,000 and no
real person's name. Each record is one version; a later version of the same
PMID (MeSH added, a retraction linked) is another ``Rec`` with the same PMID
and a later ``revised`` date, as PubMed's own updates look.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Rec:
    pmid: int
    title: str
    created: date
    abstract: str = ""
    status: str = "Publisher"
    mesh: tuple[str, ...] = ()
    pub_types: tuple[str, ...] = ("Journal Article",)
    revised: date | None = None
    retraction_in: int | None = None  # PMID of the retraction notice
    retraction_of: int | None = None  # this record is the notice
    keywords: tuple[str, ...] = field(default=())

    def revise(self, on: date, **changes: object) -> Rec:
        """The next version of this record, modified on ``on``."""
        return replace(self, revised=on, **changes)  # type: ignore[arg-type]


def _date(tag: str, day: date, attrs: str = "") -> str:
    return (
        f"<{tag}{attrs}><Year>{day.year}</Year><Month>{day.month:02d}</Month>"
        f"<Day>{day.day:02d}</Day></{tag}>"
    )


def record_xml(rec: Rec) -> str:
    mesh = "".join(
        f'<MeshHeading><DescriptorName UI="D{n:06d}" MajorTopicYN="N">{escape(m)}'
        "</DescriptorName></MeshHeading>"
        for n, m in enumerate(rec.mesh, start=1)
    )
    types = "".join(
        f'<PublicationType UI="D{900 + n:06d}">{escape(t)}</PublicationType>'
        for n, t in enumerate(rec.pub_types)
    )
    comments = ""
    if rec.retraction_in is not None:
        comments += (
            '<CommentsCorrections RefType="RetractionIn"><RefSource>J Synth Rec. 2026</RefSource>'
            f'<PMID Version="1">{rec.retraction_in}</PMID></CommentsCorrections>'
        )
    if rec.retraction_of is not None:
        comments += (
            '<CommentsCorrections RefType="RetractionOf"><RefSource>J Synth Rec. 2026</RefSource>'
            f'<PMID Version="1">{rec.retraction_of}</PMID></CommentsCorrections>'
        )
    keywords = "".join(f'<Keyword MajorTopicYN="N">{escape(k)}</Keyword>' for k in rec.keywords)
    return (
        f'<PubmedArticle><MedlineCitation Status="{rec.status}" Owner="NLM">'
        f'<PMID Version="1">{rec.pmid}</PMID>'
        + (_date("DateRevised", rec.revised) if rec.revised else "")
        + '<Article PubModel="Electronic"><Journal><ISSN IssnType="Electronic">1234-5678</ISSN>'
        '<JournalIssue CitedMedium="Internet"><Volume>1</Volume>'
        f"<PubDate><Year>{rec.created.year}</Year></PubDate></JournalIssue>"
        "<Title>Journal of synthetic records</Title><ISOAbbreviation>J Synth Rec</ISOAbbreviation>"
        f"</Journal><ArticleTitle>{escape(rec.title)}</ArticleTitle>"
        + (
            f"<Abstract><AbstractText>{escape(rec.abstract)}</AbstractText></Abstract>"
            if rec.abstract
            else ""
        )
        + '<AuthorList CompleteYN="Y"><Author ValidYN="Y"><LastName>Synthetic</LastName>'
        "<ForeName>Author</ForeName><Initials>A</Initials></Author></AuthorList>"
        f"<Language>eng</Language><PublicationTypeList>{types}</PublicationTypeList></Article>"
        "<MedlineJournalInfo><MedlineTA>J Synth Rec</MedlineTA></MedlineJournalInfo>"
        + (f'<KeywordList Owner="NOTNLM">{keywords}</KeywordList>' if keywords else "")
        + (f"<MeshHeadingList>{mesh}</MeshHeadingList>" if mesh else "")
        + (f"<CommentsCorrectionsList>{comments}</CommentsCorrectionsList>" if comments else "")
        + "</MedlineCitation><PubmedData><History>"
        + _date("PubMedPubDate", rec.created, ' PubStatus="entrez"')
        + _date("PubMedPubDate", rec.created, ' PubStatus="pubmed"')
        + "</History><PublicationStatus>epublish</PublicationStatus><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{rec.pmid}</ArticleId></ArticleIdList></PubmedData>'
        "</PubmedArticle>"
    )


def document(records: Iterable[Rec]) -> bytes:
    """A PubmedArticleSet file holding ``records`` (several versions of a PMID allowed)."""
    body = "\n".join(record_xml(r) for r in records)
    return (
        '<?xml version="1.0" ?>\n<!-- synthetic records for litwatch tests -->\n'
        f"<PubmedArticleSet>\n{body}\n</PubmedArticleSet>\n"
    ).encode()


def ids(records: Sequence[Rec]) -> set[str]:
    return {str(r.pmid) for r in records}
