"""Feed items, and each item's forms in the feed formats: its feedgen entry (for RSS and Atom) and its
JSON Feed text, made once however many feeds of a publication it is in."""

from __future__ import annotations

import copy
import html
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseExtension
from feedgen.util import xml_elem

from pipeline.publish.entries import Entry
from pipeline.recent import Recent


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


class _SharedEntry(FeedEntry):  # type: ignore[misc]
    """A feedgen entry added to every feed its item is in: its RSS and Atom elements are built the
    first time a feed asks and copied after (lxml copies a tree in C; feedgen builds one in Python)."""

    def __init__(self) -> None:
        super().__init__()
        self._built: dict[tuple[str, bool], Any] = {}

    def rss_entry(self, extensions: bool = True) -> Any:
        return self._copy_of("rss", extensions, super().rss_entry)

    def atom_entry(self, extensions: bool = True) -> Any:
        return self._copy_of("atom", extensions, super().atom_entry)

    def _copy_of(self, kind: str, extensions: bool, build: Any) -> Any:
        if (kind, extensions) not in self._built:
            self._built[kind, extensions] = build(extensions)
        # A copy for each feed: lxml moves an element into the tree it is appended to, and a feed's tree
        # would otherwise take it from the last one's (and keep that whole tree alive from this cache).
        return copy.deepcopy(self._built[kind, extensions])


class ItemForms:
    """Each item's forms, made once however many feeds it is in (an article is in its source's, its
    type's, each of its topics' and the site's feeds): its feedgen entry and its JSON Feed text. Keyed
    by the item itself (every field: an edited article is a new item); the newest `keep` are kept, so
    memory does not grow with the archive. One publication gives an article's times in its source's
    zone, so equal items render alike (aware datetimes of one instant compare equal across zones)."""

    def __init__(self, keep: int = 256) -> None:
        self._entries: Recent[FeedItem, FeedEntry] = Recent(keep)
        self._json: Recent[FeedItem, str] = Recent(keep)

    def entry(self, item: FeedItem) -> FeedEntry:
        return self._entries.get_or_make(item, feed_entry)

    def json(self, item: FeedItem) -> str:
        return self._json.get_or_make(item, lambda item: json.dumps(json_item(item), ensure_ascii=False))


def feed_entry(source: FeedItem) -> _SharedEntry:
    item = _SharedEntry()
    # The extensions a feed would register on it (see feeds._generator); a feed adding it finds them there.
    item.register_extension("panui", NoExtension, atom=False, rss=True)
    item.register_extension("panui_links", EntryLinks, atom=True, rss=False)
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
    return item


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
