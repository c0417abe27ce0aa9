"""Page -> [Link]. Pure: the pages come in as bytes, the links go out; nothing is fetched here."""

from __future__ import annotations

import calendar
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import feedparser
from lxml import etree

from pipeline.bounds import (
    MAX_NAME_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    MAX_TOPICS,
    date_problem,
    join_url,
    web_url,
)
from pipeline.dom import html_text, parse_html
from pipeline.errors import DiscoverError
from pipeline.feed_item import FeedItem
from pipeline.model import Link, Listing, Page, Source

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one uncompressed sitemap


@dataclass(frozen=True)
class SitemapContent:
    links: list[Link]
    sitemaps: list[str]  # child sitemaps of a sitemap index, on the source's host


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
    for anchor in parse_html(page).select(listing.links):
        href = anchor.get("href")
        if not isinstance(href, str) or not href.strip():
            continue
        joined = join_url(page.final_url, href)
        url = article_url(joined, source) if joined else None
        if url and url not in seen:
            seen.add(url)
            links.append(Link(url=url, found_on=page.url))
    return links


def read_sitemap(page: Page, source: Source) -> SitemapContent:
    """A urlset's article links (with lastmod, each once) or a sitemap index's child sitemaps on the
    same host."""
    children, links = sitemap_entries(page, source)
    unique: dict[str, Link] = {}
    for link in links:
        unique.setdefault(link.url, link)  # a repeated URL: the first one stands
    return SitemapContent(links=list(unique.values()), sitemaps=children)


def sitemap_entries(page: Page, source: Source) -> tuple[list[str], Iterator[Link]]:
    """(child sitemaps, article links): a sitemap index has only the first, a urlset only the second,
    read one by one as they are asked for, so a sitemap of any size is never held as Python objects.
    A page that is not a sitemap raises at once."""
    body = _decompress(page.body, page.url)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as error:
        raise DiscoverError(
            f"sitemap {page.url} is not well-formed XML: {error}",
            "check the sitemap URL in discovery.sitemap",
        ) from None
    tag = etree.QName(root).localname
    if tag == "sitemapindex":
        children: list[str] = []
        for loc in root.iter(f"{SITEMAP_NS}loc", "loc"):
            url = join_url(page.final_url, loc.text or "")
            if url and web_url(url) is None and urlsplit(url).netloc.lower() == source.host and url not in children:
                children.append(url)
        return children, iter(())
    if tag != "urlset":
        raise DiscoverError(
            f"{page.url} is not a sitemap (root element <{tag}>)",
            "discovery.sitemap must name a sitemap or sitemap index",
        )
    return [], _urlset_links(root, page, source)


def _urlset_links(root: etree._Element, page: Page, source: Source) -> Iterator[Link]:
    for entry in root.iter(f"{SITEMAP_NS}url", "url"):
        loc = (entry.findtext(f"{SITEMAP_NS}loc") or entry.findtext("loc") or "").strip()
        # Sitemap URLs are absolute by the protocol: urljoin (costly, at 10,000 URLs) only for the others.
        joined = loc if loc.startswith(("http://", "https://")) else join_url(page.final_url, loc)
        url = article_url(joined, source) if joined else None
        if url:
            lastmod = entry.findtext(f"{SITEMAP_NS}lastmod") or entry.findtext("lastmod")
            yield Link(url=url, found_on=page.url, lastmod=parse_lastmod(lastmod, page.fetched_at))


def parse_lastmod(text: str | None, fetched: datetime) -> datetime | None:
    """W3C datetime ('2026-07-09', '2026-07-09T10:00:00+12:00') as an aware UTC datetime; None when it
    is unreadable or cannot be true (before the web, or after `fetched`): no lastmod, not a wrong one."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if date_problem(value.date(), fetched) is not None:
        return None  # and no date within a day of year 1 or 9999 is left to overflow in astimezone
    return value.astimezone(UTC)


def _decompress(body: bytes, url: str) -> bytes:
    """Gzipped sitemaps (sitemap.xml.gz) are common; cap what they expand to."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    try:
        decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        data = decompressor.decompress(body, MAX_SITEMAP_BYTES + 1)
    except (zlib.error, gzip.BadGzipFile) as error:
        raise DiscoverError(f"sitemap {url} is not valid gzip: {error}") from None
    if len(data) > MAX_SITEMAP_BYTES:
        raise DiscoverError(f"sitemap {url} expands to more than {MAX_SITEMAP_BYTES} bytes")
    return data


@dataclass(frozen=True)
class FeedContent:
    items: list[FeedItem]  # the source's articles, in feed order, each once
    damage: str | None  # why the feed is not well-formed, when feedparser read it all the same


def read_feed(page: Page, source: Source) -> FeedContent:
    """An RSS or Atom feed's items whose links are the source's articles. Raises DiscoverError for a
    document that is no feed, or one too broken to yield a single article (feedparser reads a damaged
    feed as far as it goes: what it recovers is used, and the damage is said)."""
    # A stream, never bytes: feedparser.parse opens bytes that name a file as that file.
    parsed = feedparser.parse(
        io.BytesIO(page.body), response_headers={"content-type": page.headers.get("content-type", "")}
    )
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
