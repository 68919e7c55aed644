"""Per claim of the source article: its status there, and the evidence gathered since.

For each claim of the catalogue (``queries/claims.toml``), in file order: the
source article's status for it, the articles tagged with it (by a rule or a
curator) with their triage decisions, counts per evidence level (all tagged
articles, and the included ones alone), trials, retractions, and the
curators' current stances. Every figure comes from
``litwatch.store.tags.count_claim_evidence``, which the digest scoreboard
uses too and which ``claims show`` agrees with (tests/test_claim_counts.py);
claim ids found in tags or stances but not in the catalogue (an older
catalogue, a curator's own tag) follow, counted the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from .claims import Catalogue, load_catalogue
from .errors import InputError
from .store.tags import ClaimCounts, count_claim_evidence

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


def claims_to_match(
    catalogue: Catalogue | None, ids: Iterable[str], *, option: str
) -> tuple[str, ...]:
    """A ``--claim`` filter: the ids checked, each with the claims below it, so that
    filtering on a parent finds articles a curator tagged with one of its children."""
    ids = tuple(ids)
    check_claim_ids(catalogue, ids, option=option)
    return catalogue.covering(ids) if catalogue is not None else ids


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
    # every claim tagged or given a stance; a child's tags count for its parent
    descendants = catalogue.descendants() if catalogue is not None else None
    counts = count_claim_evidence(bind, descendants=descendants)
    reports = [
        _from_counts(
            counts.get(claim.id) or ClaimCounts(claim.id),
            label=claim.label,
            section=claim.section,
            article_status=claim.article_status or "",
        )
        for claim in (catalogue.claims if catalogue is not None else ())
    ]
    known = {r.id for r in reports}
    reports += [
        _from_counts(counted, in_catalogue=False)
        for claim_id, counted in counts.items()
        if claim_id not in known
    ]
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


def _from_counts(
    counts: ClaimCounts,
    *,
    label: str = "",
    section: str = "",
    article_status: str = "",
    in_catalogue: bool = True,
) -> ClaimReport:
    return ClaimReport(
        id=counts.claim_id,
        label=label,
        section=section,
        article_status=article_status,
        in_catalogue=in_catalogue,
        articles=counts.articles,
        decisions={d: counts.decisions[d] for d in _DECISION_ORDER if counts.decisions.get(d)},
        by_level=_nonzero(counts.by_level),
        included_by_level=_nonzero(counts.included_by_level),
        trials=counts.trials,
        retracted=counts.retracted,
        curator_tagged=counts.curator_tagged,
        stances={s: counts.stances[s] for s in _STANCE_ORDER if counts.stances.get(s)},
    )


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    """Levels with articles, most first (ties by name)."""
    return dict(sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: (-kv[1], kv[0])))


def _levels(counts: dict[str, int]) -> str:
    return ", ".join(f"{level} {n}" for level, n in counts.items())
