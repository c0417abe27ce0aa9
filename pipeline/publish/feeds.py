"""Feeds: RSS 2.0 (with content:encoded) and Atom 1.0 through feedgen, JSON Feed 1.1 through json.

Every date comes from the store, never from the clock, so an unchanged store renders identical bytes
(feedgen would otherwise stamp lastBuildDate and updated with "now")."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from lxml import etree

from pipeline import __version__
from pipeline.publish.feed_items import EntryLinks, FeedItem, NoExtension, feed_entry, json_item
from pipeline.recent import Recent

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
    """A generator holding the feed's own fields and no items (see _with_items)."""
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


DOCUMENTS = {"rss": _rss_document, "atom": _atom_document}
# feedgen appends the items last, so a pretty-printed document ends with its items and then these.
CLOSINGS = {"rss": b"  </channel>\n</rss>\n", "atom": b"</feed>\n"}
# The feed each item is written alone in, to cut its text out (any fields do: an item's text depends
# only on where it sits, at the same depth under a root declaring the same namespaces in every feed).
_ITEM_HOLDER = FeedSpec(
    "Item", "Item", "en", "https://panui.invalid/", "https://panui.invalid/", (), 60, datetime(2026, 1, 1, tzinfo=UTC)
)


def _with_items(document: bytes, kind: str, items: list[bytes]) -> bytes:
    """The document of a feed with no items, with the items' texts put where feedgen writes them."""
    closing = CLOSINGS[kind]
    if not document.endswith(closing):
        raise ValueError(f"feedgen ended a {kind} document with {document[-40:]!r}, not {closing!r}")
    return b"".join([document[: -len(closing)], *items, closing])  # one copy of a feed that may be MBs


class _ItemWriter:
    """Writes an item's text as it stands in any RSS or Atom document of feedgen's. A feed's items come
    last in its document, each at the same depth under a root declaring the same namespaces whatever
    the feed, so an item's text is the same in every feed: here, the document of an item-less feed
    (parsed once) with the item appended, less that document without it. It appends to one tree, so
    it is not for two threads at once (a publication runs in one)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        empty = DOCUMENTS[kind](_channel(_ITEM_HOLDER), _ITEM_HOLDER)
        self._root = etree.fromstring(empty, etree.XMLParser(remove_blank_text=True))
        self._parent = self._root[0] if kind == "rss" else self._root  # <channel>, or Atom's <feed>
        self._head = self._document()[: -len(CLOSINGS[kind])]
        if not empty.startswith(self._head):  # the parsed document writes as feedgen wrote it
            raise ValueError(f"feedgen's {kind} document reads back as another document")

    def text(self, entry: FeedEntry) -> bytes:
        element = entry.rss_entry() if self.kind == "rss" else entry.atom_entry()
        self._parent.append(element)
        try:
            alone = self._document()
        finally:
            self._parent.remove(element)
        closing = CLOSINGS[self.kind]
        if not (alone.startswith(self._head) and alone.endswith(closing)):
            raise ValueError(f"feedgen wrote a {self.kind} item where it was not expected")
        return alone[len(self._head) : -len(closing)]

    def _document(self) -> bytes:
        # As feedgen's rss_str and atom_str write a document.
        data: bytes = etree.tostring(self._root, pretty_print=True, encoding="UTF-8", xml_declaration=True)
        return data


@dataclass
class _Forms:
    entry: FeedEntry | None = None  # kept until its RSS and Atom texts are both written
    texts: dict[str, bytes] = field(default_factory=dict)  # "rss", "atom", "json"


class ItemForms:
    """Each item's text in an RSS document, an Atom document and a JSON Feed, made once however many
    feeds of a publication it is in (an article is in its source's, its type's, each of its topics' and
    the site's feeds), so that a feed is its own fields with its items' texts put in (where each feed
    used to build, copy and write every item again). Keyed by the item itself (every field: an edited
    article is a new item); the newest `keep` are kept, so memory does not grow with the archive. One
    publication gives an article's times in its source's zone, so equal items render alike (aware
    datetimes of one instant compare equal across zones)."""

    def __init__(self, keep: int = 256) -> None:
        self._forms: Recent[FeedItem, _Forms] = Recent(keep)
        self._writers: dict[str, _ItemWriter] = {}

    def _of(self, item: FeedItem) -> _Forms:
        return self._forms.get_or_make(item, lambda item: _Forms())

    def rss(self, item: FeedItem) -> bytes:
        return self._xml(item, "rss")

    def atom(self, item: FeedItem) -> bytes:
        return self._xml(item, "atom")

    def json(self, item: FeedItem) -> bytes:
        forms = self._of(item)
        if "json" not in forms.texts:
            forms.texts["json"] = json.dumps(json_item(item), ensure_ascii=False).encode("utf-8")
        return forms.texts["json"]

    def _xml(self, item: FeedItem, kind: str) -> bytes:
        forms = self._of(item)
        if kind not in forms.texts:
            forms.entry = forms.entry or feed_entry(item)  # one feedgen entry for both formats
            forms.texts[kind] = self._writer(kind).text(forms.entry)
            if "rss" in forms.texts and "atom" in forms.texts:
                forms.entry = None
        return forms.texts[kind]

    def _writer(self, kind: str) -> _ItemWriter:
        if kind not in self._writers:
            self._writers[kind] = _ItemWriter(kind)
        return self._writers[kind]


def render_rss(spec: FeedSpec, forms: ItemForms | None = None) -> bytes:
    """RSS 2.0: the feedgen document of the feed's own fields, with each item's text (made once per
    publication by `forms`, shared with the publication's other feeds) where feedgen puts items."""
    forms = forms or ItemForms()
    items = [forms.rss(item) for item in spec.items]
    return _with_items(_rss_document(_channel(spec), spec), "rss", items)


def render_atom(spec: FeedSpec, forms: ItemForms | None = None) -> bytes:
    forms = forms or ItemForms()
    items = [forms.atom(item) for item in spec.items]
    return _with_items(_atom_document(_channel(spec), spec), "atom", items)


def render_json(spec: FeedSpec, forms: ItemForms | None = None) -> bytes:
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
    forms = forms or ItemForms()
    # The bytes json.dumps gives the whole feed with "items" last, each item's text made once (no
    # indent: json's C encoder only serves compact output, and readers parse either equally).
    parts = [json.dumps(feed, ensure_ascii=False)[:-1].encode("utf-8") + b', "items": [']
    for index, item in enumerate(spec.items):
        parts += (b", ", forms.json(item)) if index else (forms.json(item),)
    parts.append(b"]}\n")
    return b"".join(parts)  # one copy of a feed that may be MBs


def render_feeds(spec: FeedSpec, forms: ItemForms | None = None) -> dict[str, bytes]:
    """The three formats, keyed by file name. `forms`: the items' forms shared with the publication's
    other feeds."""
    forms = forms or ItemForms()
    return {
        spec.file_name("rss"): render_rss(spec, forms),
        spec.file_name("atom"): render_atom(spec, forms),
        spec.file_name("json"): render_json(spec, forms),
    }
