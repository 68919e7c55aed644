"""The email digest: what is new since the last one, rendered and delivered exactly once.

The public entry points; the work is split by job:

- ``digest_select``: the period's items from the database (new trials,
  new papers by claim, updates to papers already sent, the scoreboard, the
  searches that ran and failed),
- ``digest_model``: those items as plain records, the send policy and the
  deterministic Message-ID,
- ``digest_format`` / ``digest_render``: safe markup, excerpts, links, the
  Jinja templates and the email,
- ``digest_send``: the exactly-once protocol and the schedule.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine

from .config import DigestSettings
from .digest_model import ClaimRef, Digest
from .digest_render import render, render_parts
from .digest_select import select_digest
from .digest_send import (
    PlannedDigest,
    SendResult,
    digest_settings,
    load_claims,
    plan_digest,
    send_digest,
    send_due,
)


def build_digest(
    engine: Engine,
    settings: DigestSettings,
    *,
    now: datetime,
    claims: Sequence[ClaimRef] = (),
    respect_policy: bool = True,
) -> Digest | None:
    """The digest ``settings`` describes at ``now``; None when ``send_when`` says not to send."""
    with engine.connect() as conn:
        digest = select_digest(conn, settings, now=now, claims=claims)
    if respect_policy and not digest.worth_sending()[0]:
        return None
    return digest


__all__ = [
    "Digest",
    "PlannedDigest",
    "SendResult",
    "build_digest",
    "digest_settings",
    "load_claims",
    "plan_digest",
    "render",
    "render_parts",
    "send_digest",
    "send_due",
]
