"""Feeds: RSS 2.0 (with content:encoded) and Atom 1.0 through feedgen, JSON Feed 1.1 through json.

Every date comes from the store, never from the clock, so an unchanged store renders identical bytes
(feedgen would otherwise stamp lastBuildDate and updated with "now")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from pipeline import __version__
from pipeline.publish.feed_items import EntryLinks, FeedItem, NoExtension, feed_entry, json_item

FEED_EXTENSIONS = {"rss": ".xml", "atom": ".atom", "json": ".json"}
MEDIA_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}
SYNDICATION_NS = "http://purl.org/rss/1.0/modules/syndication/"
ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class FeedSpec:
    title: str
    description: str
    language: str
    home_url: str  # the archive page the feed belongs to
    folder_url: str  # absolute URL of the folder that holds feed.xml, feed.atom and feed.json
    items: tuple[FeedItem, ...]  # newest first, already cut to the feed's length
    poll_minutes: int  # how often the source is checked: a polling hint for readers
    # The feed's date while it has no item: when it was last emptied, or when the archive began (a
    # date from the store, so an unchanged feed keeps its bytes, and a true one: readers and the W3C
    # validator take 1970 for a broken clock).
    since: datetime
    hub: str | None = None  # a WebSub hub that readers may subscribe through
    basename: str = "feed"  # the files are <basename>.xml, .atom and .json

    def file_name(self, kind: str) -> str:
        return self.basename + FEED_EXTENSIONS[kind]

    def url(self, kind: str) -> str:
        return self.folder_url + self.file_name(kind)

    @property
    def updated(self) -> datetime:
        return max((item.updated for item in self.items), default=self.since)


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


def _channel(spec: FeedSpec) -> FeedGenerator:
    """A generator holding the feed's own fields and no items yet."""
    feed = FeedGenerator()
    feed.register_extension("panui", _ChannelHints, NoExtension, atom=False, rss=True)
    feed.register_extension("panui_links", NoExtension, EntryLinks, atom=True, rss=False)
    feed.panui.spec = spec
    feed.title(spec.title)
    feed.description(spec.description)
    feed.language(spec.language)
    feed.generator("Pānui", version=__version__)
    feed.updated(spec.updated)
    return feed


def _rss_document(feed: FeedGenerator, spec: FeedSpec) -> bytes:
    feed.link(href=spec.url("rss"), rel="self", type=MEDIA_TYPES["rss"], replace=True)
    feed.link(href=spec.home_url, rel="alternate")  # feedgen makes the last link the RSS <link>
    feed.ttl(spec.poll_minutes)
    data: bytes = feed.rss_str(pretty=True)
    return data


def _atom_document(feed: FeedGenerator, spec: FeedSpec) -> bytes:
    feed.id(spec.url("atom"))
    feed.link(href=spec.home_url, rel="alternate", type="text/html", replace=True)
    feed.link(href=spec.url("atom"), rel="self", type=MEDIA_TYPES["atom"])
    if spec.hub:
        feed.link(href=spec.hub, rel="hub")
    feed.author(name="Pānui")
    data: bytes = feed.atom_str(pretty=True)
    return data


def _document(spec: FeedSpec, kind: str) -> bytes:
    """The RSS or Atom document feedgen writes of the feed and its items."""
    feed = _channel(spec)
    for item in spec.items:
        feed_entry(feed.add_entry(order="append"), item)
    return _rss_document(feed, spec) if kind == "rss" else _atom_document(feed, spec)


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
    feed["items"] = [json_item(item) for item in spec.items]
    return (json.dumps(feed, ensure_ascii=False) + "\n").encode("utf-8")


def render_feeds(spec: FeedSpec) -> dict[str, bytes]:
    """The three formats, keyed by file name."""
    return {
        spec.file_name("rss"): _document(spec, "rss"),
        spec.file_name("atom"): _document(spec, "atom"),
        spec.file_name("json"): render_json(spec),
    }
