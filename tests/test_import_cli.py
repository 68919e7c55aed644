"""``litwatch import PATH...`` end to end, on SQLite and PostgreSQL (``db_url`` runs both)."""

from __future__ import annotations

import csv
import gzip
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from litwatch.cli import cli
from litwatch.db import open_database
from litwatch.store import count_articles, get_article

GOOD = ("biopython__biopython", "Tests__Entrez__pubmed1.xml")  # PMIDs 12091962 and 9997
DELETED = ("tipplerow__pubmed", "data__test__pubmed_sample.xml")  # 7 records + DeleteCitation


def run(db_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db_url, "import", *map(str, args)])


def counts(result: Result) -> dict[str, int]:
    found = re.search(
        r"read (\d+), new (\d+), updated (\d+), unchanged (\d+), deleted (\d+), "
        r"failed (\d+) \(of (\d+) files\)",
        result.stdout,
    )
    assert found, result.stdout
    keys = ("read", "new", "updated", "unchanged", "deleted", "failed", "files")
    return dict(zip(keys, map(int, found.groups()), strict=True))


def stored(db_url: str) -> int:
    engine = open_database(db_url)
    try:
        return count_articles(engine, include_deleted=True)
    finally:
        engine.dispose()


@pytest.fixture
def real(shared_fixtures: Path) -> Path:
    return shared_fixtures / "real"


@pytest.mark.slow
def test_every_real_record_file_imports_once(
    db_url: str, shared_fixtures: Path, real: Path
) -> None:
    with (real / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        rows = [
            r
            for r in csv.DictReader(handle, delimiter="\t")
            if r["format"] in {"pubmed-xml", "medline", "other"}
        ]
    files = [real / r["local_file"] for r in rows]
    expected = sum(int(r["n_records"]) for r in rows)

    first = run(db_url, *files)
    assert first.exit_code == 0, first.stderr
    assert first.stderr == ""
    got = counts(first)
    assert (got["read"], got["failed"], got["files"]) == (expected, 0, len(files))
    distinct = stored(db_url)
    assert got["new"] == distinct
    assert distinct > 1800

    again = run(db_url, *files)
    assert again.exit_code == 0
    assert counts(again)["new"] == 0
    # Some PMIDs come in two files with the same Version and date but other
    # content: an import keeps the stored copy, so nothing flips on re-import.
    assert counts(again)["updated"] == 0
    assert counts(again)["read"] == expected
    assert stored(db_url) == distinct


def test_a_folder_imports_twice_without_new_rows(db_url: str, real: Path, tmp_path: Path) -> None:
    folder = tmp_path / "downloads"
    (folder / "nested").mkdir(parents=True)
    shutil.copy(real.joinpath(*GOOD), folder / "pubmed1.xml")
    shutil.copy(real / "blachlylab__nbib" / "pubmed.nbib", folder / "nested" / "export.nbib")
    with real.joinpath(*DELETED).open("rb") as raw, gzip.open(folder / "batch.xml.gz", "wb") as gz:
        shutil.copyfileobj(raw, gz)

    first = run(db_url, folder)
    assert first.exit_code == 0, first.output
    # The gzipped batch holds PMID 31383287 twice, Version 1 then Version 2.
    assert counts(first) == {
        "read": 2 + 75 + 7,
        "new": 2 + 75 + 6,
        "updated": 1,
        "unchanged": 0,
        "deleted": 0,  # the deleted PMIDs were never stored
        "failed": 0,
        "files": 3,
    }
    second = run(db_url, folder)
    assert counts(second)["new"] == 0
    assert counts(second)["unchanged"] == 84
    assert stored(db_url) == 83


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [<!ENTITY a "aaaaaaaaaa">'
    + "".join(
        f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "]><PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>"
    "<ArticleTitle>&i;</ArticleTitle></Article></MedlineCitation></PubmedArticle>"
    "</PubmedArticleSet>"
)


def test_each_bad_file_is_named_once_and_the_good_ones_still_import(
    db_url: str, real: Path, tmp_path: Path
) -> None:
    good = real.joinpath(*GOOD).read_bytes()
    bad = {
        "truncated.xml": good[: len(good) // 2],
        "saved-page.xml": b"<!DOCTYPE html><html><body><h1>PubMed</h1></body></html>",
        "esearch.xml": b"<eSearchResult><Count>0</Count><IdList/></eSearchResult>",
        "empty.xml": b"",
        "nothing.xml.gz": b"",
        "latin1.nbib": "PMID- 1\nTI  - Caf\u00e9.\n".encode("latin-1"),
        "laughs.xml": BILLION_LAUGHS.encode(),
    }
    for name, content in bad.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "good.xml").write_bytes(good)

    result = run(db_url, tmp_path)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == len(bad)
    for name in bad:
        [line] = [x for x in lines if f"{tmp_path / name}:" in x or f"{tmp_path / name} " in x]
        assert line.startswith("Error: ")
    assert counts(result) | {"files": 0} == {
        "read": 2,
        "new": 2,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "failed": len(bad),
        "files": 0,
    }
    assert stored(db_url) == 2


def test_a_bad_file_leaves_what_is_stored_untouched(
    db_url: str, real: Path, tmp_path: Path
) -> None:
    good = real.joinpath(*GOOD)
    assert run(db_url, good).exit_code == 0
    engine = open_database(db_url)
    try:
        before = get_article(engine, "9997")
        assert before is not None
        # A newer copy of 9997 (title changed, revised later), a new PMID, then a cut.
        newer = (
            good.read_text(encoding="utf-8")
            .replace("Magnetic studies of Chromatium", "CHANGED studies of Chromatium")
            .replace("<Year>2019</Year>", "<Year>2024</Year>")
            .replace(">12091962<", ">39000001<")
        )
        broken = tmp_path / "newer-but-cut.xml"
        broken.write_text(newer[: newer.rindex("</PubmedArticle>")], encoding="utf-8")

        result = run(db_url, broken)
        assert result.exit_code == 1
        assert str(broken) in result.stderr
        after = get_article(engine, "9997")
        assert after is not None
        assert after.article.title == before.article.title
        assert (after.content_hash, after.updated_at) == (before.content_hash, before.updated_at)
        assert get_article(engine, "39000001") is None
    finally:
        engine.dispose()


def test_delete_citation_marks_stored_articles_deleted(db_url: str, tmp_path: Path) -> None:
    record = (
        '<PubmedArticle><MedlineCitation Status="MEDLINE"><PMID Version="1">{}</PMID>'
        "<Article><ArticleTitle>Record {}.</ArticleTitle></Article></MedlineCitation>"
        "</PubmedArticle>"
    )
    first = tmp_path / "first.xml"
    first.write_text(
        "<PubmedArticleSet>"
        + record.format(30830050, 1)
        + record.format(30830051, 2)
        + "</PubmedArticleSet>"
    )
    update = tmp_path / "update.xml"
    update.write_text(
        "<PubmedArticleSet><DeleteCitation><PMID>30830050</PMID><PMID>1</PMID>"
        "</DeleteCitation></PubmedArticleSet>"
    )
    assert run(db_url, first).exit_code == 0
    result = run(db_url, update)
    assert result.exit_code == 0
    assert counts(result)["deleted"] == 1
    engine = open_database(db_url)
    try:
        gone = get_article(engine, "30830050")
        kept = get_article(engine, "30830051")
        assert gone is not None
        assert gone.deleted_at is not None
        assert kept is not None
        assert kept.deleted_at is None
    finally:
        engine.dispose()


def test_json_summary_and_missing_paths(db_url: str, real: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--db", db_url, "import", "--json", str(real.joinpath(*GOOD)), str(tmp_path / "gone")]
    )
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary == {
        "files": 2,
        "read": 2,
        "new": 2,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "failed": 1,
        "errors": [f"{tmp_path / 'gone'}: no such file or folder"],
        "tagged": 2,  # by the claims beside the queries (./queries when the tests run)
    }
    assert result.stderr == f"Error: {tmp_path / 'gone'}: no such file or folder\n"


def test_import_needs_a_path(sqlite_url: str) -> None:
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "import"])
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr
