"""Feeds: RSS 2.0 (with content:encoded) and Atom 1.0 through feedgen, JSON Feed 1.1 through json.

Every date comes from the store, never from the clock, so an unchanged store renders identical bytes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from pipeline import __version__
from pipeline.publish.entries import Entry

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FEED_FILES = {"rss": "feed.xml", "atom": "feed.atom", "json": "feed.json"}
MEDIA_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}


@dataclass(frozen=True)
class FeedSpec:
    title: str
    description: str
    language: str
    home_url: str  # the archive page the feed belongs to
    folder_url: str  # absolute URL of the folder that holds feed.xml, feed.atom and feed.json
    entries: tuple[Entry, ...]  # newest first, already cut to the feed's length
    ttl_minutes: int

    def url(self, kind: str) -> str:
        return self.folder_url + FEED_FILES[kind]

    @property
    def updated(self) -> datetime:
        return max((entry.updated for entry in self.entries), default=EPOCH)


def _generator(spec: FeedSpec) -> FeedGenerator:
    feed = FeedGenerator()
    feed.title(spec.title)
    feed.description(spec.description)
    feed.language(spec.language)
    feed.generator("Pānui", version=__version__)
    feed.updated(spec.updated)
    for entry in reversed(spec.entries):  # feedgen prepends by default
        item = feed.add_entry()
        article = entry.stored.article
        item.id(article.url)
        item.guid(article.url, permalink=True)
        item.title(article.title)
        item.link(href=article.url, rel="alternate", type="text/html")
        item.link(href=entry.archive_url, rel="related", type="text/html", title="Archived copy")
        item.published(article.published)
        item.updated(entry.updated)
        item.author(name=entry.source.name)
        for category in entry.categories:
            item.category(term=category, label=category)
        if article.summary:
            item.summary(article.summary)
            item.description(article.summary)
        item.content(entry.content_html, type="html")
        item.rights(f"{entry.source.licence.name}: {entry.source.licence.url}")
    return feed


def render_rss(spec: FeedSpec) -> bytes:
    feed = _generator(spec)
    feed.link(href=spec.home_url, rel="alternate")
    feed.link(href=spec.url("rss"), rel="self", type=MEDIA_TYPES["rss"])
    feed.ttl(spec.ttl_minutes)
    data: bytes = feed.rss_str(pretty=True)
    return data


def render_atom(spec: FeedSpec) -> bytes:
    feed = _generator(spec)
    feed.id(spec.url("atom"))
    feed.link(href=spec.home_url, rel="alternate", type="text/html")
    feed.link(href=spec.url("atom"), rel="self", type=MEDIA_TYPES["atom"])
    feed.author(name="Pānui")
    data: bytes = feed.atom_str(pretty=True)
    return data


def render_json(spec: FeedSpec) -> bytes:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": spec.title,
        "home_page_url": spec.home_url,
        "feed_url": spec.url("json"),
        "description": spec.description,
        "language": spec.language,
        "items": [_json_item(entry) for entry in spec.entries],
    }
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _json_item(entry: Entry) -> dict[str, object]:
    article = entry.stored.article
    item: dict[str, object] = {
        "id": article.url,
        "url": entry.archive_url,
        "external_url": article.url,
        "title": article.title,
        "content_html": entry.content_html,
        "summary": article.summary,
        "date_published": article.published.isoformat(),
        "date_modified": entry.updated.isoformat(),
        "tags": list(entry.categories),
        "authors": [{"name": entry.source.name, "url": entry.source.base_url}],
    }
    return item


def render_feeds(spec: FeedSpec) -> dict[str, bytes]:
    """The three formats, keyed by file name."""
    return {
        FEED_FILES["rss"]: render_rss(spec),
        FEED_FILES["atom"]: render_atom(spec),
        FEED_FILES["json"]: render_json(spec),
    }
