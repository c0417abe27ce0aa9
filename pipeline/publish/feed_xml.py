"""RSS 2.0 (with content:encoded) and Atom 1.0 through feedgen: the one module that imports it, on the
first feed a publication renders (a sync that finds nothing new renders none)."""

from __future__ import annotations

import html
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from pipeline import __version__
from pipeline.publish.feed_items import FeedItem
from pipeline.publish.feeds import MEDIA_TYPES, FeedSpec, update_period

SYNDICATION_NS = "http://purl.org/rss/1.0/modules/syndication/"
ATOM_NS = "http://www.w3.org/2005/Atom"


class NoExtension(BaseExtension):  # type: ignore[misc]
    """feedgen extensions come in feed/entry pairs; this is the half that adds nothing."""


class EntryLinks(BaseExtension):  # type: ignore[misc]
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


def feed_entry(item: FeedEntry, source: FeedItem) -> None:
    """Fill `item`, an entry a feed added (with the feed's extensions, see xml_documents), from `source`."""
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


def xml_documents(spec: FeedSpec) -> tuple[bytes, bytes]:
    """The RSS and the Atom document feedgen writes of the feed and its items (one generator for both:
    each writes only its own extension's fields, and the links are replaced in between)."""
    feed = FeedGenerator()
    feed.register_extension("panui", _ChannelHints, NoExtension, atom=False, rss=True)
    feed.register_extension("panui_links", NoExtension, EntryLinks, atom=True, rss=False)
    feed.panui.spec = spec
    feed.title(spec.title)
    feed.description(spec.description)
    feed.language(spec.language)
    feed.generator("Pānui", version=__version__)
    feed.updated(spec.updated)
    for item in spec.items:
        feed_entry(feed.add_entry(order="append"), item)
    feed.link(href=spec.url("rss"), rel="self", type=MEDIA_TYPES["rss"], replace=True)
    feed.link(href=spec.home_url, rel="alternate")  # feedgen makes the last link the RSS <link>
    feed.ttl(spec.poll_minutes)
    rss: bytes = feed.rss_str(pretty=True)
    feed.id(spec.url("atom"))
    feed.link(href=spec.home_url, rel="alternate", type="text/html", replace=True)
    feed.link(href=spec.url("atom"), rel="self", type=MEDIA_TYPES["atom"])
    if spec.hub:
        feed.link(href=spec.hub, rel="hub")
    feed.author(name="Pānui")
    atom: bytes = feed.atom_str(pretty=True)
    return rss, atom
