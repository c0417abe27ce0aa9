"""Network faults end to end through `python run.py sync`: each costs only the page (or source) it hits,
which is a named problem on stderr; every other article of the run is published; the run exits 1; and
the next run, with the fault gone, recovers (exit 0, the article published).

Faults the fixture site can serve (statuses, Retry-After, slow answers, redirects, a declared size) are
routes on it. Faults of the transport itself (a server that trickles, a body cut short or reset, a
compressed body that expands enormously, no Content-Type at all) come from RawSite below, a tiny server
on a raw socket that answers each path with bytes written by hand, configured as a second source."""

from __future__ import annotations

import gzip
import json
import socket
import struct
import subprocess
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import load_config
from pipeline.errors import FetchError
from pipeline.fetch import DEADLINE_FACTOR, Fetcher
from tests.fixture_site import (
    ARTICLE_PATHS,
    DEFAULT_SITEMAP_PATHS,
    HTML,
    FixtureSite,
    Route,
    article_path,
    derive_article,
    home_page,
    sitemap_urlset,
)
from tests.helpers import MakeConfig, run_cli
from tests.pdf_writer import text_pdf

TEMPLATE = "article-improvements-to-the-pathway-student-visa.html"
BODY = (
    "<h2>What is changing</h2><p>From 1 August, visa application fees change for most visa types. "
    "Applications submitted before that date are charged the current fee, and applicants do not need "
    "to do anything. The new fees are listed on our fees page from today.</p>"
)
MAX_BYTES = 1_000_000
TIMEOUT = 1  # seconds: so a response may take DEADLINE_FACTOR s in all
Answer = Callable[[socket.socket], None]


# -- helpers ----------------------------------------------------------------------------------------


def article_page(slug: str, title: str | None = None) -> str:
    """A publishable article derived from a real capture (its canonical URL ends in /<slug>/)."""
    return derive_article(
        TEMPLATE, slug=slug, title=title or f"Notice {slug}", published="10 July 2026", body_html=BODY
    )


def sync(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("sync", "--config", str(config), "--wait", "0", *args, timeout=90)


def problem_line(stderr: str, url: str) -> str:
    """The one problem line on stderr that names `url`."""
    lines = [line for line in stderr.splitlines() if url in line]
    assert len(lines) == 1, f"{url} named {len(lines)} times in:\n{stderr}"
    return lines[0]


def published_urls(output: Path, folder: str) -> set[str]:
    feed = output / folder / "feed.json"
    if not feed.is_file():
        return set()
    return {str(item["id"]) for item in json.loads(feed.read_text("utf-8"))["items"]}


def add_source(config: Path, source_id: str, base_url: str, **fields: Any) -> None:
    """Append a second source to the written config: the first one's rules, another host, sitemap only."""
    data = yaml.safe_load(config.read_text("utf-8"))
    first = data["sources"][0]
    second = {
        **first,
        "id": source_id,
        "name": f"Test source {source_id}",
        "base_url": base_url,
        "discovery": {**first["discovery"], "listings": [], "sitemap": "/sitemap.xml"},
        "alerts": None,
        **fields,
    }
    data["sources"].append(second)
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")


def set_base_url(config: Path, source_id: str, base_url: str) -> None:
    data = yaml.safe_load(config.read_text("utf-8"))
    next(source for source in data["sources"] if source["id"] == source_id)["base_url"] = base_url
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")


# -- a server on a raw socket -----------------------------------------------------------------------


def head(status: str = "200 OK", **headers: str) -> bytes:
    """A status line and headers (Content_Type -> Content-Type), always closing the connection."""
    lines = [f"HTTP/1.1 {status}", *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items())]
    return ("\r\n".join([*lines, "Connection: close", "", ""])).encode("latin-1")


class RawSite:
    """A site whose every answer is bytes written by hand on the socket, so it can misbehave in ways a
    real HTTP server library will not: trickle, cut a body short, reset, lie about lengths.

    It is bound at once, but answers only after start(): until then a connection is refused. After
    blackhole() it listens with a full backlog and never accepts, so connecting times out. It stops by
    itself after `max_lifetime` seconds."""

    def __init__(self, max_lifetime: float = 120.0) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/"
        self.host = f"127.0.0.1:{self.port}"
        self.answers: dict[str, Answer] = {}
        self.stopped = threading.Event()
        self._paths: list[str] = []
        self._lock = threading.Lock()
        self._fillers: list[socket.socket] = []
        self._accepting = False
        self._timer = threading.Timer(max_lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()

    def paths_requested(self) -> list[str]:
        with self._lock:
            return list(self._paths)

    def blackhole(self) -> None:
        """Listen with a backlog of one and fill it: the next connection attempt waits for ever."""
        self._listener.listen(0)
        filler = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self._fillers.append(filler)

    def start(self) -> None:
        for filler in self._fillers:
            filler.close()
        self._listener.listen(16)
        if not self._accepting:
            self._accepting = True
            threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self.stopped.set()
        self._timer.cancel()
        for filler in self._fillers:
            filler.close()
        self._listener.close()

    def __enter__(self) -> RawSite:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(10)
            request = b""
            try:
                while b"\r\n\r\n" not in request:
                    data = connection.recv(4096)
                    if not data:
                        return
                    request += data
                path = request.split(b" ", 2)[1].decode("latin-1")
                with self._lock:
                    self._paths.append(path)
                answer = self.answers.get(path)
                if answer is None:
                    connection.sendall(head("404 Not Found", Content_Length="0"))
                else:
                    answer(connection)
            except OSError:  # the client gave up: what several faults are about
                pass

    # answers -----------------------------------------------------------------------------------

    def serve_sitemap(self, paths: list[str]) -> None:
        body = sitemap_urlset(self.base_url, [(path, "2026-07-13") for path in paths])
        self.answers["/sitemap.xml"] = self.answer(body, "application/xml")

    @staticmethod
    def answer(body: bytes, content_type: str | None = HTML, **headers: str) -> Answer:
        extra = {"Content_Type": content_type} if content_type is not None else {}

        def send(connection: socket.socket) -> None:
            connection.sendall(head(Content_Length=str(len(body)), **extra, **headers) + body)

        return send

    def trickle(self, headers_first: bool) -> Answer:
        """One byte every 0.2 s for as long as the client listens: of the body (after complete headers),
        or of an endless header line."""

        def send(connection: socket.socket) -> None:
            if headers_first:
                connection.sendall(head(Content_Type=HTML, Content_Length="100000"))
            else:
                connection.sendall(b"HTTP/1.1 200 OK\r\nX-Padding: ")
            while not self.stopped.wait(0.2):
                connection.sendall(b"<" if headers_first else b"a")

        return send

    @staticmethod
    def cut_short(*, reset: bool) -> Answer:
        """Promises 100 000 bytes, sends 2 000, then closes (or resets) the connection."""

        def send(connection: socket.socket) -> None:
            connection.sendall(head(Content_Type=HTML, Content_Length="100000") + b"<p>" + b"x" * 2000)
            if reset:
                time.sleep(0.1)  # let the client start reading the body
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

        return send

    def endless(self, *, chunked: bool) -> Answer:
        """64 KiB pieces without any Content-Length, up to 200 of them (far over MAX_BYTES)."""

        def send(connection: socket.socket) -> None:
            headers = {"Transfer_Encoding": "chunked"} if chunked else {}
            connection.sendall(head(Content_Type=HTML, **headers))
            piece = b"y" * 65536
            for _ in range(200):
                if self.stopped.is_set():
                    return
                connection.sendall(b"10000\r\n" + piece + b"\r\n" if chunked else piece)
            if chunked:
                connection.sendall(b"0\r\n\r\n")

        return send


@cache
def gzip_bomb() -> bytes:
    """About 64 KB that gunzip to 64 MiB of zeros (eight identical gzip members, which is valid gzip)."""
    return gzip.compress(bytes(8 << 20), 6) * 8


@pytest.fixture
def raw_site() -> Iterator[RawSite]:
    with RawSite() as site:
        yield site


def fast_config(make_config: MakeConfig, site: FixtureSite, tmp_path: Path, **source: Any) -> Path:
    settings = {"retries": 1, "backoff": 0, "timeout": TIMEOUT, "max_bytes": MAX_BYTES, **source}
    return make_config(site, tmp_path, contact="mailto:fault-tests@example.org", source=settings)


# -- faults on the source's own site ----------------------------------------------------------------


def test_http_faults_cost_only_their_page_and_the_next_run_recovers(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    with FixtureSite(max_lifetime=120) as elsewhere:
        faults: dict[str, tuple[Route, tuple[str, ...], int]] = {  # slug: (route, words of the problem, requests)
            "read-timeout": (Route(body=article_page("read-timeout").encode(), delay=TIMEOUT + 1.5), ("timed out",), 2),
            "http-500": (Route(status=500, body=b"<h1>500</h1>"), ("HTTP 500", "2 attempts"), 2),
            "http-502": (Route(status=502, body=b"<h1>502</h1>"), ("HTTP 502", "2 attempts"), 2),
            "http-503": (Route(status=503, body=b"<h1>503</h1>"), ("HTTP 503", "2 attempts"), 2),
            "http-503-retry-after": (Route(status=503, headers={"Retry-After": "1"}), ("HTTP 503", "2 attempts"), 2),
            "http-429": (Route(status=429), ("HTTP 429", "rate-limiting"), 2),
            "http-429-retry-after": (Route(status=429, headers={"Retry-After": "1"}), ("HTTP 429", "2 attempts"), 2),
            "http-429-retry-after-a-day": (
                Route(status=429, headers={"Retry-After": "86400"}),
                ("HTTP 429", "wait more than"),
                1,  # not retried: waiting a day is not a run's business
            ),
            "redirect-loop": (
                Route(status=301, headers={"Location": article_path("redirect-loop")}),
                ("more than 5 redirects",),
                6,
            ),
            "redirect-elsewhere": (
                Route(status=302, headers={"Location": elsewhere.base_url + "about-us/news-centre/moved/"}),
                ("another host", "not followed"),
                1,
            ),
            "huge-declared": (
                Route(body=b"<p>" + b"x" * MAX_BYTES + b"</p>"),
                (f"{MAX_BYTES + 7} bytes is over max_bytes",),
                1,
            ),
        }
        for slug, (route, _, _) in faults.items():
            site.set(article_path(slug), route)
        site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, *(article_path(slug) for slug in faults)])
        config = fast_config(make_config, site, tmp_path)

        result = sync(config)

        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert f"problems ({len(faults)})" in result.stderr
        for slug, (_, words, requests) in faults.items():
            line = problem_line(result.stderr, site.base_url + article_path(slug).lstrip("/"))
            for word in words:
                assert word in line, line
            assert site.paths_requested().count(article_path(slug)) == requests, slug
        assert elsewhere.requests == []  # the redirect to another host was not followed
        output = tmp_path / "output"
        captured = {site.base_url.rstrip("/") + path for path in ARTICLE_PATHS}
        assert published_urls(output, "") == captured  # everything else of the run is published

        for slug in faults:  # the faults are gone
            site.set_article(article_path(slug), article_page(slug))
        recovered = sync(config)

        assert recovered.returncode == 0, recovered.stderr
        assert f"{len(faults)} new" in recovered.stdout
        fixed = {site.base_url.rstrip("/") + article_path(slug) for slug in faults}
        assert published_urls(output, "") == captured | fixed


# -- waits that would hold the run (and the store lock) past its budget ------------------------------


@pytest.mark.parametrize("delay", ["3600", "99999999999"])
def test_a_robots_crawl_delay_over_ten_minutes_is_a_problem_never_a_sleep(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig, delay: str
) -> None:
    config = fast_config(make_config, site, tmp_path)
    assert sync(config).returncode == 0
    output = tmp_path / "output"
    published = published_urls(output, "")
    site.set("/robots.txt", Route(body=f"User-agent: *\nCrawl-delay: {delay}\n".encode()))
    site.requests.clear()

    result = sync(config)  # (an hour's sleep would time out)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    line = problem_line(result.stderr, site.base_url + "robots.txt")
    assert f"asks for {delay} s between requests (Crawl-delay), more than Pānui ever waits (600 s)" in line
    assert site.paths_requested() == ["/robots.txt"]
    assert published_urls(output, "") == published  # what was published stays published


def test_a_wait_past_the_run_budget_is_not_started_and_what_was_collected_is_published(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    """A Retry-After over ten minutes costs its page; one that would outlast the run's budget ends the
    source's run there: the rest waits for the next run, and what the run collected is published."""
    day_off, later = article_path("back-in-a-day"), article_path("back-later")
    site.set(day_off, Route(status=503, headers={"Retry-After": "100000"}))
    site.set(later, Route(status=503, headers={"Retry-After": "590"}))  # under ten minutes, over the budget
    site.set(
        "/",
        Route(
            body=home_page([(ARTICLE_PATHS[0], "First", "9 Jul 2026"), (ARTICLE_PATHS[1], "Second", "9 Jul 2026")]),
            headers={"Content-Type": HTML},
        ),
    )
    site.set_sitemap_paths([day_off, later, *DEFAULT_SITEMAP_PATHS])
    config = make_config(
        site, tmp_path, contact="mailto:fault-tests@example.org", run_budget="5m", source={"retries": 3, "backoff": 0}
    )

    result = sync(config)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "wait more than 600 s (100000 s)" in problem_line(result.stderr, site.base_url + day_off.lstrip("/"))
    budget = problem_line(result.stderr, site.base_url + later.lstrip("/"))
    assert "run_budget) has no room for a 590 s wait" in budget and "more link(s)" in budget
    assert site.paths_requested().count(day_off) == site.paths_requested().count(later) == 1
    assert not {*ARTICLE_PATHS[2:]} & set(site.paths_requested())  # left for the next run
    assert published_urls(tmp_path / "output", "") == {site.base_url.rstrip("/") + path for path in ARTICLE_PATHS[:2]}


# -- faults of the transport ------------------------------------------------------------------------


def test_transport_faults_cost_only_their_page_and_the_next_run_recovers(
    site: FixtureSite, raw_site: RawSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    deadline = f"took more than {TIMEOUT * DEADLINE_FACTOR} s"
    faults: dict[str, tuple[Answer, tuple[str, ...]]] = {
        "trickled-body": (raw_site.trickle(headers_first=True), (deadline,)),
        "trickled-headers": (raw_site.trickle(headers_first=False), (deadline,)),
        "truncated": (raw_site.cut_short(reset=False), ("connection broke",)),
        "reset": (raw_site.cut_short(reset=True), ("connection broke",)),
        "gzip-bomb": (raw_site.answer(gzip_bomb(), Content_Encoding="gzip"), ("over max_bytes",)),
        "chunked-endless": (raw_site.endless(chunked=True), ("over max_bytes",)),
        "unframed-endless": (raw_site.endless(chunked=False), ("over max_bytes",)),
    }
    # Served HTML with a wrong or no Content-Type is still HTML: read it, as a browser would.
    mislabelled = {
        "octet-stream": raw_site.answer(article_page("octet-stream").encode(), "application/octet-stream"),
        "no-content-type": raw_site.answer(article_page("no-content-type").encode(), None),
    }
    for slug, (answer, _) in faults.items():
        raw_site.answers[article_path(slug)] = answer
    for slug, answer in mislabelled.items():
        raw_site.answers[article_path(slug)] = answer
    raw_site.serve_sitemap([article_path(slug) for slug in [*faults, *mislabelled]])
    raw_site.start()
    config = fast_config(make_config, site, tmp_path)
    add_source(config, "raw", raw_site.base_url, retries=0)

    result = sync(config)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"problems ({len(faults)})" in result.stderr
    for slug, (_, words) in faults.items():
        line = problem_line(result.stderr, raw_site.base_url + article_path(slug).lstrip("/"))
        assert "[raw] fetch" in line, line
        for word in words:
            assert word in line, line
    output = tmp_path / "output"
    assert published_urls(output, "inz") == {site.base_url.rstrip("/") + path for path in ARTICLE_PATHS}
    readable = {raw_site.base_url.rstrip("/") + article_path(slug) for slug in mislabelled}
    assert published_urls(output, "raw") == readable

    for slug in faults:  # the faults are gone
        raw_site.answers[article_path(slug)] = raw_site.answer(article_page(slug).encode())
    recovered = sync(config)

    assert recovered.returncode == 0, recovered.stderr
    fixed = {raw_site.base_url.rstrip("/") + article_path(slug) for slug in faults}
    assert published_urls(output, "raw") == readable | fixed


def test_a_gzip_bomb_is_capped_without_expanding_it_in_memory(
    site: FixtureSite, raw_site: RawSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    raw_site.answers["/bomb/"] = raw_site.answer(gzip_bomb(), Content_Encoding="gzip")
    raw_site.start()
    source = load_config(fast_config(make_config, site, tmp_path, base_url=raw_site.base_url)).sources[0]
    with Fetcher(source, "Panui-fault-tests") as fetcher:
        fetcher.prepare()
        tracemalloc.start()
        try:
            with pytest.raises(FetchError, match="over max_bytes"):
                fetcher.fetch(raw_site.base_url + "bomb/")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert len(gzip_bomb()) < MAX_BYTES < 64 << 20
    assert peak < 8 * MAX_BYTES  # what was read is bounded by max_bytes, not by the 64 MiB it expands to


# -- hosts that cannot be reached -------------------------------------------------------------------


def resolution_fails_quickly(host: str) -> bool:
    """Whether looking `host` up fails within a few seconds here (a sandbox resolver may hang instead)."""
    outcome: list[bool] = []

    def resolve() -> None:
        try:
            socket.getaddrinfo(host, 80)
            outcome.append(False)
        except OSError:
            outcome.append(True)

    thread = threading.Thread(target=resolve, daemon=True)
    thread.start()
    thread.join(5)
    return outcome == [True]


def test_unreachable_hosts_cost_only_their_source_and_the_next_run_recovers(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    if not resolution_fails_quickly("nonexistent.invalid"):
        pytest.skip("this machine's resolver does not fail fast for nonexistent.invalid")
    with RawSite() as refusing, RawSite() as silent, RawSite() as replacement:
        silent.blackhole()  # connecting to it times out
        config = fast_config(make_config, site, tmp_path)
        add_source(config, "refused", refusing.base_url)
        add_source(config, "silent", silent.base_url)
        add_source(config, "nodns", "http://nonexistent.invalid/")
        # A host that is not this machine is reached only with a real contact (this one never resolves).
        config.write_text(config.read_text("utf-8").replace("fault-tests@example.org", "fault-tests@panui.nz"), "utf-8")
        output = tmp_path / "output"

        result = sync(config)

        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert "problems (3)" in result.stderr
        for host, words in (
            (refusing.host, "connection refused"),
            (silent.host, "timed out"),
            ("nonexistent.invalid", "host name could not be resolved"),
        ):
            line = problem_line(result.stderr, host)
            assert f"cannot reach {host}: {words}" in line, line
        assert published_urls(output, "inz") == {site.base_url.rstrip("/") + path for path in ARTICLE_PATHS}

        for raw in (refusing, silent, replacement):  # the hosts come back, each with one article
            raw.answers[article_path("back")] = raw.answer(article_page("back").encode())
            raw.serve_sitemap([article_path("back")])
            raw.start()
        set_base_url(config, "nodns", replacement.base_url)  # the operator corrects the host name
        recovered = sync(config)

        assert recovered.returncode == 0, recovered.stderr
        for source_id, raw in (("refused", refusing), ("silent", silent), ("nodns", replacement)):
            assert published_urls(output, source_id) == {raw.base_url.rstrip("/") + article_path("back")}


# -- encodings --------------------------------------------------------------------------------------


TITLE = "Café owners’ visa — what changes"


def test_pages_in_other_encodings_or_with_bad_bytes_are_read_right(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    def cp1252(slug: str, *, meta: bool) -> bytes:
        page = article_page(slug, TITLE)
        if meta:  # declared in the page only (the captures declare utf-8 twice)
            page = page.replace('charset="utf-8"', 'charset="windows-1252"').replace(
                "charset=utf-8", "charset=windows-1252"
            )
        return page.encode("cp1252")

    broken_utf8 = article_page("invalid-utf-8", TITLE).replace("<h2>What", "<h2>\udcff\udcfe What", 1)
    pages = {
        "windows-1252-header": Route(
            body=cp1252("windows-1252-header", meta=False), headers={"Content-Type": "text/html; charset=windows-1252"}
        ),
        "windows-1252-meta": Route(body=cp1252("windows-1252-meta", meta=True), headers={"Content-Type": "text/html"}),
        "invalid-utf-8": Route(body=broken_utf8.encode("utf-8", "surrogateescape"), headers={"Content-Type": HTML}),
    }
    for slug, route in pages.items():
        site.set(article_path(slug), route)
    site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, *(article_path(slug) for slug in pages)])

    result = sync(fast_config(make_config, site, tmp_path))

    assert result.returncode == 0, result.stderr
    items = {item["id"]: item for item in json.loads((tmp_path / "output" / "feed.json").read_text("utf-8"))["items"]}
    for slug in pages:
        item = items[site.base_url.rstrip("/") + article_path(slug)]
        assert item["title"] == TITLE, slug
        assert "What is changing" in item["content_html"], slug
        page = (tmp_path / "output" / "inz" / "articles" / slug / "index.html").read_text("utf-8")
        assert f"<h1>{TITLE}</h1>" in page, slug


def test_a_document_where_articles_live_is_read_if_a_pdf_else_skipped_with_a_note_never_a_layout_problem(
    site: FixtureSite, raw_site: RawSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    broken = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    served = {
        "guidance-pdf": raw_site.answer(text_pdf([["Guidance for employers"]]), "application/pdf"),
        "mislabelled-pdf": raw_site.answer(broken, "text/html"),  # the bytes say what it is
        "poster": raw_site.answer(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"),
        "real-article": raw_site.answer(article_page("real-article").encode()),
    }
    for slug, answer in served.items():
        raw_site.answers[article_path(slug)] = answer
    raw_site.serve_sitemap([article_path(slug) for slug in served])
    raw_site.start()
    config = fast_config(make_config, site, tmp_path)
    add_source(config, "raw", raw_site.base_url, retries=0)

    result = sync(config, "--json")

    assert result.returncode == 1, result.stdout + result.stderr  # the broken PDF is a problem; not degraded
    report = json.loads(result.stdout)
    raw = next(source for source in report["sources"] if source["id"] == "raw")
    assert raw["degraded"] == []
    (problem,) = raw["problems"]
    assert problem["url"].endswith(article_path("mislabelled-pdf")) and "PDF cannot be read" in problem["message"]
    base = raw_site.base_url + "about-us/news-centre/"
    assert sorted(raw["new"]) == [base + "guidance-pdf/", base + "real-article/"]
    assert "skipped, not an HTML page (image/png)" in " ".join(raw["notes"])
    assert raw["skipped"] == 1
