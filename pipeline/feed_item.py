"""What a feed says of one article. Discovery reads it from an RSS or Atom feed; generic extraction
fills from it what the article's page lacks; the store keeps it, so `rebuild` reads the page the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class FeedItem:
    url: str  # the item's link: an article URL of the source
    title: str | None
    published: datetime | None  # aware
    summary: str | None  # plain text
    categories: tuple[str, ...] = ()
