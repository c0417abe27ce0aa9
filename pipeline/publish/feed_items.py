"""Feed items (an article, a correction or an alert, as any feed shows it) and their JSON Feed form (the
feedgen entry RSS and Atom are written from is in pipeline/publish/feed_xml.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

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


def newest_first(items: Iterable[FeedItem]) -> list[FeedItem]:
    """A feed's order: the newest update first (ties by id, so the order is the same every time)."""
    return sorted(items, key=lambda item: (item.updated, item.id), reverse=True)


def json_item(item: FeedItem) -> dict[str, object]:
    external = {"external_url": item.external_url} if item.external_url else {}
    return {
        "id": item.id,
        "url": item.archive_url or item.link,
        **external,
        "title": item.title,
        "content_html": item.content_html,
        "summary": item.summary,
        "date_published": item.published.isoformat(),
        "date_modified": item.updated.isoformat(),
        "tags": list(item.categories),
        "authors": [{"name": item.author, "url": item.author_url}],
    }
