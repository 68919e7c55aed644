"""Sending a digest exactly once, and sending the digests that are due.

The protocol, per digest name, under a lock in the database:

1. Plan: choose the items (``digest_select``), render, and record the digest
   as ``pending`` with its deterministic Message-ID and planned items.
2. Hand the message to the transport (SMTP server or outbox folder).
3. Only if it was accepted: in one transaction, mark the items sent
   (``digest_items``) and the digest ``sent`` with recipients and time.
   If it was refused, mark the digest ``failed`` with the error; no item is
   marked, and the next run plans them again (the same items give the same
   Message-ID).

A crash between 2 and 3 leaves the digest ``pending``. The next run does not
plan anew: it sends that pending digest again, same items, same Message-ID,
and records it. The reader may receive it twice, recognisably the same
message (mail clients and the outbox fold it by Message-ID); litwatch never
loses the record that it was sent and never sends an item in two different
digests of one name. At-least-once delivery, exactly-once accounting.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, insert, select, update

from .claims import Catalogue, load_catalogue
from .config import DigestSettings, Settings
from .db import upsert, write_tx
from .digest_model import ClaimRef, Digest, ItemKey
from .digest_render import DEFAULT_SENDER, HTML_TEMPLATE, TEXT_TEMPLATE, compose, render_parts
from .digest_select import select_digest
from .errors import ConfigError, DeliveryError, LockHeld, StoreError
from .locks import hold_lock
from .mailer import Transport, transport_for
from .models import Digest as DigestRow
from .models import DigestItem
from .queries import CLAIMS_FILE
from .schedules import is_due

log = logging.getLogger(__name__)

DIGESTS = cast(Table, DigestRow.__table__)
DIGEST_ITEMS = cast(Table, DigestItem.__table__)


@dataclass(frozen=True)
class SendResult:
    name: str
    status: str  # sent | skipped | failed | not-due
    reason: str
    message_id: str | None = None
    subject: str | None = None
    entries: int = 0
    recipients: tuple[str, ...] = ()
    location: str | None = None  # the .eml file, or host:port
    resent: bool = False  # a digest whose earlier delivery was never confirmed, sent again

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PlannedDigest:
    digest: Digest
    message_id: str
    resend: bool  # a pending digest from an attempt that stopped before it was recorded


# -- settings and claims -------------------------------------------------------------------


def digest_settings(settings: Settings, name: str | None = None) -> DigestSettings:
    """The digest called ``name`` (the first one when None)."""
    if name is None:
        return settings.digests[0]
    for digest in settings.digests:
        if digest.name == name:
            return digest
    known = ", ".join(d.name for d in settings.digests)
    where = settings.config_path or "litwatch.toml"
    raise ConfigError(where, f"no digest named {name!r} (defined: {known})")


def load_claims(queries_dir: Path) -> list[ClaimRef]:
    """Labels, sections and article statuses from ``claims.toml``, in catalogue order.

    The digest only displays claims: a missing or broken catalogue is logged
    (the tagger reports it in full) and the digest shows claim ids instead.
    """
    path = queries_dir / CLAIMS_FILE
    if not path.exists():
        log.warning("no %s: the digest shows claim ids, not labels", path)
        return []
    try:
        catalogue = load_catalogue(path)
    except ConfigError as exc:
        log.warning("claims not loaded (%s): the digest shows claim ids, not labels", exc)
        return []
    return claim_refs(catalogue)


def claim_refs(catalogue: Catalogue) -> list[ClaimRef]:
    return [
        ClaimRef(
            id=claim.id,
            label=claim.label,
            status=claim.article_status,
            section=claim.section,
            statement=" ".join(claim.statement.split()) or None,
            parent=claim.parent,
        )
        for claim in catalogue
    ]


def templates_dir_of(settings: Settings) -> Path | None:
    """Where the digest templates come from.

    ``[paths] templates``; else a ``templates/`` folder beside litwatch.toml
    (as ``litwatch init`` makes) that holds a digest template; else None, the
    shipped ones. A template missing from the chosen folder falls back to the
    shipped one.
    """
    if settings.templates_dir is not None:
        return settings.templates_dir
    base = settings.config_path.parent if settings.config_path else Path.cwd()
    local = base / "templates"
    if any((local / name).is_file() for name in (TEXT_TEMPLATE, HTML_TEMPLATE)):
        return local
    return None


def sender_of(settings: Settings) -> str:
    return settings.smtp.sender if settings.smtp is not None else DEFAULT_SENDER


# -- planning ------------------------------------------------------------------------------


def plan_digest(
    bind: Engine | Connection,
    settings: Settings,
    name: str | None = None,
    *,
    now: datetime,
    claims: Sequence[ClaimRef] | None = None,
) -> PlannedDigest:
    """What ``send_digest`` would send now: a pending digest again, else a fresh selection."""
    digest_conf = digest_settings(settings, name)
    if claims is None:
        claims = load_claims(settings.queries_dir)
    with _reading(bind) as conn:
        pending = conn.execute(
            select(DIGESTS)
            .where(DIGESTS.c.name == digest_conf.name, DIGESTS.c.status == "pending")
            .order_by(DIGESTS.c.created_at, DIGESTS.c.id)
        ).first()
        if pending is not None:
            planned = {(int(a), str(k)) for a, k in pending.items}
            digest = select_digest(
                conn,
                digest_conf,
                now=now,
                claims=claims,
                planned=planned,
                period=(pending.period_start, pending.period_end),
            )
            return PlannedDigest(digest, pending.message_id, resend=True)
        digest = select_digest(conn, digest_conf, now=now, claims=claims)
        return PlannedDigest(digest, digest.message_id(sender_of(settings)), resend=False)


# -- sending -------------------------------------------------------------------------------


def send_digest(
    engine: Engine,
    settings: Settings,
    name: str | None = None,
    *,
    now: datetime,
    force: bool = False,
    transport: Transport | None = None,
    claims: Sequence[ClaimRef] | None = None,
) -> SendResult:
    """Send digest ``name`` if ``send_when`` allows (or ``force``); record it exactly once.

    Returns ``failed`` (never raises) when the transport refuses: nothing is
    marked sent and the next call tries again. Raises ``LockHeld`` when
    another process is sending this digest right now.
    """
    digest_conf = digest_settings(settings, name)
    transport = transport or transport_for(settings)
    with digest_lock(engine, digest_conf.name):
        plan = plan_digest(engine, settings, digest_conf.name, now=now, claims=claims)
        digest = plan.digest
        if not plan.resend and not force:
            worth, why = digest.worth_sending()
            if not worth:
                log.info("digest %s: nothing sent: %s", digest_conf.name, why)
                return SendResult(digest_conf.name, "skipped", why)
        rendered = render_parts(digest, templates_dir_of(settings))
        message = compose(
            rendered,
            digest_name=digest_conf.name,
            sender=sender_of(settings),
            recipients=digest_conf.recipients,
            message_id=plan.message_id,
            when=now,
        )
        if plan.resend:
            log.warning(
                "digest %s: sending %s again: an earlier attempt stopped before its "
                "delivery was recorded (recipients may see it twice, with one Message-ID)",
                digest_conf.name,
                plan.message_id,
            )
        row_id = _record_pending(engine, plan, rendered.subject, transport.name, now)
        entries = len(digest.new_entries) + len(digest.updates)
        try:
            delivery = transport.send(message)
        except DeliveryError as exc:
            _record_failure(engine, row_id, str(exc))
            log.error("digest %s: not delivered, nothing marked sent: %s", digest_conf.name, exc)
            return SendResult(
                digest_conf.name,
                "failed",
                str(exc),
                message_id=plan.message_id,
                subject=rendered.subject,
                entries=entries,
                resent=plan.resend,
            )
        _record_sent(engine, row_id, digest.name, digest.item_keys, delivery.recipients, now)
        log.info(
            "digest %s: sent %s (%d entries) via %s",
            digest_conf.name,
            plan.message_id,
            entries,
            delivery.location,
        )
        return SendResult(
            digest_conf.name,
            "sent",
            "resent after an unconfirmed attempt" if plan.resend else "delivered",
            message_id=plan.message_id,
            subject=rendered.subject,
            entries=entries,
            recipients=delivery.recipients,
            location=delivery.location,
            resent=plan.resend,
        )


def send_due(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime,
    transport: Transport | None = None,
    claims: Sequence[ClaimRef] | None = None,
) -> list[SendResult]:
    """Every digest whose schedule has come round since it was last sent (for the worker).

    A digest left pending or failed is always due: delivery is retried on the
    next run. Under ``send_when = "new-trials"`` a due digest with no new
    trial sends nothing and stays due, so it goes out at the first run that
    has one. One digest failing does not stop the others.
    """
    results = []
    for digest_conf in settings.digests:
        last_sent, unfinished = _delivery_state(engine, digest_conf.name)
        if not unfinished and not is_due(digest_conf.schedule, last_sent, now):
            results.append(
                SendResult(digest_conf.name, "not-due", f"schedule {digest_conf.schedule!r}")
            )
            continue
        try:
            results.append(
                send_digest(
                    engine,
                    settings,
                    digest_conf.name,
                    now=now,
                    transport=transport,
                    claims=claims,
                )
            )
        except LockHeld as exc:
            results.append(SendResult(digest_conf.name, "skipped", str(exc)))
    return results


# -- bookkeeping ---------------------------------------------------------------------------


def _record_pending(
    engine: Engine, plan: PlannedDigest, subject: str, transport_name: str, now: datetime
) -> int:
    """The digest row, ``pending``, with its planned items (before anything leaves)."""
    digest = plan.digest
    values = {
        "subject": subject,
        "recipients": list(digest.settings.recipients),
        "transport": transport_name,
        "status": "pending",
        "items": [list(key) for key in digest.item_keys],
    }
    with write_tx(engine) as conn:
        existing = conn.execute(
            select(DIGESTS.c.id, DIGESTS.c.status).where(DIGESTS.c.message_id == plan.message_id)
        ).first()
        if existing is not None:
            if existing.status == "sent":
                raise StoreError(
                    f"digest {plan.message_id} is recorded as sent but its items are not: "
                    "check digest_items"
                )
            conn.execute(update(DIGESTS).where(DIGESTS.c.id == existing.id).values(**values))
            return int(existing.id)
        return int(
            conn.execute(
                insert(DIGESTS)
                .values(
                    name=digest.name,
                    message_id=plan.message_id,
                    period_start=digest.period_start,
                    period_end=digest.period_end,
                    created_at=now,
                    **values,
                )
                .returning(DIGESTS.c.id)
            ).scalar_one()
        )


def _record_failure(engine: Engine, row_id: int, error: str) -> None:
    with write_tx(engine) as conn:
        conn.execute(
            update(DIGESTS).where(DIGESTS.c.id == row_id).values(status="failed", error=error)
        )


def _record_sent(
    engine: Engine,
    row_id: int,
    name: str,
    items: Sequence[ItemKey],
    recipients: Sequence[str],
    now: datetime,
) -> None:
    """Items and the digest's status, Message-ID, recipients and time, in one transaction."""
    with write_tx(engine) as conn:
        if items:
            statement = upsert(
                conn, DIGEST_ITEMS, conflict=("digest_name", "article_id", "item_kind")
            )
            result = conn.execute(
                statement,
                [
                    {"digest_id": row_id, "article_id": a, "item_kind": k, "digest_name": name}
                    for a, k in items
                ],
            )
            if result.rowcount not in (-1, len(items)):
                log.warning("digest %s: some items were already recorded by another digest", name)
        conn.execute(
            update(DIGESTS)
            .where(DIGESTS.c.id == row_id)
            .values(status="sent", sent_at=now, recipients=list(recipients), error=None)
        )


def _delivery_state(engine: Engine, name: str) -> tuple[datetime | None, bool]:
    """(last time the digest was sent, whether a pending or failed attempt is outstanding)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(DIGESTS.c.status, DIGESTS.c.sent_at, DIGESTS.c.created_at)
            .where(DIGESTS.c.name == name)
            .order_by(DIGESTS.c.created_at.desc(), DIGESTS.c.id.desc())
            .limit(50)
        ).all()
    sent = [r.sent_at for r in rows if r.status == "sent" and r.sent_at is not None]
    last_sent = max(sent) if sent else None
    latest = rows[0] if rows else None
    unfinished = latest is not None and latest.status in ("pending", "failed")
    return last_sent, unfinished


# -- a lock per digest name --------------------------------------------------------------


@contextmanager
def digest_lock(engine: Engine, name: str) -> Iterator[None]:
    """One sender per digest name across processes (``LockHeld`` otherwise).

    Real time, not the caller's ``now``: the lock guards against two live
    senders (and expires for a dead one), whatever period the digest covers.
    """
    with hold_lock(engine, f"digest:{name}"):
        yield


@contextmanager
def _reading(bind: Engine | Connection) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as conn:
        yield conn
