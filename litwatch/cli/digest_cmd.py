"""``litwatch digest preview``, ``digest send`` and ``digest list``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import click
from sqlalchemy import Table, func, select

from ..digest import plan_digest, render_parts, send_digest
from ..digest_send import SendResult, digest_settings, templates_dir_of
from ..models import Digest as DigestRow
from ..models import DigestItem
from .context import AppContext
from .groups import digest
from .output import emit_rows, output_options

DIGESTS = cast(Table, DigestRow.__table__)
ITEMS = cast(Table, DigestItem.__table__)


def _now() -> datetime:
    return datetime.now(UTC)


@digest.command("preview")
@click.option("--name", help="Which digest (default: the first in litwatch.toml).")
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the HTML part to FILE (open it in a browser).",
)
@click.option("--text", "show_text", is_flag=True, help="Print the plain-text part.")
@click.pass_obj
def preview(app: AppContext, name: str | None, html_path: Path | None, show_text: bool) -> None:
    """Render the next digest without sending it or marking anything sent.

    Prints the plain-text part unless --html is given without --text; what
    would happen on `digest send` goes to stderr.
    """
    settings = app.settings
    conf = digest_settings(settings, name)
    plan = plan_digest(app.engine, settings, conf.name, now=_now())
    rendered = render_parts(plan.digest, templates_dir_of(settings))
    if plan.resend:
        verdict = "would be sent again (an earlier attempt was not confirmed)"
    else:
        worth, why = plan.digest.worth_sending()
        verdict = f"would be sent ({why})" if worth else f"would not be sent: {why}"
    click.echo(f"{conf.name}: {rendered.subject}", err=True)
    click.echo(f"{conf.name}: {verdict}", err=True)
    if html_path is not None:
        html_path.write_text(rendered.html, encoding="utf-8")
        click.echo(f"HTML written to {html_path}", err=True)
    if show_text or html_path is None:
        click.echo(rendered.text, nl=False)


def _describe(result: SendResult) -> str:
    if result.status == "sent":
        again = " again (earlier attempt unconfirmed)" if result.resent else ""
        who = ", ".join(result.recipients) or "the outbox"
        return (
            f"{result.name}: sent{again}: {result.subject} "
            f"({result.entries} entries) to {who} via {result.location}"
        )
    if result.status == "failed":
        return f"{result.name}: NOT sent, nothing marked (the next run retries): {result.reason}"
    return f"{result.name}: nothing sent: {result.reason}"


@digest.command("send")
@click.option("--name", help="Only this digest (default: every digest in litwatch.toml).")
@click.option("--force", is_flag=True, help="Send even if send_when finds nothing worth sending.")
@click.pass_obj
def send(app: AppContext, name: str | None, force: bool) -> None:
    """Send digests now (ignoring their schedule); each paper goes out once per digest."""
    settings = app.settings
    names = [digest_settings(settings, name).name] if name else [d.name for d in settings.digests]
    failed = False
    for digest_name in names:
        result = send_digest(app.engine, settings, digest_name, now=_now(), force=force)
        click.echo(_describe(result))
        failed = failed or result.status == "failed"
    if failed:
        raise click.exceptions.Exit(1)


@digest.command("list")
@click.option("--name", help="Only this digest.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Show at most this many digests.",
)
@output_options
@click.pass_obj
def list_digests(app: AppContext, name: str | None, limit: int, output_format: str | None) -> None:
    """Digests sent or attempted, newest first (Message-ID, recipients, items, errors)."""
    items = (
        select(ITEMS.c.digest_id, func.count().label("item_count"))
        .group_by(ITEMS.c.digest_id)
        .subquery()
    )
    query = (
        select(
            DIGESTS.c.name,
            DIGESTS.c.status,
            DIGESTS.c.created_at,
            DIGESTS.c.sent_at,
            DIGESTS.c.subject,
            DIGESTS.c.message_id,
            DIGESTS.c.recipients,
            DIGESTS.c.transport,
            func.coalesce(items.c.item_count, 0).label("items"),
            DIGESTS.c.error,
        )
        .outerjoin(items, items.c.digest_id == DIGESTS.c.id)
        .order_by(DIGESTS.c.created_at.desc(), DIGESTS.c.id.desc())
        .limit(limit)
    )
    if name:
        query = query.where(DIGESTS.c.name == name)
    with app.engine.connect() as conn:
        rows: list[dict[str, Any]] = [dict(row._mapping) for row in conn.execute(query)]
    emit_rows(
        rows,
        output_format,
        columns=None if output_format else ("name", "status", "sent_at", "items", "subject"),
        empty="No digest sent yet.",
    )
