"""One count of the evidence per claim: ``claims show``, ``report claims`` and the digest
scoreboard give the same answer to the same question (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from digest_fixtures import CLAIMS, SEND1, WEEK1, article, seed_week1, tag_articles
from sqlalchemy import Engine

from litwatch.claims import descendants_of, load_catalogue
from litwatch.claims_report import claims_report, claims_to_match
from litwatch.config import DigestSettings
from litwatch.digest_model import ClaimRef, Digest
from litwatch.digest_select import select_digest
from litwatch.resources import bundled_dir
from litwatch.store import mark_deleted, save_articles
from litwatch.store.reads import list_articles
from litwatch.store.tags import ClaimEvidence, claim_evidence, count_claim_evidence
from litwatch.triage import record_stance, tag_article


def seed(engine: Engine) -> None:
    """Week 1 of the digest fixtures, plus: the excluded 90000007 and an article with no
    evidence level yet (90000050) on plausible-mechanism, a deleted citation on
    trials-needed, a stance. 90000006 (on other-movement-disorders) is retracted."""
    seed_week1(engine)
    save_articles(
        engine, [article("90000050", "Unclassified"), article("90000051", "Gone")], now=WEEK1
    )
    tag_articles(
        engine,
        [
            ("90000007", "other", False, [], [("plausible-mechanism", {"hits": []})]),
            ("90000050", None, False, [], [("plausible-mechanism", {"hits": []})]),  # type: ignore[list-item]
            ("90000051", "rct", True, [], [("trials-needed", {"hits": []})]),
        ],
        WEEK1,
    )
    mark_deleted(engine, ["90000051"], now=WEEK1)
    record_stance(engine, "90000004", "plausible-mechanism", "supports", actor="ana", now=SEND1)


def figures(item: ClaimEvidence) -> dict[str, Any]:
    """The figures every view shows, zero counts left out."""
    return {
        "articles": item.articles,
        "by_level": {k: v for k, v in item.by_level.items() if v},
        "trials": item.trials,
        "retracted": item.retracted,
        "curator_tagged": item.curator_tagged,
        "decisions": {k: v for k, v in item.decisions.items() if v},
        "stances": dict(item.stances),
    }


def test_the_counts_with_and_without_retracted_and_excluded(engine: Engine) -> None:
    seed(engine)
    every = count_claim_evidence(engine)
    assert figures(every["plausible-mechanism"]) == {
        "articles": 4,  # 90000004, 90000008 (imported), 90000007 (excluded), 90000050
        "by_level": {"animal": 1, "other": 3},  # no level yet counts as "other"
        "trials": 0,
        "retracted": 0,
        "curator_tagged": 0,
        "decisions": {"exclude": 1, "untriaged": 3},
        "stances": {"supports": 1},
    }
    assert every["plausible-mechanism"].included_by_level == {}
    assert figures(every["other-movement-disorders"])["articles"] == 3
    assert every["other-movement-disorders"].retracted == 1
    assert every["other-movement-disorders"].curator_tagged == 1
    assert every["trials-needed"].articles == 2  # the deleted citation never counts

    shown = count_claim_evidence(
        engine, ["plausible-mechanism", "other-movement-disorders", "neurorehab-window"],
        include_retracted=False, include_excluded=False,
    )  # fmt: skip
    assert list(shown) == ["plausible-mechanism", "other-movement-disorders", "neurorehab-window"]
    assert figures(shown["plausible-mechanism"])["by_level"] == {"animal": 1, "other": 2}
    other = figures(shown["other-movement-disorders"])
    assert (other["articles"], other["retracted"], other["by_level"]) == (
        2,
        1,  # counted apart, not in the other figures
        {"case-report": 1, "animal": 1},
    )
    assert figures(shown["neurorehab-window"])["articles"] == 0


def test_claims_show_report_claims_and_the_scoreboard_agree(engine: Engine) -> None:
    seed(engine)
    catalogue = load_catalogue(bundled_dir("queries") / "claims.toml")
    every = count_claim_evidence(engine, catalogue.ids)
    shown = claim_evidence(engine, catalogue)  # litwatch claims show
    for claim in catalogue.claims:
        assert figures(shown[claim.id]) == figures(every[claim.id]), claim.id

    reports = claims_report(engine, catalogue)  # litwatch report claims
    every = count_claim_evidence(engine, [r.id for r in reports])
    for report in reports:
        counted = figures(every[report.id])
        assert report.articles == counted["articles"], report.id
        assert report.by_level == counted["by_level"]
        assert report.decisions == counted["decisions"]
        assert report.stances == counted["stances"]
        assert (report.trials, report.retracted, report.curator_tagged) == (
            counted["trials"],
            counted["retracted"],
            counted["curator_tagged"],
        )
        assert report.included_by_level == every[report.id].included_by_level

    with engine.connect() as conn:
        digest = select_digest(
            conn, DigestSettings(recipients=("a@example.org",)), now=SEND1, claims=CLAIMS
        )
    board = {row.claim.id: row for row in digest.scoreboard}
    assert set(board) == {"established-treatment", "plausible-mechanism",
                          "other-movement-disorders", "trials-needed"}  # fmt: skip
    counted_apart = count_claim_evidence(
        engine, list(board), include_retracted=False, include_excluded=False
    )
    for claim_id, row in board.items():
        counted = figures(counted_apart[claim_id])
        assert dict(row.by_level) == counted["by_level"], claim_id
        assert (row.total, row.trials, row.retracted) == (
            counted["articles"],
            counted["trials"],
            counted["retracted"],
        )
        assert dict(row.stances) == counted["stances"]
    assert board["plausible-mechanism"].by_level == (("animal", 1), ("other", 2))


def test_claims_show_is_count_claim_evidence_over_the_catalogue(engine: Engine) -> None:
    """One implementation: every figure ``claims show`` gets, in catalogue order, is exactly
    ``count_claim_evidence``'s (retracted and excluded articles counted)."""
    seed(engine)
    catalogue = load_catalogue(bundled_dir("queries") / "claims.toml")
    shown = claim_evidence(engine, catalogue)
    assert list(shown) == list(catalogue.ids)
    assert shown == count_claim_evidence(engine, catalogue.ids, descendants=catalogue.descendants())
    assert shown["other-movement-disorders"].retracted == 1
    assert shown["plausible-mechanism"].decisions["exclude"] == 1


def digest_at_send1(engine: Engine, child: str) -> Digest:
    """The digest at SEND1; the catalogue has ``child`` under plausible-mechanism."""
    with engine.connect() as conn:
        return select_digest(
            conn,
            DigestSettings(recipients=("a@example.org",)),
            now=SEND1,
            claims=[*CLAIMS, ClaimRef(child, "A mechanism", parent="plausible-mechanism")],
        )


def scoreboard(engine: Engine, child: str) -> dict[str, Any]:
    return {row.claim.id: row for row in digest_at_send1(engine, child).scoreboard}


def test_a_curator_tag_on_a_child_claim_counts_for_its_parent(engine: Engine) -> None:
    """Rule tags carry their parents; a curator's tag on a mechanism counts for
    plausible-mechanism too, once per article, in every view and in --claim filters."""
    seed(engine)
    catalogue = load_catalogue(bundled_dir("queries") / "claims.toml")
    child = catalogue.children("plausible-mechanism")[0]
    before = claim_evidence(engine, catalogue)["plausible-mechanism"]
    before_board = scoreboard(engine, child)
    tag_article(engine, "90000001", child, actor="ana", now=SEND1)  # not on the parent before
    tag_article(engine, "90000004", child, actor="ana", now=SEND1)  # on it by a rule already

    after = claim_evidence(engine, catalogue)
    parent = after["plausible-mechanism"]
    assert parent.articles == before.articles + 1  # 90000004 is not counted twice
    assert parent.curator_tagged == before.curator_tagged + 2
    assert parent.by_level["rct"] == before.by_level["rct"] + 1  # 90000001 is an RCT
    assert after[child].articles == 2
    assert count_claim_evidence(engine, ["plausible-mechanism"])["plausible-mechanism"] == before

    reports = {r.id: r for r in claims_report(engine, catalogue)}
    assert (reports["plausible-mechanism"].articles, reports[child].articles) == (
        parent.articles,
        2,
    )
    board = scoreboard(engine, child)
    assert dict(board["plausible-mechanism"].by_level)["rct"] == 1
    assert board["plausible-mechanism"].new == before_board["plausible-mechanism"].new + 1
    entries = {e.article.pmid: e for e in digest_at_send1(engine, child).new_entries}
    lifted = [t for t in entries["90000001"].tags if t.claim.id == "plausible-mechanism"]
    assert [(t.source, t.reason) for t in lifted] == [("curator", f"via {child}")]

    wanted = claims_to_match(catalogue, ["plausible-mechanism"], option="--claim")
    assert wanted[0] == "plausible-mechanism"
    assert child in wanted
    found = {a.article.pmid for a in list_articles(engine, claims=wanted, limit=100)}
    assert {"90000001", "90000004"} <= found
    alone = {a.article.pmid for a in list_articles(engine, claims=["plausible-mechanism"])}
    assert "90000001" not in alone


def test_descendants_of_follows_every_level_and_survives_a_cycle() -> None:
    parents = {"a": None, "b": "a", "c": "b", "d": "a", "x": "y", "y": "x"}
    assert descendants_of(parents) == {"a": ("b", "c", "d"), "b": ("c",), "x": ("y",), "y": ("x",)}
