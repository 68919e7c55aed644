"""The digest as data: what one email says, before any template sees it.

``digest_select`` fills these records from the database, ``digest_render``
turns them into an email, ``digest_send`` records which items went out.
Everything here is plain and immutable; nothing touches the database.

An *item* is what "sent at most once" is counted on: ``(article id, kind)``
per digest name. A new paper is the item ``new``; later news about a paper
already sent is ``retracted``, ``erratum`` or ``linked:<PMID>`` (another
publication from the same registered trial appeared).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from .article import Article
from .config import DigestSettings

ItemKey = tuple[int, str]  # (articles.id, item kind)

NEW = "new"
RETRACTED = "retracted"
ERRATUM = "erratum"
LINKED = "linked"  # item kind "linked:<PMID of the new publication>"


def linked_kind(pmid: str) -> str:
    return f"{LINKED}:{pmid}"


@dataclass(frozen=True)
class ClaimRef:
    """A claim of the source article as the digest shows it."""

    id: str
    label: str
    status: str | None = None  # the article's verdict on it ("Not yet", "Yes", ...)
    section: str | None = None  # summary, mechanism, evidence, ...
    statement: str | None = None
    parent: str | None = None  # the claim it belongs under (mechanisms: plausible-mechanism)


@dataclass(frozen=True)
class EntryTag:
    claim: ClaimRef
    source: str  # "rule" or "curator"
    reason: str  # one line: which fields and words matched, or the curator's note


@dataclass(frozen=True)
class Entry:
    """One paper, shown once however many queries and claims it matched."""

    article_id: int
    article: Article
    first_seen: datetime
    evidence_level: str | None
    is_trial: bool
    registry_ids: tuple[str, ...]
    tags: tuple[EntryTag, ...]  # in catalogue order
    queries: tuple[str, ...]  # the saved queries that found it
    same_work: tuple[str, ...] = ()  # other PMIDs of the same work

    @property
    def pmid(self) -> str:
        return self.article.pmid

    @property
    def claims(self) -> tuple[ClaimRef, ...]:
        """Each claim once (a rule and a curator may both have tagged it), catalogue order."""
        seen: dict[str, ClaimRef] = {}
        for tag in self.tags:
            seen.setdefault(tag.claim.id, tag.claim)
        return tuple(seen.values())


@dataclass(frozen=True)
class Update:
    """News about a paper this digest already sent."""

    entry: Entry
    item_kind: str  # retracted | erratum | linked:<PMID>
    first_sent: datetime | None  # when this digest first sent the paper
    linked: Entry | None = None  # the new publication from the same trial
    shared_ids: tuple[str, ...] = ()  # the registry numbers they share

    @property
    def kind(self) -> str:
        return self.item_kind.split(":", 1)[0]


@dataclass(frozen=True)
class ClaimGroup:
    claim: ClaimRef | None  # None: new papers no claim matched
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class ScoreRow:
    """The evidence gathered so far on one claim."""

    claim: ClaimRef
    by_level: tuple[tuple[str, int], ...]  # (evidence level, papers), strongest first
    total: int  # papers bearing on it, retracted ones not counted
    trials: int
    new: int  # papers on this claim that are new in this digest
    retracted: int  # retracted papers tagged with it (left out of the counts)
    stances: tuple[tuple[str, int], ...] = ()  # curators' current reading: supports ...


@dataclass(frozen=True)
class QueryActivity:
    """What one saved query did in the period (from the search ledger)."""

    name: str
    searches: int
    last_started: datetime
    last_status: str
    found: int  # records PubMed returned, summed over the searches
    new: int  # records the query found for the first time in the period


@dataclass(frozen=True)
class FailedSearch:
    name: str
    started_at: datetime
    error: str
    recovered: bool  # a later search of the same query succeeded


@dataclass(frozen=True)
class Counts:
    new_trials: int
    new_papers: int  # new papers that are not trials
    updated: int
    retracted: int  # new papers already retracted, and retractions of papers sent before
    held_back: int

    @property
    def new_total(self) -> int:
        return self.new_trials + self.new_papers


@dataclass(frozen=True)
class Digest:
    """One digest: its period, its entries in reading order, and the ledger summary."""

    settings: DigestSettings
    period_start: datetime
    period_end: datetime
    new_trials: tuple[Entry, ...]
    groups: tuple[ClaimGroup, ...]
    updates: tuple[Update, ...]
    scoreboard: tuple[ScoreRow, ...]
    queries: tuple[QueryActivity, ...]
    failures: tuple[FailedSearch, ...]
    held_back: int  # new papers left for the next digest by max_entries
    first: bool  # no digest of this name was sent before

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def new_entries(self) -> tuple[Entry, ...]:
        return self.new_trials + tuple(e for g in self.groups for e in g.entries)

    @property
    def counts(self) -> Counts:
        new = self.new_entries
        retracted = sum(e.article.is_retracted for e in new) + sum(
            u.kind == RETRACTED for u in self.updates
        )
        return Counts(
            new_trials=len(self.new_trials),
            new_papers=len(new) - len(self.new_trials),
            updated=len(self.updates),
            retracted=retracted,
            held_back=self.held_back,
        )

    @property
    def item_keys(self) -> tuple[ItemKey, ...]:
        """Every item this digest delivers, sorted (the basis of its Message-ID).

        A paper that is already retracted or corrected when first sent carries
        that news with it, so it is recorded too and never repeated as an update.
        """
        keys: set[ItemKey] = set()
        for entry in self.new_entries:
            keys.add((entry.article_id, NEW))
            if entry.article.is_retracted:
                keys.add((entry.article_id, RETRACTED))
            if entry.article.has_erratum:
                keys.add((entry.article_id, ERRATUM))
        keys.update((u.entry.article_id, u.item_kind) for u in self.updates)
        return tuple(sorted(keys))

    def message_id(self, sender: str = "") -> str:
        """A Message-ID that depends only on the digest's name, period start and items.

        The same digest planned twice (a retry after a failure) gets the same
        identity, so a mail client or the outbox sees one message, not two.
        PMIDs rather than row ids keep it stable across database copies.
        """
        pmids = {e.article_id: e.pmid for e in self.new_entries}
        pmids.update((u.entry.article_id, u.entry.pmid) for u in self.updates)
        items = sorted((pmids.get(a, str(a)), kind) for a, kind in self.item_keys)
        basis = json.dumps([self.name, self.period_start.isoformat(), items])
        fingerprint = hashlib.sha256(basis.encode()).hexdigest()[:20]
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "digest"
        domain = re.sub(r"[^A-Za-z0-9.-]", "", parseaddr(sender)[1].rpartition("@")[2])
        domain = domain or "litwatch.local"
        return f"<litwatch.{slug}.{self.period_start:%Y%m%d}.{fingerprint}@{domain}>"

    def worth_sending(self) -> tuple[bool, str]:
        """Whether ``send_when`` says this digest should go out, and why (for logs and the CLI)."""
        counts = self.counts
        policy = self.settings.send_when
        if policy == "always":
            return True, "send_when = always"
        if policy == "new-hits":
            if counts.new_total or counts.updated:
                return True, "new papers or updates"
            return False, "no new paper and no update since the last digest (send_when = new-hits)"
        if counts.new_trials:
            return True, "new trials"
        waiting = f"; {counts.new_total} new paper(s) wait" if counts.new_total else ""
        return False, f"no new trial since the last digest (send_when = new-trials){waiting}"
