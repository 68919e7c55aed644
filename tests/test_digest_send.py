"""Delivery exactly once, against a real SMTP server on 127.0.0.1 (and the outbox folder)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, cast

import pytest
from digest_fixtures import CLAIMS, SEND1, SEND2, seed_week1, seed_week2
from mailserver import MailServer
from sqlalchemy import Engine, Table, select

from litwatch.config import DigestSettings, Settings, SmtpSettings
from litwatch.digest import send_digest, send_due
from litwatch.digest_send import digest_lock
from litwatch.errors import ConfigError, LockHeld
from litwatch.mailer import Delivery, OutboxTransport, SmtpTransport
from litwatch.models import Digest, DigestItem

DIGESTS = cast(Table, Digest.__table__)
ITEMS = cast(Table, DigestItem.__table__)
RECIPIENTS = ("ana@example.org", "bo@example.org")
WEEKLY = DigestSettings(recipients=RECIPIENTS)


def _settings(server: MailServer | None, port: int | None = None, **digest: Any) -> Settings:
    smtp = SmtpSettings(
        host="127.0.0.1",
        port=port or (server.port if server else 1),
        security="none",
        sender="litwatch@example.org",
        timeout=10,
    )
    return Settings(smtp=smtp, digests=(replace(WEEKLY, **digest),))


def _digest_rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(DIGESTS).order_by(DIGESTS.c.id)))


def _items(engine: Engine) -> set[tuple[str, int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(ITEMS.c.digest_name, ITEMS.c.article_id, ITEMS.c.item_kind))
        return {(r.digest_name, r.article_id, r.item_kind) for r in rows}


def test_digest_arrives_once_with_text_html_and_correct_headers(
    engine: Engine, tmp_path: Path
) -> None:
    seed_week1(engine)
    with MailServer(tmp_path) as server:
        settings = _settings(server)
        result = send_digest(engine, settings, now=SEND1, claims=CLAIMS)
        again = send_digest(engine, settings, now=SEND1 + timedelta(hours=1), claims=CLAIMS)
        received = server.received
    assert result.status == "sent", result
    assert again.status == "skipped"  # nothing new: new-trials sends nothing
    assert len(received) == 1
    assert sorted(received[0].recipients) == sorted(RECIPIENTS)
    message = received[0].message
    assert message["From"] == "litwatch@example.org"
    assert message["To"] == "ana@example.org, bo@example.org"
    assert message["Subject"] == "litwatch: 2 new trials, 4 new papers (17 Nov 2026)"
    assert parsedate_to_datetime(message["Date"]) == SEND1
    assert message["Message-ID"] == result.message_id
    assert message["Message-ID"].startswith("<litwatch.weekly.20261117.")
    assert message["Message-ID"].endswith("@example.org>")
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    assert "https://pubmed.ncbi.nlm.nih.gov/90000001/" in text.get_content()
    assert 'href="https://clinicaltrials.gov/study/NCT01234567"' in html.get_content()
    # Recorded once: Message-ID, recipients, time, and every item.
    [row] = _digest_rows(engine)
    assert (row.status, row.message_id, row.sent_at) == ("sent", result.message_id, SEND1)
    assert tuple(row.recipients) == RECIPIENTS
    assert row.transport == "smtp"
    assert {kind for _, _, kind in _items(engine)} == {"new", "retracted"}
    assert len([i for i in _items(engine) if i[2] == "new"]) == 6


@pytest.mark.parametrize("mode", ["refuse", "drop"])
def test_refused_or_dropped_message_marks_nothing_and_the_next_run_delivers(
    engine: Engine, tmp_path: Path, mode: str
) -> None:
    seed_week1(engine)
    with MailServer(tmp_path) as server:
        settings = _settings(server)
        server.set_mode(mode)
        failed = send_digest(engine, settings, now=SEND1, claims=CLAIMS)
        assert failed.status == "failed"
        assert ("554" if mode == "refuse" else "Disconnected") in failed.reason
        assert _items(engine) == set()
        [row] = _digest_rows(engine)
        assert row.status == "failed"
        assert row.error == failed.reason
        assert row.sent_at is None
        server.set_mode("accept")
        delivered = send_digest(engine, settings, now=SEND1 + timedelta(minutes=5), claims=CLAIMS)
        received = server.received
    assert delivered.status == "sent"
    # Same items, same Message-ID: the retry is the same digest, recorded on the same row.
    assert delivered.message_id == failed.message_id
    assert len(received) == 1
    [row] = _digest_rows(engine)
    assert row.status == "sent"
    assert row.error is None
    assert len(_items(engine)) == 7


def test_server_down_marks_nothing_and_the_next_run_delivers(
    engine: Engine, tmp_path: Path
) -> None:
    seed_week1(engine)
    with MailServer(tmp_path) as stopped:
        port = stopped.port
    failed = send_digest(engine, _settings(None, port), now=SEND1, claims=CLAIMS)
    assert failed.status == "failed"
    assert f"127.0.0.1:{port}" in failed.reason
    assert _items(engine) == set()
    with MailServer(tmp_path) as server:
        delivered = send_digest(engine, _settings(server), now=SEND1, claims=CLAIMS)
        assert len(server.received) == 1
    assert delivered.status == "sent"
    assert len(_items(engine)) == 7


class _CrashAfterAcceptance:
    """Delivers for real, then dies before litwatch can record it (a kill -9 stand-in)."""

    name = "smtp"

    def __init__(self, inner: SmtpTransport) -> None:
        self.inner = inner

    def send(self, message: EmailMessage) -> Delivery:
        self.inner.send(message)
        raise KeyboardInterrupt("killed after the server accepted the message")


def test_crash_after_acceptance_resends_the_same_message_and_records_it_once(
    engine: Engine, tmp_path: Path
) -> None:
    seed_week1(engine)
    with MailServer(tmp_path) as server:
        settings = _settings(server)
        assert settings.smtp is not None
        with pytest.raises(KeyboardInterrupt):
            send_digest(
                engine,
                settings,
                now=SEND1,
                claims=CLAIMS,
                transport=_CrashAfterAcceptance(SmtpTransport(settings.smtp)),
            )
        [pending] = _digest_rows(engine)
        assert pending.status == "pending"
        assert _items(engine) == set()
        # New papers arrive before the next run; they must not join the interrupted digest.
        seed_week2(engine)
        resent = send_digest(engine, settings, now=SEND2, claims=CLAIMS)
        following = send_digest(engine, settings, now=SEND2 + timedelta(minutes=1), claims=CLAIMS)
        received = server.received
    assert resent.status == "sent"
    assert resent.resent
    assert resent.message_id == pending.message_id
    first, second, third = (r.message for r in received)
    # The reader can tell the repeat: same Message-ID, same content.
    assert first["Message-ID"] == second["Message-ID"] == pending.message_id
    assert first["Subject"] == second["Subject"]
    assert "90000010" not in second.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    # Recorded once, then the week-2 papers went out in the next digest.
    rows = _digest_rows(engine)
    assert [r.status for r in rows] == ["sent", "sent"]
    assert following.status == "sent"
    assert not following.resent
    assert "90000010" in third.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert rows[1].period_start == rows[0].period_end


def test_policy_new_trials_waits_and_new_hits_sends(engine: Engine, tmp_path: Path) -> None:
    seed_week1(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE articles SET is_trial = false")
    outbox = OutboxTransport(tmp_path / "outbox")
    trials_only = Settings(digests=(WEEKLY,))
    skipped = send_digest(engine, trials_only, now=SEND1, claims=CLAIMS, transport=outbox)
    assert skipped.status == "skipped"
    assert "no new trial" in skipped.reason
    assert "6 new paper(s) wait" in skipped.reason
    assert _digest_rows(engine) == []
    forced = send_digest(
        engine, trials_only, now=SEND1, claims=CLAIMS, transport=outbox, force=True
    )
    assert forced.status == "sent"
    hits = Settings(digests=(replace(WEEKLY, name="hits", send_when="new-hits"),))
    assert send_digest(engine, hits, now=SEND1, claims=CLAIMS, transport=outbox).status == "sent"
    assert send_digest(engine, hits, now=SEND2, claims=CLAIMS, transport=outbox).status == "skipped"
    always = Settings(digests=(replace(WEEKLY, name="always", send_when="always"),))
    send_digest(engine, always, now=SEND1, claims=CLAIMS, transport=outbox)
    empty = send_digest(engine, always, now=SEND2, claims=CLAIMS, transport=outbox)
    assert empty.status == "sent"
    assert empty.entries == 0
    assert "nothing new" in (empty.subject or "")
    # Each digest name keeps its own record of what it sent.
    names = {name for name, _, _ in _items(engine)}
    assert names == {"weekly", "hits", "always"}
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 4


def test_two_digests_each_send_an_article_once(engine: Engine, tmp_path: Path) -> None:
    seed_week1(engine)
    weekly = WEEKLY
    alert = DigestSettings(name="trial-alert", recipients=("ana@example.org",), schedule="hourly")
    settings = Settings(digests=(weekly, alert))
    outbox = OutboxTransport(tmp_path)
    results = send_due(engine, settings, now=SEND1, transport=outbox, claims=CLAIMS)
    assert [(r.name, r.status) for r in results] == [("weekly", "sent"), ("trial-alert", "sent")]
    # Straight after: nothing due (weekly) or nothing new (the alert).
    later = send_due(
        engine, settings, now=SEND1 + timedelta(hours=2), transport=outbox, claims=CLAIMS
    )
    assert [(r.name, r.status) for r in later] == [
        ("weekly", "not-due"),
        ("trial-alert", "skipped"),
    ]
    seed_week2(engine)
    week2 = send_due(engine, settings, now=SEND2, transport=outbox, claims=CLAIMS)
    assert [(r.name, r.status) for r in week2] == [("weekly", "sent"), ("trial-alert", "sent")]
    new_items = [i for i in _items(engine) if i[2] == "new"]
    assert len(new_items) == len(set(new_items)) == 2 * 8


def test_send_due_retries_a_failed_digest_before_its_next_slot(
    engine: Engine, tmp_path: Path
) -> None:
    seed_week1(engine)
    with MailServer(tmp_path) as stopped:
        port = stopped.port
    [failed] = send_due(engine, _settings(None, port), now=SEND1, claims=CLAIMS)
    assert failed.status == "failed"
    with MailServer(tmp_path) as server:
        [retried] = send_due(
            engine, _settings(server), now=SEND1 + timedelta(minutes=10), claims=CLAIMS
        )
        assert len(server.received) == 1
    assert retried.status == "sent"


def test_a_second_sender_is_refused_while_one_holds_the_lock(
    engine: Engine, tmp_path: Path
) -> None:
    seed_week1(engine)
    settings = Settings(digests=(WEEKLY,))
    with digest_lock(engine, "weekly"), pytest.raises(LockHeld):
        send_digest(engine, settings, now=SEND1, transport=OutboxTransport(tmp_path))
    assert _digest_rows(engine) == []
    assert (
        send_digest(engine, settings, now=SEND1, transport=OutboxTransport(tmp_path)).status
        == "sent"
    )


def test_unknown_digest_name_is_a_config_error(engine: Engine) -> None:
    with pytest.raises(ConfigError, match="no digest named 'monthly' \\(defined: weekly\\)"):
        send_digest(engine, Settings(digests=(WEEKLY,)), "monthly", now=SEND1)


def test_outbox_resend_overwrites_one_file(engine: Engine, tmp_path: Path) -> None:
    """Without SMTP the digest is an .eml file named after its Message-ID."""
    seed_week1(engine)
    outbox = tmp_path / "outbox"
    settings = Settings(outbox_dir=outbox, digests=(WEEKLY,))

    class _CrashAfterWrite:
        name = "outbox"

        def send(self, message: EmailMessage) -> Delivery:
            OutboxTransport(outbox).send(message)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        send_digest(engine, settings, now=SEND1, transport=_CrashAfterWrite(), claims=CLAIMS)
    result = send_digest(engine, settings, now=SEND1, claims=CLAIMS)  # transport_for: the outbox
    assert result.resent
    assert result.location is not None
    assert [p.name for p in outbox.glob("*.eml")] == [Path(result.location).name]
