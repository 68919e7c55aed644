"""MEDLINE's abbreviated page ranges are expanded before RIS/BibTeX split them."""

from __future__ import annotations

import io
from pathlib import Path

import bibtexparser
import pytest
import rispy
from triage_data import article, save

from litwatch.db import open_database
from litwatch.export import export_records, write_export
from litwatch.export_citations import page_range


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        ("1036-51", ("1036", "1051")),
        ("201-209", ("201", "209")),
        ("99-101", ("99", "101")),
        ("1299-302", ("1299", "1302")),
        ("e123-e125", ("e123", "e125")),
        ("e123", ("e123", None)),
        ("S12-4", ("S12", "S14")),
        ("S12-S14", ("S12", "S14")),
        ("1036-51, 1060", ("1036", "1051")),
        ("1036-51; discussion 1052", ("1036", "1051")),
        ("iii-xii", ("iii", None)),  # roman numerals: start page only
        ("e12-S14", ("e12", None)),  # prefixes disagree
        ("199-2", ("199", None)),  # end before start however it is read
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_page_range_expands_medline_abbreviations(
    pages: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert page_range(pages) == expected


def test_ris_and_bibtex_carry_the_expanded_end_page(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'litwatch.db'}")
    try:
        save(engine, article("39000011", "Abbreviated.", pages="1036-51"))
        save(engine, article("39000012", "Supplement.", pages="S12-4"))
        records = list(export_records(engine))
    finally:
        engine.dispose()

    ris_out, bib_out = io.StringIO(), io.StringIO()
    write_export(iter(records), "ris", ris_out)
    write_export(iter(records), "bibtex", bib_out)

    entries = rispy.loads(ris_out.getvalue())
    assert [(e["start_page"], e["end_page"]) for e in entries] == [
        ("1036", "1051"),
        ("S12", "S14"),
    ]
    library = bibtexparser.parse_string(bib_out.getvalue())
    assert [e.fields_dict["pages"].value for e in library.entries] == ["1036--1051", "S12--S14"]
