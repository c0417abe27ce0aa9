"""Generic extraction and feed reading, in process: which of a page's metadata wins, what the feed item
fills in, what the guard holds back, how a feed is read; and the config keys that turn them on."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from pipeline.config import parse_config
from pipeline.discover import read_feed
from pipeline.errors import ConfigError, DiscoverError
from pipeline.extract import HeldBack, extract_guarded
from pipeline.feed_item import FeedItem
from pipeline.model import Page, Source
from tests.helpers import REPO_ROOT
from tests.ministry_site import BROKEN_FEED, RELEASES, release_page, releases_feed

BASE = "https://www.beehive.govt.nz/"
NOW = datetime(2026, 7, 20, tzinfo=UTC)
NZ = ZoneInfo("Pacific/Auckland")


def shipped() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO_ROOT / "sources.yaml").read_text("utf-8"))
    return data


def beehive(**changes: Any) -> Source:
    data = shipped()
    data["sources"][1].update(enabled=True, **changes)
    return parse_config(data, REPO_ROOT / "sources.yaml").source("beehive")


def page(body: str | bytes, path: str = "/release/a-release", content_type: str = "text/html; charset=utf-8") -> Page:
    url = BASE.rstrip("/") + path
    data = body.encode() if isinstance(body, str) else body
    return Page(url, url, 200, {"content-type": content_type}, data, NOW)


def html(head: str = "", article: str = "<h1>A release</h1><p>The Minister announced a change today.</p>") -> str:
    return (
        f"<!doctype html><html><head><title>A release | Beehive.govt.nz</title>{head}</head><body>"
        '<nav><a href="/releases">Releases</a> <a href="/speeches">Speeches</a></nav>'
        f"<main><article>{article}</article></main><footer><a href='/copyright'>Copyright</a></footer></body></html>"
    )


def item(**changes: Any) -> FeedItem:
    values: dict[str, Any] = {
        "url": BASE + "release/a-release",
        "title": "The feed's title",
        "published": datetime(2026, 7, 1, 22, 0, tzinfo=UTC),
        "summary": "The feed's summary.",
        "categories": ("Immigration",),
    }
    return FeedItem(**(values | changes))


# -- the page's metadata, and the feed item --------------------------------------------------------


def test_open_graph_and_article_tags_win_over_json_ld_and_the_feed_item() -> None:
    head = (
        '<meta property="og:title" content="The OG title"><meta property="og:description" content="The OG summary.">'
        '<meta property="article:published_time" content="2026-07-08T14:30:00+12:00">'
        '<meta property="article:tag" content="Immigration"><meta property="article:tag" content="Tourism">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "The JSON-LD headline",'
        ' "datePublished": "2026-01-01", "keywords": ["Other"]}</script>'
    )

    article = extract_guarded(page(html(head)), beehive(), NOW, item()).article

    assert article.title == "The OG title"
    assert article.published == datetime(2026, 7, 8, 14, 30, tzinfo=NZ)
    assert article.summary == "The OG summary."
    assert article.topics == ("Immigration", "Tourism")


def test_json_ld_in_a_graph_stands_in_for_missing_meta_tags() -> None:
    head = (
        '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": ['
        '{"@type": "Organization", "name": "New Zealand Government"},'
        '{"@type": ["NewsArticle"], "headline": "The headline", "description": "The description.",'
        ' "datePublished": "2026-07-02T09:00:00Z", "keywords": "Immigration, Tourism"}]}</script>'
    )

    article = extract_guarded(page(html(head)), beehive(), NOW, item()).article

    assert article.title == "The headline"  # not the Organization's name
    assert article.published == datetime(2026, 7, 2, 21, 0, tzinfo=NZ)  # the instant, shown in the source's zone
    assert article.summary == "The description."
    assert article.topics == ("Immigration", "Tourism")


def test_a_broken_json_ld_script_is_skipped_and_a_time_element_gives_the_date() -> None:
    head = '<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'
    body = (
        '<h1>A release</h1><time datetime="2026-07-03">3 July 2026</time><p>The Minister announced a change today.</p>'
    )

    article = extract_guarded(page(html(head, body)), beehive(), NOW, None).article

    assert article.title == "A release"  # the <h1>, with no metadata and no feed item
    assert article.published == datetime(2026, 7, 3, tzinfo=NZ)  # a date alone: midnight in the source's zone


@pytest.mark.parametrize(
    "script",
    [
        '{"@type": {"not": "a name"}, "headline": "x"}',
        '{"@graph": 5}',
        '{"@graph": "text", "@type": 7}',
        '[1, "two", null, {"@type": ["Thing", 3]}]',
        "[" * 100_000 + "]" * 100_000,
        '{"@type": "NewsArticle", "headline": ["not", "text"], "datePublished": 20260701, "keywords": {"a": 1}}',
    ],
)
def test_json_ld_a_page_gets_wrong_is_no_metadata_and_no_crash(script: str) -> None:
    head = f'<script type="application/ld+json">{script}</script>'

    article = extract_guarded(page(html(head)), beehive(), NOW, item()).article

    assert (article.title, article.topics) == ("The feed's title", ("Immigration",))


def test_the_feed_item_fills_what_the_page_lacks() -> None:
    article = extract_guarded(page(html()), beehive(), NOW, item()).article

    assert article.title == "The feed's title"
    assert article.published == datetime(2026, 7, 2, 10, 0, tzinfo=NZ)
    assert article.summary == "The feed's summary."
    assert article.topics == ("Immigration",)
    assert article.body_html == "<p>The Minister announced a change today.</p>"  # no nav, footer or heading


def test_a_time_without_an_offset_is_the_sources_local_time() -> None:
    head = '<meta property="article:published_time" content="2026-07-08T14:30:00">'

    article = extract_guarded(page(html(head)), beehive(), NOW, None).article

    assert article.published == datetime(2026, 7, 8, 14, 30, tzinfo=NZ)


def test_the_body_is_sanitised_as_any_other() -> None:
    body = (
        "<h1>A release</h1><p onclick='steal()'>The Minister announced a change today, "
        '<a href="javascript:alert(1)">read more</a> and <a href="/release/other">the earlier one</a>.</p>'
        "<script>alert(1)</script><p>A second paragraph of the release.</p>"
    )

    text = extract_guarded(page(html(article=body)), beehive(), NOW, item()).article.body_html

    assert "onclick" not in text and "javascript:" not in text and "alert" not in text
    assert 'href="https://www.beehive.govt.nz/release/other"' in text  # links made absolute


# -- what the guard holds back ---------------------------------------------------------------------


def test_no_date_anywhere_holds_the_article_back_without_degrading_the_source() -> None:
    with pytest.raises(HeldBack) as raised:
        extract_guarded(page(html()), beehive(), NOW, None)

    assert "no published date" in raised.value.message
    assert not raised.value.layout_changed  # generic extraction has no selectors to drift


def test_a_page_with_no_main_text_is_held_back() -> None:
    with pytest.raises(HeldBack) as raised:
        extract_guarded(page(html(article="<h1>A release</h1>")), beehive(), NOW, item())

    assert "main text" in raised.value.message


def test_a_date_in_the_future_is_held_back() -> None:
    with pytest.raises(HeldBack) as raised:
        extract_guarded(page(html()), beehive(), NOW, item(published=datetime(2027, 1, 1, tzinfo=UTC)))

    assert "in the future" in raised.value.message


def test_a_short_release_keeps_its_paragraphs() -> None:
    """trafilatura would run a short text's heading, byline and paragraphs into one: not here."""
    release = RELEASES[2]  # two sentences

    text = extract_guarded(page(release_page(BASE, release), release.path), beehive(), NOW, item()).article.body_html

    assert text == "".join(f"<p>{paragraph}</p>" for paragraph in release.paragraphs).replace("</p><p>", "</p>\n<p>")


# -- reading a feed --------------------------------------------------------------------------------


def test_an_rss_feed_gives_the_sources_articles_with_their_metadata() -> None:
    content = read_feed(page(releases_feed(BASE), "/releases/feed", "application/rss+xml"), beehive())

    assert content.damage is None
    assert [found.url for found in content.items] == [BASE.rstrip("/") + release.path for release in RELEASES]
    first = content.items[0]
    assert first.title == RELEASES[0].title
    assert first.published == RELEASES[0].published
    assert first.summary == RELEASES[0].summary  # the description's HTML, as text
    assert first.categories == (RELEASES[0].portfolio,)


def test_an_atom_feed_is_read_and_links_outside_article_paths_are_left_out() -> None:
    feed = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Releases</title><id>{BASE}</id><updated>2026-07-08T00:00:00Z</updated>
<entry><title>A &lt;em&gt;release&lt;/em&gt;</title><link href="/release/a-release"/><id>1</id>
  <updated>2026-07-08T02:30:00Z</updated><category term="Immigration"/></entry>
<entry><title>Again</title><link href="/release/a-release"/><id>2</id><updated>2026-07-08T02:30:00Z</updated></entry>
<entry><title>A speech</title><link href="/speech/a-speech"/><id>3</id><updated>2026-07-08T02:30:00Z</updated></entry>
<entry><title>Elsewhere</title><link href="https://example.org/release/x"/><id>4</id><updated>2026-07-08T02:30:00Z</updated></entry>
<entry><title>Before the web</title><link href="/release/old"/><id>5</id><updated>1970-01-02T00:00:00Z</updated></entry>
</feed>"""

    content = read_feed(page(feed, "/releases/feed", "application/atom+xml"), beehive())

    assert [found.url for found in content.items] == [BASE + "release/a-release", BASE + "release/old"]
    assert content.items[0].title == "A release"
    assert content.items[0].published == datetime(2026, 7, 8, 2, 30, tzinfo=UTC)
    assert content.items[1].published is None  # a date that cannot be true is no date


def test_a_feed_items_text_is_bounded_where_it_enters() -> None:
    title = "Visa " * 5000
    feed = releases_feed(BASE).replace(RELEASES[0].title.encode(), title.encode(), 1)

    found = read_feed(page(feed, "/releases/feed"), beehive()).items[0]
    extraction = extract_guarded(page(html()), beehive(), NOW, found)

    assert found.title is not None and len(found.title) <= 301
    assert len(extraction.article.title) <= 300 and extraction.notes


@pytest.mark.parametrize(
    "body", [BROKEN_FEED, b"<!doctype html><html><body><h1>Page not found</h1></body></html>", b""]
)
def test_what_is_no_readable_feed_raises_a_discovery_error(body: bytes) -> None:
    with pytest.raises(DiscoverError) as raised:
        read_feed(page(body, "/releases/feed"), beehive())

    assert "cannot be read as RSS or Atom" in raised.value.message


def test_a_damaged_feed_gives_what_it_holds_and_says_so() -> None:
    damaged = releases_feed(BASE).replace(b"</channel>", b"<item><title>Cut & off")

    content = read_feed(page(damaged, "/releases/feed"), beehive())

    assert len(content.items) == len(RELEASES)
    assert content.damage


# -- the keys that turn it on ----------------------------------------------------------------------


def test_a_disabled_source_is_left_out_and_the_shipped_example_is_disabled() -> None:
    config = parse_config(shipped(), REPO_ROOT / "sources.yaml")

    assert [source.id for source in config.sources] == ["inz"]
    assert beehive().extraction is None  # generic
    assert beehive().discovery.feeds == ("/releases/feed",)


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        ({"extraction": "magic"}, "sources[1].extraction", "must be 'generic'"),
        ({"discovery": {"feeds": ["https://example.org/feed"]}}, "sources[1].discovery.feeds[0]", "is not on"),
        ({"discovery": {"feeds": ["releases/feed"]}}, "sources[1].discovery.feeds[0]", "neither a path"),
        ({"enabled": "no"}, "sources[1].enabled", "must be bool"),
    ],
)
def test_feed_source_mistakes_are_config_errors(change: dict[str, Any], key: str, message: str) -> None:
    data = shipped()
    data["sources"][1].update(change)

    with pytest.raises(ConfigError) as raised:
        parse_config(data, Path("sources.yaml"))

    assert any(found == key and message in text for found, text, _ in raised.value.problems), raised.value.problems


def test_a_config_with_every_source_disabled_is_refused() -> None:
    data = shipped()
    data["sources"] = [copy.deepcopy(data["sources"][0]) | {"enabled": False}]

    with pytest.raises(ConfigError) as raised:
        parse_config(data, Path("sources.yaml"))

    assert [text for _, text, _ in raised.value.problems] == ["every source is disabled"]
