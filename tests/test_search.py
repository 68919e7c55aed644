"""``hits list --search``: folded words over title, abstract, MeSH, keywords; indexed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Engine, insert, text

from litwatch.article import AbstractSection, Article, MeshHeading
from litwatch.db import (
    Migrations,
    RawJson,
    create_engine_for,
    open_database,
    upgrade_database,
    write_tx,
)
from litwatch.store import count_articles, list_articles, save_articles
from litwatch.store._common import ARTICLES
from litwatch.store.search import search_words
from litwatch.stored_form import stored_columns

NOW = datetime(2026, 11, 2, tzinfo=UTC)


def corpus() -> list[Article]:
    return [
        Article(
            pmid="90000201",
            title="Kétamine in writer’s cramp",
            abstract=(AbstractSection("Motor cortex plasticity.", "Motor cortex plasticity."),),
        ),
        Article(pmid="90000202", title="Esketamine for depression", keywords=("mood",)),
        Article(
            pmid="90000203",
            title="Dystonia and tremor",
            mesh=(MeshHeading("Dystonic Disorders"),),
        ),
    ]


def pmids(engine: Engine, query: str) -> list[str]:
    return sorted(s.pmid for s in list_articles(engine, search=query))


def test_words_all_must_occur_folded_and_prefixed(engine: Engine) -> None:
    save_articles(engine, corpus(), now=NOW)
    assert pmids(engine, "ketamine") == ["90000201"]  # accent folded
    assert pmids(engine, "ketamine*") == ["90000201"]
    assert pmids(engine, "*ketamine") == ["90000201"]
    assert pmids(engine, "writers cramp") == ["90000201"]  # curly apostrophe folded
    assert pmids(engine, "motor plasticity") == ["90000201"]  # abstract words, any order
    assert pmids(engine, "dystonic") == ["90000203"]  # MeSH heading
    assert pmids(engine, "mood") == ["90000202"]  # keyword
    assert pmids(engine, "dyston*") == ["90000203"]
    assert pmids(engine, "ketamine tremor") == []
    assert count_articles(engine, search="ketamine") == 1


def test_each_word_is_kept_once_and_a_record_is_found_by_any_of_them(engine: Engine) -> None:
    article = Article(
        pmid="90000204",
        title="Ketamine and pain: ketamine, pain, KETAMINE",
        abstract=(AbstractSection("Pain relief with ketamine.", "Pain relief with ketamine."),),
        mesh=(MeshHeading("Pain"), MeshHeading("Ketamine")),
    )
    # Searches ask which words occur, never how often: repeats would only cost.
    assert stored_columns(article)["search_text"] == "ketamine and pain relief with"
    save_articles(engine, [article], now=NOW)
    assert pmids(engine, "pain ketamine") == pmids(engine, "relie*") == ["90000204"]


def test_search_follows_updates_and_survives_syntax(engine: Engine) -> None:
    save_articles(engine, corpus(), now=NOW)
    changed = replace(corpus()[1], title="Esketamine for treatment-resistant depression", version=2)
    save_articles(engine, [changed], now=NOW)
    assert pmids(engine, "resistant") == ["90000202"]
    assert pmids(engine, "mood") == ["90000202"]
    # Engine syntax in the input is folded away, never passed through.
    assert pmids(engine, 'ketamine" OR NEAR(x') == []
    assert pmids(engine, "a:* & !b | (c)") == []
    assert len(list_articles(engine, search="  ")) == 3


def test_the_index_exists_on_each_dialect(engine: Engine) -> None:
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            found = conn.execute(text("SELECT name FROM sqlite_master WHERE name='articles_fts'"))
        else:
            found = conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE indexname='ix_articles_search'")
            )
        assert found.first() is not None


def test_search_words() -> None:
    assert search_words("Kétamine dyst* ") == [("ketamine", False), ("dyst", True)]
    assert search_words("*") == []


def test_dashes_and_greek_letters_separate_and_spell_words(engine: Engine) -> None:
    save_articles(
        engine,
        [Article(pmid="90000204", title="Newcastle–Ottawa scale for β-blocker trials")],
        now=NOW,
    )
    assert pmids(engine, "Newcastle") == ["90000204"]
    assert pmids(engine, "ottawa beta blocker") == ["90000204"]
    assert pmids(engine, "β-blocker") == ["90000204"]


def _fts_integrity_ok(engine: Engine) -> None:
    """FTS5 compares its index with the articles' text; raises if they disagree."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)"
        )


def test_the_sqlite_index_matches_the_rows_through_saves_updates_and_deletes(
    sqlite_url: str,
) -> None:
    engine = open_database(sqlite_url)
    try:
        save_articles(engine, corpus(), now=NOW)
        save_articles(engine, corpus(), now=NOW)  # unchanged: the index is not touched
        gone = replace(corpus()[1], title="Esketamine for anhedonia", keywords=(), version=2)
        save_articles(engine, [gone], now=NOW)
        _fts_integrity_ok(engine)
        assert pmids(engine, "anhedonia") == ["90000202"]
        assert pmids(engine, "depression") == []
        assert pmids(engine, "mood") == []
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM articles WHERE pmid = 90000203"))
        _fts_integrity_ok(engine)
        assert pmids(engine, "dystonic") == []
    finally:
        engine.dispose()


def test_rows_indexed_before_migration_0002_stay_searchable(sqlite_url: str) -> None:
    """A database written by 0001 (a trigger indexed each row), upgraded, then written again."""
    engine = create_engine_for(sqlite_url)
    try:
        with write_tx(engine) as conn:
            command.upgrade(Migrations().config(conn), "0001")
            rows = [
                {
                    **stored_columns(a),
                    "data": RawJson(stored_columns(a)["data"]),
                    "first_seen": NOW,
                    "last_seen": NOW,
                }
                for a in corpus()[:2]
            ]
            conn.execute(insert(ARTICLES), rows)  # as 0001's litwatch did: the trigger indexes
    finally:
        engine.dispose()
    upgrade_database(sqlite_url)
    engine = open_database(sqlite_url)
    try:
        save_articles(engine, corpus(), now=NOW)  # two unchanged, one new
        _fts_integrity_ok(engine)
        assert pmids(engine, "ketamine") == ["90000201"]
        assert pmids(engine, "dystonic") == ["90000203"]
    finally:
        engine.dispose()


def test_one_pmid_written_with_and_without_a_leading_zero_in_one_save(sqlite_url: str) -> None:
    """ "090000202" and "90000202" are one row: the second copy must update a row the
    index already holds (same batch, it did not: SQLite called the index corrupt)."""
    engine = open_database(sqlite_url)
    try:
        first = replace(corpus()[1], pmid="090000202")
        later = replace(corpus()[1], title="Esketamine for anhedonia", keywords=(), version=2)
        result = save_articles(engine, [first, later], now=NOW)
        assert (result.new, result.updated) == (["90000202"], ["90000202"])
        _fts_integrity_ok(engine)
        assert pmids(engine, "anhedonia") == ["90000202"]
    finally:
        engine.dispose()


def test_the_sqlite_index_merges_sixteen_segments_at_a_time(sqlite_url: str) -> None:
    """Migration 0003: fewer rewrites per imported record; 0002's default on the way down."""

    def automerge(engine: Engine) -> int | None:
        with engine.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT v FROM articles_fts_config WHERE k = 'automerge'"
            ).first()
        return None if row is None else int(row[0])

    upgrade_database(sqlite_url)
    engine = open_database(sqlite_url)
    try:
        assert automerge(engine) == 16
        save_articles(engine, corpus(), now=NOW)
        _fts_integrity_ok(engine)
        with write_tx(engine) as conn:
            command.downgrade(Migrations().config(conn), "0002")
        assert automerge(engine) == 4
    finally:
        engine.dispose()
