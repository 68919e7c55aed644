"""Finding input files and telling their format from their content."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from litwatch.article import Article
from litwatch.errors import InputError
from litwatch.sources import find_input_files, read_records

MEDLINE = b"PMID- 30501481\nSTAT- MEDLINE\nTI  - Ibrutinib Regimens.\n"
XML = (
    b'<?xml version="1.0"?><PubmedArticleSet><PubmedArticle><MedlineCitation Status="MEDLINE">'
    b'<PMID Version="1">29768149</PMID><Article><ArticleTitle>SYGMA 1.</ArticleTitle></Article>'
    b"</MedlineCitation></PubmedArticle></PubmedArticleSet>"
)


def pmids_of(path: Path) -> list[str]:
    return [r.pmid for r in read_records(path) if isinstance(r, Article)]


def test_folders_are_searched_recursively_for_record_files(tmp_path: Path) -> None:
    for name in [
        "a.xml",
        "b/c.nbib",
        "b/d/e.txt",
        "b/f.xml.gz",
        "b/g.XML",
        "notes.md",
        "MANIFEST.tsv",
        ".hidden.xml",
        ".git/objects.xml",
    ]:
        path = tmp_path / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(XML)
    found = find_input_files([tmp_path / "in"])
    assert [p.relative_to(tmp_path / "in").as_posix() for p in found] == [
        "a.xml",
        "b/c.nbib",
        "b/d/e.txt",
        "b/f.xml.gz",
        "b/g.XML",
    ]


def test_a_named_file_is_taken_whatever_its_name_and_only_once(tmp_path: Path) -> None:
    odd = tmp_path / "export.dat"
    odd.write_bytes(MEDLINE)
    assert find_input_files([odd, tmp_path, odd]) == [odd]
    assert pmids_of(odd) == ["30501481"]


def test_a_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        find_input_files([tmp_path / "nope"])


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("plain.xml", XML, ["29768149"]),
        ("packed.xml.gz", gzip.compress(XML), ["29768149"]),
        ("saved.nbib", MEDLINE, ["30501481"]),
        ("saved.txt.gz", gzip.compress(MEDLINE), ["30501481"]),
        ("misnamed.txt", XML, ["29768149"]),
        ("misnamed.xml", MEDLINE, ["30501481"]),
        ("bom.xml", b"\xef\xbb\xbf\n  " + XML, ["29768149"]),
        ("bom.nbib", b"\xef\xbb\xbf\n" + MEDLINE, ["30501481"]),
    ],
)
def test_the_content_decides_the_format(
    tmp_path: Path, name: str, content: bytes, expected: list[str]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert pmids_of(path) == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file"),
        (gzip.compress(b""), "gzip archive holds no data"),
        (b"\n\n   \n", "only whitespace"),
        (b'{"header": {"type": "efetch"}}', "JSON"),
        (b"Dear curator, here are the papers.\n", "neither PubMed XML nor MEDLINE text"),
        (b"<html><body>Too many requests</body></html>", "an HTML page"),
        (b"\x1f\x8b\x08\x00garbage", "cannot read compressed data"),
    ],
)
def test_files_of_no_known_kind_are_named(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "input.xml"
    path.write_bytes(content)
    with pytest.raises(InputError, match=expected) as caught:
        list(read_records(path))
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_real_gzipped_efetch_file(shared_fixtures: Path, tmp_path: Path) -> None:
    source = shared_fixtures / "real" / "mattgrayson__pubmed" / "example-data__efetch.xml"
    packed = tmp_path / "efetch.xml.gz"
    with source.open("rb") as raw, gzip.open(packed, "wb") as out:
        shutil.copyfileobj(raw, out)
    assert pmids_of(packed) == pmids_of(source)
    assert len(pmids_of(packed)) == 50
