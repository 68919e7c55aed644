"""The database schema: SQLAlchemy 2.0 typed declarative models.

One schema for SQLite and PostgreSQL. Every datetime column is a ``UtcDateTime``
(aware UTC in, aware UTC out), JSON is JSONB on PostgreSQL and JSON text on
SQLite, and nothing here relies on one dialect's SQL. Schema changes go through
a migration in ``litwatch/migrations/versions`` (a test compares the migrated
database with these models, so the two cannot drift apart).

Notes on choices the later features depend on:

- ``articles.pmid`` is an integer: PMIDs are numbers, an integer index is
  compact and orders them numerically (as text, "9" sorts after "10"). The
  ``Article`` record keeps it as a string; the store converts at the boundary.
- ``articles.data`` holds the whole record (``Article.to_json()``); the other
  columns are copies of what listings filter and sort on.
- ``articles.decision`` is the curator's current decision (the latest triage
  event), NULL while untriaged. The triage code updates it in the same
  transaction as the event it appends, so "untriaged, newest first" reads the
  first rows of a partial index (first_seen, id WHERE decision IS NULL)
  instead of searching the event log: fast on a million articles on both
  dialects.
- ``articles.tagged_hash`` is NULL whenever the record needs (re)tagging: the
  store clears it when the content changes, the tagger sets it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

# Explicit constraint names: Alembic's batch mode (SQLite) can only alter what is named.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    Naive datetimes are refused on write (their meaning depends on the machine).
    SQLite has no time zones, so UTC is stored without an offset there and put
    back on read; PostgreSQL stores ``timestamptz`` and returns the session's
    zone, which is converted to UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: use an aware UTC time")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def json_type() -> TypeEngine[Any]:
    """JSON everywhere, stored as JSONB on PostgreSQL (indexable, compact)."""
    return JSON().with_variant(JSONB(), "postgresql")


# Surrogate keys: BIGINT on PostgreSQL; on SQLite "INTEGER PRIMARY KEY" is the rowid.
BigIntKey = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        date: Date(),
        str: String(),
        int: Integer(),
        bool: Boolean(),
    }


def _one_of(column: str, values: tuple[str, ...], *, nullable: bool = False) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    condition = f"{column} IN ({allowed})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(condition, name=f"{column}_allowed")


def _where(condition: str) -> dict[str, Any]:
    """Make an index partial, on both dialects."""
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


DECISIONS = ("include", "exclude", "maybe")
RUN_STATUSES = ("running", "ok", "failed")
DATE_FIELDS = ("crdt", "mdat")
TAG_SOURCES = ("rule", "curator")
TRIAGE_KINDS = ("decision", "stance", "note", "tag")
STANCES = ("supports", "contradicts", "neutral")
TAG_ACTIONS = ("add", "remove")
DIGEST_STATUSES = ("pending", "sent", "failed")
TRANSPORTS = ("smtp", "outbox")


class ArticleRow(Base):
    """One PubMed record, once per PMID."""

    __tablename__ = "articles"
    __table_args__ = (
        # Each row is in exactly one of these two (so inserts pay for one index).
        # A partial index, because PostgreSQL cannot use (decision, first_seen)
        # to order rows for "decision IS NULL" (IS NULL is not an equality to it).
        Index("ix_articles_untriaged", "first_seen", "id", **_where("decision IS NULL")),
        Index(
            "ix_articles_decided",
            "decision",
            "first_seen",
            "id",
            **_where("decision IS NOT NULL"),
        ),
        _one_of("decision", DECISIONS, nullable=True),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    pmid: Mapped[int] = mapped_column(BigInteger, unique=True)
    version: Mapped[int]
    kind: Mapped[str]
    status: Mapped[str | None]
    title: Mapped[str] = mapped_column(Text)
    doi: Mapped[str | None]
    doi_norm: Mapped[str | None] = mapped_column(index=True)
    pmcid: Mapped[str | None]
    journal: Mapped[str | None] = mapped_column(Text)
    journal_iso: Mapped[str | None]
    pub_date: Mapped[date | None] = mapped_column(index=True)
    pub_year: Mapped[int | None]
    language: Mapped[str | None]
    created: Mapped[date | None] = mapped_column(index=True)
    modified: Mapped[date | None]
    is_retracted: Mapped[bool]
    has_erratum: Mapped[bool]
    is_indexed: Mapped[bool]
    # Not unique: two PMIDs with one work key are the same work, linked, both kept.
    work_key: Mapped[str | None] = mapped_column(index=True)
    # Folded title, abstract, keywords, MeSH and substances: what ``--search``
    # looks in, through a full-text index per dialect (see migration 0001).
    search_text: Mapped[str] = mapped_column(Text, server_default="")
    data: Mapped[dict[str, Any]] = mapped_column(json_type())
    content_hash: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime | None]  # last time the content changed; NULL: never
    last_seen: Mapped[datetime]  # last time any copy of the record was saved
    deleted_at: Mapped[datetime | None]  # PubMed sent a DeleteCitation for it
    # Filled by the tagger.
    evidence_level: Mapped[str | None] = mapped_column(index=True)
    is_trial: Mapped[bool] = mapped_column(server_default=false(), index=True)
    registry_ids: Mapped[list[str]] = mapped_column(json_type(), server_default=text("'[]'"))
    tagged_hash: Mapped[str | None]
    # Maintained by triage with each decision event (see module docstring).
    decision: Mapped[str | None]
    decided_at: Mapped[datetime | None]


class QueryState(Base):
    """Per saved query: how far its windows are complete."""

    __tablename__ = "query_state"

    name: Mapped[str] = mapped_column(primary_key=True)
    watermark: Mapped[date | None]  # create-date window complete up to this day
    mdat_watermark: Mapped[date | None]
    file_hash: Mapped[str | None]
    last_run_at: Mapped[datetime | None]
    last_status: Mapped[str | None]


class SearchRun(Base):
    """The ledger: one row per esearch a run made (PRISMA-S)."""

    __tablename__ = "search_runs"
    __table_args__ = (
        Index("ix_search_runs_query_name_started_at", "query_name", "started_at"),
        _one_of("status", RUN_STATUSES),
        _one_of("date_field", DATE_FIELDS),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    run_id: Mapped[str] = mapped_column(index=True)  # groups the searches of one pass
    query_name: Mapped[str]
    query_hash: Mapped[str]
    term_sent: Mapped[str] = mapped_column(Text)
    query_translation: Mapped[str | None] = mapped_column(Text)
    errors: Mapped[list[Any]] = mapped_column(json_type(), server_default=text("'[]'"))
    warnings: Mapped[list[Any]] = mapped_column(json_type(), server_default=text("'[]'"))
    date_field: Mapped[str]
    window_start: Mapped[date]
    window_end: Mapped[date]
    count: Mapped[int | None]
    new_count: Mapped[int | None]
    known_count: Mapped[int | None]
    updated_count: Mapped[int | None]
    request_count: Mapped[int] = mapped_column(server_default=text("0"))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str]
    error: Mapped[str | None] = mapped_column(Text)


class QueryHit(Base):
    """Which search run found which article."""

    __tablename__ = "query_hits"
    __table_args__ = (Index("ix_query_hits_query_name_article_id", "query_name", "article_id"),)

    search_run_id: Mapped[int] = mapped_column(
        ForeignKey("search_runs.id", ondelete="CASCADE"), primary_key=True
    )
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    query_name: Mapped[str]


class Tag(Base):
    """A claim tag on an article, from a rule or from a curator, with its reason."""

    __tablename__ = "tags"
    __table_args__ = (
        UniqueConstraint("article_id", "claim_id", "source"),
        _one_of("source", TAG_SOURCES),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    claim_id: Mapped[str] = mapped_column(index=True)
    source: Mapped[str]
    reason: Mapped[Any] = mapped_column(json_type(), nullable=True)
    catalogue_hash: Mapped[str | None]
    created_at: Mapped[datetime]


class TriageEvent(Base):
    """Append-only curator log; an article's current decision is its latest decision event."""

    __tablename__ = "triage_events"
    __table_args__ = (
        Index("ix_triage_events_article_id_id", "article_id", "id"),
        _one_of("kind", TRIAGE_KINDS),
        _one_of("decision", DECISIONS, nullable=True),
        _one_of("previous_decision", DECISIONS, nullable=True),
        _one_of("stance", STANCES, nullable=True),
        _one_of("tag_action", TAG_ACTIONS, nullable=True),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    kind: Mapped[str]
    decision: Mapped[str | None]
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    claim_id: Mapped[str | None]
    stance: Mapped[str | None]
    tag: Mapped[str | None]
    tag_action: Mapped[str | None]
    previous_decision: Mapped[str | None]
    undoes_event_id: Mapped[int | None] = mapped_column(ForeignKey("triage_events.id"))
    actor: Mapped[str]
    at: Mapped[datetime]


class Digest(Base):
    """One digest message, identified by a deterministic Message-ID."""

    __tablename__ = "digests"
    __table_args__ = (_one_of("status", DIGEST_STATUSES), _one_of("transport", TRANSPORTS))

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    name: Mapped[str] = mapped_column(index=True)
    message_id: Mapped[str] = mapped_column(unique=True)
    subject: Mapped[str] = mapped_column(Text)
    recipients: Mapped[list[str]] = mapped_column(json_type())
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    status: Mapped[str]
    transport: Mapped[str]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # The planned items, [[article_id, item_kind], ...], fixed when the row is
    # made: a resend after a crash repeats exactly this message (same Message-ID).
    items: Mapped[list[Any]] = mapped_column(json_type(), server_default=text("'[]'"))


class DigestItem(Base):
    """An article sent in a digest; at most once per digest name and item kind."""

    __tablename__ = "digest_items"
    __table_args__ = (UniqueConstraint("digest_name", "article_id", "item_kind"),)

    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id"), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    item_kind: Mapped[str] = mapped_column(primary_key=True)  # "new", "retracted", "erratum" ...
    digest_name: Mapped[str]


class Lock(Base):
    """A named lock with an expiry: one run at a time, across processes and machines."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(primary_key=True)
    owner: Mapped[str]
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
