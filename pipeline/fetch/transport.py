"""The low-level pieces behind the Fetcher: a watchdog that ends a response at its deadline (headers
included), reading a body as bytes arrive, Retry-After, and errors described in words."""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import requests
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection

if TYPE_CHECKING:
    from pipeline.fetch import Validators

CHUNK = 64 * 1024
log = logging.getLogger("panui.fetch")
# Seconds: no wait (a Retry-After, a back-off, the delay between requests) longer than this is started;
# the page, or for a robots.txt Crawl-delay the source, is a recorded problem instead of a stalled run.
MAX_WAIT = 600.0


def conditional_headers(validators: Validators | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


# The connection each thread's request is on, so that a watchdog can cut it off at the response's
# deadline: urllib3 bounds each read but not a whole response, and the body loop's own deadline check
# only starts once the headers are in, so a server trickling its headers would hold a run for hours.
IN_FLIGHT: dict[int, HTTPConnection] = {}


class WatchedHTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        IN_FLIGHT[threading.get_ident()] = self
        super().request(*args, **kwargs)


class WatchedHTTPSConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        IN_FLIGHT[threading.get_ident()] = self
        super().request(*args, **kwargs)


class WatchedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


class Watchdog:
    """Shuts the calling thread's connection down once `seconds` have passed: the total time budget of
    one response, headers included. `fired` tells the caller that the error it sees is this cut. One
    thread (_Deadlines) watches every response: a thread started per request cost more CPU than the
    request's own bookkeeping."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._thread = threading.get_ident()

    def __enter__(self) -> Watchdog:
        DEADLINES.watch(self, time.monotonic() + self.seconds)
        return self

    def __exit__(self, *_: object) -> None:
        DEADLINES.forget(self)  # waits for a cut under way, so `fired` is settled once this returns
        IN_FLIGHT.pop(self._thread, None)

    def fire(self) -> None:
        connection = IN_FLIGHT.get(self._thread)
        sock = connection.sock if connection is not None else None
        if sock is not None:
            self.fired = True
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Deadlines:
    """The watchdogs armed, and one daemon thread (started on first use) that fires each at its deadline."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._armed: dict[Watchdog, float] = {}
        self._waking: float | None = None  # when the thread wakes next; None: not until told
        self._thread: threading.Thread | None = None

    def watch(self, watchdog: Watchdog, deadline: float) -> None:
        with self._changed:
            self._armed[watchdog] = deadline
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="panui-fetch-deadlines", daemon=True)
                self._thread.start()
            if self._waking is None or deadline < self._waking:
                self._changed.notify()  # (usually it already wakes earlier: a deadline left before this one)

    def forget(self, watchdog: Watchdog) -> None:
        with self._changed:
            self._armed.pop(watchdog, None)

    def _run(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                for watchdog in [watchdog for watchdog, deadline in self._armed.items() if deadline <= now]:
                    del self._armed[watchdog]
                    try:
                        watchdog.fire()
                    except Exception:  # a bug in one cut must not end the watch over every later response
                        log.exception("could not cut off a response at its deadline")
                self._waking = min(self._armed.values(), default=None)
                self._changed.wait(None if self._waking is None else self._waking - now)


DEADLINES = _Deadlines()


def read_chunks(response: requests.Response) -> Iterator[bytes]:
    """The decoded body, chunk by chunk, each returned as soon as any bytes arrive (read1), so the
    caller's size cap and total deadline hold even against a server that trickles a byte at a time
    (iter_content would block until a whole chunk had arrived). urllib3's errors become requests' so
    the retry logic sees one family."""
    raw = response.raw
    while True:
        try:
            chunk = raw.read1(CHUNK, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError as error:
            raise requests.Timeout(str(error)) from None
        except urllib3.exceptions.DecodeError as error:
            raise requests.exceptions.ContentDecodingError(str(error)) from None
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.IncompleteRead, OSError) as error:
            raise requests.exceptions.ChunkedEncodingError(str(error)) from None
        if not chunk:
            return
        yield chunk


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
    if isinstance(error, requests.Timeout):
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
