"""The fetcher against the fixture site: polite (User-Agent, robots.txt, never_fetch, per-host delay),
careful (same-host redirects only, retries with back-off honouring Retry-After, size and time caps) and
clear (a FetchError that says what happened). A fake clock records every wait instead of sleeping."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from pipeline.config import load_config
from pipeline.errors import BudgetSpent, FetchError
from pipeline.fetch import Fetcher, Validators
from tests.fixture_site import (
    ARTICLE_PATHS,
    BROKEN_PATH,
    GONE_PATH,
    OLD_PATHWAY_PATH,
    PATHWAY_PATH,
    FixtureSite,
    Route,
)
from tests.helpers import MakeConfig, serving

ALLOW_ALL_ROBOTS = Route(body=b"User-agent: *\nDisallow:\n", headers={"Content-Type": "text/plain"})


class FakeClock:
    """A monotonic clock that only moves when someone sleeps (or a test moves it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[], None] | None = None

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep()


MakeFetcher = Callable[..., tuple[Fetcher, FakeClock]]


@pytest.fixture
def make_fetcher(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> Iterator[MakeFetcher]:
    """``make_fetcher(**source_overrides)`` -> (Fetcher for the site's source, its fake clock)."""
    fetchers: list[Fetcher] = []

    def make(**source: Any) -> tuple[Fetcher, FakeClock]:
        overrides = {"request_delay": 0, "retries": 0, "backoff": 0.05} | source
        config = load_config(make_config(site, tmp_path, contact="mailto:ops@example.org", source=overrides))
        clock = FakeClock()
        fetcher = Fetcher(config.sources[0], config.user_agent, sleep=clock.sleep, monotonic=clock.monotonic)
        fetchers.append(fetcher)
        return fetcher, clock

    yield make
    for fetcher in fetchers:
        fetcher.close()


def url(site: FixtureSite, path: str) -> str:
    return site.base_url + path.lstrip("/")


def count(site: FixtureSite, path: str) -> int:
    return site.paths_requested().count(path)


# -- politeness -----------------------------------------------------------------------------------


def test_every_request_carries_the_configured_user_agent(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    fetcher, _ = make_fetcher()
    page = fetcher.fetch(url(site, PATHWAY_PATH))
    assert page.status == 200 and b"Pathway Student Visa" in page.body
    agents = {request.headers.get("User-Agent") for request in site.requests}
    assert agents == {fetcher.user_agent}
    assert "Panui" in fetcher.user_agent and "mailto:ops@example.org" in fetcher.user_agent
    assert "python-requests" not in fetcher.user_agent


def test_robots_txt_is_fetched_once_per_fetcher(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    fetcher, _ = make_fetcher()
    fetcher.prepare()
    for path in ARTICLE_PATHS[:3]:
        fetcher.fetch(url(site, path))
    fetcher.prepare()
    assert site.paths_requested()[0] == "/robots.txt"
    assert count(site, "/robots.txt") == 1
    assert fetcher.requests_made == 4


def test_robots_disallowed_path_is_not_requested(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    site.set("/robots.txt", Route(body=b"User-agent: *\nDisallow: /about-us/news-centre/improvements\n"))
    fetcher, _ = make_fetcher()
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url(site, PATHWAY_PATH))
    assert "robots.txt disallows" in caught.value.message
    assert site.paths_requested() == ["/robots.txt"]
    fetcher.fetch(url(site, ARTICLE_PATHS[1]))  # other paths are still fine


def test_robots_disallow_of_the_fixture_site(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    fetcher, _ = make_fetcher(discovery={"never_fetch": []})
    for path in ("/admin/pages", "/Security/login", "/_search/api/news"):
        with pytest.raises(FetchError, match=r"robots\.txt disallows"):
            fetcher.fetch(url(site, path))
    assert site.paths_requested() == ["/robots.txt"]


def test_a_moved_robots_txt_is_still_obeyed(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    site.set("/robots.txt", Route(status=301, headers={"Location": "/robots-2026.txt"}))
    site.set("/robots-2026.txt", Route(body=b"User-agent: *\nDisallow: /\n", headers={"Content-Type": "text/plain"}))
    fetcher, _ = make_fetcher()
    with pytest.raises(FetchError, match=r"robots\.txt disallows"):
        fetcher.fetch(url(site, PATHWAY_PATH))
    assert site.paths_requested() == ["/robots.txt", "/robots-2026.txt"]


@pytest.mark.parametrize(
    ("robots", "allowed"),
    [(Route(status=404), True), (Route(status=410), True), (Route(status=401), False), (Route(status=403), False)],
    ids=["404", "410", "401", "403"],
)
def test_missing_or_forbidden_robots_txt(
    site: FixtureSite, make_fetcher: MakeFetcher, robots: Route, allowed: bool
) -> None:
    """No robots.txt means no rules; a robots.txt the site refuses to show means keep out."""
    site.set("/robots.txt", robots)
    fetcher, _ = make_fetcher()
    if allowed:
        assert fetcher.fetch(url(site, PATHWAY_PATH)).status == 200
    else:
        with pytest.raises(FetchError, match=r"robots\.txt disallows"):
            fetcher.fetch(url(site, PATHWAY_PATH))
        assert PATHWAY_PATH not in site.paths_requested()


def test_robots_txt_server_error_stops_the_source(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    site.set("/robots.txt", Route(status=500))
    fetcher, _ = make_fetcher()
    with pytest.raises(FetchError, match="cannot reach"):
        fetcher.fetch(url(site, PATHWAY_PATH))
    assert PATHWAY_PATH not in site.paths_requested()


def test_never_fetch_path_is_not_requested_even_when_robots_allows_it(
    site: FixtureSite, make_fetcher: MakeFetcher
) -> None:
    site.set("/robots.txt", ALLOW_ALL_ROBOTS)
    fetcher, _ = make_fetcher()
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url(site, "/_search/api/news"))
    assert "never fetches" in caught.value.message
    assert not any(path.startswith("/_search/") for path in site.paths_requested())


def test_other_hosts_and_schemes_are_not_requested(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    fetcher, _ = make_fetcher()
    for target in ("http://example.invalid/about-us/news-centre/x/", "file:///etc/passwd"):
        with pytest.raises(FetchError, match="not fetched"):
            fetcher.fetch(target)
    assert site.paths_requested() == ["/robots.txt"]


def test_requests_to_the_host_are_spaced_by_request_delay(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    fetcher, clock = make_fetcher(request_delay=5)
    for path in ARTICLE_PATHS[:3]:
        fetcher.fetch(url(site, path))
    assert clock.sleeps == pytest.approx([5, 5, 5])  # robots.txt, then three pages
    clock.now += 3  # three seconds of work elsewhere count towards the delay
    fetcher.fetch(url(site, ARTICLE_PATHS[3]))
    assert clock.sleeps[-1] == pytest.approx(2)


def test_a_longer_robots_crawl_delay_wins(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    site.set("/robots.txt", Route(body=b"User-agent: *\nCrawl-delay: 7\nDisallow: /_search/\n"))
    fetcher, clock = make_fetcher(request_delay=1)
    fetcher.fetch(url(site, PATHWAY_PATH))
    fetcher.fetch(url(site, ARTICLE_PATHS[1]))
    assert clock.sleeps == pytest.approx([7, 7])


@pytest.mark.parametrize("delay", ["3600", "99999999999", "9" * 5000])
def test_a_crawl_delay_over_ten_minutes_means_the_source_is_not_crawled(
    site: FixtureSite, make_fetcher: MakeFetcher, delay: str
) -> None:
    """Waiting an hour (or for ever) between requests would hold the store for the whole run: the
    source is a problem instead, at once, with nothing but robots.txt requested."""
    site.set("/robots.txt", Route(body=f"User-agent: *\nCrawl-delay: {delay}\n".encode()))
    fetcher, clock = make_fetcher()
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url(site, PATHWAY_PATH))
    assert "Crawl-delay" in caught.value.message and "not crawled" in caught.value.message
    assert caught.value.url == url(site, "/robots.txt")
    assert site.paths_requested() == ["/robots.txt"]
    assert clock.sleeps == []


@pytest.mark.parametrize("delay", ["²", "%C2%B2", "abc"])
def test_an_unreadable_crawl_delay_is_ignored_like_any_unreadable_line(
    site: FixtureSite, make_fetcher: MakeFetcher, delay: str
) -> None:
    rules = f"User-agent: *\nCrawl-delay: {delay}\nRequest-rate: ²/1\nDisallow: /private/\n"
    site.set("/robots.txt", Route(body=rules.encode()))
    fetcher, clock = make_fetcher(request_delay=1)
    fetcher.fetch(url(site, PATHWAY_PATH))
    fetcher.fetch(url(site, ARTICLE_PATHS[1]))
    assert clock.sleeps == pytest.approx([1, 1])  # request_delay alone
    assert fetcher.allowed(url(site, "/private/")) == "robots.txt disallows /private/"  # the rest still rules


# -- redirects -------------------------------------------------------------------------------------


def test_same_host_redirect_is_followed(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    fetcher, _ = make_fetcher()
    page = fetcher.fetch(url(site, OLD_PATHWAY_PATH))
    assert page.status == 200
    assert page.url == url(site, OLD_PATHWAY_PATH)
    assert page.final_url == url(site, PATHWAY_PATH)
    assert b"Pathway Student Visa" in page.body
    assert site.paths_requested() == ["/robots.txt", OLD_PATHWAY_PATH, PATHWAY_PATH]


def test_offsite_redirect_is_not_followed(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    with FixtureSite(max_lifetime=60) as elsewhere:
        moved = "/about-us/news-centre/moved/"
        site.set(moved, Route(status=302, headers={"Location": url(elsewhere, PATHWAY_PATH)}))
        fetcher, _ = make_fetcher()
        with pytest.raises(FetchError) as caught:
            fetcher.fetch(url(site, moved))
        assert "another host" in caught.value.message
        assert caught.value.status == 302
        assert elsewhere.requests == []


def test_redirect_loop_is_an_error(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    site.set("/loop/a/", Route(status=301, headers={"Location": "/loop/b/"}))
    site.set("/loop/b/", Route(status=301, headers={"Location": "/loop/a/"}))
    fetcher, _ = make_fetcher()
    with pytest.raises(FetchError, match="redirects"):
        fetcher.fetch(url(site, "/loop/a/"))
    assert 2 <= count(site, "/loop/a/") + count(site, "/loop/b/") <= 10


def test_redirect_without_location_is_an_error(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    site.set("/nowhere/", Route(status=302))
    fetcher, _ = make_fetcher()
    with pytest.raises(FetchError, match="without a Location"):
        fetcher.fetch(url(site, "/nowhere/"))


# -- retries ---------------------------------------------------------------------------------------


def test_server_error_is_retried_then_reported(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    fetcher, clock = make_fetcher(retries=2, backoff=0.5)
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url(site, BROKEN_PATH))
    assert caught.value.status == 500
    assert "HTTP 500" in caught.value.message and "3 attempts" in caught.value.message
    assert caught.value.hint
    assert count(site, BROKEN_PATH) == 3  # the first try and `retries` more
    assert clock.sleeps == pytest.approx([0.5, 1.0])  # exponential back-off


def test_retry_after_is_honoured(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    busy = "/about-us/news-centre/busy/"
    site.set(busy, Route(status=503, headers={"Retry-After": "2"}))
    fetcher, clock = make_fetcher(retries=1, backoff=0.05)
    clock.on_sleep = lambda: site.set(busy, Route(body=b"<p>back</p>"))  # the site recovers meanwhile
    page = fetcher.fetch(url(site, busy))
    assert (page.status, page.body) == (200, b"<p>back</p>")
    assert clock.sleeps == [2.0]
    assert count(site, busy) == 2


@pytest.mark.parametrize("retry_after", ["3600", "Fri, 01 Jan 2100 00:00:00 GMT"])
def test_retry_after_over_the_cap_fails_at_once(site: FixtureSite, make_fetcher: MakeFetcher, retry_after: str) -> None:
    busy = "/about-us/news-centre/busy/"
    site.set(busy, Route(status=503, headers={"Retry-After": retry_after}))
    fetcher, clock = make_fetcher(retries=3)
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url(site, busy))
    assert caught.value.status == 503
    assert "wait more than" in caught.value.message
    assert count(site, busy) == 1
    assert clock.sleeps == []


def test_a_back_off_that_doubles_past_ten_minutes_is_given_up(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    fetcher, clock = make_fetcher(retries=5, backoff=200)
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url(site, BROKEN_PATH))
    assert "HTTP 500 (after 3 attempts)" in caught.value.message and "wait more than 600 s" in caught.value.message
    assert clock.sleeps == pytest.approx([200, 400])  # 800 s is never waited
    assert count(site, BROKEN_PATH) == 3


@pytest.mark.parametrize("retry_after", ["100", "9" * 400, "²"])
def test_no_retry_waits_past_the_runs_deadline(site: FixtureSite, make_fetcher: MakeFetcher, retry_after: str) -> None:
    busy = "/about-us/news-centre/busy/"
    site.set(busy, Route(status=503, headers={"Retry-After": retry_after}))
    fetcher, clock = make_fetcher(retries=3, backoff=90)
    fetcher.deadline = clock.now + 60
    with pytest.raises((BudgetSpent, FetchError)) as caught:
        fetcher.fetch(url(site, busy))
    assert clock.sleeps == []
    assert count(site, busy) == 1
    if retry_after == "9" * 400:  # longer than any wait: this page's problem alone
        assert isinstance(caught.value, FetchError) and "wait more than 600 s" in caught.value.message
    else:  # 100 s, or the 90 s back-off for an unreadable value: there is not that much time left
        assert isinstance(caught.value, BudgetSpent) and "run_budget" in caught.value.message


def test_no_request_and_no_delay_between_requests_passes_the_runs_deadline(
    site: FixtureSite, make_fetcher: MakeFetcher
) -> None:
    fetcher, clock = make_fetcher(request_delay=30)
    fetcher.deadline = clock.now + 45
    fetcher.fetch(url(site, PATHWAY_PATH))  # robots.txt, then 30 s, then the page
    with pytest.raises(BudgetSpent, match=r"no room for the 30 s between two requests"):
        fetcher.fetch(url(site, ARTICLE_PATHS[1]))  # 30 s more would end 15 s past the deadline
    clock.now += 20  # past the deadline
    fetcher._delay = 0
    with pytest.raises(BudgetSpent, match=r"run_budget\) is spent"):
        fetcher.fetch(url(site, ARTICLE_PATHS[2]))
    assert clock.sleeps == [30]
    assert site.paths_requested() == ["/robots.txt", PATHWAY_PATH]


def test_too_many_requests_is_retried(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    limited = "/about-us/news-centre/limited/"
    site.set(limited, Route(status=429))
    fetcher, clock = make_fetcher(retries=2, backoff=0.05)
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url(site, limited))
    assert caught.value.status == 429
    assert "rate-limiting" in caught.value.hint
    assert count(site, limited) == 3
    assert len(clock.sleeps) == 2


def test_not_found_is_not_retried(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    fetcher, clock = make_fetcher(retries=3)
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url(site, GONE_PATH))
    assert caught.value.status == 404
    assert "gone" in caught.value.hint
    assert count(site, GONE_PATH) == 1
    assert clock.sleeps == []


# -- conditional requests --------------------------------------------------------------------------


def test_conditional_request_answers_304(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    fetcher, _ = make_fetcher()
    first = fetcher.fetch(url(site, PATHWAY_PATH))
    assert first.status == 200 and first.etag and first.last_modified
    by_etag = fetcher.fetch(url(site, PATHWAY_PATH), Validators(etag=first.etag))
    assert (by_etag.status, by_etag.body) == (304, b"")
    assert site.requests[-1].headers["If-None-Match"] == first.etag
    by_date = fetcher.fetch(url(site, PATHWAY_PATH), Validators(last_modified=first.last_modified))
    assert by_date.status == 304
    assert site.requests[-1].headers["If-Modified-Since"] == first.last_modified
    site.set_article(PATHWAY_PATH, first.body.decode("utf-8").replace("09 July 2026", "10 July 2026"))
    changed = fetcher.fetch(url(site, PATHWAY_PATH), Validators(first.etag, first.last_modified))
    assert changed.status == 200 and b"10 July 2026" in changed.body
    plain = fetcher.fetch(url(site, ARTICLE_PATHS[1]))
    assert "If-None-Match" not in site.requests[-1].headers and plain.status == 200


# -- size and time caps ----------------------------------------------------------------------------


def test_response_over_max_bytes_with_content_length(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    big = "/about-us/news-centre/big/"
    site.set(big, Route(body=b"<p>" + b"x" * 20_000 + b"</p>"))
    fetcher, _ = make_fetcher(max_bytes=10_000)
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url(site, big))
    assert "max_bytes" in caught.value.message and "20007 bytes" in caught.value.message
    assert count(site, big) == 1
    fetcher.fetch(url(site, "/robots.txt"))  # small responses are still fine


class _ChunkedHandler(BaseHTTPRequestHandler):
    """Streams a large body with chunked transfer encoding: no Content-Length to go by."""

    protocol_version = "HTTP/1.1"
    body_size = 300_000

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        try:
            if self.path == "/robots.txt":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * 10_000
            for _ in range(self.body_size // len(chunk)):
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):  # the fetcher stopped reading: expected
            pass


@pytest.fixture
def chunked_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChunkedHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    watchdog = threading.Timer(120, server.shutdown)  # stops by itself even if the test hangs
    watchdog.daemon = True
    watchdog.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        watchdog.cancel()
        server.shutdown()
        server.server_close()


def test_response_over_max_bytes_without_content_length(
    site: FixtureSite, make_fetcher: MakeFetcher, chunked_server: str
) -> None:
    fetcher, _ = make_fetcher(base_url=chunked_server, max_bytes=100_000)
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(chunked_server + "about-us/news-centre/streamed/")
    assert "over max_bytes (100000 bytes)" in caught.value.message
    assert fetcher.bytes_received == 0  # nothing of an over-size answer is kept


def test_chunked_response_under_max_bytes_is_read(
    site: FixtureSite, make_fetcher: MakeFetcher, chunked_server: str
) -> None:
    fetcher, _ = make_fetcher(base_url=chunked_server, max_bytes=1_000_000)
    page = fetcher.fetch(chunked_server + "about-us/news-centre/streamed/")
    assert len(page.body) == _ChunkedHandler.body_size


def test_slow_response_times_out(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    slow = "/about-us/news-centre/slow/"
    site.set(slow, Route(body=b"<p>late</p>", delay=1.5))
    fetcher, _ = make_fetcher(timeout=0.3, retries=0)
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url(site, slow))
    assert "timed out" in caught.value.message
    assert caught.value.hint


def test_unreachable_host_is_named_by_prepare(site: FixtureSite, make_fetcher: MakeFetcher) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and is now closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fetcher, clock = make_fetcher(base_url=f"http://127.0.0.1:{port}/", retries=1, backoff=0.05)
    with pytest.raises(FetchError) as caught:
        fetcher.prepare()
    assert f"127.0.0.1:{port}" in caught.value.message
    assert "connection refused" in caught.value.message
    assert caught.value.hint
    assert clock.sleeps == pytest.approx([0.05])  # retried once after a back-off
    with pytest.raises(FetchError, match=f"127.0.0.1:{port}"):
        fetcher.fetch(f"http://127.0.0.1:{port}/about-us/news-centre/x/")


# -- the operator's environment -------------------------------------------------------------------


class _ProxyHandler(BaseHTTPRequestHandler):
    """An HTTP proxy that answers every request itself and remembers what it was asked for."""

    requested: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        type(self).requested.append(self.path)  # a proxy is asked for the absolute URL
        body = b"User-agent: *\nDisallow:\n" if self.path.endswith("/robots.txt") else b"<p>through the proxy</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain" if self.path.endswith(".txt") else "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def proxy() -> Iterator[str]:
    _ProxyHandler.requested = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
    server.daemon_threads = True
    with serving(server, lifetime=60):
        yield f"http://127.0.0.1:{server.server_address[1]}"


PROXIED_HOST = "http://panui-proxy-test.invalid"  # .invalid never resolves: only a proxy can answer


def test_an_operators_http_proxy_is_used(
    proxy: str, make_fetcher: MakeFetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    fetcher, _ = make_fetcher(base_url=PROXIED_HOST)

    page = fetcher.fetch(f"{PROXIED_HOST}/news/one/")

    assert page.body == b"<p>through the proxy</p>"
    assert _ProxyHandler.requested == [f"{PROXIED_HOST}/robots.txt", f"{PROXIED_HOST}/news/one/"]


def test_no_proxy_sends_the_source_past_the_proxy(
    proxy: str, site: FixtureSite, make_fetcher: MakeFetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    fetcher, _ = make_fetcher()

    page = fetcher.fetch(url(site, PATHWAY_PATH))

    assert page.status == 200 and count(site, PATHWAY_PATH) == 1
    assert _ProxyHandler.requested == []


class _CookieHandler(BaseHTTPRequestHandler):
    """Sets a cookie on /news/one/ and remembers the Cookie header of every page request."""

    protocol_version = "HTTP/1.1"
    cookies: ClassVar[list[str | None]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path != "/robots.txt":
            type(self).cookies.append(self.headers.get("Cookie"))
        body = b"<p>hello</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/news/one/":
            self.send_header("Set-Cookie", "session=abc; Path=/")
        self.end_headers()
        self.wfile.write(body)


def test_a_cookie_the_source_sets_is_sent_back_like_a_browser_would(make_fetcher: MakeFetcher) -> None:
    _CookieHandler.cookies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CookieHandler)
    server.daemon_threads = True
    with serving(server, lifetime=60):
        base = f"http://127.0.0.1:{server.server_address[1]}"
        fetcher, _ = make_fetcher(base_url=base)
        fetcher.fetch(f"{base}/news/one/")
        fetcher.fetch(f"{base}/news/two/")

    assert _CookieHandler.cookies == [None, "session=abc"]
