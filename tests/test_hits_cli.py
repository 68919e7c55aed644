"""``litwatch hits list`` and ``hits show``: the JSON fields promised to scripts, the text view."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from click.testing import CliRunner
from sqlalchemy import insert

from litwatch.article import (
    AbstractSection,
    Article,
    Author,
    MeshHeading,
    PartialDate,
    PublicationType,
    RegistryId,
)
from litwatch.cli import cli
from litwatch.db import open_database, write_tx
from litwatch.models import Tag
from litwatch.store import get_article, save_articles

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
REQUIRED = {
    "pmid", "title", "abstract", "doi", "pmcid", "journal", "pub_date", "pub_year", "authors",
    "language", "publication_types", "mesh", "nct_ids", "status", "retracted", "first_seen",
    "updated", "claims", "evidence_level", "is_trial", "registry_ids", "tag_reasons",
}  # fmt: skip


def trial() -> Article:
    return Article(
        pmid="90000001",
        status="MEDLINE",
        title="Ketamine for writer's cramp: a randomised trial",
        title_markup="Ketamine for writer's cramp: a randomised trial",
        abstract=(AbstractSection("Ketamine helped.", "Ketamine helped.", "CONCLUSIONS"),),
        journal_title="Movement Disorders",
        pub_date=PartialDate("2026 Oct", 2026, 10),
        authors=(Author("Example", "Ann", "A"), Author(collective_name="Synthetic Group")),
        languages=("eng",),
        publication_types=(PublicationType("Randomized Controlled Trial", "D016449"),),
        mesh=(MeshHeading("Ketamine", "D007649", True),),
        doi="10.9999/example.1",
        pmcid="PMC123",
        registry_ids=(RegistryId("ClinicalTrials.gov", "NCT01234567"),),
        history={"entrez": date(2026, 10, 5)},
    )


def other() -> Article:
    return Article(pmid="90000002", title="Another paper", history={"entrez": date(2026, 10, 6)})


def test_list_json_has_every_promised_field(sqlite_url: str) -> None:
    engine = open_database(sqlite_url)
    save_articles(engine, [trial(), other()], now=NOW)
    stored = get_article(engine, "90000001")
    assert stored is not None
    with write_tx(engine) as conn:
        conn.execute(
            insert(Tag.__table__),
            [
                {"article_id": stored.id, "claim_id": "trials-needed", "source": "rule",
                 "reason": {"rule": "x"}, "created_at": NOW},
                {"article_id": stored.id, "claim_id": "favourite", "source": "curator",
                 "reason": None, "created_at": NOW},
            ],
        )  # fmt: skip
    engine.dispose()

    result = CliRunner().invoke(cli, ["--db", sqlite_url, "hits", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert sorted(r["pmid"] for r in rows) == ["90000001", "90000002"]
    first = next(r for r in rows if r["pmid"] == "90000001")
    assert set(first) >= REQUIRED
    assert first["nct_ids"] == ["NCT01234567"]
    assert first["authors"] == ["Example A", "Synthetic Group"]
    assert first["claims"] == ["trials-needed"]
    assert first["curator_tags"] == ["favourite"]
    assert first["tag_reasons"] == {"trials-needed": {"rule": "x"}}
    assert first["pub_date"] == "2026-10-01"
    assert first["links"]["doi"] == "https://doi.org/10.9999/example.1"


def test_limit_and_show(sqlite_url: str) -> None:
    engine = open_database(sqlite_url)
    save_articles(engine, [trial(), other()], now=NOW)
    engine.dispose()
    runner = CliRunner()
    limited = runner.invoke(cli, ["--db", sqlite_url, "hits", "list", "--json", "--limit", "1"])
    assert len(json.loads(limited.output)) == 1

    shown = runner.invoke(cli, ["--db", sqlite_url, "hits", "show", "90000001"])
    assert shown.exit_code == 0, shown.output
    assert "Ketamine for writer's cramp" in shown.output
    assert "https://pubmed.ncbi.nlm.nih.gov/90000001/" in shown.output

    as_json = runner.invoke(cli, ["--db", sqlite_url, "hits", "show", "90000001", "--json"])
    assert json.loads(as_json.output)["doi"] == "10.9999/example.1"

    missing = runner.invoke(cli, ["--db", sqlite_url, "hits", "show", "123"])
    assert missing.exit_code == 1
    assert "123 is not stored" in missing.output


def test_csv_output(sqlite_url: str) -> None:
    engine = open_database(sqlite_url)
    save_articles(engine, [trial()], now=NOW)
    engine.dispose()
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "hits", "list", "--csv"])
    header, row = result.output.splitlines()[:2]
    assert header.startswith("pmid,")
    assert row.startswith("90000001,")
