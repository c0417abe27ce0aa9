"""A sitemap (or sitemap index) -> its article links, read as a stream with its own bounds. Pure: the
page comes in as bytes; nothing is fetched here."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import zlib
from collections.abc import Container, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from urllib.parse import urlsplit

from lxml import etree

from pipeline.bounds import date_problem, join_url, web_url
from pipeline.discover.links import article_url
from pipeline.discover.plain_sitemap import (
    KEY_BYTES,
    MAX_SITEMAP_ENTRIES,
    NOT_A_LINK,
    SITEMAP_NS,
    decompressing,
    keys_in,
    read_plain,
)
from pipeline.errors import DiscoverError
from pipeline.model import Link, Page, Source

# The sitemaps.org limit for one sitemap (50,000 URLs), uncompressed: a sitemap's own bound, as sent and as
# read, in place of the source's max_bytes (meant for pages), which a sitemap of 32,000 URLs outgrows.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
SITEMAP_TAGS = tuple(f"{ns}{name}" for ns in (SITEMAP_NS, "") for name in ("url", "sitemap"))
LOC, LASTMOD = f"{SITEMAP_NS}loc", f"{SITEMAP_NS}lastmod"
SLOTS = "entry_keys"  # what a plain urlset's read keeps: a slot per entry (its previous body is compared)
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
    slot: int | None = None  # its place among a plain urlset's entries (see SitemapRead)

    @staticmethod
    def key_of(loc: str, lastmod: str | None) -> bytes:
        return hashlib.blake2b(f"{loc}\x1f{lastmod or ''}".encode(), digest_size=KEY_BYTES).digest()


@dataclass
class SitemapRead:
    """One read of a urlset, as it goes. `settled`: the keys of the entries the last read settled (they
    need no request now, nor later as written: see SitemapEntry); such an entry is passed by, its loc
    (its link's URL) kept in `passed_urls`: at 50,000 entries, strings instead of links halve the cost
    of reading a sitemap that gained one. `previous`: the body that read was made of, when it was a
    plain urlset and `settled` has a slot for each of its entries (see pipeline/discover/plain_sitemap.py).
    `broken`: where the stream broke off, once its entries are read (those before the break stand)."""

    settled: bytes = b""
    previous: bytes | None = None
    passed_urls: list[str] = field(default_factory=list)
    broken: DiscoverError | None = None
    slots: bytearray | None = None  # a plain read's: the key of each entry it settled, in order (NO_KEY: none)
    settled_keys: list[bytes] = field(default_factory=list)  # a stream read's: the keys of those it settled

    @classmethod
    def after(cls, found: dict[str, object], previous: bytes | None) -> SitemapRead:
        """A read that follows the one that found `found` (see `found`) in `previous`."""
        if SLOTS in found:  # (slots that are not as kept are read as keys alone: see found)
            slots = _stored_keys(found[SLOTS])
            return cls(slots, previous if found.get("entry_sum") == _sum(slots) else None)
        return cls(_stored_keys(found.get("settled_keys", "")))

    @cached_property
    def known(self) -> set[bytes]:
        return keys_in(self.settled)

    def settle(self, entry: SitemapEntry) -> None:
        """`entry` needs no request now: the next read passes it by, as long as it is written the same."""
        if entry.key is None:
            return
        if self.slots is not None and entry.slot is not None:
            self.slots[entry.slot * KEY_BYTES : (entry.slot + 1) * KEY_BYTES] = entry.key
        else:
            self.settled_keys.append(entry.key)

    def not_a_link(self, slot: int | None) -> None:
        """The plain entry in `slot` is no article link: the next read passes it by, if written the same."""
        if self.slots is not None and slot is not None:
            self.slots[slot * KEY_BYTES : (slot + 1) * KEY_BYTES] = NOT_A_LINK

    def found(self) -> dict[str, object]:
        """What the next read needs of this one (plain JSON data)."""
        if self.slots is not None:  # (with a sum: one damaged slot would pass by an entry to look at)
            return {SLOTS: base64.b64encode(self.slots).decode(), "entry_sum": _sum(self.slots)}
        return {"settled_keys": base64.b64encode(b"".join(self.settled_keys)).decode()}


def _stored_keys(text: object) -> bytes:
    """Keys kept by a read (base64), or none when they cannot be read (a store edited by hand): every
    entry is then read afresh, and the read that follows keeps them again."""
    try:
        return base64.b64decode(text, validate=True) if isinstance(text, str) else b""
    except ValueError:  # (binascii.Error)
        return b""


def _sum(slots: bytes | bytearray) -> str:
    return hashlib.blake2b(slots, digest_size=KEY_BYTES).hexdigest()


@dataclass(frozen=True)
class SitemapContent:
    links: list[Link]
    sitemaps: list[str]  # child sitemaps of a sitemap index, on the source's host


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
    plain = read_plain(page.body, read.settled, read.previous)
    if plain is not None:
        read.slots, read.passed_urls = plain.slots, read.passed_urls + plain.passed_urls
        entries = (
            (slot, {LOC: loc.decode(), LASTMOD: element.strip()[9:-10].decode() or None})
            for slot, loc, element in plain.entries
        )
        return [], _urlset_links(entries, page, source, read, frozenset())  # (plain passed the known ones)
    events = etree.iterparse(
        _Bounded(decompressing(page.body), page.url),
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
    streamed = ((None, texts) for texts in _entries(events, page.url, "url"))
    return [], _urlset_links(streamed, page, source, read, read.known)


def _urlset_links(
    entries: Iterator[tuple[int | None, dict[str, str | None]]],
    page: Page,
    source: Source,
    read: SitemapRead,
    known: Container[bytes],
) -> Iterator[SitemapEntry]:
    passed_urls, settled_keys, fetched = read.passed_urls, read.settled_keys, page.fetched_at
    key_of = SitemapEntry.key_of
    try:
        for slot, texts in entries:
            loc = _loc(texts)
            lastmod = texts.get(LASTMOD) or texts.get("lastmod")
            key = key_of(loc, lastmod)
            if key in known:  # the URL checks below and the lastmod are what made it known
                passed_urls.append(loc)
                settled_keys.append(key)
                continue
            # Sitemap URLs are absolute by the protocol: urljoin (costly, at 10,000 URLs) only for the others.
            absolute = loc.startswith(("http://", "https://"))
            joined = loc if absolute else join_url(page.final_url, loc)
            url = article_url(joined, source) if joined else None
            if url:
                when = parse_lastmod(lastmod, fetched)
                later = when is None and bool(lastmod) and str(lastmod).strip()[:10] >= fetched.date().isoformat()
                link = Link(url=url, found_on=page.url, lastmod=when)
                yield SitemapEntry(link, None if later or url != loc else key, not later, slot)
            elif absolute:  # (a relative one is looked at again: the sitemap may answer from elsewhere then)
                read.not_a_link(slot)
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
