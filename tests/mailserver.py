"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), with switchable behaviour.

``MailServer`` records every accepted message; ``mode`` makes it refuse
(5xx), drop the connection mid-transaction, or accept. It can speak
STARTTLS or implicit TLS with a throw-away CA (trustme) and require a login.
"""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    mode: str = "accept"  # accept | refuse | drop
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTPProtocol, session: Session, envelope: Envelope) -> str:
        if self.mode == "refuse":
            return "554 5.7.1 Message rejected by policy"
        if self.mode == "drop":
            assert server.transport is not None
            server.transport.abort()
            return "421 closing"
        content = envelope.original_content or b""
        with self.lock:
            self.received.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(content))
            )
        return "250 2.0.0 OK queued"


class MailServer:
    """``with MailServer(tmp_path, tls="starttls", login=("u", "p")) as server: ...``"""

    def __init__(
        self,
        workdir: Path,
        *,
        tls: str = "none",  # none | starttls | tls
        login: tuple[str, str] | None = None,
    ) -> None:
        self.handler = _Handler()
        self.port = free_port()
        self.tls = tls
        self.login = login
        self.ca_file: str | None = None
        kwargs: dict[str, Any] = {}  # forwarded by the Controller to aiosmtpd's SMTP
        if tls != "none":
            ca = trustme.CA()
            cert = ca.issue_cert("127.0.0.1", "localhost")
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert.configure_cert(context)
            ca_path = workdir / "smtp-ca.pem"
            ca.cert_pem.write_to_path(str(ca_path))
            self.ca_file = str(ca_path)
            if tls == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs["ssl_context"] = context
        if login is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True)
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            **kwargs,
        )

    def _authenticate(
        self, server: SMTPProtocol, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and self.login is not None:
            user, password = self.login
            if data.login.decode() == user and data.password.decode() == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def set_mode(self, mode: str) -> None:
        self.handler.mode = mode

    def __enter__(self) -> MailServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
