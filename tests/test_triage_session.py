"""The interactive triage loop, driven key by key through a scripted IO double."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from triage_data import T0, add_hits, add_tag, article, decision_column, save, set_tagging, trial

from litwatch.article import AbstractSection
from litwatch.db import open_database
from litwatch.triage import curator_tags, history, record_decision, triage_states
from litwatch.triage_session import ClaimChoice, SessionSummary, TriageSession

# What the tagger stores in tags.reason (litwatch.tagging.ClaimTag.reason).
TAGGER_REASON = {
    "rule": 'ketamin*[tiab] AND ("writer\'s cramp"[tiab] OR NCT*[si])',
    "hits": [
        {"field": "title", "tag": "tiab", "term": "ketamin*", "matched": "ketamine"},
        {"field": "title", "tag": "tiab", "term": "writer's cramp", "matched": "writer's cramp"},
        {"field": "title", "tag": "tiab", "term": "ketamin*", "matched": "ketamine"},
        {"field": "abstract", "tag": "si", "term": "NCT*", "matched": "NCT01234567"},
    ],
}
REASONS = ("wrong population", "wrong intervention", "wrong design")
CLAIMS = (
    ClaimChoice("plausible-mechanism", "Biologically plausible mechanism"),
    ClaimChoice("trials-needed", "Clinical trials are urgently needed"),
)


class ScriptedIO:
    """Answers prompts from a script and keeps everything the session showed."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.shown: list[str] = []
        self.prompts: list[str] = []

    def show(self, text: str) -> None:
        self.shown.append(text)

    def key(self, prompt: str, choices: str) -> str:
        answer = self._next(prompt)
        assert len(answer) == 1, f"{answer!r} is not one key (prompt: {prompt})"
        assert answer in choices, f"{answer!r} not offered by {prompt!r} ({choices})"
        return answer

    def line(self, prompt: str) -> str:
        return self._next(prompt)

    def _next(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise AssertionError(f"script ran out at prompt {prompt!r}")
        return self.answers.pop(0)

    def screens(self) -> list[str]:
        """The PMID of each article screen, in the order shown."""
        return [text.split("PMID ")[1].split()[0] for text in self.shown if text.startswith("──")]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    """Four untriaged articles whose triage order is 104 (a trial), 103, 102, 101."""
    engine = open_database(f"sqlite:///{tmp_path / 'litwatch.db'}")
    save(
        engine,
        article("101"),
        article("102"),
        article("103"),
        trial("104", "NCT01234567"),
        step=timedelta(hours=1),
    )
    set_tagging(engine, "104", evidence_level="rct", is_trial=True, registry_ids=["NCT01234567"])
    yield engine
    engine.dispose()


def run(engine: Engine, io: ScriptedIO, actor: str = "ana", **options: object) -> SessionSummary:
    session = TriageSession(
        engine,
        io,
        actor=actor,
        reasons=REASONS,
        claims=CLAIMS,
        clock=lambda: T0,
        **options,  # type: ignore[arg-type]
    )
    summary = session.run()
    assert not io.answers, f"script not used up: {io.answers}"
    return summary


def decisions(engine: Engine) -> dict[str, tuple[str, str | None]]:
    return {
        pmid: (state.decision.decision, state.decision.reason)
        for pmid, state in triage_states(engine).items()
        if state.decision is not None
    }


def test_include_exclude_with_picked_or_typed_reason_and_maybe(db: Engine) -> None:
    io = ScriptedIO("i", "e", "2", "e", "animal study only", "m")
    summary = run(db, io)

    assert io.screens() == ["104", "103", "102", "101"]
    assert decisions(db) == {
        "104": ("include", None),
        "103": ("exclude", "wrong intervention"),
        "102": ("exclude", "animal study only"),
        "101": ("maybe", None),
    }
    assert summary.finished
    assert dict(summary.decisions) == {"include": 1, "exclude": 2, "maybe": 1}
    assert io.shown[-2] == "Nothing left to triage."
    assert io.shown[-1] == "Saved: 2 exclude, 1 include, 1 maybe."


def test_every_decision_is_saved_at_once(db: Engine) -> None:
    class Watching(ScriptedIO):
        def key(self, prompt: str, choices: str) -> str:
            self.seen.append(decision_column(db, "104")[0])
            return super().key(prompt, choices)

    io = Watching("i", "q")
    io.seen = []  # type: ignore[attr-defined]
    run(db, io)
    # At the second prompt (on the next article) the first decision is already committed.
    assert io.seen == [None, "include"]  # type: ignore[attr-defined]


def test_exclusion_reason_can_be_cancelled_or_corrected(db: Engine) -> None:
    io = ScriptedIO("e", "", "e", "7", "1", "q")
    run(db, io)
    assert "No reason 7: pick 1 to 3." in io.shown
    assert any("  1. wrong population\n  2. wrong intervention" in text for text in io.shown)
    assert decisions(db) == {"104": ("exclude", "wrong population")}


def test_skip_moves_on_without_deciding_and_skipped_articles_return_next_session(
    db: Engine,
) -> None:
    io = ScriptedIO("s", "s", "i", "s")
    summary = run(db, io)
    assert io.screens() == ["104", "103", "102", "101"]
    assert decisions(db) == {"102": ("include", None)}
    assert summary.skipped == 3
    assert io.shown[-2] == "Nothing left to triage (3 skipped this session)."

    again = ScriptedIO("q")
    run(db, again)
    assert again.screens() == ["104"]


def test_quit_then_a_new_session_resumes_at_the_next_untriaged_article(db: Engine) -> None:
    first = ScriptedIO("i", "m", "q")
    summary = run(db, first)
    assert not summary.finished
    assert first.screens() == ["104", "103", "102"]

    second = ScriptedIO("e", "3", "i")
    run(db, second, actor="ben")
    assert second.screens() == ["102", "101"]
    assert decisions(db) == {
        "104": ("include", None),
        "103": ("maybe", None),
        "102": ("exclude", "wrong design"),
        "101": ("include", None),
    }


def test_note_stance_and_curator_tag_stay_on_the_article(db: Engine) -> None:
    add_tag(db, "104", "trials-needed", {"rule": "trials-needed", "matched": "NCT01234567"})
    io = ScriptedIO(
        "n", "Check dose: 0.5 mg/kg.",
        "n", "",  # an empty note is cancelled
        "c", "1", "s",  # 1 = the article's own claim, listed first
        "c", "plausible-mechanism", "x",  # cancelled at the stance key
        "t", "2",  # tag plausible-mechanism (the rest of the catalogue follows)
        "t", "plausible-mechanism",  # and untag it again
        "t", "no-such-claim", "",
        "i", "q",
    )  # fmt: skip
    summary = run(db, io)

    state = triage_states(db, ["104"])["104"]
    assert state.notes == ["Check dose: 0.5 mg/kg."]
    assert state.stances == {"trials-needed": "supports"}
    assert curator_tags(db, "104") == []
    assert [e.describe() for e in history(db, "104")] == [
        "note: Check dose: 0.5 mg/kg.",
        "trials-needed: supports",
        "add tag plausible-mechanism",
        "remove tag plausible-mechanism",
        "include",
    ]
    assert io.screens()[:1] == ["104"]
    assert "Unknown claim 'no-such-claim'." in io.shown
    assert "Curator tag plausible-mechanism added." in io.shown
    claims_menu = next(text for text in io.shown if text.startswith("Claims:\n"))
    assert claims_menu.splitlines()[1:] == [
        "  1. trials-needed — Clinical trials are urgently needed",
        "  2. plausible-mechanism — Biologically plausible mechanism",
    ]
    assert (summary.notes, summary.stances, summary.tag_changes) == (1, 1, 2)
    # The screen is redrawn after each change, showing the note and the stance.
    assert any("Note: Check dose: 0.5 mg/kg." in text for text in io.shown if text.startswith("──"))
    assert any("Stances: trials-needed supports" in text for text in io.shown)


def test_undo_goes_back_to_the_article_and_makes_it_untriaged_again(db: Engine) -> None:
    io = ScriptedIO("i", "e", "1", "u", "m", "u", "u", "u", "i", "q")
    summary = run(db, io)
    # 104 include, 103 exclude; on 102 undo -> back to 103, now maybe; on 102 again
    # undo (103's maybe) -> 103; there undo (104's include) -> 104; there nothing is
    # left to undo, so include it again; then 103 comes back, and quit.
    assert io.screens() == ["104", "103", "102", "103", "102", "103", "104", "103"]
    assert "Nothing to undo." in io.shown
    assert [e.describe() for e in history(db, "103")][-1].startswith("undo #")
    assert decisions(db) == {"104": ("include", None)}
    assert summary.undone == 3


def test_undo_reaches_back_to_a_decision_made_in_an_earlier_session(db: Engine) -> None:
    record_decision(db, "104", "exclude", actor="ana", reason="wrong design", now=T0)
    io = ScriptedIO("u", "i", "q")
    run(db, io)
    # 103 comes first (104 is decided); undo brings 104 back on screen, to be included.
    assert io.screens() == ["103", "104", "103"]
    assert decisions(db) == {"104": ("include", None)}
    assert any(text == "Undid exclude on PMID 104; it is now untriaged." for text in io.shown)


def test_undo_only_touches_the_curators_own_decisions(db: Engine) -> None:
    record_decision(db, "104", "include", actor="ben", now=T0)
    io = ScriptedIO("u", "q")
    run(db, io)
    assert "Nothing to undo." in io.shown
    assert decisions(db) == {"104": ("include", None)}


def test_open_uses_the_injected_browser_and_help_lists_the_keys(db: Engine) -> None:
    opened: list[str] = []
    io = ScriptedIO("o", "?", "q")
    run(db, io, open_url=opened.append)
    assert opened == ["https://pubmed.ncbi.nlm.nih.gov/104/"]
    help_text = next(text for text in io.shown if text.startswith("  i  include"))
    assert [line.split()[0] for line in help_text.splitlines()] == list("iemsnctuoq?")


def test_the_screen_shows_what_a_curator_needs(db: Engine) -> None:
    from litwatch.store import save_articles

    save_articles(
        db,
        [
            trial(
                "104",
                "NCT01234567",
                doi="10.1002/mds.99999",
                pmcid="PMC1234567",
                abstract=(
                    AbstractSection("Twelve adults with writer's cramp.", "…", "METHODS"),
                    AbstractSection("Spasm severity fell by 40%.", "…", "RESULTS"),
                ),
                history={"entrez": T0.date()},
            )
        ],
        now=T0 + timedelta(days=1),
    )
    add_tag(db, "104", "trials-needed", TAGGER_REASON)
    add_tag(db, "104", "plausible-mechanism", {"by": "ben", "note": "MEPs"}, source="curator")
    add_hits(db, "ketamine-focal-dystonia", ["104"])
    add_hits(db, "nmda-neurorehabilitation", ["104", "103"])
    io = ScriptedIO("q")
    run(db, io)

    screen = io.shown[0]
    lines = screen.splitlines()
    assert lines[0].startswith("── 4 untriaged · PMID 104 · TRIAL · NOT INDEXED ─")
    assert (
        lines[1] == "Low-dose ketamine with occupational therapy for writer's cramp (NCT01234567)."
    )
    assert lines[2] == "Lindqvist Å, Okafor C"
    assert lines[3] == "Mov Disord · 2026 Mar 14 · 41(3):201-209"
    assert lines[4] == "Evidence: rct · Trial: NCT01234567"
    assert lines[5:8] == [
        "Claims:",
        "  plausible-mechanism (curator): by ben: MEPs",
        '  trials-needed (rule): title: "ketamine", "writer\'s cramp"; abstract: "NCT01234567"',
    ]
    assert "Found by: ketamine-focal-dystonia, nmda-neurorehabilitation" in lines
    assert "METHODS: Twelve adults with writer's cramp." in lines
    assert "RESULTS: Spasm severity fell by 40%." in lines
    assert lines[-4:] == [
        "PubMed   https://pubmed.ncbi.nlm.nih.gov/104/",
        "DOI      https://doi.org/10.1002/mds.99999",
        "PMC      https://pmc.ncbi.nlm.nih.gov/articles/PMC1234567/",
        "NCT01234567 https://clinicaltrials.gov/study/NCT01234567",
    ]


def test_a_decision_made_meanwhile_by_another_curator_is_reported(db: Engine) -> None:
    class Racing(ScriptedIO):
        def key(self, prompt: str, choices: str) -> str:
            if not self.prompts:  # ben decides while ana looks at the first screen
                record_decision(db, "104", "exclude", actor="ben", reason="wrong design", now=T0)
            return super().key(prompt, choices)

    io = Racing("i", "q")
    run(db, io)
    assert (
        "PMID 104 had just been marked exclude by someone else; "
        "your include is now the current decision."
    ) in io.shown
    assert [(e.actor, e.decision) for e in history(db, "104")] == [
        ("ben", "exclude"),
        ("ana", "include"),
    ]
