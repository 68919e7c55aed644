"""The bundled sample corpus: its shape, its honesty, and a table-driven check of the tagger.

tests/data/sample_expectations.toml was written by hand before the tagger ran;
each record's claims, evidence level and trial flag are compared with it here
(precision and recall per claim are printed by benchmarks/tagging.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sample_records import (
    all_records,
    corpus_files,
    expectations,
    first_versions,
    latest_versions,
)

from litwatch.article import Article
from litwatch.claims import SUMMARY_IDS, Catalogue, load_catalogue
from litwatch.resources import sample_corpus_dir
from litwatch.tagging import tag_article

REPO = Path(__file__).resolve().parent.parent
SYNTHETIC_FLOOR = 90_000_000


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(REPO / "queries" / "claims.toml")


def synthetic(article: Article) -> bool:
    return int(article.pmid) >= SYNTHETIC_FLOOR


# -- shape ------------------------------------------------------------------------


def test_at_least_sixty_records_real_and_synthetic() -> None:
    latest = latest_versions()
    assert len(latest) >= 60
    real = [a for a in latest.values() if not synthetic(a)]
    assert len(real) >= 5
    for article in real:  # the real records are on the mission topics
        text = f"{article.title} {article.abstract_text}".lower()
        assert "ketamine" in text or "nmda" in text or "n-methyl-d-aspartate" in text


def test_every_record_has_an_expectation_and_back() -> None:
    assert set(expectations()["records"]) == set(latest_versions())


def test_committed_files_are_what_the_generator_writes(shared_fixtures: Path) -> None:
    import sample_corpus_build

    written = sample_corpus_build.corpus_files()
    root = sample_corpus_dir()
    committed = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*.xml")}
    assert set(committed) == set(written)
    for name, data in written.items():
        assert committed[name] == data, f"{name} differs: run python tests/sample_corpus_build.py"


def test_synthetic_files_say_so_and_use_no_real_names() -> None:
    import sample_corpus_build

    for path in corpus_files():
        text = path.read_text(encoding="utf-8")
        pmids = [a.pmid for a in all_records() if a.pmid in text]
        if any(int(p) >= SYNTHETIC_FLOOR for p in pmids):
            assert "SYNTHETIC RECORDS" in text.split("<PubmedArticleSet>")[0], path.name
    for article in all_records():
        if synthetic(article):
            assert article.doi
            assert article.doi.startswith("10.5555/")
            for author in article.authors:
                assert author.last_name in sample_corpus_build.SURNAMES


def test_synthetic_files_are_valid_against_the_pubmed_dtd() -> None:
    import Bio.Entrez

    dtd_path = Path(Bio.Entrez.__file__).parent / "DTDs" / "pubmed_250101.dtd"
    if not dtd_path.exists():
        pytest.skip("Biopython's pubmed_250101.dtd not found")
    dtd = etree.DTD(str(dtd_path))
    parser = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)
    for path in corpus_files():
        if path.name.startswith(("synthetic_", "revised_")):
            document = etree.parse(str(path), parser)
            assert dtd.validate(document), f"{path.name}: {dtd.error_log.filter_from_errors()[:3]}"


def test_entrez_dates_span_several_weeks_before_the_demo_end() -> None:
    created = sorted(a.created for a in first_versions().values() if synthetic(a) and a.created)
    assert created[0] >= date(2026, 9, 28)
    assert created[-1] < date(2026, 11, 24)
    weeks = {(d - created[0]).days // 7 for d in created}
    assert len(weeks) >= 6


def test_later_versions_gain_mesh_and_links() -> None:
    first, latest = first_versions(), latest_versions()
    changed = {p for p in latest if latest[p] is not first[p]}
    assert len(changed) >= 4
    for pmid in changed:
        assert latest[pmid].modified is not None
        assert latest[pmid].modified > (first[pmid].modified or date.min)
    gained_mesh = [p for p in changed if not first[p].mesh and latest[p].mesh]
    assert len(gained_mesh) >= 3
    for pmid in gained_mesh:
        assert first[pmid].status == "In-Process"
        assert latest[pmid].status == "MEDLINE"


def test_retraction_is_linked_both_ways() -> None:
    first, latest = first_versions(), latest_versions()
    notices = [
        a
        for a in latest.values()
        if any(pt.name == "Retraction of Publication" for pt in a.publication_types)
    ]
    assert notices
    for notice in notices:
        (link,) = [c for c in notice.comments_corrections if c.ref_type == "RetractionOf"]
        assert link.pmid is not None
        original = latest[link.pmid]
        assert not first[link.pmid].is_retracted
        assert original.is_retracted
        assert "Retracted Publication" in [pt.name for pt in original.publication_types]
        assert notice.pmid in [c.pmid for c in original.comments_corrections]
        assert notice.created is not None
        assert original.modified is not None
        assert original.modified - notice.created < timedelta(days=2)


def test_trials_carry_registry_numbers() -> None:
    registries = {r.registry for a in latest_versions().values() for r in a.registry_ids}
    assert {"ClinicalTrials.gov", "ISRCTN", "CTRI", "DRKS", "JPRN", "ChiCTR"} <= registries


# -- the table: tagger vs hand-written expectations ---------------------------------


def cases() -> list[Any]:
    table = expectations()["records"]
    first, latest = first_versions(), latest_versions()
    found = []
    for pmid, expected in table.items():
        found.append(pytest.param(pmid, "latest", expected, id=f"{pmid}"))
        if first[pmid] is not latest[pmid]:
            found.append(
                pytest.param(
                    pmid, "first", {**expected, **expected.get("first", {})}, id=f"{pmid}-v1"
                )
            )
    return found


@pytest.mark.parametrize(("pmid", "version", "expected"), cases())
def test_tagger_agrees_with_the_table(
    catalogue: Catalogue, pmid: str, version: str, expected: dict[str, Any]
) -> None:
    article = (latest_versions() if version == "latest" else first_versions())[pmid]
    tagging = tag_article(article, catalogue)
    want = set(expected["claims"]) | set(expected["other_claims"])
    want |= set(expected.get("tagger_extra", []))
    want -= set(expected.get("tagger_missing", []))
    got = set(tagging.claim_ids)
    assert {c for c in got if c in SUMMARY_IDS} == {c for c in want if c in SUMMARY_IDS}
    assert got == want
    assert tagging.evidence_level == expected["evidence"], tagging.evidence_basis
    assert tagging.is_trial is expected["trial"], tagging.registry_ids
    assert tagging.retracted is expected.get("retracted", False)
    for tag in tagging.claims:  # every tag says why
        assert tag.hits or tag.via
