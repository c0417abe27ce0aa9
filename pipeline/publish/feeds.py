"""Feeds: RSS 2.0 (with content:encoded) and Atom 1.0 through feedgen, JSON Feed 1.1 through json.

Every date comes from the store, never from the clock, so an unchanged store renders identical bytes
(feedgen would otherwise stamp lastBuildDate and updated with "now")."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from pipeline import __version__
from pipeline.publish.entries import Entry

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FEED_EXTENSIONS = {"rss": ".xml", "atom": ".atom", "json": ".json"}
FEED_FILES = {kind: "feed" + extension for kind, extension in FEED_EXTENSIONS.items()}
MEDIA_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}
SYNDICATION_NS = "http://purl.org/rss/1.0/modules/syndication/"
ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class FeedItem:
    """One item of any feed: an article, a correction or an alert."""

    id: str
    title: str
    link: str  # RSS <link>, Atom alternate
    published: datetime
    updated: datetime
    author: str
    author_url: str
    content_html: str
    summary: str = ""
    categories: tuple[str, ...] = ()
    archive_url: str | None = None  # our copy: Atom "related" link, JSON Feed url
    external_url: str | None = None  # JSON Feed external_url
    rights: str | None = None


def item_from_entry(entry: Entry) -> FeedItem:
    article = entry.stored.article
    return FeedItem(
        id=article.url,
        title=article.title,
        link=article.url,
        published=article.published,
        updated=entry.updated,
        author=entry.source.name,
        author_url=entry.source.base_url,
        content_html=entry.content_html,
        summary=article.summary,
        categories=entry.categories,
        archive_url=entry.archive_url,
        external_url=article.url,
        rights=f"{entry.source.licence.name}: {entry.source.licence.url}",
    )


@dataclass(frozen=True)
class FeedSpec:
    title: str
    description: str
    language: str
    home_url: str  # the archive page the feed belongs to
    folder_url: str  # absolute URL of the folder that holds feed.xml, feed.atom and feed.json
    items: tuple[FeedItem, ...]  # newest first, already cut to the feed's length
    poll_minutes: int  # how often the source is checked: a polling hint for readers
    hub: str | None = None  # a WebSub hub that readers may subscribe through
    basename: str = "feed"  # the files are <basename>.xml, .atom and .json

    def file_name(self, kind: str) -> str:
        return self.basename + FEED_EXTENSIONS[kind]

    def url(self, kind: str) -> str:
        return self.folder_url + self.file_name(kind)

    @property
    def updated(self) -> datetime:
        return max((item.updated for item in self.items), default=EPOCH)


def update_period(minutes: int) -> tuple[str, int]:
    """The RSS syndication module's (updatePeriod, updateFrequency) closest to polling every `minutes`."""
    if minutes <= 60:
        return "hourly", max(1, round(60 / minutes))
    if minutes <= 1440:
        return "daily", max(1, round(1440 / minutes))
    return "weekly", max(1, round(10080 / minutes))


class _ChannelHints(BaseExtension):  # type: ignore[misc]
    """sy:updatePeriod/updateFrequency (feedgen's own syndication extension misspells them as
    sy:UpdatePeriod) and the WebSub rel="hub" link, which feedgen only writes for Atom."""

    def __init__(self) -> None:
        self.spec: FeedSpec | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"sy": SYNDICATION_NS}

    def extend_rss(self, rss_feed: Any) -> Any:
        assert self.spec is not None
        channel = rss_feed[0]
        if self.spec.hub:
            xml_elem(f"{{{ATOM_NS}}}link", channel, href=self.spec.hub, rel="hub")
        period, frequency = update_period(self.spec.poll_minutes)
        xml_elem(f"{{{SYNDICATION_NS}}}updatePeriod", channel).text = period
        xml_elem(f"{{{SYNDICATION_NS}}}updateFrequency", channel).text = str(frequency)
        return rss_feed


class _Nothing(BaseExtension):  # type: ignore[misc]
    """feedgen extensions come in feed/entry pairs; this is the half that adds nothing."""


class _EntryLinks(BaseExtension):  # type: ignore[misc]
    """The archived copy as an Atom rel="related" link. feedgen 1.0 loses the rel, type and title of
    every entry link but the first (lkiesow/python-feedgen#135), which would turn it into a second
    "alternate" link and send readers to our copy instead of the original."""

    def __init__(self) -> None:
        self.related: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_atom(self, entry: Any) -> Any:
        if self.related:
            xml_elem("link", entry, href=self.related, rel="related", type="text/html", title="Archived copy")
        return entry

    def extend_rss(self, entry: Any) -> Any:
        return entry


def _generator(spec: FeedSpec) -> FeedGenerator:
    feed = FeedGenerator()
    feed.register_extension("panui", _ChannelHints, _Nothing, atom=False, rss=True)
    feed.register_extension("panui_links", _Nothing, _EntryLinks, atom=True, rss=False)
    feed.panui.spec = spec
    feed.title(spec.title)
    feed.description(spec.description)
    feed.language(spec.language)
    feed.generator("Pānui", version=__version__)
    feed.updated(spec.updated)
    for source in reversed(spec.items):  # feedgen prepends by default
        item = feed.add_entry()
        item.id(source.id)
        item.guid(source.id, permalink=source.id.startswith(("http://", "https://")) and "#" not in source.id)
        item.title(source.title)
        item.link(href=source.link, rel="alternate", type="text/html")
        if source.archive_url and source.archive_url != source.link:
            item.panui_links.related = source.archive_url
        item.published(source.published)
        item.updated(source.updated)
        item.author(name=source.author)
        for category in source.categories:
            item.category(term=category, label=category)
        if source.summary:
            item.summary(source.summary)
            item.description(html.escape(source.summary, quote=False))  # readers take RSS descriptions as HTML
        item.content(source.content_html, type="html")
        if source.rights:
            item.rights(source.rights)
    return feed


def render_rss(spec: FeedSpec, feed: FeedGenerator | None = None) -> bytes:
    """RSS 2.0; `feed`: a generator already holding the items (render_feeds shares one with Atom)."""
    feed = feed or _generator(spec)
    feed.link(href=spec.url("rss"), rel="self", type=MEDIA_TYPES["rss"], replace=True)
    feed.link(href=spec.home_url, rel="alternate")  # feedgen makes the last link the RSS <link>
    feed.ttl(spec.poll_minutes)
    data: bytes = feed.rss_str(pretty=True)
    return data


def render_atom(spec: FeedSpec, feed: FeedGenerator | None = None) -> bytes:
    feed = feed or _generator(spec)
    feed.id(spec.url("atom"))
    feed.link(href=spec.home_url, rel="alternate", type="text/html", replace=True)
    feed.link(href=spec.url("atom"), rel="self", type=MEDIA_TYPES["atom"])
    if spec.hub:
        feed.link(href=spec.hub, rel="hub")
    feed.author(name="Pānui")
    data: bytes = feed.atom_str(pretty=True)
    return data


def render_json(spec: FeedSpec) -> bytes:
    feed: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": spec.title,
        "home_page_url": spec.home_url,
        "feed_url": spec.url("json"),
        "description": spec.description,
        "language": spec.language,
    }
    if spec.hub:
        feed["hubs"] = [{"type": "WebSub", "url": spec.hub}]
    feed["items"] = [_json_item(item) for item in spec.items]
    # No indent: json's C encoder only serves compact output, and readers parse either equally.
    return (json.dumps(feed, ensure_ascii=False) + "\n").encode("utf-8")


def _json_item(item: FeedItem) -> dict[str, object]:
    data: dict[str, object] = {"id": item.id, "url": item.archive_url or item.link}
    if item.external_url:
        data["external_url"] = item.external_url
    data.update(
        {
            "title": item.title,
            "content_html": item.content_html,
            "summary": item.summary,
            "date_published": item.published.isoformat(),
            "date_modified": item.updated.isoformat(),
            "tags": list(item.categories),
            "authors": [{"name": item.author, "url": item.author_url}],
        }
    )
    return data


def render_feeds(spec: FeedSpec) -> dict[str, bytes]:
    """The three formats, keyed by file name. RSS and Atom are written from one feedgen generator: its
    items are built once (each format's own channel links are set just before it is written)."""
    feed = _generator(spec)
    return {
        spec.file_name("rss"): render_rss(spec, feed),
        spec.file_name("atom"): render_atom(spec, feed),
        spec.file_name("json"): render_json(spec),
    }
