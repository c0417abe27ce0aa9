"""Feeds: RSS 2.0 (with content:encoded) and Atom 1.0 through feedgen (pipeline/publish/feed_xml.py,
imported when a feed is rendered), JSON Feed 1.1 through json.

Every date comes from the store, never from the clock, so an unchanged store renders identical bytes
(feedgen would otherwise stamp lastBuildDate and updated with "now")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from pipeline.publish.feed_items import FeedItem, json_item

FEED_EXTENSIONS = {"rss": ".xml", "atom": ".atom", "json": ".json"}
MEDIA_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}


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
    from pipeline.publish.feed_xml import xml_documents  # feedgen: only a publication that renders a feed needs it

    rss, atom = xml_documents(spec)
    return {spec.file_name("rss"): rss, spec.file_name("atom"): atom, spec.file_name("json"): render_json(spec)}
