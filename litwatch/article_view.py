"""What a curator sees of one article: its tags, the queries that found it, its triage state.

``load_view`` gathers it in one read; ``render_screen`` lays it out as plain
text for the triage loop (no terminal code here: the caller prints it).
Links come from ``litwatch.links`` (``article_links`` is re-exported here).
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, select

from .article import Article
from .links import article_links as article_links  # re-exported for the triage loop
from .models import QueryHit
from .store import StoredArticle, get_article
from .store._common import reading
from .triage_log import TAGS, TriageState, triage_states

QUERY_HITS = cast(Table, QueryHit.__table__)


@dataclass(frozen=True)
class ClaimTag:
    claim_id: str
    source: str  # "rule" or "curator"
    reason: str  # one line, readable


@dataclass(frozen=True)
class ArticleView:
    stored: StoredArticle
    claims: tuple[ClaimTag, ...]
    queries: tuple[str, ...]
    state: TriageState

    @property
    def article(self) -> Article:
        return self.stored.article

    @property
    def claim_ids(self) -> tuple[str, ...]:
        """Each claim once, rule and curator tags together, in claim id order."""
        return tuple(sorted({c.claim_id for c in self.claims}))

    @property
    def trial_ids(self) -> tuple[str, ...]:
        """Registry numbers found by the tagger, else those PubMed lists."""
        if self.stored.registry_ids:
            return self.stored.registry_ids
        return tuple(r.accession for r in self.article.registry_ids)


def load_view(bind: Connection | Engine, pmid: str) -> ArticleView | None:
    """Everything the triage screen shows about ``pmid``; None if it is not stored."""
    with reading(bind) as conn:
        stored = get_article(conn, pmid)
        if stored is None:
            return None
        tag_rows = conn.execute(
            select(TAGS.c.claim_id, TAGS.c.source, TAGS.c.reason)
            .where(TAGS.c.article_id == stored.id)
            .order_by(TAGS.c.claim_id, TAGS.c.source)
        ).all()
        queries = conn.execute(
            select(QUERY_HITS.c.query_name)
            .where(QUERY_HITS.c.article_id == stored.id)
            .distinct()
            .order_by(QUERY_HITS.c.query_name)
        ).scalars()
        query_names = tuple(queries)
        state = triage_states(conn, [pmid]).get(stored.pmid, TriageState())
    claims = tuple(ClaimTag(r.claim_id, r.source, reason_text(r.reason)) for r in tag_rows)
    return ArticleView(stored, claims, query_names, state)


def reason_text(reason: Any) -> str:
    """A tag's stored reason as one line.

    The tagger's reason (``{"rule", "hits": [{"field", "matched", …}], "via"}``)
    shows the words matched per field, not the whole rule; a curator tag's
    (``{"by", "note"}``) shows who and why; anything else is shown as it is.
    """
    if reason is None:
        return ""
    if isinstance(reason, dict) and isinstance(reason.get("hits"), list):
        matched: dict[str, list[str]] = {}
        for hit in reason["hits"]:
            if isinstance(hit, dict) and hit.get("matched"):
                words = matched.setdefault(str(hit.get("field") or "text"), [])
                if hit["matched"] not in words:
                    words.append(str(hit["matched"]))
        parts = [
            f"{field}: " + ", ".join(f'"{w}"' for w in words) for field, words in matched.items()
        ]
        if reason.get("via"):
            parts.append(f"via {reason['via']}")
        return "; ".join(parts) or str(reason.get("rule") or "")
    if isinstance(reason, dict) and "by" in reason:
        note = reason.get("note")
        return f"by {reason['by']}" + (f": {note}" if note else "")
    if isinstance(reason, str):
        return reason
    if isinstance(reason, list):
        return "; ".join(filter(None, (reason_text(item) for item in reason)))
    if isinstance(reason, dict):
        return ", ".join(f"{key}: {value}" for key, value in reason.items() if value)
    return json.dumps(reason, ensure_ascii=False)


def short_authors(article: Article, limit: int = 6) -> str:
    names = [a.display_name for a in article.authors if a.display_name]
    if len(names) > limit:
        return ", ".join(names[:limit]) + f", … ({len(names)} authors)"
    return ", ".join(names)


def citation(article: Article) -> str:
    """``Journal · 2018 May 17 · 378(20):1865-1876``."""
    parts = [article.journal_iso or article.journal_title or ""]
    if article.pub_date is not None:
        parts.append(article.pub_date.text)
    volume = article.volume or ""
    if article.issue:
        volume += f"({article.issue})"
    if article.pages:
        volume += f":{article.pages}"
    parts.append(volume)
    return " · ".join(p for p in parts if p)


def render_screen(view: ArticleView, *, heading: str = "", width: int = 100) -> str:
    """The triage screen for one article, as plain text lines."""
    article = view.article
    flags = [
        flag
        for flag, on in (
            ("TRIAL", view.stored.is_trial),
            ("RETRACTED", article.is_retracted),
            ("ERRATUM", article.has_erratum),
            ("NOT INDEXED", not article.is_indexed),
            ("DELETED FROM PUBMED", view.stored.deleted_at is not None),
        )
        if on
    ]
    top = f"── {heading + ' · ' if heading else ''}PMID {article.pmid} "
    if flags:
        top += "· " + " · ".join(flags) + " "
    lines = [top.ljust(width, "─")]
    lines += textwrap.wrap(article.title or "(no title)", width) or [""]
    if article.authors:
        lines += textwrap.wrap(short_authors(article), width)
    lines.append(citation(article))
    lines.append(
        f"Evidence: {view.stored.evidence_level or 'not tagged yet'}"
        + (f" · Trial: {', '.join(view.trial_ids)}" if view.trial_ids else "")
    )
    lines += _claims_block(view, width)
    if view.queries:
        lines.append(f"Found by: {', '.join(view.queries)}")
    if view.stored.same_work:
        lines.append("Same work as: " + ", ".join(f"PMID {p}" for p in view.stored.same_work))
    lines += _state_block(view.state)
    lines.append("")
    if article.abstract:
        for section in article.abstract:
            label = f"{section.label}: " if section.label else ""
            lines += textwrap.wrap(label + section.text, width) or [""]
    else:
        lines.append("(no abstract)")
    lines.append("")
    lines += [f"{label:<8} {url}" for label, url in article_links(article, view.trial_ids)]
    return "\n".join(lines)


def _claims_block(view: ArticleView, width: int) -> list[str]:
    if not view.claims:
        return ["Claims: none"]
    lines = ["Claims:"]
    for tag in view.claims:
        head = f"  {tag.claim_id} ({tag.source})"
        lines += textwrap.wrap(
            f"{head}: {tag.reason}" if tag.reason else head, width, subsequent_indent="      "
        )
    return lines


def _state_block(state: TriageState) -> list[str]:
    lines = []
    if state.decision is not None:
        decided = state.decision
        reason = f" ({decided.reason})" if decided.reason else ""
        lines.append(
            f"Decision: {decided.decision}{reason} by {decided.actor}, "
            f"{decided.at:%Y-%m-%d %H:%M} UTC"
        )
    if state.stances:
        lines.append(
            "Stances: " + ", ".join(f"{claim} {s}" for claim, s in sorted(state.stances.items()))
        )
    lines += [f"Note: {note}" for note in state.notes]
    return lines
