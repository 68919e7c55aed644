"""Tag one record: the claims it bears on (with reasons), its evidence level, trial flag.

Pure: no database, no clock. ``tag_article(article, catalogue)`` folds the
record once (``IndexedArticle``) and runs every compiled rule over it. A claim
whose rule matches is tagged with the words that matched, field by field
(``Matcher.explain``); its parents (``parent`` in claims.toml) are tagged too,
``via`` the child.

Evidence level: exactly one of ``EVIDENCE_LEVELS``, read from publication
types and MeSH in this order of precedence (the first that applies wins):

1. ``rct``: publication type Randomized Controlled Trial
2. ``trial-protocol``: Clinical Trial Protocol, or "protocol" in the title of a
   trial or study ("study protocol for a randomised trial")
3. ``clinical-trial``: other clinical trial types (Clinical Trial, Phase I-IV,
   Controlled, Pragmatic, Adaptive, Equivalence)
4. ``systematic-review``: Systematic Review, Meta-Analysis
5. ``review``: Review, Scoping Review
6. ``case-report``: Case Reports
7. ``observational``: Observational Study, or MeSH Cohort / Case-Control /
   Cross-Sectional / Retrospective / Prospective / Longitudinal / Follow-Up Studies
8. ``animal``: MeSH Animals without Humans (or a veterinary trial type)
9. ``in-vitro``: MeSH In Vitro Techniques, Cells, Cultured, Cell Line
10. ``other``

Records not indexed yet (In-Process, Publisher) often carry only "Journal
Article": for them the title is read for the design ("randomised ... trial",
"systematic review", "case series" ...) and the title and abstract for
animal or in-vitro work. Notices (retraction, erratum, expression of
concern), letters, editorials and comments are ``other`` unless a design
type says more.

Trial flag: a clinical-trial publication type (protocols included, veterinary
trials not), a trial design read from an unindexed record's title, or a trial
registry number in DataBankList or in the title/abstract (ClinicalTrials.gov
NCT, ISRCTN, EudraCT, ANZCTR ACTRN, ChiCTR, CTRI, DRKS, JPRN/jRCT/UMIN).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .article import Article
from .claims import Catalogue
from .querylang import Hit, IndexedArticle

EVIDENCE_LEVELS = (
    "rct",
    "clinical-trial",
    "trial-protocol",
    "systematic-review",
    "review",
    "observational",
    "case-report",
    "animal",
    "in-vitro",
    "other",
)
TRIAL_LEVELS = frozenset({"rct", "clinical-trial", "trial-protocol"})

_RCT = frozenset({"randomized controlled trial"})
_PROTOCOL = frozenset({"clinical trial protocol"})
_TRIALS = frozenset(
    {
        "clinical trial",
        "clinical trial, phase i",
        "clinical trial, phase ii",
        "clinical trial, phase iii",
        "clinical trial, phase iv",
        "controlled clinical trial",
        "pragmatic clinical trial",
        "adaptive clinical trial",
        "equivalence trial",
    }
)
_SYSTEMATIC = frozenset({"systematic review", "meta-analysis", "network meta-analysis"})
_REVIEWS = frozenset({"review", "scoping review"})
_CASE_REPORTS = frozenset({"case reports"})
_OBSERVATIONAL_TYPES = frozenset({"observational study"})
_VETERINARY = frozenset(
    {
        "randomized controlled trial, veterinary",
        "clinical trial, veterinary",
        "observational study, veterinary",
    }
)
_NOTICES = frozenset(
    {
        "retraction of publication",
        "published erratum",
        "expression of concern",
        "letter",
        "editorial",
        "comment",
        "news",
        "newspaper article",
    }
)
_OBSERVATIONAL_MESH = frozenset(
    {
        "cohort studies",
        "case-control studies",
        "cross-sectional studies",
        "retrospective studies",
        "prospective studies",
        "longitudinal studies",
        "follow-up studies",
    }
)
_IN_VITRO_MESH = frozenset({"in vitro techniques", "cells, cultured", "cell line"})

# Titles of records not indexed yet; checked in the order of the precedence above.
_TITLE_DESIGNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("systematic-review", re.compile(r"\bsystematic review\b|\bmeta-?analy[sz]", re.I)),
    ("rct", re.compile(r"\brandomi[sz]ed\b.*\btrial\b|\btrial\b.*\brandomi[sz]ed\b", re.I)),
    ("clinical-trial", re.compile(r"\btrial\b", re.I)),
    ("review", re.compile(r"\breview\b", re.I)),
    ("case-report", re.compile(r"\bcase reports?\b|\bcase series\b|\ba case of\b", re.I)),
    (
        "observational",
        re.compile(r"\bcohort\b|\bcross-sectional\b|\bcase-control\b|\bregistry study\b", re.I),
    ),
)
_PROTOCOL_TITLE = re.compile(r"\bprotocol\b", re.I)
_TRIAL_OR_STUDY = re.compile(r"\b(trial|study)\b", re.I)
_ANIMAL_WORDS = re.compile(
    r"\b(rats?|mice|mouse|murine|rodents?|rabbits?|cats|dogs|pigs|piglets|sheep|monkeys?"
    r"|macaques?|non-?human primates?|zebrafish|drosophila|animal models?)\b",
    re.I,
)
_HUMAN_WORDS = re.compile(
    r"\b(patients?|participants?|volunteers?|adults|children|women|men|subjects)\b", re.I
)
_IN_VITRO_WORDS = re.compile(r"\bin vitro\b|\bcell cultures?\b|\bcultured\b|\bcell lines?\b", re.I)

# DataBankList names that are trial registries (compared lower-case).
_REGISTRY_BANKS = frozenset(
    {
        "clinicaltrials.gov",
        "isrctn",
        "eudract",
        "anzctr",
        "chictr",
        "ctri",
        "drks",
        "jprn",
        "umin-ctr",
        "umin ctr",
        "japiccti",
        "jrct",
    }
)
# Registry numbers as written in abstracts: (lower-case markers, one of which the
# text must contain for the pattern to be tried, pattern, canonical form).
_REGISTRY_PATTERNS: tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...] = (
    (("nct",), re.compile(r"\bNCT\s?(\d{8})\b", re.I), "NCT{}"),
    (("isrctn",), re.compile(r"\bISRCTN\s?(\d{8})\b", re.I), "ISRCTN{}"),
    (("actrn",), re.compile(r"\bACTRN\s?(\d{14})\b", re.I), "ACTRN{}"),
    (("drks",), re.compile(r"\bDRKS\s?(\d{8})\b", re.I), "DRKS{}"),
    (("chictr",), re.compile(r"\b(ChiCTR(?:-[A-Z]{2,4})*-?\d{6,})\b"), "{}"),
    (("ctri/",), re.compile(r"\b(CTRI/\d{4}/\d{2,3}/\d{6})\b", re.I), "{}"),
    (
        ("jprn", "jrct", "umin"),
        re.compile(r"\b(JPRN-[A-Za-z]+\d+|jRCT[a-z]?\d{7,}|UMIN\d{9})\b"),
        "{}",
    ),
    (("eudract",), re.compile(r"\bEudraCT\b[^0-9]{0,20}(\d{4}-\d{6}-\d{2})\b", re.I), "EudraCT {}"),
)
_EUDRACT_NUMBER = re.compile(r"^\d{4}-\d{6}-\d{2}$")


@dataclass(frozen=True, slots=True)
class ClaimTag:
    """One claim an article was tagged with, and why."""

    claim_id: str
    rule: str  # the claim's rule, canonical form ("" when only via a child)
    hits: tuple[Hit, ...]  # where its own rule matched ((): tagged only via a child)
    via: tuple[str, ...] = ()  # descendants whose own rules matched and carried this one

    def reason(self) -> dict[str, Any]:
        """The JSON stored in ``tags.reason``."""
        reason: dict[str, Any] = {
            "rule": self.rule,
            "hits": [
                {"field": h.field, "tag": h.tag, "term": h.term, "matched": h.matched}
                for h in self.hits
            ],
        }
        if self.via:
            reason["via"] = ", ".join(self.via)
        return reason


@dataclass(frozen=True, slots=True)
class Tagging:
    """Everything the tagger derives from one record."""

    claims: tuple[ClaimTag, ...]
    evidence_level: str
    evidence_basis: str  # why that level, in words
    is_trial: bool
    registry_ids: tuple[str, ...]
    retracted: bool

    @property
    def claim_ids(self) -> tuple[str, ...]:
        return tuple(tag.claim_id for tag in self.claims)


def tag_article(article: Article, catalogue: Catalogue) -> Tagging:
    """Tag ``article`` against every claim of ``catalogue``."""
    return tag_indexed(IndexedArticle.from_article(article), catalogue)


def tag_indexed(doc: IndexedArticle, catalogue: Catalogue) -> Tagging:
    """``tag_article`` for a record already folded (shared with other rule sets)."""
    article = doc.article
    own: dict[str, ClaimTag] = {}
    for claim in catalogue.claims:
        found = claim.matcher.match(doc)
        if found is not None:
            # The same words found twice (in two abstract sections) are one reason.
            own[claim.id] = ClaimTag(claim.id, claim.rule_text, tuple(dict.fromkeys(found)))
    tags = []
    via: dict[str, list[str]] = {}
    for claim_id in own:
        for ancestor in catalogue.ancestors(claim_id):
            via.setdefault(ancestor, []).append(claim_id)
    for claim in catalogue.claims if own else ():  # catalogue order: summary first
        tag = own.get(claim.id)
        children = tuple(via.get(claim.id, ()))
        if tag is not None:
            tags.append(ClaimTag(tag.claim_id, tag.rule, tag.hits, children))
        elif children:
            tags.append(ClaimTag(claim.id, "", (), children))
    level, basis = evidence_level(article)
    registries = registry_ids(article)
    return Tagging(
        claims=tuple(tags),
        evidence_level=level,
        evidence_basis=basis,
        is_trial=is_trial(article, level, registries),
        registry_ids=registries,
        retracted=article.is_retracted,
    )


def evidence_level(article: Article) -> tuple[str, str]:
    """(level, basis): the design the record reports, see the module docstring."""
    types = {pt.name.strip().lower(): pt.name for pt in article.publication_types}
    mesh = {m.descriptor.strip().lower() for m in article.mesh}

    def typed(names: frozenset[str]) -> str | None:
        found = names.intersection(types)
        return f"publication type {types[min(found)]}" if found else None

    title = article.title
    for level, names in (("rct", _RCT), ("trial-protocol", _PROTOCOL)):
        basis = typed(names)
        if basis:
            return level, basis
    if _PROTOCOL_TITLE.search(title) and _TRIAL_OR_STUDY.search(title):
        return "trial-protocol", "title names a trial or study protocol"
    for level, names in (
        ("clinical-trial", _TRIALS),
        ("systematic-review", _SYSTEMATIC),
        ("review", _REVIEWS),
        ("case-report", _CASE_REPORTS),
        ("observational", _OBSERVATIONAL_TYPES),
    ):
        basis = typed(names)
        if basis:
            return level, basis
    designs = sorted(m for m in mesh if m in _OBSERVATIONAL_MESH)
    if designs:
        return "observational", f"MeSH {designs[0].title()}"
    notice = typed(_NOTICES)
    if notice:
        return "other", notice
    if not mesh:
        for level, pattern in _TITLE_DESIGNS:
            if pattern.search(title):
                return level, "title (record not indexed yet)"
    veterinary = typed(_VETERINARY)
    if veterinary or ("animals" in mesh and "humans" not in mesh):
        return "animal", veterinary or "MeSH Animals without Humans"
    in_vitro = sorted(m for m in mesh if m in _IN_VITRO_MESH)
    if in_vitro:
        return "in-vitro", f"MeSH {in_vitro[0].title()}"
    if not mesh:
        abstract = article.abstract_text
        human = _HUMAN_WORDS.search(abstract)
        if _ANIMAL_WORDS.search(title) or (not human and _ANIMAL_WORDS.search(abstract)):
            return "animal", "animal words in title or abstract (record not indexed yet)"
        if _IN_VITRO_WORDS.search(title) or (not human and _IN_VITRO_WORDS.search(abstract)):
            return "in-vitro", "in-vitro words in title or abstract (record not indexed yet)"
    return "other", "no design in publication types or MeSH"


def registry_ids(article: Article) -> tuple[str, ...]:
    """Trial registry numbers from DataBankList and from the title and abstract, each once."""
    found: dict[str, None] = {}
    for registry in article.registry_ids:
        if registry.registry.strip().lower() not in _REGISTRY_BANKS:
            continue
        accession = registry.accession.strip()
        if _EUDRACT_NUMBER.match(accession):
            accession = f"EudraCT {accession}"
        found.setdefault(_canonical(accession), None)
    text = f"{article.title}\n{article.abstract_text}"
    lowered = text.lower()
    for markers, pattern, template in _REGISTRY_PATTERNS:
        if any(marker in lowered for marker in markers):
            for match in pattern.finditer(text):
                found.setdefault(_canonical(template.format(match.group(1))), None)
    return tuple(found)


def is_trial(article: Article, level: str, registries: tuple[str, ...]) -> bool:
    """A trial by publication type, by title design (unindexed records), or by registry number."""
    names = {pt.name.strip().lower() for pt in article.publication_types}
    return bool(names & (_RCT | _PROTOCOL | _TRIALS)) or level in TRIAL_LEVELS or bool(registries)


def _canonical(accession: str) -> str:
    """Upper-case the schemes whose numbers are case-insensitive; keep the rest as written."""
    upper = accession.upper()
    if upper.startswith(("NCT", "ISRCTN", "ACTRN", "DRKS", "CTRI/", "UMIN")):
        return upper
    return accession
