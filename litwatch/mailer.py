"""Delivering a finished email: through SMTP, or into an outbox folder.

The digest module decides what to send and records it; this module only
moves bytes. A transport either returns a ``Delivery`` (the server accepted
the message, or the ``.eml`` file is on disk) or raises ``DeliveryError``:
callers mark items sent only after a ``Delivery`` comes back.

Without SMTP settings the message is written to the outbox folder as
``<message-id>.eml``. The file name comes from the Message-ID, so writing the
same message twice leaves one file: a resend after a crash is harmless.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol

from .config import Settings, SmtpSettings
from .errors import DeliveryError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    transport: str  # "smtp" or "outbox"
    message_id: str
    recipients: tuple[str, ...]
    location: str  # "host:port" or the .eml path


class Transport(Protocol):
    name: str  # "smtp" or "outbox": recorded with each digest

    def send(self, message: EmailMessage) -> Delivery: ...


def recipients_of(message: EmailMessage) -> tuple[str, ...]:
    """Every address in To, Cc and Bcc, in order, without duplicates."""
    headers = [str(v) for key in ("To", "Cc", "Bcc") for v in message.get_all(key, [])]
    seen: dict[str, None] = {}
    for _, address in getaddresses(headers):
        if address:
            seen.setdefault(address, None)
    return tuple(seen)


def _message_id(message: EmailMessage) -> str:
    message_id = message.get("Message-ID")
    if not message_id:
        raise DeliveryError("message has no Message-ID: digests must carry a deterministic one")
    return str(message_id).strip()


class SmtpTransport:
    """SMTP with STARTTLS (port 587), implicit TLS (465) or none (a local relay).

    The login comes from ``LITWATCH_SMTP_USER`` / ``LITWATCH_SMTP_PASSWORD``
    (see config.py) and is never logged.
    """

    name = "smtp"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def send(self, message: EmailMessage) -> Delivery:
        s = self.settings
        message_id = _message_id(message)
        recipients = recipients_of(message)
        if not recipients:
            raise DeliveryError(f"{message_id}: no recipients")
        where = f"{s.host}:{s.port}"
        try:
            if s.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=self._tls_context()
                )
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            with client:
                if s.security == "starttls":
                    client.starttls(context=self._tls_context())
                if s.user:
                    client.login(s.user, s.password or "")
                refused = client.send_message(message, from_addr=s.sender, to_addrs=recipients)
        except smtplib.SMTPResponseException as exc:
            error = exc.smtp_error
            text = error.decode("utf-8", "replace") if isinstance(error, bytes) else error
            raise DeliveryError(
                f"SMTP {where} refused the message: {exc.smtp_code} {text}"
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"SMTP {where} refused every recipient: {', '.join(exc.recipients)}"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # OSError covers timeouts
            raise DeliveryError(f"SMTP {where}: {type(exc).__name__}: {exc}") from exc
        accepted = tuple(r for r in recipients if r not in refused)
        for address, (code, reason) in refused.items():
            log.warning("SMTP %s refused recipient %s: %s %r", where, address, code, reason)
        log.info("sent %s to %d recipient(s) via %s", message_id, len(accepted), where)
        return Delivery("smtp", message_id, accepted, where)


_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._@-]+")


class OutboxTransport:
    """Writes each message to ``folder/<message-id>.eml`` (atomically: temp file + rename)."""

    name = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, message_id: str) -> Path:
        stem = _UNSAFE_FILENAME.sub("_", message_id.strip("<>"))[:120]
        digest = hashlib.sha256(message_id.encode()).hexdigest()[:8]
        return self.folder / f"{stem}-{digest}.eml"

    def send(self, message: EmailMessage) -> Delivery:
        message_id = _message_id(message)
        path = self.path_for(message_id)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=self.folder, prefix=".writing-", suffix=".eml")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(message.as_bytes())
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise DeliveryError(f"cannot write {path}: {exc.strerror or exc}") from exc
        log.info("wrote %s to %s", message_id, path)
        return Delivery("outbox", message_id, recipients_of(message), str(path))


def transport_for(settings: Settings) -> Transport:
    """SMTP when ``[smtp]`` is configured, else the outbox folder."""
    if settings.smtp is not None:
        return SmtpTransport(settings.smtp)
    return OutboxTransport(settings.outbox_dir)
