"""The transports against a real SMTP server on 127.0.0.1 and a real folder."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from mailserver import MailServer

from litwatch.config import SmtpSettings
from litwatch.errors import DeliveryError
from litwatch.mailer import OutboxTransport, SmtpTransport, recipients_of


def _message(message_id: str = "<digest.weekly.2026-11-23@litwatch>") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "litwatch@example.org"
    message["To"] = "Ana Researcher <ana@example.org>, bo@example.org"
    message["Cc"] = "ana@example.org"
    message["Subject"] = "litwatch: 1 new trial, 3 new papers (17–23 Nov 2026)"
    message["Message-ID"] = message_id
    message.set_content("plain")
    message.add_alternative("<p>html</p>", subtype="html")
    return message


def test_recipients_are_deduplicated_across_headers() -> None:
    assert recipients_of(_message()) == ("ana@example.org", "bo@example.org")


@pytest.mark.parametrize("tls", ["none", "starttls", "tls"])
def test_smtp_delivers_once_with_each_security_mode(tmp_path: Path, tls: str) -> None:
    # Login over STARTTLS only: aiosmtpd offers AUTH neither in clear text nor (a limitation of
    # aiosmtpd) over implicit TLS.
    login = ("curator", "s3cret") if tls == "starttls" else None
    with MailServer(tmp_path, tls=tls, login=login) as server:
        settings = SmtpSettings(
            host="127.0.0.1",
            port=server.port,
            security=tls,
            sender="litwatch@example.org",
            timeout=10,
            ca_file=server.ca_file,
            user=login[0] if login else None,
            password=login[1] if login else None,
        )
        delivery = SmtpTransport(settings).send(_message())
        received = server.received
    assert delivery.transport == "smtp"
    assert delivery.recipients == ("ana@example.org", "bo@example.org")
    assert len(received) == 1
    assert sorted(received[0].recipients) == ["ana@example.org", "bo@example.org"]
    parsed = received[0].message
    assert parsed["Message-ID"] == "<digest.weekly.2026-11-23@litwatch>"
    assert parsed["Subject"] == "litwatch: 1 new trial, 3 new papers (17–23 Nov 2026)"
    assert "Bcc" not in parsed


def test_wrong_password_is_a_delivery_error_without_the_password(tmp_path: Path) -> None:
    with MailServer(tmp_path, tls="starttls", login=("curator", "s3cret")) as server:
        settings = SmtpSettings(
            host="127.0.0.1",
            port=server.port,
            ca_file=server.ca_file,
            user="curator",
            password="wrong-password",
        )
        with pytest.raises(DeliveryError, match="535") as info:
            SmtpTransport(settings).send(_message())
        assert server.received == []
    assert "wrong-password" not in str(info.value)


@pytest.mark.parametrize(("mode", "expected"), [("refuse", "554"), ("drop", "Disconnected")])
def test_refusing_or_dropping_server_raises(tmp_path: Path, mode: str, expected: str) -> None:
    with MailServer(tmp_path) as server:
        server.set_mode(mode)
        settings = SmtpSettings(host="127.0.0.1", port=server.port, security="none", timeout=10)
        with pytest.raises(DeliveryError, match=expected):
            SmtpTransport(settings).send(_message())
        assert server.received == []


def test_server_down_raises(tmp_path: Path) -> None:
    with MailServer(tmp_path) as server:
        port = server.port
    settings = SmtpSettings(host="127.0.0.1", port=port, security="none", timeout=5)
    with pytest.raises(DeliveryError, match=f"127.0.0.1:{port}"):
        SmtpTransport(settings).send(_message())


def test_outbox_write_is_idempotent_per_message_id(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path / "outbox")
    first = outbox.send(_message())
    second = outbox.send(_message())
    other = outbox.send(_message("<digest.weekly.2026-11-30@litwatch>"))
    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert first.location == second.location != other.location
    assert len(files) == 2
    assert all(name.endswith(".eml") and not name.startswith(".") for name in files)
    assert b"Message-ID: <digest.weekly.2026-11-23@litwatch>" in Path(first.location).read_bytes()


def test_message_without_message_id_is_refused(tmp_path: Path) -> None:
    message = _message()
    del message["Message-ID"]
    with pytest.raises(DeliveryError, match="Message-ID"):
        OutboxTransport(tmp_path).send(message)
