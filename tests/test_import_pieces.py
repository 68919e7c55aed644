"""Large files imported by several processes: cut into pieces, parsed in workers.

The pieces of every real plain PubmedArticleSet give exactly the records of
the whole file, and an import in pieces stores exactly what an import in one
process stores, or (for a file that cannot be cut safely) falls back to it.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from litwatch import importing
from litwatch.db import open_database
from litwatch.errors import InputError
from litwatch.import_pieces import document_of, parse_piece, pieces
from litwatch.importing import import_paths
from litwatch.pubmed_xml import parse_article_set, parse_pubmed_xml
from litwatch.xml_split import is_plain_article_set

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SMALL_PIECE = 16 * 1024  # many pieces out of the fixture files
# Real plain PubmedArticleSets: 500 records in 4 MB, 171 in 1.7 MB.
BIG = (
    "mattgrayson__pubmed",
    "example-data__NCID_1_16866303_130.14.22.101_9001_1265063521_3500.xml",
)
MEDIUM = ("YashSinha1996__Pubmed-expert-ranker", "medsample1.xml")
FELL_BACK = "importing it in one process"


def real_xml_files(shared_fixtures: Path) -> Iterator[Path]:
    for folder in ("real", "eutils"):
        yield from sorted((shared_fixtures / folder).rglob("*.xml"))


def whole(path: Path) -> list[Any]:
    return list(parse_pubmed_xml(path))


@pytest.mark.parametrize("piece_size", [SMALL_PIECE, 512])  # 512: most records are longer
def test_pieces_of_every_plain_real_file_hold_its_records_in_order(
    shared_fixtures: Path, piece_size: int
) -> None:
    plain = cut_many = 0
    for path in real_xml_files(shared_fixtures):
        cut = pieces(path, piece_size=piece_size)
        if cut is None:
            continue
        plain += 1
        parts = [document for document in map(document_of, cut) if document]
        found = [record for part in parts for record in parse_pubmed_xml(part)]
        assert found == whole(path), path
        if path.stat().st_size > 16 * SMALL_PIECE and len(found) > 100:
            assert len(parts) > 4, path
            cut_many += 1
    assert plain >= 20  # most real files are the plain efetch / pubmed.gov shape
    assert cut_many >= 3


def test_the_pieces_of_a_file_tile_it_without_gaps_or_overlaps(tmp_path: Path) -> None:
    # Records of every kind and size (one longer than the 64 kB a cut is searched in
    # at a time), a BOM and blank lines before the document, whitespace between records.
    def article(pmid: int, title: bytes = b"T") -> bytes:
        return (
            b"<PubmedArticle><MedlineCitation><PMID>%d</PMID><Article><ArticleTitle>%s"
            b"</ArticleTitle></Article></MedlineCitation></PubmedArticle>" % (pmid, title)
        )

    records = [
        article(1),
        b"\n  <DeleteCitation><PMID>2</PMID></DeleteCitation>",
        b"<PubmedBookArticle><BookDocument><PMID>3</PMID><ArticleTitle>B</ArticleTitle>"
        b"</BookDocument></PubmedBookArticle>",
        article(4, b"y" * 70_000),
        b"\n" + article(5) + b"\n",
    ]
    head = b'\xef\xbb\xbf\n<?xml version="1.0"?>\n<PubmedArticleSet>'
    body = head + b"".join(records) + b"</PubmedArticleSet>\n"
    path = tmp_path / "set.xml"
    path.write_bytes(body)
    # Sizes that put a boundary exactly on an end tag, and one that makes the long
    # record's end tag straddle two of the 64 kB blocks a cut is searched in.
    long_end = body.index(b"</PubmedArticle>", body.index(b"y" * 100))
    tricky = (long_end, long_end - (64 << 10) + 5, body.index(b"</DeleteCitation>"))
    for piece_size in (50, 64, 99, 1000, 65_536, 70_000, 1 << 20, *tricky):
        cut = pieces(path, piece_size=piece_size)
        assert cut is not None
        documents = [document_of(piece) for piece in cut]
        assert len(documents) == -(-len(body) // piece_size)
        # Unwrapped and joined, the pieces are the document again, byte for byte.
        assert _unwrapped(documents) == body.removeprefix(b"\xef\xbb\xbf\n"), piece_size
        found = [record for d in documents if d for record in parse_pubmed_xml(d)]
        assert found == whole(path), piece_size


def _unwrapped(documents: list[bytes]) -> bytes:
    """The non-empty pieces, joined, without the root tags added around each."""
    present = [d for d in documents if d]
    out = []
    for i, document in enumerate(present):
        if i > 0:
            document = document.removeprefix(b"<PubmedArticleSet>")
        if i < len(present) - 1:
            document = document.removesuffix(b"</PubmedArticleSet>")
        out.append(document)
    return b"".join(out)


@pytest.mark.parametrize(
    ("head", "plain"),
    [
        (b"<PubmedArticleSet><PubmedArticle>", True),
        (b'<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n', True),
        (
            b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD x//EN" '
            b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>',
            True,
        ),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><PubmedArticleSet>', False),
        (b"<!DOCTYPE PubmedArticleSet [<!ENTITY a 'b'>]><PubmedArticleSet>", False),
        (b"<MedlineCitationSet><MedlineCitation>", False),
        (b"<root><PubmedArticle>", False),
        (b'<PubmedArticleSet xmlns="urn:x">', False),
        (b"<!-- saved --><PubmedArticleSet>", False),
    ],
)
def test_only_the_plain_shape_is_cut(head: bytes, plain: bool) -> None:
    assert is_plain_article_set(head) is plain


def test_a_gzipped_file_is_cut_after_decompression(shared_fixtures: Path, tmp_path: Path) -> None:
    source = shared_fixtures.joinpath("real", *MEDIUM)
    packed = tmp_path / "pubmed.xml.gz"
    packed.write_bytes(gzip.compress(source.read_bytes()))
    cut = pieces(packed, piece_size=SMALL_PIECE)
    assert cut is not None
    assert [r for part in map(document_of, cut) for r in parse_pubmed_xml(part)] == whole(source)


def test_a_worker_reports_a_piece_that_does_not_parse() -> None:
    parsed = parse_piece(b"<PubmedArticleSet><PubmedArticle><MedlineCitation>")
    assert parsed.records == []
    assert parsed.failed is not None


# -- the import itself ---------------------------------------------------------------


@pytest.fixture
def in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file goes through workers, in small pieces (the defaults suit large files)."""
    monkeypatch.setattr(importing, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(importing, "PIECE_BYTES", SMALL_PIECE)


def stored_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT pmid, version, content_hash, search_text, work_key, pub_date, created, "
                "modified, is_retracted, deleted_at IS NOT NULL FROM articles ORDER BY pmid"
            )
        )


def imported(tmp_path: Path, name: str, files: list[Path], jobs: int) -> tuple[Any, list[Any]]:
    engine = open_database(f"sqlite:///{tmp_path / name}.db")
    try:
        summary = import_paths(engine, files, now=NOW, jobs=jobs)
        return summary, stored_rows(engine)
    finally:
        engine.dispose()


@pytest.mark.usefixtures("in_pieces")
def test_an_import_in_pieces_stores_what_one_process_stores(
    shared_fixtures: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    real = shared_fixtures / "real"
    packed = tmp_path / "medium.xml.gz"
    packed.write_bytes(gzip.compress(real.joinpath(*MEDIUM).read_bytes()))
    big = real.joinpath(*BIG).read_bytes()
    first_pmid = re.search(rb"<PMID[^>]*>(\d+)</PMID>", big)
    assert first_pmid is not None
    deleting = tmp_path / "big-with-a-deletion.xml"
    deleting.write_bytes(
        big.replace(
            b"</PubmedArticleSet>",
            b'<DeleteCitation><PMID Version="1">'
            + first_pmid.group(1)
            + b"</PMID></DeleteCitation></PubmedArticleSet>",
        )
    )
    files = [
        deleting,
        packed,
        real / "tipplerow__pubmed" / "data__test__pubmed_sample.xml",  # has a DeleteCitation
        real / "SEEDtk__ncbi.utils" / "data__pubmed.xml",  # a foreign root: one process
    ]
    one, one_rows = imported(tmp_path, "one", files, jobs=1)
    with caplog.at_level("INFO", logger="litwatch.importing"):
        many, many_rows = imported(tmp_path, "many", files, jobs=2)
    assert FELL_BACK not in caplog.text
    assert many.to_dict() == one.to_dict()
    assert many_rows == one_rows
    assert many.new > 600
    assert many.deleted == 1


@pytest.mark.usefixtures("in_pieces")
def test_a_bad_file_fails_in_pieces_as_in_one_process(
    shared_fixtures: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = shared_fixtures.joinpath("real", *BIG).read_bytes()
    truncated = tmp_path / "truncated.xml"
    truncated.write_bytes(good[: len(good) * 2 // 3])
    bad_pmid = tmp_path / "bad-pmid.xml"
    at = good.index(b"<PMID", len(good) // 2)
    at = good.index(b">", at) + 1
    bad_pmid.write_bytes(good[:at] + b"99999999999999999999999" + good[good.index(b"<", at) :])
    for path in (truncated, bad_pmid):
        one, one_rows = imported(tmp_path, f"one-{path.stem}", [path], jobs=1)
        caplog.clear()
        with caplog.at_level("INFO", logger="litwatch.importing"):
            many, many_rows = imported(tmp_path, f"many-{path.stem}", [path], jobs=2)
        assert FELL_BACK in caplog.text  # tried in pieces, failed, then one process said why
        assert [str(f.error) for f in many.failed] == [str(f.error) for f in one.failed]
        assert len(one.failed) == 1
        assert many_rows == one_rows == []


@pytest.mark.usefixtures("in_pieces")
def test_a_head_the_one_process_parser_refuses_is_refused_in_pieces_too(
    shared_fixtures: Path, tmp_path: Path
) -> None:
    """Entity declarations are refused by a look at the file's head; "<!ENTITY" in a
    comment there is refused as well, and must be whichever path reads the file."""
    good = shared_fixtures.joinpath("real", *BIG).read_bytes()
    assert b"<!DOCTYPE" in good[:4096]
    root = good.index(b"<PubmedArticleSet>") + len(b"<PubmedArticleSet>")
    commented = tmp_path / "commented.xml"
    commented.write_bytes(good[:root] + b"<!-- no <!ENTITY here -->" + good[root:])
    one, one_rows = imported(tmp_path, "one", [commented], jobs=1)
    many, many_rows = imported(tmp_path, "many", [commented], jobs=2)
    assert [str(f.error) for f in many.failed] == [str(f.error) for f in one.failed]
    assert "declares entities" in str(one.failed[0].error)
    assert many_rows == one_rows == []


@pytest.mark.usefixtures("in_pieces")
def test_a_cut_inside_a_comment_falls_back_to_one_process(
    shared_fixtures: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = shared_fixtures.joinpath("real", *MEDIUM)
    text = source.read_bytes()
    middle = text.index(b"</PubmedArticle>", len(text) // 2) + len(b"</PubmedArticle>")
    tricky = tmp_path / "tricky.xml"
    # A record end tag in a comment, placed where a piece boundary falls (pieces
    # end at the first record end tag after each multiple of the piece size).
    opening = b"<!-- "
    padding = b" " * (-(middle + len(opening)) % SMALL_PIECE)
    comment = opening + b"</PubmedArticle> " + b"x" * (4 * SMALL_PIECE) + b" -->"
    tricky.write_bytes(text[:middle] + padding + comment + text[middle:])
    with caplog.at_level("INFO", logger="litwatch.importing"):
        many, many_rows = imported(tmp_path, "many", [tricky], jobs=2)
    assert FELL_BACK in caplog.text
    _, one_rows = imported(tmp_path, "one", [source], jobs=1)
    assert not many.failed
    assert many_rows == one_rows


@pytest.mark.usefixtures("in_pieces")
def test_a_file_replaced_during_the_import_is_read_whole_again(
    shared_fixtures: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = shared_fixtures.joinpath("real", *MEDIUM).read_bytes()
    first = source.index(b"</PubmedArticle>") + len(b"</PubmedArticle>")
    start = source.index(b"<PubmedArticle>")
    changed = source[:start] + source[first:]  # the first record gone: every cut moves
    path = tmp_path / "pubmed.xml"
    path.write_bytes(source)
    replacement = tmp_path / "replacement.xml"
    replacement.write_bytes(changed)
    cut = importing.pieces

    def replaced_after_five(given: Path, *, piece_size: int) -> Iterator[Any] | None:
        found = cut(given, piece_size=piece_size)
        assert found is not None
        for n, piece in enumerate(found):
            if n == 5:
                replacement.replace(path)  # as editors and rsync replace a file
            yield piece

    monkeypatch.setattr(importing, "pieces", replaced_after_five)
    with caplog.at_level("INFO", logger="litwatch.importing"):
        many, many_rows = imported(tmp_path, "many", [path], jobs=2)
    assert FELL_BACK in caplog.text
    assert "changed while it was being imported" in caplog.text
    _, one_rows = imported(tmp_path, "one", [path], jobs=1)  # the new version, whole
    assert not many.failed
    assert many_rows == one_rows


def test_a_piece_is_read_as_the_streaming_parser_reads_it(shared_fixtures: Path) -> None:
    document = shared_fixtures.joinpath("real", *MEDIUM).read_bytes()
    assert parse_article_set(document, name="piece") == whole(
        shared_fixtures.joinpath("real", *MEDIUM)
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<PubmedArticleSet><Foo/></PubmedArticleSet>", "unexpected <Foo>"),
        (b"<MedlineCitationSet/>", "not a PubmedArticleSet"),
        (b"<PubmedArticleSet><PubmedArticle>", "not well-formed"),
        (
            b'<!DOCTYPE PubmedArticleSet [<!ENTITY a "aaaa">]><PubmedArticleSet/>',
            "declares entities",
        ),
    ],
)
def test_a_piece_that_is_not_a_plain_set_is_refused(document: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_article_set(document, name="piece")


@pytest.mark.slow
def test_python_dash_m_litwatch_imports_a_large_file_with_workers(
    shared_fixtures: Path, tmp_path: Path
) -> None:
    """Spawned workers import the parent's __main__: ``python -m litwatch`` must not rerun."""
    big = shared_fixtures.joinpath("real", *BIG).read_bytes()
    start = big.index(b"<PubmedArticle>")
    end = big.rindex(b"</PubmedArticleSet>")
    records = big[start:end]
    copies = importing.PARALLEL_MIN_BYTES // len(records) + 1
    large = tmp_path / "large.xml"
    large.write_bytes(big[:start] + records * copies + big[end:])
    command = [sys.executable, "-m", "litwatch", "-v", "--db", f"sqlite:///{tmp_path / 'x.db'}"]
    done = subprocess.run(
        [*command, "import", "--jobs", "2", str(large)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "read 1500, new 500, updated 0, unchanged 1000" in done.stdout
    assert FELL_BACK not in done.stderr


UNGUARDED_SCRIPT = """
from datetime import UTC, datetime
from pathlib import Path
from litwatch.db import open_database
from litwatch.importing import import_paths
engine = open_database({url!r})
summary = import_paths(engine, [Path({path!r})], now=datetime.now(UTC), jobs=2)
print("imported", summary.new, len(summary.failed))
"""


@pytest.mark.slow
def test_a_script_without_a_main_guard_still_imports_and_never_waits_on_the_lock(
    shared_fixtures: Path, tmp_path: Path
) -> None:
    """Spawned workers re-run a script's top level, which imports again: each must
    fail at once (it cannot start workers of its own), not wait for the parent's
    write lock; the parent then imports the file in one process."""
    big = shared_fixtures.joinpath("real", *BIG).read_bytes()
    start = big.index(b"<PubmedArticle>")
    end = big.rindex(b"</PubmedArticleSet>")
    copies = importing.PARALLEL_MIN_BYTES // (end - start) + 1
    large = tmp_path / "large.xml"
    large.write_bytes(big[:start] + big[start:end] * copies + big[end:])
    script = tmp_path / "unguarded.py"
    url = f"sqlite:///{tmp_path / 'x.db'}"
    script.write_text(UNGUARDED_SCRIPT.format(url=url, path=str(large)), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "imported 500 0" in done.stdout
    assert "database is locked" not in done.stderr


def test_the_command_entry_point_is_light_to_import() -> None:
    """A spawned worker imports the ``litwatch`` script first: it must not pull in the CLI."""
    probe = (
        "import sys, litwatch.entry; "
        "print(sorted(m for m in ('click', 'sqlalchemy', 'alembic', 'litwatch.cli') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
