"""The low-level pieces behind the Fetcher: the cut that ends a response at its deadline (headers
included), Retry-After, robots.txt's numbers, and errors described in words."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

import requests
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection

CHUNK = 64 * 1024
# Seconds: no wait (a Retry-After, a back-off, the delay between requests) longer than this is started;
# the page, or for a robots.txt Crawl-delay the source, is a recorded problem instead of a stalled run.
MAX_WAIT = 600.0


class Cutoff:
    """Shuts the calling thread's connection down once `seconds` have passed: the total time budget of
    one response, headers included. The socket timeout bounds each read, not a whole response, and a
    server trickling its headers a byte at a time would hold a run for hours (http.client accepts 100
    header lines of 64 KiB). `fired` tells the caller that the error it sees is this cut."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._sock: socket.socket | None = None
        self._expired = self._done = False
        self._lock = threading.Lock()  # so a cut is never half made, nor made once the response is in
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True  # never keeps a finished run's process alive

    def __enter__(self) -> Cutoff:
        CUTOFFS[threading.get_ident()] = self
        self._timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()
        CUTOFFS.pop(threading.get_ident(), None)

    def attach(self, sock: socket.socket) -> None:
        """The socket the request went out on (the deadline may have passed while connecting)."""
        with self._lock:
            self._sock = sock
            self._cut()

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            self._cut()

    def _cut(self) -> None:
        if self._expired and not self._done and self._sock is not None:
            self.fired = True
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)


CUTOFFS: dict[int, Cutoff] = {}  # by thread: the response each thread is reading


# Connections that hand their socket to the thread's Cutoff once the request is sent (requests and
# urllib3 expose no socket before the response's headers are in, the very wait to be bounded).
class WatchedHTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)
        if self.sock is not None and (cutoff := CUTOFFS.get(threading.get_ident())) is not None:
            cutoff.attach(self.sock)


class WatchedHTTPSConnection(WatchedHTTPConnection, HTTPSConnection):
    pass


class WatchedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


def retry_after(value: str | None, fallback: float) -> float:
    """Seconds to wait: the server's Retry-After (seconds or an HTTP date) when given, else `fallback`.
    Any size (the caller refuses a wait too long); a value that is not one of the two forms is ignored."""
    if not value:
        return fallback
    value = value.strip()
    if value.isascii() and value.isdigit():  # ("²".isdigit() too, which float() cannot read)
        return float(value)  # inf past 308 digits, never an error
    try:
        return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
    except (TypeError, ValueError, OverflowError):
        return fallback


ROBOTS_NUMBERS = re.compile(r"\s*(crawl-delay|request-rate)\s*:([^#]*)", re.IGNORECASE)
LONGEST_DELAY = "9" * 20  # any Crawl-delay with more digits reads as this: far above MAX_WAIT either way


def robots_lines(body: bytes) -> list[str]:
    """robots.txt's lines, made safe for urllib.robotparser: it calls int() on any (unquoted) value that
    str.isdigit() accepts, which raises for "²" or "%C2%B2" and past 4,300 digits. A Crawl-delay of other
    than ASCII digits is dropped (robotparser ignores any other unreadable value too); a very long one
    is shortened, still far too long. Request-rate, which Pānui does not read, is dropped."""
    lines: list[str] = []
    for line in body.decode("utf-8", "replace").splitlines():
        match = ROBOTS_NUMBERS.match(line)
        if match is None:
            lines.append(line)
            continue
        value = unquote(match[2].strip()).strip()
        if match[1].lower() == "request-rate":
            continue
        if not value.isdigit():
            lines.append(line)  # robotparser ignores it
        elif value.isascii():
            lines.append(f"Crawl-delay: {value if len(value) <= len(LONGEST_DELAY) else LONGEST_DELAY}")
    return lines


def status_hint(status: int) -> str:
    if status in (404, 410):
        return "the page is gone or the URL is wrong"
    if status in (401, 403):
        return "the site refuses Pānui; check the terms of use and your agreement with the site"
    if status == 429:
        return "the site is rate-limiting; raise request_delay"
    if status >= 500:
        return "the site has a server error; the next sync tries again"
    return "check the URL"


def describe(error: Exception) -> str:
    if isinstance(error, requests.Timeout) or "Read timed out" in str(error):  # (iter_content: ConnectionError)
        return "timed out"
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return "connection broke while reading the response"
    if isinstance(error, requests.exceptions.ContentDecodingError):
        return "the response's compression is broken (it could not be decoded)"
    if not isinstance(error, requests.ConnectionError):
        return f"the request failed ({type(error).__name__})"
    text = str(error)
    if "Name or service not known" in text or "NameResolutionError" in text or "getaddrinfo" in text:
        return "host name could not be resolved (no network, or a wrong base_url)"
    if "Connection refused" in text:
        return "connection refused"
    return "connection failed"
