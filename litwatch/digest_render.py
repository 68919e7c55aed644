"""Rendering a digest: Jinja templates to one multipart/alternative email.

The templates (``digest.txt.j2``, ``digest.html.j2``) only lay out what the
view records below already say; every decision (order, labels, links,
excerpts, which markup is safe) is made here in Python. The HTML template is
autoescaped and every variable must exist (``StrictUndefined``), so a typo in
a customised template fails loudly instead of sending a blank.

Header safety: every header value is folded to one line before it is set, so
no name, title or template can add a header (``EmailMessage`` would refuse a
line break anyway; folding keeps the message sendable).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup

from .article import RETRACTION_NOTICE_TYPES, Article
from .config import check_subject_template
from .digest_format import (
    article_links,
    authors_line,
    badges,
    evidence_label,
    excerpt,
    plain_text,
    pubmed_url,
    registry_url,
    safe_markup,
    source_line,
    title_markup,
)
from .digest_model import ERRATUM, RETRACTED, ClaimRef, Counts, Digest, Entry, Update
from .errors import ConfigError
from .resources import bundled_dir

TEXT_TEMPLATE = "digest.txt.j2"
HTML_TEMPLATE = "digest.html.j2"
DEFAULT_SENDER = "litwatch@localhost"

# -- view records (what the templates see) -------------------------------------------


@dataclass(frozen=True)
class ClaimView:
    id: str
    label: str
    status: str | None
    reason: str
    source: str  # rule | curator


@dataclass(frozen=True)
class EntryView:
    pmid: str
    title_html: Markup
    title_text: str
    authors: str
    source: str
    level: str
    level_id: str
    is_trial: bool
    registries: list[tuple[str, str | None]]
    claims: list[ClaimView]
    also: list[str]  # labels of the entry's other claims, inside a claim group
    queries: list[str]
    links: list[tuple[str, str]]
    badges: list[tuple[str, str]]
    excerpt_label: str
    excerpt_html: Markup
    excerpt_text: str
    same_work: list[tuple[str, str]]
    first_seen: str


@dataclass(frozen=True)
class GroupView:
    label: str
    status: str | None
    statement: str | None
    entries: list[EntryView]


@dataclass(frozen=True)
class UpdateView:
    kind: str
    headline: str
    entry: EntryView
    first_sent: str | None
    detail: str
    notice: tuple[str, str] | None  # (label, PubMed link) of the notice or new paper
    linked: EntryView | None


@dataclass(frozen=True)
class ScoreView:
    label: str
    status: str | None
    total: int
    trials: int
    new: int
    retracted: int
    levels: list[tuple[str, int]]
    stances: str  # "curators: 2 supports, 1 contradicts", or ""


@dataclass(frozen=True)
class DigestView:
    name: str
    subject: str
    period: str
    period_start: str
    period_end: str
    first: bool
    counts: Counts
    summary: str
    trials: list[EntryView]
    groups: list[GroupView]
    updates: list[UpdateView]
    scoreboard: list[ScoreView]
    queries: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    held_back: int
    max_entries: int
    preheader: str


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    text: str
    html: str


# -- formatting helpers --------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def one_line(value: object) -> str:
    """Control characters and line breaks become single spaces (header- and layout-safe)."""
    return " ".join(_CONTROL.sub(" ", str(value)).split())


def format_period(start: datetime, end: datetime) -> str:
    """``17–23 Nov 2026``, ``28 Nov – 4 Dec 2026``, ``28 Dec 2026 – 3 Jan 2027`` (UTC days)."""
    a, b = start.date(), end.date()
    if a == b:
        return _day(b)
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day}–{_day(b)}"
    if a.year == b.year:
        return f"{a.day} {a:%b} – {_day(b)}"
    return f"{_day(a)} – {_day(b)}"


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def format_time(value: datetime | None) -> str:
    return f"{value.day} {value:%b %Y %H:%M} UTC" if value else ""


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def summary_line(counts: Counts) -> str:
    """``2 new trials, 14 new papers, 1 update`` (zeros left out), or ``nothing new``."""
    parts = []
    if counts.new_trials:
        parts.append(_plural(counts.new_trials, "new trial"))
    if counts.new_papers:
        parts.append(_plural(counts.new_papers, "new paper"))
    if counts.updated:
        parts.append(_plural(counts.updated, "update"))
    return ", ".join(parts) or "nothing new"


def subject_for(digest: Digest) -> str:
    template = digest.settings.subject
    try:
        check_subject_template(template)
    except ValueError as exc:
        raise ConfigError("litwatch.toml", f"[[digest]] {digest.name}: {exc}") from exc
    counts = digest.counts
    values: Mapping[str, object] = {
        "name": digest.name,
        "period": format_period(digest.period_start, digest.period_end),
        "summary": summary_line(counts),
        "new_trials": counts.new_trials,
        "new_papers": counts.new_papers,
        "new_total": counts.new_total,
        "updated": counts.updated,
        "retracted": counts.retracted,
    }
    return one_line(template.format_map(values))


# -- building the views ------------------------------------------------------------------


def _claim_views(entry: Entry) -> list[ClaimView]:
    return [
        ClaimView(t.claim.id, t.claim.label, t.claim.status, t.reason, t.source) for t in entry.tags
    ]


def entry_view(entry: Entry, group: ClaimRef | None = None) -> EntryView:
    article = entry.article
    label, excerpt_markup = excerpt(article)
    claims = _claim_views(entry)
    if group is not None:  # the group's own claim first, then the others
        claims.sort(key=lambda c: c.id != group.id)
    return EntryView(
        pmid=article.pmid,
        title_html=title_markup(article),
        title_text=one_line(article.title or "(no title)"),
        authors=one_line(authors_line(article)),
        source=one_line(source_line(article)),
        level=evidence_label(entry.evidence_level),
        level_id=entry.evidence_level or "unclassified",
        is_trial=entry.is_trial,
        registries=[(one_line(r), registry_url(r)) for r in entry.registry_ids],
        claims=claims,
        also=[c.label for c in entry.claims if group is not None and c.id != group.id],
        queries=[one_line(q) for q in entry.queries],
        links=article_links(article),
        badges=badges(article),
        excerpt_label=label,
        excerpt_html=safe_markup(excerpt_markup),
        excerpt_text=one_line(plain_text(excerpt_markup)),
        same_work=[(p, pubmed_url(p)) for p in entry.same_work],
        first_seen=format_time(entry.first_seen),
    )


def _notice(article: Article, ref_types: frozenset[str]) -> tuple[str, str] | None:
    for link in article.comments_corrections:
        if link.ref_type in ref_types and link.pmid:
            return (f"PMID {link.pmid}", pubmed_url(link.pmid))
    return None


def update_view(update: Update) -> UpdateView:
    entry = entry_view(update.entry)
    article = update.entry.article
    first_sent = format_time(update.first_sent) if update.first_sent else None
    if update.kind == RETRACTED:
        return UpdateView(
            RETRACTED,
            "Retracted",
            entry,
            first_sent,
            "This paper has been retracted. Do not rely on its results.",
            _notice(article, RETRACTION_NOTICE_TYPES),
            None,
        )
    if update.kind == ERRATUM:
        return UpdateView(
            ERRATUM,
            "Erratum published",
            entry,
            first_sent,
            "A correction to this paper has been published.",
            _notice(article, frozenset({"ErratumIn", "CorrectedandRepublishedIn"})),
            None,
        )
    linked = entry_view(update.linked) if update.linked else None
    shared = ", ".join(update.shared_ids) or "the same registry number"
    what = f"{linked.level.lower()}: {linked.title_text}" if linked else "a new publication"
    return UpdateView(
        "linked",
        "New publication from the same trial",
        entry,
        first_sent,
        f"Trial {shared} has a new publication ({what}).",
        (f"PMID {linked.pmid}", pubmed_url(linked.pmid)) if linked else None,
        linked,
    )


def digest_view(digest: Digest, subject: str) -> DigestView:
    counts = digest.counts
    groups = [
        GroupView(
            label=g.claim.label if g.claim else "New papers not tagged to a claim",
            status=g.claim.status if g.claim else None,
            statement=g.claim.statement if g.claim else None,
            entries=[entry_view(e, g.claim) for e in g.entries],
        )
        for g in digest.groups
    ]
    scoreboard = [
        ScoreView(
            label=row.claim.label,
            status=row.claim.status,
            total=row.total,
            trials=row.trials,
            new=row.new,
            retracted=row.retracted,
            levels=[(evidence_label(level), n) for level, n in row.by_level],
            stances=(
                "curators: " + ", ".join(f"{n} {stance}" for stance, n in row.stances)
                if row.stances
                else ""
            ),
        )
        for row in digest.scoreboard
    ]
    queries = [
        {
            "name": one_line(q.name),
            "searches": q.searches,
            "last_started": format_time(q.last_started),
            "status": q.last_status,
            "found": q.found,
            "new": q.new,
        }
        for q in digest.queries
    ]
    failures = [
        {
            "name": one_line(f.name),
            "when": format_time(f.started_at),
            "error": one_line(f.error),
            "recovered": f.recovered,
        }
        for f in digest.failures
    ]
    period = format_period(digest.period_start, digest.period_end)
    summary = summary_line(counts)
    return DigestView(
        name=one_line(digest.name),
        subject=subject,
        period=period,
        period_start=format_time(digest.period_start),
        period_end=format_time(digest.period_end),
        first=digest.first,
        counts=counts,
        summary=summary,
        trials=[entry_view(e) for e in digest.new_trials],
        groups=groups,
        updates=[update_view(u) for u in digest.updates],
        scoreboard=scoreboard,
        queries=queries,
        failures=failures,
        held_back=digest.held_back,
        max_entries=digest.settings.max_entries,
        preheader=f"{summary[0].upper()}{summary[1:]} · {period}",
    )


# -- templates ---------------------------------------------------------------------------


@lru_cache(maxsize=8)
def environment(templates_dir: Path | None) -> Environment:
    """Templates from ``templates_dir`` first, then the bundled ones (so one may be customised)."""
    loaders = [FileSystemLoader(str(templates_dir))] if templates_dir else []
    loaders.append(FileSystemLoader(str(bundled_dir("templates"))))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2", "htm")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["oneline"] = one_line
    return env


def render_parts(digest: Digest, templates_dir: Path | None = None) -> RenderedDigest:
    subject = subject_for(digest)
    view = digest_view(digest, subject)
    env = environment(templates_dir)
    text = env.get_template(TEXT_TEMPLATE).render(digest=view)
    html = env.get_template(HTML_TEMPLATE).render(digest=view)
    return RenderedDigest(subject, text, html)


def compose(
    rendered: RenderedDigest,
    *,
    digest_name: str,
    sender: str,
    recipients: tuple[str, ...],
    message_id: str,
    when: datetime,
) -> EmailMessage:
    """One multipart/alternative message: the text part first, the HTML part preferred."""
    message = EmailMessage()
    message["From"] = one_line(sender)
    message["To"] = ", ".join(one_line(r) for r in recipients) or "undisclosed-recipients:;"
    message["Subject"] = one_line(rendered.subject)
    message["Date"] = format_datetime(when)
    message["Message-ID"] = one_line(message_id)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    message["X-Litwatch-Digest"] = one_line(digest_name)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def render(
    digest: Digest,
    templates_dir: Path | None = None,
    *,
    sender: str = DEFAULT_SENDER,
    message_id: str | None = None,
    when: datetime | None = None,
) -> EmailMessage:
    """The digest as an email to its configured recipients (the contract's entry point)."""
    return compose(
        render_parts(digest, templates_dir),
        digest_name=digest.name,
        sender=sender,
        recipients=digest.settings.recipients,
        message_id=message_id or digest.message_id(sender),
        when=when or digest.period_end,
    )
