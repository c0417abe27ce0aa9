"""Feed items (an article, a correction or an alert, as any feed shows it) and their forms: the feedgen
entry RSS and Atom are written from, and the JSON Feed item."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseExtension
from feedgen.util import xml_elem

from pipeline.publish.entries import Entry


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
    """Fill `item`, an entry a feed added (with the feed's extensions, see feeds._channel), from `source`."""
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


def json_item(item: FeedItem) -> dict[str, object]:
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
