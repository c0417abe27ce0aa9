"""The archive in a real browser: headless Chromium (Debian's /usr/bin/chromium, installed by .ci/run,
driven through playwright) over the archive served on 127.0.0.1 by `pipeline.publish.serve`. Screenshots of
the index and an article at phone and desktop widths land in pytest's tmp dir; pages must raise no
console errors, request nothing from another host, the search must find an article by a word of
its body, and the front page must show the site's current alert with a link to the alerts feed."""

from __future__ import annotations

import json
import random
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

import pipeline.publish.search
from pipeline.model import Article
from pipeline.publish import publish
from pipeline.publish.serve import make_server
from pipeline.store import Store
from tests.fixture_site import ARTICLE_PATHS, FixtureSite
from tests.helpers import run_cli, serving, write_config
from tests.test_publish_incremental import SEEN, make_article, make_config, save

try:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Page,
        Request,
        Route,
        ViewportSize,
        expect,
        sync_playwright,
    )
except ImportError:  # the `test` extra installs it; without it the module is skipped
    HAVE_PLAYWRIGHT = False
else:
    HAVE_PLAYWRIGHT = True

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.e2e,  # syncs through run.py, drives Chromium
    pytest.mark.skipif(
        not (HAVE_PLAYWRIGHT and CHROMIUM.is_file()),
        reason="needs the playwright package and Debian's /usr/bin/chromium (.ci/run installs both)",
    ),
]
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
EMPLOYER_SLUG = ARTICLE_PATHS[1].rstrip("/").rsplit("/", 1)[-1]
EMPLOYER_PAGE = f"inz/articles/{EMPLOYER_SLUG}/index.html"
EMPLOYER_TITLE = "Employer sentenced after demanding tens of thousands of dollars from migrant worker"
BODY_ONLY_WORD = "reparation"  # in the employer article's body only: not in any title, summary or topic
ATTRIBUTION = "Crown copyright. This copy was retrieved from Immigration New Zealand"
BANNER_TITLE = "Travel disrupted by the Middle East situation"  # the captured home page's alert


@dataclass(frozen=True)
class Archive:
    url: str  # where the archive is served, ending with "/"
    output: Path
    browser: Browser
    screenshots: Path


@dataclass
class Visit:
    """One browser tab with everything it reported: console errors, page errors, foreign requests."""

    page: Page
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.foreign == [], f"requests to other hosts: {self.foreign}"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    """The fixture site synced once, with site_url set to the server's URL; the server and the
    browser stop at the end of the module (the server by itself after 120 s at the latest)."""
    tmp_path = tmp_path_factory.mktemp("browser")
    output = tmp_path / "output"
    output.mkdir()
    server = make_server(output, "127.0.0.1", 0)
    with serving(server, lifetime=120):
        with FixtureSite(max_lifetime=60) as site:
            config = write_config(site, tmp_path, site_url=server.url, source={"retries": 0, "backoff": 0})
            result = run_cli("sync", "--config", str(config), timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        screenshots = tmp_path_factory.mktemp("screenshots")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
            try:
                yield Archive(url=server.url, output=output, browser=browser, screenshots=screenshots)
            finally:
                browser.close()


@pytest.fixture
def context(archive: Archive) -> Iterator[BrowserContext]:
    context = archive.browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()


def open_page(archive: Archive, context: BrowserContext, path: str) -> Visit:
    """Open `path` of the archive in a new tab, recording errors and refusing requests to other hosts."""
    visit = Visit(context.new_page())
    here = urlsplit(archive.url).netloc

    def record(request: Request) -> None:
        (visit.requested if urlsplit(request.url).netloc == here else visit.foreign).append(request.url)

    def refuse_other_hosts(route: Route) -> None:
        if urlsplit(route.request.url).netloc == here:
            route.continue_()
        else:
            route.abort()  # recorded by `record`; never let it reach the network

    def record_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            visit.errors.append(f"console: {message.text} ({message.location})")

    visit.page.on("request", record)
    visit.page.route("**/*", refuse_other_hosts)
    visit.page.on("console", record_console)
    visit.page.on("pageerror", lambda error: visit.errors.append(f"page error: {error}"))
    response = visit.page.goto(archive.url + path, wait_until="load")
    assert response is not None and response.status == 200, path
    return visit


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


# -- looks ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
@pytest.mark.parametrize("path", ["index.html", EMPLOYER_PAGE])
def test_screenshots_of_the_index_and_an_article_at_phone_and_desktop_width(
    archive: Archive, context: BrowserContext, path: str, name: str, viewport: ViewportSize
) -> None:
    visit = open_page(archive, context, path)
    visit.page.set_viewport_size(viewport)
    shot = archive.screenshots / f"{path.replace('/', '_').removesuffix('.html')}-{name}.png"

    visit.page.screenshot(path=str(shot), full_page=True)

    data = shot.read_bytes()
    width, height = png_size(data)
    assert width == viewport["width"] and height >= viewport["height"] // 2, (width, height)
    assert len(data) > 20_000, f"{shot} is {len(data)} bytes: a blank page?"
    scroll_width = visit.page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= viewport["width"], f"{path} scrolls sideways at {name} width ({scroll_width}px)"
    visit.assert_clean()


# -- behaviour --------------------------------------------------------------------------------------


def test_pages_raise_no_errors_and_request_nothing_from_other_hosts(archive: Archive, context: BrowserContext) -> None:
    paths = ["index.html", EMPLOYER_PAGE, "inz/index.html", "years/2026/index.html", "search/index.html"]
    paths += [path.relative_to(archive.output).as_posix() for path in sorted(archive.output.glob("inz/*/*/index.html"))]
    assert any(path.startswith("inz/topics/") for path in paths) and any(
        path.startswith("inz/types/") for path in paths
    )
    for path in paths:
        visit = open_page(archive, context, path)
        visit.page.close()
        visit.assert_clean()


def test_search_finds_an_article_by_a_word_of_its_body(archive: Archive, context: BrowserContext) -> None:
    feed = json.loads((archive.output / "feed.json").read_text("utf-8"))
    holders = [item["title"] for item in feed["items"] if BODY_ONLY_WORD in item["content_html"].lower()]
    assert holders == [EMPLOYER_TITLE], "the word must be in one article's body"
    for item in feed["items"]:
        assert BODY_ONLY_WORD not in f"{item['title']} {item['summary']} {item['tags']}".lower()
    visit = open_page(archive, context, "search/index.html")
    # Hold the index back until the whole word is typed: every keystroke searches, and a slow network
    # must neither download a file once per keystroke nor let an early letter's answer win.
    held: list[Route] = []
    visit.page.route("**/search/terms/*.json", lambda route: held.append(route) if not held else route.fallback())
    query = BODY_ONLY_WORD.capitalize()

    visit.page.locator("#search-query").press_sequentially(query)
    assert len(held) == 1
    held[0].fallback()

    expect(visit.page.locator("#search-status")).to_have_text(f"1 article matches \u201c{query}\u201d.")
    results = visit.page.locator("#search-results li")
    assert results.count() == 1
    link = results.first.locator("a")
    assert link.inner_text() == EMPLOYER_TITLE
    terms = [url for url in visit.requested if "/search/terms/" in url]
    assert terms == [archive.url + "search/terms/re.json"], "each file is downloaded once, not per keystroke"
    link.click()
    visit.page.wait_for_url(archive.url + EMPLOYER_PAGE)
    assert visit.page.locator("h1").inner_text() == EMPLOYER_TITLE
    visit.assert_clean()


def test_a_one_word_query_downloads_the_files_of_that_word_alone(archive: Archive, context: BrowserContext) -> None:
    index = archive.output / "search"
    files = sorted(path.relative_to(index).as_posix() for path in index.rglob("*") if path.suffix in (".json", ".txt"))
    assert len([name for name in files if name.startswith("terms/")]) > 50, files  # the archive's index is many files

    feed = json.loads((archive.output / "feed.json").read_text("utf-8"))["items"]  # newest first
    holders = [item["title"] for item in feed if re.search(r"\bapplicants", json.dumps(item).lower())]
    assert 1 < len(holders) < len(feed), holders  # a word of some articles, not all
    visit = open_page(archive, context, "search/index.html")

    visit.page.locator("#search-query").fill("applicants")

    expect(visit.page.locator("#search-results li h2 a")).to_have_text(holders)  # newest first, as the feed
    fetched = [url.removeprefix(archive.url + "search/") for url in visit.requested if url.endswith((".json", ".txt"))]
    groups = {name for name in fetched if name.startswith("articles/")}
    assert [name for name in fetched if name not in groups] == ["terms/ap.json"], fetched
    assert 1 <= len(groups) <= len(holders) and len(fetched) == 1 + len(groups), fetched
    visit.assert_clean()


def test_a_posting_in_pages_is_read_newest_first_and_whole_when_intersected(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word whose posting has files (as a common word at 50,000 articles: here pages of 10 articles,
    files of 50), its newest 1 to 10 articles in its shard: alone, it shows its count and its newest 100
    articles from its newest files; with another word, all its files are read for the articles both
    have. So again after it lost articles (a file fewer) and gained new ones (the newest completing a
    page and a file)."""
    monkeypatch.setattr(pipeline.publish.search, "PAGE", 10)
    monkeypatch.setattr(pipeline.publish.search, "FILE", 50)
    config = make_config(tmp_path)
    rng = random.Random(3)
    holders = [replace(make_article(number, rng), body_html="<p>Quokkas seen.</p>") for number in range(212)]
    others = [replace(make_article(number, rng), body_html="<p>Seen elsewhere.</p>") for number in range(212, 230)]
    store = Store(config.state_dir)
    for article in [*holders, *others]:
        save(store, config, article)
    publish(config, store)
    postings = config.output_dir / "search/postings"
    server = make_server(config.output_dir, "127.0.0.1", 0)
    served = replace(archive, url=server.url, output=config.output_dir)
    with store, serving(server, lifetime=60):
        # 212: the newest 2 in the shard, 210 in files 1 to 4 and (10) 5: the newest 100 need 5, 4 and 3.
        assert sorted(path.name for path in postings.glob("quokkas.*")) == [f"quokkas.{n}.txt" for n in range(1, 6)]
        assert_quokkas_found(served, holders, {5, 4, 3})

        for article in holders[:60]:  # 152: the newest 2 in the shard, 150 in files 1 to 3
            save(store, config, replace(article, body_html="<p>Seen elsewhere.</p>"), SEEN + timedelta(hours=1))
        publish(config, store)
        assert sorted(path.name for path in postings.glob("quokkas.*")) == [f"quokkas.{n}.txt" for n in (1, 2, 3)]
        holders, newest = holders[60:], max(article.published for article in holders)
        assert_quokkas_found(served, holders, {3, 2})

        for number in range(230, 279):  # 201: the newest completed file 4 and is alone in the shard
            holders.append(replace(make_article(number, rng), published=newest, body_html="<p>Quokkas seen.</p>"))
            save(store, config, holders[-1])
        publish(config, store)
        assert sorted(path.name for path in postings.glob("quokkas.*")) == [f"quokkas.{n}.txt" for n in (1, 2, 3, 4)]
        assert_quokkas_found(served, holders, {4, 3})


def assert_quokkas_found(archive: Archive, holders: list[Article], newest: set[int]) -> None:
    """The search page finds the `holders` of "quokkas", newest first, reading its `newest` files alone
    for the word alone, and all of them with another word (in a browser of its own: an empty cache)."""
    # Newest first: by date, then by id (the order they were saved in).
    expected = [
        article.title
        for _, article in sorted(enumerate(holders), key=lambda pair: (pair[1].published, pair[0]), reverse=True)
    ]
    files = len(list((archive.output / "search/postings").glob("quokkas.*")))
    context = archive.browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    visit = open_page(archive, context, "search/index.html")
    visit.page.locator("#search-query").fill("quokkas")

    expect(visit.page.locator("#search-status")).to_have_text(f"{len(holders)} articles match \u201cquokkas\u201d.")
    expect(visit.page.locator("#search-results li h2 a")).to_have_text(expected[:100])
    fetched = {url.rsplit("/", 1)[-1] for url in visit.requested if "/postings/" in url}
    assert fetched == {f"quokkas.{n}.txt" for n in newest}  # the newest 100 and more

    visit.page.locator("#search-query").fill("quokkas seen")

    expect(visit.page.locator("#search-status")).to_have_text(
        f"{len(holders)} articles match \u201cquokkas seen\u201d."
    )
    expect(visit.page.locator("#search-results li h2 a")).to_have_text(expected[:100])
    fetched = {url.rsplit("/", 1)[-1] for url in visit.requested if "/postings/quokkas" in url}
    assert fetched == {f"quokkas.{n}.txt" for n in range(1, files + 1)}
    visit.assert_clean()
    context.close()


def test_a_search_link_with_q_shows_its_results(archive: Archive, context: BrowserContext) -> None:
    visit = open_page(archive, context, f"search/index.html?q={BODY_ONLY_WORD}")

    expect(visit.page.locator("#search-results li a")).to_have_text([EMPLOYER_TITLE])
    assert visit.page.locator("#search-query").input_value() == BODY_ONLY_WORD
    visit.assert_clean()


def test_search_says_so_when_nothing_matches(archive: Archive, context: BrowserContext) -> None:
    visit = open_page(archive, context, "search/index.html")

    visit.page.locator("#search-query").fill("zzyzx")

    expect(visit.page.locator("#search-status")).to_contain_text("zzyzx")  # no eval: the CSP forbids it
    assert visit.page.locator("#search-results li").count() == 0
    assert visit.page.locator("#search-status").inner_text().startswith("0 articles match")
    visit.assert_clean()


# -- structure --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["index.html", EMPLOYER_PAGE, "search/index.html", "years/2026/index.html", "inz/topics/compliance/index.html"],
)
def test_pages_are_semantic_and_accessible(archive: Archive, context: BrowserContext, path: str) -> None:
    visit = open_page(archive, context, path)
    page = visit.page

    assert (page.locator("html").get_attribute("lang") or "").strip(), f"{path}: <html> has no lang"
    assert page.locator("h1").count() == 1, f"{path}: one <h1> per page"
    assert page.locator("main").count() == 1, f"{path}: no <main>"
    assert page.locator("img:not([alt])").count() == 0, f"{path}: an image without alt"
    assert page.title(), f"{path}: no <title>"
    assert page.locator('meta[name="viewport"]').count() == 1, f"{path}: not sized for phones"
    page.emulate_media(media="print")
    assert not page.locator("header.site nav").is_visible(), f"{path}: site navigation is printed"
    assert page.locator("h1").is_visible()
    visit.assert_clean()


def test_article_page_shows_its_dates_attribution_and_policy(archive: Archive, context: BrowserContext) -> None:
    visit = open_page(archive, context, EMPLOYER_PAGE)
    page = visit.page

    text = page.locator("main").inner_text()
    assert ATTRIBUTION in text
    assert "Published 7 July 2026" in text
    original = page.locator("aside.attribution a").first.get_attribute("href") or ""
    assert original.endswith(ARTICLE_PATHS[1]), original
    assert page.locator('a[href="https://creativecommons.org/licenses/by/3.0/nz/"]').count() >= 1
    policy = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content") or ""
    assert "default-src 'none'" in policy
    feeds = page.locator('link[rel="alternate"]')
    assert feeds.count() >= 3, "the feeds are discoverable from the page"
    visit.assert_clean()


def test_the_front_page_shows_the_current_alert_and_links_the_alerts_feed(
    archive: Archive, context: BrowserContext
) -> None:
    visit = open_page(archive, context, "index.html")
    alerts = visit.page.locator("section.alerts")

    expect(alerts.locator("h3")).to_have_text([BANNER_TITLE])
    assert "priority phone line" in alerts.inner_text() and "Issued 2 March 2026" in alerts.inner_text()
    alert_box, articles = alerts.bounding_box(), visit.page.locator("ul.articles").bounding_box()
    assert alert_box is not None and articles is not None and alert_box["y"] < articles["y"], "shown before the news"
    for label, media_type in (("RSS", "rss+xml"), ("Atom", "atom+xml"), ("JSON Feed", "feed+json")):
        href = alerts.get_by_role("link", name=label, exact=True).get_attribute("href") or ""
        response = context.request.get(urljoin(visit.page.url, href))
        assert response.ok and f"application/{media_type}" in response.headers["content-type"], href
        assert BANNER_TITLE in response.text(), href
    visit.assert_clean()


def test_a_printed_article_keeps_the_address_of_its_original(archive: Archive, context: BrowserContext) -> None:
    visit = open_page(archive, context, EMPLOYER_PAGE)
    page = visit.page
    original = page.get_by_role("link", name="Read the original")
    href = original.get_attribute("href") or ""
    assert href.endswith(ARTICLE_PATHS[1])

    page.emulate_media(media="print")

    shown = original.evaluate("link => getComputedStyle(link, '::after').content")
    assert shown == f'" <{href}>"', "paper has no links: the address must be printed"
    page.emulate_media(media="screen")
    assert original.evaluate("link => getComputedStyle(link, '::after').content") == "none"
    visit.assert_clean()


def test_search_opened_as_a_file_says_to_serve_the_folder(archive: Archive, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto((archive.output / "search" / "index.html").as_uri())

    page.locator("#search-query").fill(BODY_ONLY_WORD)

    expect(page.locator("#search-status")).to_contain_text("Search needs the archive served over HTTP")
    expect(page.locator("#search-status")).to_contain_text("python run.py serve")
