"""Page -> [Link]. Pure: the pages come in as bytes, the links go out; nothing is fetched here."""

from __future__ import annotations

import base64
import calendar
import gzip
import hashlib
import io
import itertools
import zlib
from collections.abc import Container, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
from pipeline.dom import css, html_text, parse_html
from pipeline.errors import DiscoverError
from pipeline.feed_item import FeedItem
from pipeline.model import Link, Listing, Page, Source

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# The sitemaps.org limit for one sitemap (50,000 URLs), uncompressed: a sitemap's own bound, as sent and as
# read, in place of the source's max_bytes (meant for pages), which a sitemap of 32,000 URLs outgrows.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
MAX_SITEMAP_ENTRIES = 500_000  # ten times the protocol's 50,000 URLs: a bound on the work, not on real sitemaps
SITEMAP_TAGS = tuple(f"{ns}{name}" for ns in (SITEMAP_NS, "") for name in ("url", "sitemap"))
LOC, LASTMOD = f"{SITEMAP_NS}loc", f"{SITEMAP_NS}lastmod"
KEY_BYTES = 8  # an entry's key: a digest of its loc and lastmod (see SitemapEntry)
DROPPED_AT_ONCE = 1024  # entries read before they are dropped from the tree together


@dataclass(frozen=True)
class SitemapEntry:
    """One article link of a urlset. `key` names the entry as written (its loc and lastmod), so the same
    entry in a later copy of the sitemap has the same key; it is None when the link is not exactly the
    entry's loc, or its lastmod is refused as later than today (such an entry is read afresh every
    time)."""

    link: Link
    key: bytes | None
    lasting: bool = True  # False when its lastmod was refused as later than today: it may be taken another day

    @staticmethod
    def key_of(loc: str, lastmod: str | None) -> bytes:
        return hashlib.blake2b(f"{loc}\x1f{lastmod or ''}".encode(), digest_size=KEY_BYTES).digest()


@dataclass
class SitemapRead:
    """One read of a urlset, as it goes. `known`: the keys of the entries known to need no request (see
    SitemapEntry); such an entry is passed by, its loc (its link's URL) and key kept in `passed_urls`
    and `passed_keys`: at 50,000 entries, strings instead of links halve the cost of reading a sitemap
    that gained one. `broken`: where the stream broke off, once its entries are read (those before
    the break stand)."""

    known: Container[bytes] = frozenset()
    passed_urls: list[str] = field(default_factory=list)
    passed_keys: list[bytes] = field(default_factory=list)
    broken: DiscoverError | None = None


def keys_text(keys: list[bytes]) -> str:
    """Entries' keys as text to keep (plain JSON data), in their order."""
    return base64.b64encode(b"".join(keys)).decode()


def known_keys(text: str) -> set[bytes]:
    data = base64.b64decode(text)
    return {data[start : start + KEY_BYTES] for start in range(0, len(data), KEY_BYTES)}


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


def read_sitemap(page: Page, source: Source) -> SitemapContent:
    """A urlset's article links (with lastmod, each once) or a sitemap index's child sitemaps on the
    same host."""
    read = SitemapRead()
    children, entries = sitemap_entries(page, source, read)
    unique: dict[str, Link] = {}
    for entry in entries:
        unique.setdefault(entry.link.url, entry.link)  # a repeated URL: the first one stands
    if read.broken is not None:
        raise read.broken
    return SitemapContent(links=list(unique.values()), sitemaps=children)


def sitemap_entries(page: Page, source: Source, read: SitemapRead) -> tuple[list[str], Iterator[SitemapEntry]]:
    """(child sitemaps, article links): a sitemap index has only the first, a urlset only the second,
    read one by one as they are asked for from the (decompressed) stream, the elements dropped as
    they are read, so a sitemap of any size is held neither as a tree nor as Python objects. A page that is not
    a sitemap raises DiscoverError at once; a urlset that breaks off later ends its links there, the
    break kept in `read` (see SitemapRead, which also says which entries are passed by)."""
    events = etree.iterparse(
        _Bounded(_stream(page.body), page.url),
        tag=SITEMAP_TAGS,  # libxml2 passes over the rest (a <url>'s loc and lastmod are read from it)
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        recover=False,
    )
    with _broken_off(page.url):
        first = next(events, None)  # the first complete <url> or <sitemap>, or the end
    root = first[1].getroottree().getroot() if first is not None else events.root
    if first is not None:
        events = itertools.chain([first], events)
    tag = etree.QName(root).localname if root is not None else "nothing"
    if tag == "sitemapindex":
        children: list[str] = []
        for texts in _entries(events, page.url, "sitemap"):
            url = join_url(page.final_url, _loc(texts))
            if url and web_url(url) is None and urlsplit(url).netloc.lower() == source.host and url not in children:
                children.append(url)
        return children, iter(())
    if tag != "urlset":
        raise DiscoverError(
            f"{page.url} is not a sitemap (root element <{tag}>)",
            "discovery.sitemap must name a sitemap or sitemap index",
        )
    return [], _urlset_links(_entries(events, page.url, "url"), page, source, read)


def _urlset_links(
    entries: Iterator[dict[str, str | None]], page: Page, source: Source, read: SitemapRead
) -> Iterator[SitemapEntry]:
    known, passed_urls, passed_keys, fetched = read.known, read.passed_urls, read.passed_keys, page.fetched_at
    key_of = SitemapEntry.key_of
    try:
        for texts in entries:
            loc = _loc(texts)
            lastmod = texts.get(LASTMOD) or texts.get("lastmod")
            key = key_of(loc, lastmod)
            if key in known:  # the URL checks below and the lastmod are what made it known
                passed_urls.append(loc)
                passed_keys.append(key)
                continue
            # Sitemap URLs are absolute by the protocol: urljoin (costly, at 10,000 URLs) only for the others.
            joined = loc if loc.startswith(("http://", "https://")) else join_url(page.final_url, loc)
            url = article_url(joined, source) if joined else None
            if url:
                when = parse_lastmod(lastmod, fetched)
                later = when is None and bool(lastmod) and str(lastmod).strip()[:10] >= fetched.date().isoformat()
                yield SitemapEntry(
                    Link(url=url, found_on=page.url, lastmod=when), None if later or url != loc else key, not later
                )
    except DiscoverError as error:  # it broke off: the links before the break stand
        read.broken = error


def _loc(texts: dict[str, str | None]) -> str:
    return (texts.get(LOC) or texts.get("loc") or "").strip()


def _entries(events: Iterator[tuple[str, etree._Element]], url: str, name: str) -> Iterator[dict[str, str | None]]:
    """The texts of each complete element called `name` (in the sitemaps namespace or none) by their
    tags, bounded in number; each element is dropped from the tree (with what came before it) once
    read. What breaks off the stream is DiscoverError."""
    tags, count = {f"{SITEMAP_NS}{name}", name}, 0
    with _broken_off(url):
        for _, element in events:
            if element.tag not in tags:
                continue
            count += 1
            if count > MAX_SITEMAP_ENTRIES:
                raise DiscoverError(f"sitemap {url} lists more than {MAX_SITEMAP_ENTRIES} entries")
            texts = {child.tag: child.text for child in element}  # (one pass: findtext is dear at 50,000)
            element.clear()
            if count % DROPPED_AT_ONCE == 0 and (parent := element.getparent()) is not None:
                del parent[: parent.index(element)]
            yield texts


@contextmanager
def _broken_off(url: str) -> Iterator[None]:
    """What breaks off the stream (bad XML, bad gzip, too many bytes) as DiscoverError naming the sitemap."""
    try:
        yield
    except etree.XMLSyntaxError as error:
        raise DiscoverError(
            f"sitemap {url} is not well-formed XML: {error}", "check the sitemap URL in discovery.sitemap"
        ) from None
    except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        raise DiscoverError(f"sitemap {url} is not valid gzip: {error}") from None


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


def _stream(body: bytes) -> io.BufferedIOBase:
    """The sitemap's bytes as a stream, decompressed as it is read when gzipped (sitemap.xml.gz)."""
    raw = io.BytesIO(body)
    return gzip.GzipFile(fileobj=raw, mode="rb") if body.startswith(b"\x1f\x8b") else raw


class _Bounded:
    """A stream refused past MAX_SITEMAP_BYTES, however little was sent: a gzip bomb expands no further."""

    def __init__(self, stream: io.BufferedIOBase, url: str) -> None:
        self.stream, self.url, self.read_so_far = stream, url, 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(MAX_SITEMAP_BYTES + 1 if size < 0 else min(size, MAX_SITEMAP_BYTES + 1))
        self.read_so_far += len(data)
        if self.read_so_far > MAX_SITEMAP_BYTES:
            raise DiscoverError(f"sitemap {self.url} expands to more than {MAX_SITEMAP_BYTES} bytes")
        return data


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
