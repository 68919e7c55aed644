"""One record, the same URLs everywhere: digest, triage screen, hits JSON, RIS, JSON Lines."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import rispy
from sqlalchemy import Engine
from triage_data import article, save, set_tagging

from litwatch import links
from litwatch.article import RegistryId
from litwatch.article_view import load_view, render_screen
from litwatch.db import open_database
from litwatch.digest_format import article_links as digest_links
from litwatch.digest_format import registry_url as digest_registry_url
from litwatch.export import export_records, write_export
from litwatch.hits import hit_record
from litwatch.store import get_article

SICI_DOI = "10.1002/(SICI)1097-0142(19960601)77:11<2393::AID-CNCR31>3.0.CO;2-Q"
SICI_URL = (
    "https://doi.org/10.1002/(SICI)1097-0142(19960601)77:11%3C2393::AID-CNCR31%3E3.0.CO%3B2-Q"
)
EUDRACT = "EudraCT 2026-001234-56"
EUDRACT_URL = "https://www.clinicaltrialsregister.eu/ctr-search/search?query=2026-001234-56"
PMID = "39100001"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path / 'litwatch.db'}")
    record = article(
        PMID,
        "Ketamine in cancer pain.",
        doi=SICI_DOI,
        pmcid="PMC9100001",
        registry_ids=(RegistryId("EudraCT", EUDRACT),),
    )
    save(engine, record)
    set_tagging(engine, PMID, evidence_level="rct", is_trial=True, registry_ids=[EUDRACT])
    yield engine
    engine.dispose()


def test_doi_and_registry_numbers_are_quoted() -> None:
    assert links.doi_url(SICI_DOI) == SICI_URL
    assert links.registry_url(EUDRACT) == EUDRACT_URL
    assert links.registry_url("CTRI/2020/01/022000") == (
        "https://trialsearch.who.int/Trial2.aspx?TrialID=CTRI%2F2020%2F01%2F022000"
    )
    assert links.registry_url("not-a-registry") is None
    assert links.pmc_url("PMC9100001") == "https://pmc.ncbi.nlm.nih.gov/articles/PMC9100001/"


def test_every_view_links_the_same_record_to_the_same_urls(engine: Engine) -> None:
    stored = get_article(engine, PMID)
    assert stored is not None
    expected = {
        "pubmed": f"https://pubmed.ncbi.nlm.nih.gov/{PMID}/",
        "doi": SICI_URL,
        "pmc": "https://pmc.ncbi.nlm.nih.gov/articles/PMC9100001/",
    }

    digest = {label.split()[0].lower(): url for label, url in digest_links(stored.article)}
    assert digest == expected
    assert digest_registry_url(EUDRACT) == EUDRACT_URL

    with engine.connect() as conn:
        assert hit_record(conn, stored)["links"] == expected

    view = load_view(engine, PMID)
    assert view is not None
    screen = render_screen(view)
    for url in [*expected.values(), EUDRACT_URL]:
        assert url in screen

    out = io.StringIO()
    write_export(export_records(engine), "ris", out)
    (entry,) = rispy.loads(out.getvalue())
    assert entry["urls"] == [*expected.values(), EUDRACT_URL]

    out = io.StringIO()
    write_export(export_records(engine), "jsonl", out)
    assert set(json.loads(out.getvalue())["litwatch"]["links"].values()) == {
        *expected.values(),
        EUDRACT_URL,
    }
