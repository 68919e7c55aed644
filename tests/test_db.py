"""The database layer: engine set-up, schema versions, write transactions, types, upserts."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, insert, inspect, select, text
from sqlalchemy.exc import StatementError

from litwatch.article import Article, PartialDate
from litwatch.db import (
    Migrations,
    check_database,
    create_engine_for,
    open_database,
    upgrade_database,
    upsert,
    write_tx,
)
from litwatch.errors import StoreError
from litwatch.models import Base, Lock
from litwatch.store import count_articles, save_articles

LOCKS = Lock.__table__
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
# This litwatch's schema revision, and the one the test migrations below add.
SCRIPT = Migrations().script()
HEAD = SCRIPT.get_current_head()
NEXT = "9001"

# A second migration, used to play "an older litwatch wrote this database" and
# "a newer litwatch wrote this database" with real revisions.
EXTRA_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "@HEAD@"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("locks") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("locks") as batch:
        batch.drop_column("note")
"""


@pytest.fixture
def newer_migrations(tmp_path: Path) -> Migrations:
    folder = tmp_path / "newer_versions"
    folder.mkdir()
    (folder / "9001_lock_note.py").write_text(
        EXTRA_REVISION.replace("@HEAD@", str(HEAD)), encoding="utf-8"
    )
    return Migrations(extra_version_locations=(folder,))


# -- a new database ------------------------------------------------------------------


def _not_text_search(name: str | None, kind: str, _parent: object) -> bool:
    """The full-text index is dialect-specific and lives only in the migration."""
    return not (name or "").startswith(("articles_fts", "ix_articles_search"))


def test_new_database_is_created_at_head_and_matches_the_models(db_url: str) -> None:
    engine = open_database(db_url)
    try:
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == HEAD
            tables = set(inspect(conn).get_table_names())
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_name": _not_text_search}
            )
            differences = compare_metadata(context, Base.metadata)
        assert {"articles", "search_runs", "query_hits", "tags", "triage_events"} <= tables
        assert {"digests", "digest_items", "locks", "query_state", "alembic_version"} <= tables
        assert differences == []  # the migration builds exactly what models.py describes
    finally:
        engine.dispose()
    status = check_database(db_url)
    assert status.up_to_date
    assert (status.current, status.head, status.pending) == (HEAD, HEAD, ())


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(sqlite_url: str) -> None:
    engine = open_database(sqlite_url)
    try:
        with engine.connect() as conn:
            pragmas = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            }
            # A hit for an article that does not exist is refused, not stored.
            with pytest.raises(Exception, match="FOREIGN KEY constraint failed"):
                conn.exec_driver_sql(
                    "INSERT INTO query_hits (search_run_id, article_id, query_name) "
                    "VALUES (1, 1, 'q')"
                )
    finally:
        engine.dispose()
    assert pragmas == {
        "journal_mode": "wal",
        "busy_timeout": 30000,
        "foreign_keys": 1,
        "synchronous": 1,  # NORMAL
    }


def test_a_new_sqlite_file_gets_large_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    old_file = tmp_path / "old.db"
    made = sqlite3.connect(old_file)  # as litwatch made files before: 4 kB pages, WAL
    made.execute("PRAGMA page_size = 4096")
    made.execute("PRAGMA journal_mode = WAL")  # writes the header: the size is now fixed
    made.close()
    sizes = {}
    for name in ("new.db", "old.db"):
        engine = open_database(f"sqlite:///{tmp_path / name}")
        try:
            save_articles(engine, [Article(pmid="90000001", title="Stored")], now=NOON)
            assert count_articles(engine) == 1
            with engine.connect() as conn:
                sizes[name] = conn.exec_driver_sql("PRAGMA page_size").scalar()
        finally:
            engine.dispose()
    assert sizes == {"new.db": 32768, "old.db": 4096}


@pytest.mark.postgres
def test_postgres_stores_jsonb_and_timestamptz(postgres_url: str) -> None:
    engine = open_database(postgres_url)
    try:
        with engine.connect() as conn:
            types = dict(
                conn.execute(
                    text(
                        "SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_schema = current_schema() AND table_name = 'articles'"
                    )
                ).all()
            )
    finally:
        engine.dispose()
    assert types["data"] == "jsonb"
    assert types["registry_ids"] == "jsonb"
    assert types["first_seen"] == "timestamp with time zone"
    assert types["pmid"] == "bigint"


def test_check_does_not_create_a_missing_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "not-yet.db"
    status = check_database(f"sqlite:///{path}")
    assert status.empty
    assert not status.up_to_date
    assert status.pending == tuple(r.revision for r in reversed(list(SCRIPT.walk_revisions())))
    assert not path.exists()


# -- schema versions -----------------------------------------------------------------


def test_older_schema_is_refused_until_upgraded(db_url: str, newer_migrations: Migrations) -> None:
    open_database(db_url).dispose()  # written by "this" litwatch, at HEAD

    with pytest.raises(StoreError) as refused:
        open_database(db_url, migrations=newer_migrations)
    assert f"is at schema {HEAD}, this litwatch needs {NEXT}: run `litwatch db upgrade`" in str(
        refused.value
    )

    status = check_database(db_url, migrations=newer_migrations)
    assert (status.current, status.head, status.pending) == (HEAD, NEXT, (NEXT,))

    assert upgrade_database(db_url, migrations=newer_migrations) == [NEXT]
    assert upgrade_database(db_url, migrations=newer_migrations) == []  # nothing left to do
    engine = open_database(db_url, migrations=newer_migrations)
    try:
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("locks")}
    finally:
        engine.dispose()
    assert "note" in columns


def test_open_with_upgrade_migrates_an_older_schema(
    sqlite_url: str, newer_migrations: Migrations
) -> None:
    open_database(sqlite_url).dispose()
    open_database(sqlite_url, upgrade=True, migrations=newer_migrations).dispose()
    assert check_database(sqlite_url, migrations=newer_migrations).current == NEXT


REBUILD_ARTICLES = """
import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "@HEAD@"
branch_labels = None
depends_on = None


def _recreate():
    # On SQLite, rebuild the table (copy, drop the original, rename) as batch
    # mode does for most changes; PostgreSQL alters it in place.
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade():
    with op.batch_alter_table("articles", recreate=_recreate()) as batch:
        batch.add_column(sa.Column("abstract_text", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("articles", recreate=_recreate()) as batch:
        batch.drop_column("abstract_text")
"""


def test_rebuilding_a_referenced_table_keeps_the_rows_that_refer_to_it(
    db_url: str, tmp_path: Path
) -> None:
    engine = open_database(db_url)
    try:
        save_articles(engine, [_tiny_article(123)], now=NOON)
        with write_tx(engine) as conn:
            conn.execute(
                text(
                    "INSERT INTO search_runs (run_id, query_name, query_hash, term_sent, "
                    "date_field, window_start, window_end, started_at, status) VALUES "
                    "('r1', 'q', 'h', 'ketamine', 'crdt', :day, :day, :at, 'ok')"
                ),
                {"day": date(2026, 11, 1), "at": NOON.replace(tzinfo=None)},
            )
            conn.execute(
                text(
                    "INSERT INTO query_hits (search_run_id, article_id, query_name) "
                    "SELECT s.id, a.id, 'q' FROM search_runs s, articles a"
                )
            )
    finally:
        engine.dispose()
    folder = tmp_path / "rebuild_versions"
    folder.mkdir()
    (folder / "9001_rebuild_articles.py").write_text(
        REBUILD_ARTICLES.replace("@HEAD@", str(HEAD)), encoding="utf-8"
    )

    assert upgrade_database(db_url, migrations=Migrations((folder,))) == [NEXT]
    engine = open_database(db_url, migrations=Migrations((folder,)))
    try:
        with engine.connect() as conn:
            hits = conn.execute(text("SELECT count(*) FROM query_hits")).scalar_one()
            fk_on = (
                conn.exec_driver_sql("PRAGMA foreign_keys").scalar() if "sqlite" in db_url else 1
            )
    finally:
        engine.dispose()
    assert hits == 1  # not cascade-deleted when the old articles table was dropped
    assert fk_on == 1  # and references are enforced again afterwards


def test_newer_schema_is_refused(db_url: str, newer_migrations: Migrations) -> None:
    upgrade_database(db_url, migrations=newer_migrations)  # a "newer litwatch" wrote it
    with pytest.raises(StoreError, match=f"at schema {NEXT}, written by a newer litwatch"):
        open_database(db_url)
    with pytest.raises(StoreError, match="written by a newer litwatch"):
        upgrade_database(db_url)
    assert check_database(db_url).newer


def test_a_database_of_something_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    with pytest.raises(StoreError, match="has tables but no litwatch schema version"):
        open_database(f"sqlite:///{path}")
    assert check_database(f"sqlite:///{path}").foreign


# -- bad URLs and unreachable servers --------------------------------------------------


def test_unreachable_server_is_one_line_without_the_password() -> None:
    url = "postgresql+psycopg://litwatch:s3cret@127.0.0.1:1/test"
    with pytest.raises(StoreError) as failed:
        open_database(url)
    message = str(failed.value)
    assert message.startswith("cannot open database postgresql+psycopg://litwatch:***@127.0.0.1:1")
    assert "s3cret" not in message
    assert "\n" not in message
    status = check_database(url)
    assert not status.reachable
    assert status.error is not None
    assert "s3cret" not in status.error


def test_bad_urls_are_refused_with_what_to_use(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unsupported database mysql://x@h/db"):
        open_database("mysql://x@h/db")
    with pytest.raises(StoreError, match="not a database URL"):
        open_database("litwatch.db")
    missing = tmp_path / "no-such-folder" / "x.db"
    with pytest.raises(StoreError, match=f"cannot open database sqlite:///{missing}"):
        open_database(f"sqlite:///{missing}")


def test_plain_postgresql_url_uses_psycopg_3() -> None:
    engine = create_engine_for("postgresql://someone@127.0.0.1:1/test")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


# -- write transactions ----------------------------------------------------------------


def test_write_tx_holds_the_write_lock_from_begin_and_readers_still_read(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = open_database(sqlite_url)
    other = sqlite3.connect(tmp_path / "litwatch.db", timeout=0.1, isolation_level=None)
    try:
        with write_tx(engine):
            # Nothing written yet, but the lock is ours: another writer cannot start.
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
            # WAL: readers are not blocked by the writer.
            assert other.execute("SELECT count(*) FROM articles").fetchone() == (0,)
        other.execute("BEGIN IMMEDIATE")  # released at commit
        other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()


def test_write_tx_rolls_back_on_error(engine: Engine) -> None:
    def fail_midway() -> None:
        with write_tx(engine) as conn:
            conn.execute(insert(LOCKS), [_lock("run", "a")])
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_midway()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(LOCKS)).scalar_one() == 0


def _concurrent_writer(url: str, first_pmid: int, count: int, start: object) -> None:
    """One process: open (maybe create) the database, then read-then-write many times."""
    start.wait()  # type: ignore[attr-defined]
    engine = open_database(url)
    try:
        for i in range(count):
            pmid = first_pmid + i
            with write_tx(engine) as conn:
                # A read before the write is what breaks deferred transactions.
                count_articles(conn)
                save_articles(conn, [_tiny_article(pmid)], now=NOON + timedelta(seconds=i))
                conn.execute(
                    upsert(conn, LOCKS, conflict=["name"], update=lambda ex: {"owner": ex.owner}),
                    [_lock("last-writer", str(pmid))],
                )
    finally:
        engine.dispose()


def test_two_processes_writing_at_once_never_see_database_is_locked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"  # does not exist yet: both race to create it
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    per_process = 150
    workers = [
        context.Process(target=_concurrent_writer, args=(url, first, per_process, start))
        for first in (1_000_000, 2_000_000)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]

    engine = open_database(url)
    try:
        with engine.connect() as conn:
            pmids = conn.execute(text("SELECT pmid FROM articles")).scalars().all()
            owner = conn.execute(select(LOCKS.c.owner)).scalar_one()
    finally:
        engine.dispose()
    expected = {1_000_000 + i for i in range(per_process)} | {
        2_000_000 + i for i in range(per_process)
    }
    assert sorted(pmids) == sorted(expected)
    assert int(owner) in expected


# -- types and upserts -----------------------------------------------------------------


def test_datetimes_come_back_as_aware_utc(engine: Engine) -> None:
    berlin_noon = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with write_tx(engine) as conn:
        conn.execute(insert(LOCKS), [_lock("run", "a", acquired_at=berlin_noon)])
    with engine.connect() as conn:
        acquired = conn.execute(select(LOCKS.c.acquired_at)).scalar_one()
        # Comparisons happen in UTC too: 10:00 UTC is the stored instant.
        later = conn.execute(
            select(func.count())
            .select_from(LOCKS)
            .where(LOCKS.c.acquired_at > datetime(2026, 3, 1, 9, 59, tzinfo=UTC))
        ).scalar_one()
    assert acquired == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert acquired.tzinfo is UTC
    assert later == 1


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    naive = _lock("run", "a", acquired_at=datetime(2026, 3, 1, 12))
    with (
        pytest.raises(StatementError, match="naive datetime 2026-03-01T12:00:00 refused"),
        write_tx(engine) as conn,
    ):
        conn.execute(insert(LOCKS), [naive])


def test_upsert_updates_on_conflict_and_respects_its_condition(engine: Engine) -> None:
    def take_if_expired(owner: str, at: datetime) -> None:
        statement = upsert(
            engine,
            LOCKS,
            conflict=["name"],
            update=lambda ex: {
                "owner": ex.owner,
                "acquired_at": ex.acquired_at,
                "expires_at": ex.expires_at,
            },
            where=lambda ex: LOCKS.c.expires_at <= ex.acquired_at,
        )
        with write_tx(engine) as conn:
            conn.execute(statement, [_lock("run", owner, acquired_at=at)])

    take_if_expired("worker-1", NOON)
    take_if_expired("worker-2", NOON + timedelta(minutes=5))  # worker-1's lock is still valid
    with engine.connect() as conn:
        assert conn.execute(select(LOCKS.c.owner)).scalar_one() == "worker-1"
    take_if_expired("worker-2", NOON + timedelta(hours=2))  # expired: taken over
    with engine.connect() as conn:
        rows = conn.execute(select(LOCKS.c.owner, LOCKS.c.acquired_at)).all()
    assert rows == [("worker-2", NOON + timedelta(hours=2))]

    with write_tx(engine) as conn:  # DO NOTHING variant
        conn.execute(upsert(conn, LOCKS, conflict=["name"]), [_lock("run", "worker-3")])
    with engine.connect() as conn:
        assert conn.execute(select(LOCKS.c.owner)).scalar_one() == "worker-2"


# -- helpers ---------------------------------------------------------------------------


def _lock(name: str, owner: str, *, acquired_at: datetime = NOON) -> dict[str, object]:
    return {
        "name": name,
        "owner": owner,
        "acquired_at": acquired_at,
        "expires_at": acquired_at + timedelta(hours=1),
    }


def _tiny_article(pmid: int) -> Article:
    return Article(
        pmid=str(pmid),
        title=f"Record {pmid}",
        pub_date=PartialDate("2024", 2024),
        history={"entrez": date(2024, 1, 2)},
    )
