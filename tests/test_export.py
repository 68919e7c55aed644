"""Exports read back with independent readers: rispy (RIS), bibtexparser + pylatexenc
(BibTeX), csv, json and Bio.Medline (MEDLINE), asserting every article and field."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import SeparateCoAuthors, SplitNameParts
from Bio import Medline
from pylatexenc.latex2text import LatexNodes2Text
from sqlalchemy import Engine
from triage_data import T0, add_hits, add_tag, article, save, set_tagging

from litwatch.article import (
    AbstractSection,
    Article,
    Author,
    CommentCorrection,
    MeshHeading,
    PartialDate,
    PublicationType,
    Qualifier,
    RegistryId,
)
from litwatch.db import open_database
from litwatch.errors import InputError
from litwatch.export import export_records, write_export
from litwatch.store import mark_deleted
from litwatch.triage import record_decision, record_note, record_stance

T1 = T0 + timedelta(days=3)


def marked_up() -> Article:
    """Non-ASCII names, a collective author, markup and LaTeX specials in the title."""
    return article(
        "39000001",
        "Ketamine & β2-agonists in vivo: 50% fewer spasms in writer's cramp_{test}",
        title_markup="Ketamine &amp; β<sub>2</sub>-agonists <i>in vivo</i>: 50% fewer spasms "
        "in writer's cramp_{test}",
        authors=(
            Author("Lindqvist", "Åsa", "Å", orcid="0000-0002-1825-0097"),
            Author("Müller-Łukasz", "Jörg", "J", affiliations=("Universität Zürich, Zürich.",)),
            Author("O'Byrne", "Seán", "S"),
            Author(collective_name="Grupo de Estudio de la Distonía y Espasticidad"),
        ),
        abstract=(
            AbstractSection("Writer's cramp ~ task-specific dystonia.", "…", "BACKGROUND"),
            AbstractSection("Ketamine 0.5 mg/kg cut spasms by 50% (p < 0.01).", "…", "RESULTS"),
        ),
        doi="10.1002/mds.30001",
        pmcid="PMC11000001",
        issn="1531-8257",
        mesh=(
            MeshHeading("Dystonic Disorders", "D020821", True, (Qualifier("drug therapy"),)),
            MeshHeading("Ketamine", "D007649", False, (Qualifier("therapeutic use", None, True),)),
        ),
        keywords=("NMDA", "focal hand dystonia"),
        languages=("eng", "ger"),
        history={"entrez": date(2026, 10, 30), "received": date(2026, 1, 4)},
    )


def excluded_trial() -> Article:
    return article(
        "39000002",
        "Esketamine nasal spray for treatment-resistant depression: a randomised trial.",
        publication_types=(PublicationType("Randomized Controlled Trial", "D016449"),),
        registry_ids=(RegistryId("ClinicalTrials.gov", "NCT04000002"),),
        pages="e123",
        comments_corrections=(CommentCorrection("ErratumIn", "Mov Disord. 2026;41(5):900", "1"),),
    )


def untriaged_minimal() -> Article:
    return article(
        "39000003",
        "Amantadine in levodopa-induced dyskinesia.",
        authors=(Author(collective_name="Dyskinesia Study Group"),),
        pub_date=PartialDate("2025 Spring", 2025),
        volume=None,
        issue=None,
        pages=None,
        abstract=(),
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path / 'litwatch.db'}")
    save(engine, marked_up(), excluded_trial())
    save(engine, untriaged_minimal(), article("39000004"), at=T1)
    set_tagging(engine, "39000001", evidence_level="case-report")
    set_tagging(
        engine, "39000002", evidence_level="rct", is_trial=True, registry_ids=["NCT04000002"]
    )
    add_tag(engine, "39000001", "plausible-mechanism")
    add_tag(engine, "39000001", "neurorehab-window", source="curator")
    add_tag(engine, "39000002", "trials-needed")
    add_hits(engine, "ketamine-focal-dystonia", ["39000001", "39000002"])
    add_hits(engine, "nmda-movement-disorders", ["39000001", "39000003"])
    record_decision(engine, "39000001", "include", actor="Zoë", note="Key case series.", now=T1)
    record_stance(engine, "39000001", "plausible-mechanism", "supports", actor="Zoë", now=T1)
    record_note(engine, "39000001", "Ask authors for MEP data.", actor="Zoë", now=T1)
    record_decision(engine, "39000002", "exclude", actor="ana", reason="wrong population", now=T1)
    record_decision(engine, "39000004", "maybe", actor="ana", now=T1)
    mark_deleted(engine, ["39000004"], now=T1)  # PubMed deleted it: not exported by default
    yield engine
    engine.dispose()


def export(engine: Engine, fmt: str, **filters: object) -> str:
    out = io.StringIO()
    write_export(export_records(engine, **filters), fmt, out)  # type: ignore[arg-type]
    return out.getvalue()


PMIDS = ["39000001", "39000002", "39000003"]


# -- RIS ---------------------------------------------------------------------------------


def test_ris_round_trips_every_article_and_field(db: Engine) -> None:
    text = export(db, "ris")
    # Only tagged lines and blank separators, as EndNote writes (no "1." counters).
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*|", line) for line in text.splitlines())
    assert text.count("TY  - JOUR") == 3
    entries = rispy.loads(text)
    assert [e["accession_number"] for e in entries] == PMIDS
    first, second, third = entries

    assert first["type_of_reference"] == "JOUR"
    assert first["title"] == marked_up().title
    assert first["authors"] == [
        "Lindqvist, Åsa",
        "Müller-Łukasz, Jörg",
        "O'Byrne, Seán",
        "Grupo de Estudio de la Distonía y Espasticidad",
    ]
    assert (first["year"], first["date"]) == ("2026", "2026/03/14/")
    assert (first["secondary_title"], first["alternate_title1"]) == (
        "Movement disorders : official journal of the Movement Disorder Society",
        "Mov Disord",
    )
    assert (first["volume"], first["number"], first["start_page"], first["end_page"]) == (
        "41",
        "3",
        "201",
        "209",
    )
    assert first["abstract"] == (
        "BACKGROUND: Writer's cramp ~ task-specific dystonia. "
        "RESULTS: Ketamine 0.5 mg/kg cut spasms by 50% (p < 0.01)."
    )
    assert (first["doi"], first["issn"], first["custom2"]) == (
        "10.1002/mds.30001",
        "1531-8257",
        "PMC11000001",
    )
    assert first["language"] == "eng, ger"
    assert first["urls"] == [
        "https://pubmed.ncbi.nlm.nih.gov/39000001/",
        "https://doi.org/10.1002/mds.30001",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC11000001/",
    ]
    assert first["keywords"] == [
        "Dystonic Disorders",
        "Ketamine",
        "NMDA",
        "focal hand dystonia",
        "litwatch decision: include",
        "litwatch claim: neurorehab-window",
        "litwatch claim: plausible-mechanism",
        "litwatch evidence: case-report",
    ]
    assert first["notes"] == [
        "litwatch decision: include, by Zoë on 2026-11-05",
        "litwatch claims: neurorehab-window, plausible-mechanism",
        "litwatch stances: plausible-mechanism supports",
        "litwatch note: Key case series.",
        "litwatch note: Ask authors for MEP data.",
        "PMID: 39000001; PMCID: PMC11000001",
    ]

    assert second["keywords"][-4:] == [
        "litwatch decision: exclude",
        "litwatch reason: wrong population",
        "litwatch claim: trials-needed",
        "litwatch evidence: rct",
    ]
    assert (
        second["notes"][0] == "litwatch decision: exclude (wrong population), by ana on 2026-11-05"
    )
    assert (second["start_page"], "end_page" in second) == ("e123", False)
    assert second["urls"][-1] == "https://clinicaltrials.gov/study/NCT04000002"

    assert third["authors"] == ["Dyskinesia Study Group"]
    assert (third["date"], "volume" in third, "abstract" in third) == ("2025///", False, False)
    assert third["notes"] == ["litwatch decision: untriaged", "PMID: 39000003"]


# -- BibTeX ----------------------------------------------------------------------------


def _decode(value: str) -> str:
    return str(LatexNodes2Text().latex_to_text(value))


def test_bibtex_round_trips_every_article_and_field(db: Engine) -> None:
    text = export(db, "bibtex")
    library = bibtexparser.parse_string(
        text, append_middleware=[SeparateCoAuthors(), SplitNameParts()]
    )
    assert not library.failed_blocks
    assert [e.key for e in library.entries] == [f"pmid{p}" for p in PMIDS]
    first = {k: f.value for k, f in library.entries[0].fields_dict.items()}

    assert library.entries[0].entry_type == "article"
    assert first["title"] == (
        r"Ketamine \& β\textsubscript{2}-agonists \textit{in vivo}: 50\% fewer spasms "
        r"in writer's cramp\_\{test\}"
    )
    assert _decode(first["title"]) == marked_up().title
    names = [(_decode(" ".join(n.last)), _decode(" ".join(n.first))) for n in first["author"]]
    assert names == [
        ("Lindqvist", "Åsa"),
        ("Müller-Łukasz", "Jörg"),
        ("O'Byrne", "Seán"),
        ("Grupo de Estudio de la Distonía y Espasticidad", ""),
    ]
    assert {k: first[k] for k in ("journal", "year", "month", "volume", "number", "pages")} == {
        "journal": "Movement disorders : official journal of the Movement Disorder Society",
        "year": "2026",
        "month": "3",
        "volume": "41",
        "number": "3",
        "pages": "201--209",
    }
    assert (first["doi"], first["pmid"], first["pmcid"], first["issn"]) == (
        "10.1002/mds.30001",
        "39000001",
        "PMC11000001",
        "1531-8257",
    )
    assert first["url"] == "https://pubmed.ncbi.nlm.nih.gov/39000001/"
    assert _decode(first["abstract"]) == marked_up().abstract_text.replace("\n", " ")
    assert _decode(first["keywords"]).split(", ") == [
        "litwatch decision: include",
        "litwatch claim: neurorehab-window",
        "litwatch claim: plausible-mechanism",
        "litwatch evidence: case-report",
        "NMDA",
        "focal hand dystonia",
    ]
    assert _decode(first["note"]) == (
        "litwatch decision: include, by Zoë on 2026-11-05. "
        "litwatch claims: neurorehab-window, plausible-mechanism. "
        "litwatch stances: plausible-mechanism supports. "
        "litwatch note: Key case series. litwatch note: Ask authors for MEP data."
    )

    second = {k: f.value for k, f in library.entries[1].fields_dict.items()}
    assert "litwatch reason: wrong population" in second["keywords"]
    assert second["note"].startswith("litwatch decision: exclude (wrong population), by ana")
    assert second["pages"] == "e123"

    third = {k: f.value for k, f in library.entries[2].fields_dict.items()}
    assert [_decode(" ".join(n.last)) for n in third["author"]] == ["Dyskinesia Study Group"]
    assert ("month" in third, "abstract" in third, third["year"]) == (False, False, "2025")


# -- CSV and JSON Lines ------------------------------------------------------------------


def test_csv_has_one_row_per_article_with_every_screening_field(db: Engine) -> None:
    rows = list(csv.DictReader(io.StringIO(export(db, "csv"))))
    assert [r["pmid"] for r in rows] == PMIDS
    first, second, third = rows
    assert first["title"] == marked_up().title
    assert first["authors"] == (
        "Lindqvist Å; Müller-Łukasz J; O'Byrne S; Grupo de Estudio de la Distonía y Espasticidad"
    )
    assert (first["year"], first["pub_date"], first["doi"], first["pmcid"]) == (
        "2026",
        "2026 Mar 14",
        "10.1002/mds.30001",
        "PMC11000001",
    )
    assert first["mesh"] == "Dystonic Disorders*; Ketamine*"
    assert first["claims"] == "neurorehab-window; plausible-mechanism"
    assert (first["decision"], first["reason"], first["decided_by"]) == ("include", "", "Zoë")
    assert first["decided_at"] == T1.isoformat()
    assert first["stances"] == "plausible-mechanism supports"
    assert first["notes"] == "Key case series.; Ask authors for MEP data."
    assert first["queries"] == "ketamine-focal-dystonia; nmda-movement-disorders"
    assert first["first_seen"] == T0.isoformat()
    assert first["abstract"] == marked_up().abstract_text
    assert (first["is_trial"], first["retracted"], first["evidence_level"]) == (
        "no",
        "no",
        "case-report",
    )

    assert (second["decision"], second["reason"], second["is_trial"]) == (
        "exclude",
        "wrong population",
        "yes",
    )
    assert (second["registry_ids"], second["erratum"]) == ("NCT04000002", "yes")
    assert (third["decision"], third["decided_by"], third["queries"]) == (
        "untriaged",
        "",
        "nmda-movement-disorders",
    )


def test_json_lines_carry_the_whole_record_and_the_triage_state(db: Engine) -> None:
    objects = [json.loads(line) for line in export(db, "jsonl").splitlines()]
    assert [o["pmid"] for o in objects] == PMIDS
    assert Article.from_dict(objects[0]) == marked_up()
    assert Article.from_dict(objects[1]) == excluded_trial()
    assert objects[0]["litwatch"] | {"links": None} == {
        "decision": "include",
        "reason": None,
        "decided_by": "Zoë",
        "decided_at": T1.isoformat(),
        "notes": ["Key case series.", "Ask authors for MEP data."],
        "stances": {"plausible-mechanism": "supports"},
        "claims": ["neurorehab-window", "plausible-mechanism"],
        "evidence_level": "case-report",
        "is_trial": False,
        "registry_ids": [],
        "retracted": False,
        "queries": ["ketamine-focal-dystonia", "nmda-movement-disorders"],
        "first_seen": T0.isoformat(),
        "links": None,
    }
    assert objects[0]["litwatch"]["links"]["PMC"].endswith("/PMC11000001/")


# -- MEDLINE -----------------------------------------------------------------------------


def test_medline_text_reads_back_with_bio_medline(db: Engine) -> None:
    text = export(db, "medline")
    records = list(Medline.parse(io.StringIO(text)))
    assert [r["PMID"] for r in records] == PMIDS
    first = records[0]
    a = marked_up()
    assert first["TI"] == a.title
    assert first["AB"] == a.abstract_text.replace("\n", " ")
    assert first["FAU"] == ["Lindqvist, Åsa", "Müller-Łukasz, Jörg", "O'Byrne, Seán"]
    assert first["AU"] == ["Lindqvist Å", "Müller-Łukasz J", "O'Byrne S"]
    assert first["CN"] == ["Grupo de Estudio de la Distonía y Espasticidad"]
    assert first["AUID"] == ["ORCID: 0000-0002-1825-0097"]
    assert first["AD"] == ["Universität Zürich, Zürich."]
    assert first["MH"] == ["*Dystonic Disorders/drug therapy", "Ketamine/*therapeutic use"]
    assert first["OT"] == ["NMDA", "focal hand dystonia"]
    assert first["LA"] == ["eng", "ger"]
    assert (first["DP"], first["VI"], first["IP"], first["PG"]) == (
        "2026 Mar 14",
        "41",
        "3",
        "201-209",
    )
    assert (first["TA"], first["JT"]) == (a.journal_iso, a.journal_title)
    assert first["LID"] == "10.1002/mds.30001 [doi]"
    assert first["AID"] == ["10.1002/mds.30001 [doi]"]
    assert first["PMC"] == "PMC11000001"
    assert first["PHST"] == ["2026/01/04 00:00 [received]", "2026/10/30 00:00 [entrez]"]
    assert records[1]["SI"] == ["ClinicalTrials.gov/NCT04000002"]
    assert records[1]["EIN"] == ["Mov Disord. 2026;41(5):900 PMID: 1"]
    assert records[2]["CN"] == ["Dyskinesia Study Group"]
    assert max(len(line) for line in text.splitlines()) <= 88


# -- selection -----------------------------------------------------------------------------


def _pmids(engine: Engine, **filters: object) -> list[str]:
    return [r.article.pmid for r in export_records(engine, **filters)]  # type: ignore[arg-type]


def test_filters_by_decision_claim_and_first_seen(db: Engine) -> None:
    assert _pmids(db, decisions=["include"]) == ["39000001"]
    assert _pmids(db, decisions=["exclude", "untriaged"]) == ["39000002", "39000003"]
    assert _pmids(db, decisions=["maybe"]) == []  # the maybe was deleted from PubMed
    assert _pmids(db, decisions=["maybe"], include_deleted=True) == ["39000004"]
    assert _pmids(db, claims=["trials-needed"]) == ["39000002"]
    assert _pmids(db, claims=["neurorehab-window", "trials-needed"]) == ["39000001", "39000002"]
    assert _pmids(db, since=T1.date()) == ["39000003"]
    assert _pmids(db, since=T1.date(), claims=["trials-needed"]) == []
    with pytest.raises(InputError, match="'accepted' is not one of include, exclude"):
        _pmids(db, decisions=["accepted"])
    with pytest.raises(InputError, match="'endnote' is not one of ris, bibtex"):
        write_export([], "endnote", io.StringIO())
