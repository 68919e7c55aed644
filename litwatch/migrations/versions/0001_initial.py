"""Initial schema: articles, the search ledger, hits, tags, triage, digests, locks.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Column types spelled out here, not imported from models.py: a migration must
# keep creating what it created on the day it was written.
def _key() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _one_of(
    table: str, column: str, values: tuple[str, ...], *, nullable: bool = False
) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    condition = f"{column} IN ({allowed})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{column}_allowed"))


DECISIONS = ("include", "exclude", "maybe")


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", _key(), nullable=False),
        sa.Column("pmid", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("doi", sa.String(), nullable=True),
        sa.Column("doi_norm", sa.String(), nullable=True),
        sa.Column("pmcid", sa.String(), nullable=True),
        sa.Column("journal", sa.Text(), nullable=True),
        sa.Column("journal_iso", sa.String(), nullable=True),
        sa.Column("pub_date", sa.Date(), nullable=True),
        sa.Column("pub_year", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(), nullable=True),
        sa.Column("created", sa.Date(), nullable=True),
        sa.Column("modified", sa.Date(), nullable=True),
        sa.Column("is_retracted", sa.Boolean(), nullable=False),
        sa.Column("has_erratum", sa.Boolean(), nullable=False),
        sa.Column("is_indexed", sa.Boolean(), nullable=False),
        sa.Column("work_key", sa.String(), nullable=True),
        sa.Column("search_text", sa.Text(), server_default="", nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=True),
        sa.Column("last_seen", _time(), nullable=False),
        sa.Column("deleted_at", _time(), nullable=True),
        sa.Column("evidence_level", sa.String(), nullable=True),
        sa.Column("is_trial", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("registry_ids", _json(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("tagged_hash", sa.String(), nullable=True),
        sa.Column("decision", sa.String(), nullable=True),
        sa.Column("decided_at", _time(), nullable=True),
        _one_of("articles", "decision", DECISIONS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint("pmid", name=op.f("uq_articles_pmid")),
    )
    for column in (
        "created",
        "doi_norm",
        "evidence_level",
        "first_seen",
        "is_trial",
        "pub_date",
        "work_key",
    ):
        op.create_index(op.f(f"ix_articles_{column}"), "articles", [column])
    untriaged, decided = sa.text("decision IS NULL"), sa.text("decision IS NOT NULL")
    op.create_index(
        "ix_articles_untriaged",
        "articles",
        ["first_seen", "id"],
        sqlite_where=untriaged,
        postgresql_where=untriaged,
    )
    op.create_index(
        "ix_articles_decided",
        "articles",
        ["decision", "first_seen", "id"],
        sqlite_where=decided,
        postgresql_where=decided,
    )
    _create_text_search()

    op.create_table(
        "query_state",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("watermark", sa.Date(), nullable=True),
        sa.Column("mdat_watermark", sa.Date(), nullable=True),
        sa.Column("file_hash", sa.String(), nullable=True),
        sa.Column("last_run_at", _time(), nullable=True),
        sa.Column("last_status", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_query_state")),
    )

    op.create_table(
        "search_runs",
        sa.Column("id", _key(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("query_name", sa.String(), nullable=False),
        sa.Column("query_hash", sa.String(), nullable=False),
        sa.Column("term_sent", sa.Text(), nullable=False),
        sa.Column("query_translation", sa.Text(), nullable=True),
        sa.Column("errors", _json(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("warnings", _json(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("date_field", sa.String(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("new_count", sa.Integer(), nullable=True),
        sa.Column("known_count", sa.Integer(), nullable=True),
        sa.Column("updated_count", sa.Integer(), nullable=True),
        sa.Column("request_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("started_at", _time(), nullable=False),
        sa.Column("finished_at", _time(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _one_of("search_runs", "date_field", ("crdt", "mdat")),
        _one_of("search_runs", "status", ("running", "ok", "failed")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_runs")),
    )
    op.create_index(op.f("ix_search_runs_run_id"), "search_runs", ["run_id"])
    op.create_index(
        "ix_search_runs_query_name_started_at", "search_runs", ["query_name", "started_at"]
    )

    op.create_table(
        "query_hits",
        sa.Column("search_run_id", _key(), nullable=False),
        sa.Column("article_id", _key(), nullable=False),
        sa.Column("query_name", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_query_hits_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["search_run_id"],
            ["search_runs.id"],
            name=op.f("fk_query_hits_search_run_id_search_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("search_run_id", "article_id", name=op.f("pk_query_hits")),
    )
    op.create_index(op.f("ix_query_hits_article_id"), "query_hits", ["article_id"])
    op.create_index(
        "ix_query_hits_query_name_article_id", "query_hits", ["query_name", "article_id"]
    )

    op.create_table(
        "tags",
        sa.Column("id", _key(), nullable=False),
        sa.Column("article_id", _key(), nullable=False),
        sa.Column("claim_id", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("reason", _json(), nullable=True),
        sa.Column("catalogue_hash", sa.String(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        _one_of("tags", "source", ("rule", "curator")),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_tags_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint(
            "article_id", "claim_id", "source", name=op.f("uq_tags_article_id_claim_id_source")
        ),
    )
    op.create_index(op.f("ix_tags_claim_id"), "tags", ["claim_id"])

    op.create_table(
        "triage_events",
        sa.Column("id", _key(), nullable=False),
        sa.Column("article_id", _key(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("decision", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("claim_id", sa.String(), nullable=True),
        sa.Column("stance", sa.String(), nullable=True),
        sa.Column("tag", sa.String(), nullable=True),
        sa.Column("tag_action", sa.String(), nullable=True),
        sa.Column("previous_decision", sa.String(), nullable=True),
        sa.Column("undoes_event_id", _key(), nullable=True),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("at", _time(), nullable=False),
        _one_of("triage_events", "kind", ("decision", "stance", "note", "tag")),
        _one_of("triage_events", "decision", DECISIONS, nullable=True),
        _one_of("triage_events", "previous_decision", DECISIONS, nullable=True),
        _one_of("triage_events", "stance", ("supports", "contradicts", "neutral"), nullable=True),
        _one_of("triage_events", "tag_action", ("add", "remove"), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_triage_events_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["undoes_event_id"],
            ["triage_events.id"],
            name=op.f("fk_triage_events_undoes_event_id_triage_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_events")),
    )
    op.create_index("ix_triage_events_article_id_id", "triage_events", ["article_id", "id"])

    op.create_table(
        "digests",
        sa.Column("id", _key(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("recipients", _json(), nullable=False),
        sa.Column("period_start", _time(), nullable=False),
        sa.Column("period_end", _time(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("transport", sa.String(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("sent_at", _time(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("items", _json(), server_default=sa.text("'[]'"), nullable=False),
        _one_of("digests", "status", ("pending", "sent", "failed")),
        _one_of("digests", "transport", ("smtp", "outbox")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint("message_id", name=op.f("uq_digests_message_id")),
    )
    op.create_index(op.f("ix_digests_name"), "digests", ["name"])

    op.create_table(
        "digest_items",
        sa.Column("digest_id", _key(), nullable=False),
        sa.Column("article_id", _key(), nullable=False),
        sa.Column("item_kind", sa.String(), nullable=False),
        sa.Column("digest_name", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_digest_items_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["digest_id"], ["digests.id"], name=op.f("fk_digest_items_digest_id_digests")
        ),
        sa.PrimaryKeyConstraint(
            "digest_id", "article_id", "item_kind", name=op.f("pk_digest_items")
        ),
        sa.UniqueConstraint(
            "digest_name",
            "article_id",
            "item_kind",
            name=op.f("uq_digest_items_digest_name_article_id_item_kind"),
        ),
    )

    op.create_table(
        "locks",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("acquired_at", _time(), nullable=False),
        sa.Column("expires_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_locks")),
    )


def _create_text_search() -> None:
    """The full-text index behind ``hits list --search``: one of its own per dialect.

    PostgreSQL: a GIN index over ``to_tsvector('simple', search_text)``.
    SQLite: an FTS5 table over articles.search_text (external content, so the
    text is stored once), kept in step by triggers. ``detail=none`` keeps only
    which rows hold a token, not where: a search ANDs single words and
    prefixes (store/search.py), which needs no more, and imports write less.
    Neither is in models.py: they are dialect-specific objects the schema
    comparison skips by name.
    """
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_articles_search ON articles "
            "USING gin (to_tsvector('simple', search_text))"
        )
        return
    op.execute(
        "CREATE VIRTUAL TABLE articles_fts USING fts5("
        "search_text, content='articles', content_rowid='id', tokenize='unicode61', "
        "detail=none)"
    )
    op.execute(
        "CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN "
        "INSERT INTO articles_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
    )
    op.execute(
        "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
        "INSERT INTO articles_fts(articles_fts, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); END"
    )
    op.execute(
        "CREATE TRIGGER articles_fts_update AFTER UPDATE OF search_text ON articles BEGIN "
        "INSERT INTO articles_fts(articles_fts, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); "
        "INSERT INTO articles_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS articles_fts")
    for table in (
        "locks",
        "digest_items",
        "digests",
        "triage_events",
        "tags",
        "query_hits",
        "search_runs",
        "query_state",
        "articles",
    ):
        op.drop_table(table)
