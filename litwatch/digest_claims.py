"""The claims as a digest shows them: catalogue order, parents, papers grouped by claim."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from .claims import descendants_of
from .digest_format import evidence_rank
from .digest_model import ClaimGroup, ClaimRef, Entry, EntryTag


class DigestClaims:
    """Claim order and labels; claims only seen in tags sort after, by id."""

    def __init__(self, claims: Sequence[ClaimRef]) -> None:
        self.claims = list(claims)
        self.by_id = {c.id: c for c in self.claims}
        self.order = {c.id: i for i, c in enumerate(self.claims)}
        self.descendants = descendants_of({c.id: c.parent for c in self.claims})
        self.ancestors: dict[str, list[str]] = defaultdict(list)
        for ancestor, below in self.descendants.items():
            for claim_id in below:
                self.ancestors[claim_id].append(ancestor)

    def ref(self, claim_id: str) -> ClaimRef:
        return self.by_id.get(claim_id) or ClaimRef(claim_id, claim_id)

    def key(self, claim_id: str) -> tuple[int, str]:
        return (self.order.get(claim_id, len(self.order)), claim_id)

    def summary(self) -> list[ClaimRef]:
        """The summary table's claims; without sections, every claim."""
        chosen = [c for c in self.claims if c.section == "summary"]
        return chosen or self.claims

    def lifted_curator_tags(self, tags: Sequence[EntryTag]) -> list[EntryTag]:
        """The parents a paper's curator tags carry, as a rule's tags carry them (and as
        the scoreboard counts them): one tag "via" the child for each parent not tagged."""
        present = {t.claim.id for t in tags}
        lifted = []
        for tag in tags:
            if tag.source != "curator":
                continue
            for ancestor in self.ancestors.get(tag.claim.id, ()):
                if ancestor not in present:
                    present.add(ancestor)
                    lifted.append(EntryTag(self.ref(ancestor), "curator", f"via {tag.claim.id}"))
        return lifted


def reading_order(entry: Entry) -> tuple[int, int, int]:
    """Strongest evidence first, then the newest publication, then PMID."""
    pub = entry.article.pub_date.sortable if entry.article.pub_date else None
    return (evidence_rank(entry.evidence_level), -(pub.toordinal() if pub else 0), int(entry.pmid))


def group_by_claim(entries: Iterable[Entry], claims: DigestClaims) -> tuple[ClaimGroup, ...]:
    """Each paper once, under its first claim in catalogue order (its others are listed)."""
    groups: dict[str | None, list[Entry]] = defaultdict(list)
    for entry in entries:
        first = entry.claims[0].id if entry.claims else None
        groups[first].append(entry)
    ordered = sorted((k for k in groups if k is not None), key=claims.key)
    result = [
        ClaimGroup(claims.ref(k), tuple(sorted(groups[k], key=reading_order))) for k in ordered
    ]
    if None in groups:
        result.append(ClaimGroup(None, tuple(sorted(groups[None], key=reading_order))))
    return tuple(result)
