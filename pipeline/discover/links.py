"""Listing pages and feeds -> [Link]: the source's article links. Pure: pages come in as bytes."""

from __future__ import annotations

import calendar
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pipeline.bounds import (
    MAX_NAME_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    MAX_TOPICS,
    date_problem,
    join_url,
    web_url,
)
from pipeline.dom import css, html_text, parse_html
from pipeline.errors import DiscoverError
from pipeline.feed_item import FeedItem
from pipeline.model import Link, Listing, Page, Source


def article_url(url: str, source: Source) -> str | None:
    """The URL without its fragment when it is one of the source's article URLs, else None. A URL no
    feed could carry (a control character, an absurd length: see pipeline/bounds.py) is none."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unclosed IPv6 bracket: no address at all
        return None
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != source.host:
        return None
    if not source.discovery.article_paths.search(parts.path):
        return None
    if any(parts.path.startswith(prefix) for prefix in source.discovery.never_fetch):
        return None
    found = urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, parts.query, ""))
    return found if web_url(found) is None else None


def find_listing_links(page: Page, listing: Listing, source: Source) -> list[Link]:
    """The article links the listing's selector finds, absolute, in page order, without repeats."""
    links: list[Link] = []
    seen: set[str] = set()
    for anchor in css(listing.links).select(parse_html(page)):
        href = anchor.get("href")
        if not isinstance(href, str) or not href.strip():
            continue
        joined = join_url(page.final_url, href)
        url = article_url(joined, source) if joined else None
        if url and url not in seen:
            seen.add(url)
            links.append(Link(url=url, found_on=page.url))
    return links


@dataclass(frozen=True)
class FeedContent:
    items: list[FeedItem]  # the source's articles, in feed order, each once
    damage: str | None  # why the feed is not well-formed, when feedparser read it all the same


def read_feed(page: Page, source: Source) -> FeedContent:
    """An RSS or Atom feed's items whose links are the source's articles. Raises DiscoverError for a
    document that is no feed, or one too broken to yield a single article (feedparser reads a damaged
    feed as far as it goes: what it recovers is used, and the damage is said)."""
    import feedparser  # (imported by a run that reads a feed)

    # A stream, never bytes: feedparser.parse opens bytes that name a file as that file. The media type
    # only when known: a stored copy read for a 304 has none, and "" would be taken for a wrong one.
    known = {"content-type": page.headers["content-type"]} if page.headers.get("content-type") else {}
    parsed = feedparser.parse(io.BytesIO(page.body), response_headers=known)
    damage = (str(parsed.get("bozo_exception") or "") or "not well-formed") if parsed.get("bozo") else None
    items: dict[str, FeedItem] = {}
    for entry in parsed.entries:
        joined = join_url(page.final_url, str(entry.get("link") or ""))
        url = article_url(joined, source) if joined else None
        if url and url not in items:
            items[url] = _feed_item(url, entry, page.fetched_at)
    if not parsed.get("version") or (damage and not items):
        raise DiscoverError(
            f"feed {page.url} cannot be read as RSS or Atom" + (f" ({damage})" if damage else ""),
            "check the address in discovery.feeds; the source's other feeds and listings are still read",
        )
    return FeedContent(list(items.values()), damage)


def _feed_item(url: str, entry: Any, fetched: datetime) -> FeedItem:
    """The item's values, each validated as it enters: text without markup, a date that can be true."""
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")  # feedparser's UTC struct_time
    try:
        published = datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None
    except (OverflowError, OSError, ValueError):  # a year no datetime holds: no date, not a wrong one
        published = None
    if published is not None and date_problem(published.date(), fetched) is not None:
        published = None
    terms = (" ".join(str(tag.get("term") or "").split()) for tag in entry.get("tags") or ())
    categories = tuple(dict.fromkeys(term[:MAX_NAME_CHARS] for term in terms if term))[:MAX_TOPICS]
    return FeedItem(
        url=url,
        title=_plain(entry.get("title"), MAX_TITLE_CHARS),
        published=published,
        summary=_plain(entry.get("summary"), MAX_SUMMARY_CHARS),
        categories=categories,
    )


def _plain(value: object, limit: int) -> str | None:
    """Feed text is HTML (feedparser has sanitised it): its text, white space collapsed, cut one character
    past what an article may publish (so that extraction's bound still cuts it, with a note)."""
    text = " ".join(html_text(value).split()) if isinstance(value, str) else ""
    return text[: limit + 1] or None
