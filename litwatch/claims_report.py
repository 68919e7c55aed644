"""Per claim of the source article: its status there, and the evidence gathered since.

For each claim: the articles tagged with it (by a rule or a curator) and
their triage decisions; among those not excluded, the count per evidence
level and the trials; and the curators' current stances (supports /
contradicts / neutral). Computed from ``tags``, the articles' tagging
columns and the triage log in a few grouped queries.

Claim labels and the article's status for each claim come from the claim
catalogue (``queries/claims.toml``) when ``litwatch.claims`` can read it;
without it the report still lists every claim id found in tags or stances.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, distinct, func, select

from .errors import ConfigError
from .store._common import reading
from .triage_log import ARTICLES, TAGS, stance_counts

UNTRIAGED = "untriaged"
NOT_ASSESSED = "not assessed"  # no evidence level yet (the tagger has not run)


@dataclass(frozen=True)
class ClaimInfo:
    """What the catalogue says about a claim."""

    id: str
    label: str = ""
    article_status: str = ""


@dataclass(frozen=True)
class ClaimEvidence:
    id: str
    label: str
    article_status: str  # the source article's verdict, e.g. "Not yet", "Emerging"
    articles: int  # tagged with the claim, rule or curator, not deleted from PubMed
    decisions: dict[str, int] = field(default_factory=dict)  # include/maybe/exclude/untriaged
    evidence: dict[str, int] = field(default_factory=dict)  # level -> articles not excluded
    trials: int = 0  # trials among the articles not excluded
    stances: dict[str, int] = field(default_factory=dict)  # curators' current stances

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_claim_infos(path: Path) -> list[ClaimInfo] | None:
    """The catalogue's claims in file order, or None when it cannot be read here.

    ``litwatch.claims`` (the catalogue loader) is looked up at run time so this
    report works before it exists; a broken catalogue still raises ConfigError.
    """
    if not path.is_file():
        return None
    try:
        claims_module = importlib.import_module("litwatch.claims")
    except ImportError:
        return None
    catalogue = claims_module.load_catalogue(path)
    infos = []
    for claim in getattr(catalogue, "claims", ()):
        claim_id = getattr(claim, "id", None)
        if not isinstance(claim_id, str):
            raise ConfigError(path, f"claim without an id: {claim!r}")
        infos.append(
            ClaimInfo(
                claim_id,
                str(getattr(claim, "label", "") or ""),
                str(getattr(claim, "article_status", "") or ""),
            )
        )
    return infos


def claims_report(
    bind: Connection | Engine, catalogue: Sequence[ClaimInfo] = ()
) -> list[ClaimEvidence]:
    """Evidence per claim: catalogue claims in their order, then any other claim ids found."""
    with reading(bind) as conn:
        groups = conn.execute(
            select(
                TAGS.c.claim_id,
                ARTICLES.c.decision,
                ARTICLES.c.evidence_level,
                ARTICLES.c.is_trial,
                func.count(distinct(ARTICLES.c.id)),
            )
            .join(ARTICLES, ARTICLES.c.id == TAGS.c.article_id)
            .where(ARTICLES.c.deleted_at.is_(None))
            .group_by(
                TAGS.c.claim_id,
                ARTICLES.c.decision,
                ARTICLES.c.evidence_level,
                ARTICLES.c.is_trial,
            )
        ).all()
        stances = stance_counts(conn)

    decisions: dict[str, Counter[str]] = {}
    evidence: dict[str, Counter[str]] = {}
    trials: Counter[str] = Counter()
    for claim, decision, level, is_trial, count in groups:
        decisions.setdefault(claim, Counter())[decision or UNTRIAGED] += count
        if decision != "exclude":
            evidence.setdefault(claim, Counter())[level or NOT_ASSESSED] += count
            if is_trial:
                trials[claim] += count

    known = {info.id for info in catalogue}
    extra = sorted((set(decisions) | set(stances)) - known)
    report = []
    for info in [*catalogue, *(ClaimInfo(claim_id) for claim_id in extra)]:
        counted = decisions.get(info.id, Counter())
        report.append(
            ClaimEvidence(
                id=info.id,
                label=info.label,
                article_status=info.article_status,
                articles=sum(counted.values()),
                decisions={
                    d: counted[d] for d in ("include", "maybe", "exclude", UNTRIAGED) if counted[d]
                },
                evidence=dict(_most_first(evidence.get(info.id, Counter()))),
                trials=trials[info.id],
                stances={
                    s: stances[info.id][s]
                    for s in ("supports", "contradicts", "neutral")
                    if info.id in stances and stances[info.id][s]
                },
            )
        )
    return report


def render_claims(report: Sequence[ClaimEvidence]) -> str:
    """The report as plain text, one block per claim."""
    if not report:
        return "No claims yet: no article is tagged and no stance recorded."
    blocks = []
    for claim in report:
        head = claim.id + (f" — {claim.label}" if claim.label else "")
        if claim.article_status:
            head += f"  [article: {claim.article_status}]"
        decided = ", ".join(f"{n} {d}" for d, n in claim.decisions.items())
        lines = [head, f"  articles: {claim.articles}" + (f" ({decided})" if decided else "")]
        if claim.evidence:
            levels = ", ".join(f"{level} {n}" for level, n in claim.evidence.items())
            lines.append(f"  evidence (not excluded): {levels}; trials {claim.trials}")
        stances = ", ".join(f"{n} {s}" for s, n in claim.stances.items())
        lines.append(f"  curator stances: {stances or 'none yet'}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _most_first(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
