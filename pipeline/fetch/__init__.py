"""The only HTTP user (this package). Polite by construction: robots.txt, an identifying User-Agent, a delay between
requests to the host, conditional requests, back-off on 429/5xx, same-host redirects only, and a cap on
the size and duration of every response. No wait longer than MAX_WAIT is started, and, given the run's
deadline, no wait or request that would carry the run past it."""

from __future__ import annotations

import io
import logging
import math
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import requests

from pipeline.errors import BudgetSpent, FetchError, NotAllowed
from pipeline.fetch.transport import (
    CHUNK,
    MAX_WAIT,
    Cutoff,
    WatchedHTTPPool,
    WatchedHTTPSPool,
    describe,
    retry_after,
    robots_lines,
    status_hint,
)
from pipeline.logs import log_event
from pipeline.model import Page, Source

log = logging.getLogger("panui.fetch")  # each response at INFO: what `-v` shows

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
DEADLINE_FACTOR = 3  # a response may take at most this many `timeout`s in all (trickling servers)


@dataclass(frozen=True)
class Validators:
    """What the store remembers of a page, so the next request can be conditional."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        """The headers that make a request conditional on them."""
        headers = {"If-None-Match": self.etag, "If-Modified-Since": self.last_modified}
        return {name: value for name, value in headers.items() if value}


class Fetcher:
    """Fetches pages of one source. Holds the HTTP session, the host's robots.txt and its clock."""

    def __init__(
        self,
        source: Source,
        user_agent: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.user_agent = user_agent
        self.requests_made = 0
        self.bytes_received = 0
        self._sleep = sleep
        self._monotonic = monotonic
        self._session = requests.Session()
        # The environment is read once, here, not by requests for every request: HTTP(S)_PROXY, NO_PROXY
        # and REQUESTS_CA_BUNDLE apply as requests applies them to the source's one host (redirects
        # elsewhere are never followed), and ~/.netrc is not read: Pānui sends no credentials to the
        # sites it reads (docs/internals.md, Politeness).
        environment = self._session.merge_environment_settings(source.base_url, {}, None, None, None)
        self._session.trust_env = False
        self._session.proxies = environment["proxies"]
        self._session.verify = environment["verify"]
        for adapter in self._session.adapters.values():
            if isinstance(adapter, requests.adapters.HTTPAdapter):
                adapter.poolmanager.pool_classes_by_scheme = {"http": WatchedHTTPPool, "https": WatchedHTTPSPool}
        self._session.headers["User-Agent"] = user_agent
        self._session.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.5"
        self._robots: urllib.robotparser.RobotFileParser | None = None
        self._last_request: float | None = None
        self._delay = source.request_delay
        self.deadline: float | None = None  # the run's end, on `monotonic`'s clock: nothing starts past it
        self.recorder: Callable[[Page], None] | None = None  # e.g. a WarcRecorder's record

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def url_for(self, path_or_url: str) -> str:
        """Every URL of the source is built from its base_url, so a mirror retargets the whole source."""
        return urljoin(self.source.base_url, path_or_url)

    def prepare(self, cached: tuple[Validators, bytes] | None = None) -> Page | None:
        """Read robots.txt once per run, conditionally when `cached` holds the validators and body of the
        last copy (an unchanged robots.txt then costs a 304). Returns a freshly fetched copy for the caller
        to keep, else None. Raises FetchError when the host cannot be reached at all."""
        if self._robots is not None:
            return None
        robots_url = self.url_for("/robots.txt")
        parser = urllib.robotparser.RobotFileParser(robots_url)
        try:
            page = self._get_robots(robots_url, cached[0] if cached else None)
        except FetchError as error:
            if error.status is not None and 400 <= error.status < 500:
                # 401 or 403: the site refuses Pānui, so nothing is allowed; any other: no robots.txt, no rules.
                parser.parse(["User-agent: *", "Disallow: /"] if error.status in (401, 403) else [])
                self._robots = parser
                return None
            raise FetchError(
                self.source.base_url,
                f"cannot reach {self.source.host}: {error.message}",
                "check the network and base_url; nothing was changed for this source",
                error.status,
            ) from None
        fresh = page.status == 200
        # (Neither 200 nor 304: a redirect chain that went nowhere: no rules, as for a missing file.)
        body = page.body if fresh else cached[1] if cached and page.status == 304 else b""
        parser.parse(robots_lines(body))
        delay = parser.crawl_delay(self.user_agent)
        if delay is not None and float(delay) > MAX_WAIT:
            raise FetchError(
                robots_url,
                f"robots.txt asks for {float(delay):.0f} s between requests (Crawl-delay), more than Pānui "
                f"ever waits ({MAX_WAIT:.0f} s): the source is not crawled",
                "each run reads robots.txt again; ask the site's operators about it, or remove the source",
            )
        if delay is not None:
            self._delay = max(self._delay, float(delay))
        self._robots = parser
        return page if fresh else None

    def _get_robots(self, url: str, validators: Validators | None) -> Page:
        """robots.txt, following redirects on the host as RFC 9309 asks (a moved robots.txt still rules).
        A redirect to another host or a longer chain is left as it is: no rules, as for a missing file."""
        page = self._get(url, validators.headers() if validators else {}, self.source.max_bytes)
        for _ in range(MAX_REDIRECTS):
            location = page.headers.get("location")
            if page.status not in REDIRECT_STATUSES or not location:
                break
            target = urljoin(page.final_url, location)
            if urlsplit(target).netloc.lower() != self.source.host:
                break
            page = self._get(target, {}, self.source.max_bytes)
        return page

    def allowed(self, url: str) -> str | None:
        """None when `url` may be fetched, else the reason it may not."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"not an http(s) URL: {url}"
        if parts.netloc.lower() != self.source.host:
            return f"{parts.netloc} is not this source's host ({self.source.host})"
        for prefix in self.source.discovery.never_fetch:
            if parts.path.startswith(prefix):
                return f"{parts.path} is under {prefix}, which this source never fetches"
        if self._robots is not None and not self._robots.can_fetch(self.user_agent, url):
            return f"robots.txt disallows {parts.path}"
        return None

    def fetch(self, url: str, validators: Validators | None = None, *, max_bytes: int | None = None) -> Page:
        """GET `url`, following same-host redirects. A 304 answer is a Page with status 304. A response
        over `max_bytes` (the source's max_bytes unless given: a sitemap has its own) is a FetchError."""
        self.prepare()
        headers = validators.headers() if validators else {}
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            if (reason := self.allowed(current)) is not None:
                raise NotAllowed(
                    url,
                    f"not fetched: {reason}",
                    "Pānui only fetches allowed pages on the source's host",
                )
            page = self._get(current, headers, max_bytes or self.source.max_bytes)
            if page.status not in REDIRECT_STATUSES:
                return replace(page, url=url)  # the URL asked for, and final_url the one that answered
            location = page.headers.get("location")
            if not location:
                raise FetchError(
                    url,
                    f"HTTP {page.status} redirect without a Location header",
                    status=page.status,
                )
            current = urljoin(current, location)
            if urlsplit(current).netloc.lower() != self.source.host:
                raise FetchError(
                    url,
                    f"redirects to another host ({current}); not followed",
                    "add the article by its URL on the source's host",
                    page.status,
                )
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects", "the site has a redirect loop", 310)

    def _get(self, url: str, headers: dict[str, str], max_bytes: int) -> Page:
        """One URL, retried with back-off on connection errors, 429 and 5xx, while a retry is worth its
        wait: never one longer than MAX_WAIT (Retry-After or the doubled back-off), nor past the deadline."""
        attempt = 0
        while True:
            try:
                page = self._request(url, headers, max_bytes)
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as error:
                failure = describe(error) + (f" (after {attempt + 1} attempts)" if attempt else "")
                hint, status = "the site may be down or unreachable; the next sync tries again", None
                wait = self.source.backoff * 2**attempt
            except requests.RequestException as error:  # bad encoding, invalid URL...: retrying won't help
                raise FetchError(url, describe(error), "the site sent a response Pānui cannot read") from None
            else:
                if page.status < 400 or page.status in REDIRECT_STATUSES:
                    message = f"{'conditional ' if headers else ''}GET {url}: {page.status} ({len(page.body)} bytes)"
                    log_event(log, logging.INFO, "fetch.response", message, url=url, status=page.status)
                    return page
                failure = f"HTTP {page.status}" + (f" (after {attempt + 1} attempts)" if attempt else "")
                hint, status = status_hint(page.status), page.status
                if page.status not in RETRY_STATUSES:
                    raise FetchError(url, failure, hint, status)
                wait = retry_after(page.headers.get("retry-after"), self.source.backoff * 2**attempt)
            if attempt >= self.source.retries:
                raise FetchError(url, failure, hint, status)
            if not wait <= MAX_WAIT:  # (NaN too)
                too_long = f", and the next try would have to wait more than {MAX_WAIT:.0f} s ({wait:.0f} s)"
                raise FetchError(url, failure + too_long, hint, status)
            self._pause(wait, url, f"a {wait:.0f} s wait before asking again ({failure})")
            attempt += 1

    def _pause(self, seconds: float, url: str, wait: str) -> None:
        """Sleep, unless the run's deadline comes first: then the wait is not started."""
        if self.deadline is not None and self._monotonic() + seconds > self.deadline:
            raise BudgetSpent(url, f"the run's wall-clock budget (run_budget) has no room for {wait}")
        self._sleep(seconds)

    def _request(self, url: str, headers: dict[str, str], max_bytes: int) -> Page:
        self._wait_for_turn(url)
        limit = self.source.timeout * DEADLINE_FACTOR
        left = math.inf if self.deadline is None else self.deadline - self._monotonic()
        if left <= 0:
            raise BudgetSpent(url, f"the run's wall-clock budget (run_budget) is spent: {url} was not requested")
        budget = min(limit, left)
        self.requests_made += 1
        page: Page | None = None
        with Cutoff(budget) as cutoff:
            try:
                page = self._exchange(url, headers, budget, max_bytes)
            except requests.RequestException:
                if not cutoff.fired:
                    raise
        if page is not None and not cutoff.fired:
            return page
        if budget < limit:  # cut short by the run's deadline
            raise BudgetSpent(url, f"the run's wall-clock budget (run_budget) ran out while reading {url}")
        raise FetchError(
            url,
            f"response took more than {budget:.0f} s",
            "the site is answering too slowly; the next sync tries again",
        )

    def _exchange(self, url: str, headers: dict[str, str], budget: float, max_bytes: int) -> Page:
        timeout = min(self.source.timeout, budget)  # (connecting too: the cut ends only a connection made)
        with self._session.get(
            url, headers=headers, timeout=(timeout, timeout), allow_redirects=False, stream=True
        ) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_big(url, f"response of {int(declared)} bytes is over max_bytes ({max_bytes})", response)
            # (BytesIO hands over its buffer whole: a sitemap of 8 MB is not copied at the end, which
            # would cost 2,000 more pages of memory faulted in, about 5 ms.)
            received = io.BytesIO()
            for chunk in response.iter_content(CHUNK):
                received.write(chunk)
                if received.tell() > max_bytes:
                    raise _too_big(url, f"response is over max_bytes ({max_bytes} bytes)", response)
            body = received.getvalue()
            self.bytes_received += len(body)
            page = Page(
                url=url,
                final_url=url,
                status=response.status_code,
                headers={key.lower(): value for key, value in response.headers.items()},
                body=body,
                fetched_at=datetime.now(UTC).replace(microsecond=0),
            )
            if self.recorder is not None:
                self.recorder(page)
            return page

    def _wait_for_turn(self, url: str) -> None:
        if self._last_request is not None and self._delay > 0:
            remaining = self._last_request + self._delay - self._monotonic()
            if remaining > 0:
                wait = (
                    f"the {self._delay:g} s between two requests to {self.source.host} (request_delay or Crawl-delay)"
                )
                self._pause(remaining, url, wait)
        self._last_request = self._monotonic()


def _too_big(url: str, message: str, response: requests.Response) -> FetchError:
    return FetchError(url, message, "raise max_bytes for this source if the page is genuine", response.status_code)


def ping_websub(hub: str, feed_urls: list[str], user_agent: str) -> list[str]:
    """Tell a WebSub hub that these feeds changed (hub.mode=publish). Returns one message per failure."""
    failures: list[str] = []
    with requests.Session() as session:
        session.headers["User-Agent"] = user_agent
        for url in feed_urls:
            try:
                response = session.post(hub, data={"hub.mode": "publish", "hub.url": url}, timeout=10)
            except requests.RequestException as error:
                failures.append(f"WebSub ping for {url} failed: {describe(error)}")
                continue
            if not 200 <= response.status_code < 300:
                failures.append(f"WebSub hub answered HTTP {response.status_code} for {url}")
    return failures
