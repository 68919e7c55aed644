"""The interactive triage loop, free of terminal code.

``TriageSession`` walks the untriaged articles in triage order (newest trials
first, then by claim) and asks its ``SessionIO`` for one key per action. The
CLI passes an IO that prints and reads single keys; tests pass a scripted
double (as beets drives its importer). Every action is saved the moment it
is made, so quitting, a crash or a second curator loses nothing, and the next
session starts at the first article still untriaged.
"""

from __future__ import annotations

import webbrowser
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Engine

from .article_view import ArticleView, article_links, load_view, render_screen
from .errors import InputError
from .store import count_articles
from .triage import (
    Decision,
    Stance,
    TagAction,
    last_decision,
    record_decision,
    record_note,
    record_stance,
    tag_article,
    triage_queue,
    undo,
)


class Key(StrEnum):
    INCLUDE = "i"
    EXCLUDE = "e"
    MAYBE = "m"
    SKIP = "s"
    NOTE = "n"
    STANCE = "c"
    TAG = "t"
    UNDO = "u"
    OPEN = "o"
    QUIT = "q"
    HELP = "?"


KEY_HELP = {
    Key.INCLUDE: "include",
    Key.EXCLUDE: "exclude",
    Key.MAYBE: "maybe",
    Key.SKIP: "skip",
    Key.NOTE: "note",
    Key.STANCE: "stance on a claim",
    Key.TAG: "add/remove curator tag",
    Key.UNDO: "undo last decision",
    Key.OPEN: "open in browser",
    Key.QUIT: "quit",
    Key.HELP: "help",
}
PROMPT = "[i]nclude [e]xclude [m]aybe [s]kip [n]ote [c]laim stance [t]ag [u]ndo [o]pen [q]uit"
REFRESH_EVERY = 20  # screens between two counts of the untriaged articles
STANCE_KEYS = {"s": Stance.SUPPORTS, "c": Stance.CONTRADICTS, "n": Stance.NEUTRAL}


class SessionIO(Protocol):
    """What the session needs from a terminal (or from a test script)."""

    def show(self, text: str) -> None:
        """Print a screen or a message."""

    def key(self, prompt: str, choices: str) -> str:
        """One key, always one of ``choices``."""

    def line(self, prompt: str) -> str:
        """A line of text; empty to cancel."""


@dataclass(frozen=True)
class ClaimChoice:
    id: str
    label: str = ""


@dataclass
class SessionSummary:
    decisions: Counter[str] = field(default_factory=Counter)
    notes: int = 0
    stances: int = 0
    tag_changes: int = 0
    undone: int = 0
    skipped: int = 0
    finished: bool = False  # nothing left untriaged (rather than quit)

    def describe(self) -> str:
        made = ", ".join(f"{n} {d}" for d, n in sorted(self.decisions.items())) or "no decisions"
        extras = [
            f"{n} {what if n == 1 else plural}"
            for n, what, plural in (
                (self.notes, "note", "notes"),
                (self.stances, "stance", "stances"),
                (self.tag_changes, "tag change", "tag changes"),
                (self.undone, "undone", "undone"),
                (self.skipped, "skipped", "skipped"),
            )
            if n
        ]
        return "; ".join([made, *extras])


class _Next(StrEnum):
    """What to do after a key: stay on the article, move on, or stop."""

    STAY = "stay"
    MOVE = "move"
    QUIT = "quit"


class TriageSession:
    """One curator's pass over the untriaged articles."""

    def __init__(
        self,
        engine: Engine,
        io: SessionIO,
        *,
        actor: str,
        reasons: Sequence[str],
        claims: Sequence[ClaimChoice] = (),
        open_url: Callable[[str], object] = webbrowser.open,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        width: int = 100,
    ) -> None:
        self.engine = engine
        self.io = io
        self.actor = actor
        self.reasons = list(reasons)
        self.claims = list(claims)
        self.open_url = open_url
        self.clock = clock
        self.width = width
        self.summary = SessionSummary()
        self._skipped: dict[int, str] = {}  # article id -> PMID, passed over this session
        self._again: list[str] = []  # PMIDs to show next (an undone decision)
        # Untriaged count for the heading: counting is slow on a large database
        # (~0.5 s for a million articles), so it is kept up to date locally and
        # recounted every REFRESH_EVERY screens to see other curators' work.
        self._left: int | None = None
        self._screens = 0

    def run(self) -> SessionSummary:
        while True:
            view = self._next_view()
            if view is None:
                self.summary.finished = True
                left = f" ({len(self._skipped)} skipped this session)" if self._skipped else ""
                self.io.show(f"Nothing left to triage{left}.")
                break
            if self._handle(view) is _Next.QUIT:
                break
        self.io.show(f"Saved: {self.summary.describe()}.")
        return self.summary

    # -- the article loop ---------------------------------------------------------

    def _next_view(self) -> ArticleView | None:
        while self._again:
            view = load_view(self.engine, self._again.pop())
            if view is not None:
                return view
        for pmid in triage_queue(self.engine, limit=1, skip=self._skipped.keys()):
            return load_view(self.engine, pmid)
        return None

    def _handle(self, view: ArticleView) -> _Next:
        self._show(view)
        while True:
            choice = Key(self.io.key(PROMPT, "".join(k.value for k in Key)))
            outcome = self._act(choice, view)
            if outcome is not _Next.STAY:
                return outcome
            refreshed = load_view(self.engine, view.stored.pmid)
            if refreshed is None:  # cannot happen: articles are never deleted
                return _Next.MOVE
            if refreshed != view:
                view = refreshed
                self._show(view)

    def _show(self, view: ArticleView) -> None:
        if self._left is None or self._screens % REFRESH_EVERY == 0:
            self._left = count_articles(self.engine, untriaged=True)
        self._screens += 1
        heading = f"{self._left} untriaged" if view.stored.decision is None else "decided"
        self.io.show(render_screen(view, heading=heading, width=self.width))

    def _act(self, choice: Key, view: ArticleView) -> _Next:
        pmid = view.stored.pmid
        match choice:
            case Key.INCLUDE:
                return self._decide(view, Decision.INCLUDE)
            case Key.MAYBE:
                return self._decide(view, Decision.MAYBE)
            case Key.EXCLUDE:
                reason = self._pick_reason()
                if reason is None:
                    return _Next.STAY
                return self._decide(view, Decision.EXCLUDE, reason)
            case Key.SKIP:
                self._skipped[view.stored.id] = pmid
                self.summary.skipped += 1
                return _Next.MOVE
            case Key.NOTE:
                text = self.io.line("Note (empty to cancel)").strip()
                if text:
                    record_note(self.engine, pmid, text, actor=self.actor, now=self.clock())
                    self.summary.notes += 1
                return _Next.STAY
            case Key.STANCE:
                self._set_stance(view)
                return _Next.STAY
            case Key.TAG:
                self._toggle_tag(view)
                return _Next.STAY
            case Key.UNDO:
                return self._undo(view)
            case Key.OPEN:
                for _label, url in article_links(view.article, view.trial_ids)[:1]:
                    self.open_url(url)
                    self.io.show(f"Opened {url}")
                return _Next.STAY
            case Key.QUIT:
                return _Next.QUIT
            case Key.HELP:
                self.io.show("\n".join(f"  {k.value}  {text}" for k, text in KEY_HELP.items()))
                return _Next.STAY

    # -- actions --------------------------------------------------------------------

    def _decide(self, view: ArticleView, decision: Decision, reason: str | None = None) -> _Next:
        event = record_decision(
            self.engine,
            view.stored.pmid,
            decision,
            actor=self.actor,
            reason=reason,
            now=self.clock(),
        )
        self.summary.decisions[decision.value] += 1
        if self._left is not None and event.previous_decision is None:
            self._left = max(self._left - 1, 0)
        # Another curator may have decided while this screen was open: say so.
        if event.previous_decision is not None and view.stored.decision is None:
            self.io.show(
                f"PMID {view.stored.pmid} had just been marked {event.previous_decision} "
                f"by someone else; your {decision.value} is now the current decision."
            )
        return _Next.MOVE

    def _pick_reason(self) -> str | None:
        menu = "\n".join(f"  {n}. {reason}" for n, reason in enumerate(self.reasons, 1))
        self.io.show(f"Exclusion reason:\n{menu}" if menu else "Exclusion reason:")
        while True:
            answer = self.io.line("Number or your own reason (empty to cancel)").strip()
            if not answer:
                return None
            if answer.isdigit():
                index = int(answer)
                if 1 <= index <= len(self.reasons):
                    return self.reasons[index - 1]
                self.io.show(f"No reason {index}: pick 1 to {len(self.reasons)}.")
                continue
            return answer

    def _pick_claim(self, view: ArticleView, prompt: str) -> str | None:
        choices = self._claim_choices(view)
        self.io.show(
            "Claims:\n"
            + "\n".join(
                f"  {n}. {c.id}" + (f" — {c.label}" if c.label else "")
                for n, c in enumerate(choices, 1)
            )
        )
        known = {c.id for c in choices}
        while True:
            answer = self.io.line(f"{prompt}: number or claim id (empty to cancel)").strip()
            if not answer:
                return None
            if answer.isdigit() and 1 <= int(answer) <= len(choices):
                return choices[int(answer) - 1].id
            if answer in known or not self.claims:  # no catalogue: any id
                return answer
            self.io.show(f"Unknown claim {answer!r}.")

    def _claim_choices(self, view: ArticleView) -> list[ClaimChoice]:
        """The article's own claims first, then the rest of the catalogue."""
        labels = {c.id: c.label for c in self.claims}
        own = [ClaimChoice(c, labels.get(c, "")) for c in view.claim_ids]
        return own + [c for c in self.claims if c.id not in view.claim_ids]

    def _set_stance(self, view: ArticleView) -> None:
        claim = self._pick_claim(view, "Stance on which claim")
        if claim is None:
            return
        key = self.io.key(f"{claim}: [s]upports [c]ontradicts [n]eutral, [x] cancel", "scnx")
        if key == "x":
            return
        record_stance(
            self.engine,
            view.stored.pmid,
            claim,
            STANCE_KEYS[key],
            actor=self.actor,
            now=self.clock(),
        )
        self.summary.stances += 1

    def _toggle_tag(self, view: ArticleView) -> None:
        claim = self._pick_claim(view, "Add or remove curator tag")
        if claim is None:
            return
        tagged = any(c.claim_id == claim and c.source == "curator" for c in view.claims)
        action = TagAction.REMOVE if tagged else TagAction.ADD
        try:
            tag_article(
                self.engine, view.stored.pmid, claim, action, actor=self.actor, now=self.clock()
            )
        except InputError as exc:  # another curator changed the tag meanwhile
            self.io.show(str(exc))
            return
        self.summary.tag_changes += 1
        self.io.show(f"Curator tag {claim} {'removed' if tagged else 'added'}.")

    def _undo(self, view: ArticleView) -> _Next:
        event = last_decision(self.engine, actor=self.actor)
        if event is None:
            self.io.show("Nothing to undo.")
            return _Next.STAY
        undone = undo(self.engine, event.id, actor=self.actor, now=self.clock())
        self.summary.undone += 1
        if self._left is not None and undone.decision is None:
            self._left += 1
        self.io.show(
            f"Undid {event.decision} on PMID {event.pmid}; "
            f"it is now {undone.decision or 'untriaged'}."
        )
        if event.pmid == view.stored.pmid:
            return _Next.STAY
        # Back to the article whose decision was undone; this one comes again after it.
        self._again += [view.stored.pmid, event.pmid]
        return _Next.MOVE
