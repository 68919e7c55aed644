"""SQLite full-text index: new rows indexed per batch by the store, not by a trigger per row.

FTS5 flushes its pending terms into a new index segment at every statement
boundary inside a trigger, so the per-row insert trigger tripled the cost of
storing a record. The store now adds each batch of new articles with one
``INSERT … SELECT`` (``store.search.index_new_articles``). The update trigger
stays, and now fires only when ``search_text`` really changes (an upsert that
keeps a record sets the column to its own value). PostgreSQL is unchanged:
its GIN index follows the table by itself.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INSERT_TRIGGER = (
    "CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN "
    "INSERT INTO articles_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
)
_UPDATE_BODY = (
    "BEGIN INSERT INTO articles_fts(articles_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO articles_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS articles_fts_insert")
    op.execute("DROP TRIGGER IF EXISTS articles_fts_update")
    op.execute(
        "CREATE TRIGGER articles_fts_update AFTER UPDATE OF search_text ON articles "
        "WHEN old.search_text IS NOT new.search_text " + _UPDATE_BODY
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS articles_fts_update")
    op.execute(
        "CREATE TRIGGER articles_fts_update AFTER UPDATE OF search_text ON articles " + _UPDATE_BODY
    )
    op.execute(_INSERT_TRIGGER)
