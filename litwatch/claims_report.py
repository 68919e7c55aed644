"""Per claim of the source article: its status there, and the evidence gathered since.

For each claim of the catalogue (``queries/claims.toml``), in file order: the
source article's status for it, the articles tagged with it (by a rule or a
curator) with their triage decisions, counts per evidence level (all tagged
articles, and the included ones alone), trials, retractions, and the
curators' current stances. The catalogue claims' figures come from
``litwatch.store.tags.claim_evidence`` (what ``litwatch claims show`` prints),
so the two commands agree; claim ids found in tags or stances but not in the
catalogue (an older catalogue, a curator's own tag) follow, counted here from
``tags`` and the triage log the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, case, func, select

from .claims import Catalogue, load_catalogue
from .errors import InputError
from .store._common import reading
from .store.tags import ClaimEvidence, claim_evidence
from .triage_log import ARTICLES, CURATOR_SOURCE, TAGS, stance_counts

UNTRIAGED = "untriaged"
_DECISION_ORDER = ("include", "maybe", "exclude", UNTRIAGED)
_STANCE_ORDER = ("supports", "contradicts", "neutral")


@dataclass(frozen=True)
class ClaimReport:
    id: str
    label: str = ""
    section: str = ""
    article_status: str = ""  # the source article's verdict, e.g. "Not yet", "Emerging"
    in_catalogue: bool = True
    articles: int = 0  # tagged by a rule or a curator, deleted citations left out
    decisions: dict[str, int] = field(default_factory=dict)  # include/maybe/exclude/untriaged
    by_level: dict[str, int] = field(default_factory=dict)  # evidence level -> tagged articles
    included_by_level: dict[str, int] = field(default_factory=dict)  # ... included ones only
    trials: int = 0
    retracted: int = 0
    curator_tagged: int = 0
    stances: dict[str, int] = field(default_factory=dict)  # curators' current stances

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_claims(path: Path) -> Catalogue | None:
    """The catalogue at ``path``, or None when there is no such file (a broken one raises)."""
    return load_catalogue(path) if path.is_file() else None


def check_claim_ids(catalogue: Catalogue | None, ids: Iterable[str], *, option: str) -> None:
    """InputError naming the first id not in the catalogue and the known ones.

    Without a catalogue (no claims.toml) any id is accepted: tags may still exist.
    """
    if catalogue is None:
        return
    known = [claim.id for claim in catalogue.claims]
    for claim_id in ids:
        if claim_id not in known:
            raise InputError(
                option,
                f"unknown claim {claim_id!r} (claims.toml knows: {', '.join(known) or 'none'})",
            )


def claims_report(bind: Connection | Engine, catalogue: Catalogue | None) -> list[ClaimReport]:
    """One report per catalogue claim in file order, then other claim ids found, sorted."""
    with reading(bind) as conn:
        rows = _tag_groups(conn)
        stances = stance_counts(conn)
        evidence = claim_evidence(conn, catalogue) if catalogue is not None else {}
    included = _included_by_level(rows)
    reports = []
    for claim in catalogue.claims if catalogue is not None else ():
        reports.append(
            _from_evidence(
                evidence[claim.id],
                label=claim.label,
                section=claim.section,
                article_status=claim.article_status or "",
                included=included.get(claim.id, Counter()),
            )
        )
    known = {r.id for r in reports}
    others = sorted(({row.claim_id for row in rows} | set(stances)) - known)
    for claim_id in others:
        counted = _count(claim_id, rows, stances.get(claim_id, Counter()))
        reports.append(
            _from_evidence(counted, in_catalogue=False, included=included.get(claim_id, Counter()))
        )
    return reports


def render_claims(reports: Iterable[ClaimReport]) -> str:
    """The report as plain text, one block per claim."""
    blocks = []
    for claim in reports:
        head = claim.id + (f" — {claim.label}" if claim.label else "")
        if claim.article_status:
            head += f"  [article: {claim.article_status}]"
        elif not claim.in_catalogue:
            head += "  [not in the catalogue]"
        decided = ", ".join(f"{n} {d}" for d, n in claim.decisions.items())
        lines = [head, f"  articles: {claim.articles}" + (f" ({decided})" if decided else "")]
        if claim.articles:
            lines.append(f"  by evidence level: {_levels(claim.by_level)}")
            lines.append(f"  included, by level: {_levels(claim.included_by_level) or 'none'}")
            extras = [f"trials {claim.trials}", f"retracted {claim.retracted}"]
            extras.append(f"tagged by a curator {claim.curator_tagged}")
            lines.append("  " + ", ".join(extras))
        stances = ", ".join(f"{n} {s}" for s, n in claim.stances.items())
        lines.append(f"  curator stances: {stances or 'none yet'}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) or "No claims: no catalogue, no tags and no stances yet."


# -- internals ------------------------------------------------------------------


def _tag_groups(conn: Connection) -> list[Any]:
    """Per (claim, level, trial, retracted, decision, curator-tagged): articles, counted once."""
    per_article = (
        select(
            TAGS.c.claim_id,
            TAGS.c.article_id,
            func.max(case((TAGS.c.source == CURATOR_SOURCE, 1), else_=0)).label("by_curator"),
        )
        .group_by(TAGS.c.claim_id, TAGS.c.article_id)
        .subquery()
    )
    keys = (
        per_article.c.claim_id,
        ARTICLES.c.evidence_level,
        ARTICLES.c.is_trial,
        ARTICLES.c.is_retracted,
        ARTICLES.c.decision,
        per_article.c.by_curator,
    )
    return list(
        conn.execute(
            select(*keys, func.count().label("n"))
            .join(ARTICLES, ARTICLES.c.id == per_article.c.article_id)
            .where(ARTICLES.c.deleted_at.is_(None))
            .group_by(*keys)
        ).all()
    )


def _included_by_level(rows: list[Any]) -> dict[str, Counter[str]]:
    included: dict[str, Counter[str]] = {}
    for row in rows:
        if row.decision == "include":
            included.setdefault(row.claim_id, Counter())[row.evidence_level or "other"] += row.n
    return included


def _count(claim_id: str, rows: list[Any], stances: Counter[str]) -> ClaimEvidence:
    """``claim_evidence``'s figures for a claim it does not know (not in the catalogue)."""
    counted = ClaimEvidence(claim_id)
    for row in rows:
        if row.claim_id != claim_id:
            continue
        n = int(row.n)
        level = row.evidence_level or "other"
        counted.articles += n
        counted.by_level[level] = counted.by_level.get(level, 0) + n
        counted.trials += n if row.is_trial else 0
        counted.retracted += n if row.is_retracted else 0
        counted.curator_tagged += n if row.by_curator else 0
        decision = row.decision or UNTRIAGED
        counted.decisions[decision] = counted.decisions.get(decision, 0) + n
    counted.stances = dict(stances)
    return counted


def _from_evidence(
    evidence: ClaimEvidence,
    *,
    included: Counter[str],
    label: str = "",
    section: str = "",
    article_status: str = "",
    in_catalogue: bool = True,
) -> ClaimReport:
    return ClaimReport(
        id=evidence.claim_id,
        label=label,
        section=section,
        article_status=article_status,
        in_catalogue=in_catalogue,
        articles=evidence.articles,
        decisions={d: evidence.decisions[d] for d in _DECISION_ORDER if evidence.decisions.get(d)},
        by_level=_nonzero(evidence.by_level),
        included_by_level=_nonzero(dict(included)),
        trials=evidence.trials,
        retracted=evidence.retracted,
        curator_tagged=evidence.curator_tagged,
        stances={s: evidence.stances[s] for s in _STANCE_ORDER if evidence.stances.get(s)},
    )


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    """Levels with articles, most first (ties by name)."""
    return dict(sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: (-kv[1], kv[0])))


def _levels(counts: dict[str, int]) -> str:
    return ", ".join(f"{level} {n}" for level, n in counts.items())
