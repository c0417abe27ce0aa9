"""A real feed reader: newsboat (Debian's package; .ci/run installs it) subscribes to the feeds served
on 127.0.0.1 by `pipeline.publish.serve`, and its own SQLite cache must hold every article with the right
title, link (the original page) and content (the body and the attribution); after a further sync,
nothing it has read comes back unread. Subscribed through feeds.opml, the main feed shows every article."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import pytest

from pipeline.publish.serve import make_server
from tests.fixture_site import ARTICLE_PATHS, FixtureSite, article_path, derive_article
from tests.helpers import run_cli, serving, write_config

NEWSBOAT = shutil.which("newsboat")
pytestmark = pytest.mark.skipif(NEWSBOAT is None, reason="newsboat is not installed (.ci/run installs it)")

PATHWAY, EMPLOYER, INVESTOR, MIDDLE_EAST = ARTICLE_PATHS  # newest first
# What each capture says: its title and a sentence of its body (no quotes or apostrophes, which the
# cache keeps HTML-escaped).
ARTICLES: dict[str, tuple[str, str]] = {
    PATHWAY: (
        "Improvements to the Pathway Student Visa to better support international students",
        "From Monday 20 July, there will be changes to the Pathway Student Visa (PSV).",
    ),
    EMPLOYER: (
        "Employer sentenced after demanding tens of thousands of dollars from migrant worker",
        "No one should have to choose between standing up for their rights and risking their livelihood.",
    ),
    INVESTOR: (
        "Business Investor Work Visa updates to unlock wider investment opportunities",
        "Business Investor Work Visa",
    ),
    MIDDLE_EAST: (
        "Middle East: advice for temporary visa holders in New Zealand affected by travel disruptions",
        "Any decision to introduce a special visa category or immigration direction would be a matter for the Government.",
    ),
}
ATTRIBUTION = "Crown copyright. This copy was retrieved from Immigration New Zealand"
LICENCE_URL = "https://creativecommons.org/licenses/by/3.0/nz/"
NEW_BODY = (
    "Visa fees change on 1 August 2026. The new fees apply to applications made on or after that day; "
    "applications made before then pay the fees in force when they were made, and nothing else changes."
)
# The feeds a reader subscribes to, with the articles each must show (the topic holds two of the four).
FEEDS: dict[str, tuple[str, ...]] = {
    "feed.xml": tuple(ARTICLE_PATHS),
    "feed.atom": tuple(ARTICLE_PATHS),
    "inz/topics/visa-holders-and-applicants/feed.xml": (PATHWAY, MIDDLE_EAST),
}


@dataclass(frozen=True)
class CachedItem:
    guid: str
    title: str
    url: str
    content: str
    unread: bool


@dataclass(frozen=True)
class Subscription:
    """Pānui publishing from the fixture site, served on 127.0.0.1, and one newsboat home per feed
    (newsboat keys items by guid across feeds, so feeds sharing articles each get their own cache)."""

    site: FixtureSite
    config: Path
    served_url: str
    home: Path

    def sync(self) -> str:
        result = run_cli("sync", "--config", str(self.config), timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def original(self, path: str) -> str:
        return self.site.base_url.rstrip("/") + path

    def newsboat(self, feed: str, *commands: str) -> str:
        """Run `newsboat -x COMMANDS` on `feed`'s own urls file, config and cache; return its stdout."""
        folder = self.home / feed.replace("/", "_")
        folder.mkdir(exist_ok=True)
        (folder / "urls").write_text(self.served_url + feed + "\n", "utf-8")
        return self._run(folder, "-x", *commands)

    def import_opml(self, opml: Path) -> Path:
        """`newsboat -i OPML` into a home of its own, as a reader subscribing through the file does; then
        a reload. Returns that home (its cache.db holds what newsboat shows)."""
        folder = self.home / opml.name
        folder.mkdir()
        (folder / "urls").touch()
        self._run(folder, "-i", str(opml))
        self._run(folder, "-x", "reload")
        return folder

    def _run(self, folder: Path, *arguments: str) -> str:
        # One thread (deterministic order); no browser: nothing is ever opened.
        (folder / "config").write_text("reload-threads 1\ndownload-timeout 20\n", "utf-8")
        assert NEWSBOAT is not None
        result = subprocess.run(
            [NEWSBOAT, "-q", "-u", "urls", "-c", "cache.db", "-C", "config", *arguments],
            cwd=folder,
            env={
                **os.environ,
                "HOME": str(folder),
                "XDG_CONFIG_HOME": str(folder / "xdg-config"),
                "XDG_DATA_HOME": str(folder / "xdg-data"),
                "LC_ALL": "C.UTF-8",
                "TERM": "dumb",
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"newsboat {arguments} failed: {result.stdout}{result.stderr}"
        return result.stdout

    def cache(self, feed: str) -> closing[sqlite3.Connection]:
        return closing(sqlite3.connect(self.home / feed.replace("/", "_") / "cache.db"))

    def items(self, feed: str) -> list[CachedItem]:
        with self.cache(feed) as cache:
            rows = cache.execute(
                "SELECT guid, title, url, content, unread FROM rss_item WHERE feedurl = ? AND deleted = 0 ORDER BY id",
                (self.served_url + feed,),
            ).fetchall()
        return [CachedItem(guid, title, url, content, bool(unread)) for guid, title, url, content, unread in rows]

    def mark_all_read(self, feed: str) -> None:
        with self.cache(feed) as cache, cache:  # the inner `with` commits
            cache.execute("UPDATE rss_item SET unread = 0")


@pytest.fixture
def subscription(site: FixtureSite, tmp_path: Path) -> Iterator[Subscription]:
    """Output served on 127.0.0.1 with site_url set to the server's URL (so feed links resolve); the
    server stops at the end of the test, or by itself after 120 s."""
    output = tmp_path / "output"
    output.mkdir()
    server = make_server(output, "127.0.0.1", 0)
    with serving(server, lifetime=120):
        config = write_config(site, tmp_path, site_url=server.url, source={"retries": 0, "backoff": 0})
        home = tmp_path / "newsboat"
        home.mkdir()
        yield Subscription(site=site, config=config, served_url=server.url, home=home)


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_newsboat_sees_every_article_with_its_title_link_and_content(subscription: Subscription, feed: str) -> None:
    subscription.sync()

    subscription.newsboat(feed, "reload")

    items = subscription.items(feed)
    expected = {subscription.original(path): ARTICLES[path] for path in FEEDS[feed]}
    assert sorted(item.guid for item in items) == sorted(expected)
    for item in items:
        title, phrase = expected[item.guid]
        content = unescape(item.content)
        assert item.title == title
        assert item.url == item.guid, f"{feed}: newsboat opens {item.url}, not the original page {item.guid}"
        assert phrase in content, f"{feed}: the body of {title!r} is missing"
        assert ATTRIBUTION in content and LICENCE_URL in content, f"{feed}: no attribution in {title!r}"
        assert f'href="{item.guid}"' in item.content, f"{feed}: the attribution does not link the original"
        assert item.unread
    with subscription.cache(feed) as cache:
        home_url = cache.execute("SELECT url FROM rss_feed").fetchone()[0]
    assert home_url == subscription.served_url + feed.removesuffix("feed.xml").removesuffix("feed.atom")


def test_after_a_second_sync_nothing_is_new_or_unread_again(subscription: Subscription) -> None:
    subscription.sync()
    for feed in FEEDS:
        subscription.newsboat(feed, "reload")
        subscription.mark_all_read(feed)
    before = {feed: subscription.items(feed) for feed in FEEDS}

    assert "nothing changed" in subscription.sync()

    for feed in FEEDS:
        printed = subscription.newsboat(feed, "reload", "print-unread")
        assert subscription.items(feed) == before[feed], f"{feed}: the cache changed after an unchanged sync"
        assert printed.split()[0] == "0", f"{feed}: newsboat says {printed!r}"


def test_a_new_article_is_the_only_unread_item_after_the_next_sync(subscription: Subscription) -> None:
    subscription.sync()
    for feed in ("feed.xml", "feed.atom"):
        subscription.newsboat(feed, "reload")
        subscription.mark_all_read(feed)
    path = article_path("new-visa-fees")
    title = "New visa fees from August"
    page = derive_article(
        "article-improvements-to-the-pathway-student-visa.html",
        slug="new-visa-fees",
        title=title,
        published="10 July 2026",
        body_html=f"<h2>What is changing</h2><p>{NEW_BODY}</p>",
    )
    subscription.site.set_article(path, page)
    # The home block always shows the three newest articles.
    subscription.site.set_home_links(
        [(path, title, "10 Jul 2026"), (PATHWAY, "Pathway", "9 Jul 2026"), (EMPLOYER, "Employer", "7 Jul 2026")]
    )

    assert "1 new" in subscription.sync()

    for feed in ("feed.xml", "feed.atom"):
        subscription.newsboat(feed, "reload")
        unread = [item for item in subscription.items(feed) if item.unread]
        assert [(item.title, item.guid) for item in unread] == [(title, subscription.original(path))], feed
        assert NEW_BODY in unread[0].content
        assert len(subscription.items(feed)) == len(ARTICLE_PATHS) + 1


def test_subscribing_through_feeds_opml_shows_every_article_in_the_main_feed(subscription: Subscription) -> None:
    subscription.sync()
    output = subscription.config.parent / "output"

    home = subscription.import_opml(output / "feeds.opml")

    with closing(sqlite3.connect(home / "cache.db")) as cache:
        subscribed = [url for (url,) in cache.execute("SELECT rssurl FROM rss_feed ORDER BY rssurl")]
        shown = cache.execute("SELECT feedurl, guid FROM rss_item WHERE deleted = 0").fetchall()
    served = subscription.served_url
    feeds = ["feed.xml", "inz/alerts.xml", "inz/updates.xml", "upcoming.xml"]
    assert subscribed == [served + feed for feed in feeds]
    in_main = sorted(guid for feed, guid in shown if feed == served + "feed.xml")
    assert in_main == sorted(subscription.original(path) for path in ARTICLE_PATHS)
    # The banner; the captures' dates are all past, so the feed of dates coming up has no item.
    assert [feed for feed, guid in shown if feed != served + "feed.xml"] == [served + "inz/alerts.xml"]
