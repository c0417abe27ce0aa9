"""Real receivers for the subscriptions' messages, on 127.0.0.1, started by the tests: an HTTP server
taking Apprise's `json://` webhooks, and an SMTP server (aiosmtpd) taking its emails. Both keep what
they received and stop by themselves."""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.helpers import serving


class Webhooks(ThreadingHTTPServer):
    """POSTs received, as JSON. `failing` answers `failure` (503: the service is down) to each."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Hook)
        self.received: list[dict[str, Any]] = []
        self.failing = False
        self.failure = 503
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server_address[1]}/hook"

    def titles(self) -> list[str]:
        with self.lock:
            return [str(item.get("title")) for item in self.received]


class _Hook(BaseHTTPRequestHandler):
    server: Webhooks

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.failing:
            self.send_response(self.server.failure)
        else:
            with self.server.lock:
                self.server.received.append(json.loads(body))
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@contextmanager
def webhooks(lifetime: float = 240) -> Iterator[Webhooks]:
    server = Webhooks()
    with serving(server, lifetime):
        yield server


class Mailbox:
    """aiosmtpd's handler: every email received, parsed."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"


@contextmanager
def smtp_server(lifetime: float = 240, *, refuse_login: bool = False) -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on 127.0.0.1; with `refuse_login`, one that answers any login 535 (a wrong password)."""
    with socket.socket() as probe:  # a free port (aiosmtpd's controller checks it is up by connecting)
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    mailbox = Mailbox()
    login: dict[str, Any] = {"authenticator": _refuse, "auth_require_tls": False} if refuse_login else {}
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **login)
    controller.start()
    watchdog = threading.Timer(lifetime, controller.stop)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield mailbox, port
    finally:
        watchdog.cancel()
        controller.stop()


def _refuse(*_: object) -> AuthResult:
    return AuthResult(success=False, handled=False)
