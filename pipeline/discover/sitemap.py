"""A sitemap (or sitemap index) -> its article links, read as a stream with its own bounds. Pure: the
page comes in as bytes; nothing is fetched here."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import itertools
import re
import zlib
from collections.abc import Container, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast
from urllib.parse import urlsplit

from lxml import etree

from pipeline.bounds import date_problem, join_url, web_url
from pipeline.discover.links import article_url
from pipeline.errors import DiscoverError
from pipeline.model import Link, Page, Source

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
    plain = _plain_urlset(page.body)
    if plain is not None:
        return [], _urlset_links(_plain_entries(plain, read), page, source, read)
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


# Most sites write their sitemap plainly: UTF-8, each <url> a <loc> and perhaps a <lastmod>, nothing else.
# Such a sitemap is checked whole by libxml2 (no Python per element) and its entries cut out by a regular
# expression, so that an entry known already costs a digest, not an element's worth of Python: a sitemap
# of 50,000 URLs that gained one is read in about 0.1 s rather than 0.2 s, of a sync of about 0.9 s. Any
# other sitemap (an entity, a comment, CDATA, other elements, another encoding) is read by the stream.
PLAIN_MAX_BYTES = 16 * 1024 * 1024  # decompressed, held whole: a bigger sitemap is read as a stream
# (WordPress and Yoast put a stylesheet instruction after the declaration, for browsers.)
_PLAIN_HEAD = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:<\?xml\s(?P<declaration>[^<>]*)\?>)?(?:\s*<\?xml-stylesheet\s[^<>]*\?>)*\s*<urlset[^<>]*>"
)
_PLAIN_ENCODING = re.compile(rb"\bencoding\s*=\s*[\"'](?:utf|UTF)-8[\"']")
_PLAIN_ENTRY = re.compile(rb"<url>\s*<loc>([^<]*)</loc>\s*(<lastmod>[^<]*</lastmod>\s*)?</url>")
_PLAIN_TAIL = re.compile(rb"</urlset>\s*\Z")


class _Nothing:
    """A parser target that keeps nothing: lxml calls only the methods a target has, so libxml2 checks
    the document with no Python per element (the type is lxml-stubs' ParserTarget, which lists them all)."""

    def close(self) -> None:
        return None


def _plain_urlset(body: bytes) -> list[tuple[bytes, bytes]] | None:
    """The (loc, <lastmod> element) of each entry of a plain urlset (see above), or None."""
    try:
        data = _stream(body).read(PLAIN_MAX_BYTES + 1)
    except (OSError, EOFError, zlib.error):
        return None  # the stream reader says what is wrong with it
    head, tail = _PLAIN_HEAD.match(data), _PLAIN_TAIL.search(data)
    if len(data) > PLAIN_MAX_BYTES or head is None or tail is None:
        return None
    declaration = head["declaration"] or b""
    if b"encoding" in declaration and not _PLAIN_ENCODING.search(declaration):
        return None
    try:  # the root as libxml2 names it (its namespace), from its start tag alone
        root = etree.fromstring(data[: head.end()] + b"</urlset>", etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError:
        return None
    if root.tag not in (f"{SITEMAP_NS}urlset", "urlset"):
        return None
    content = data[head.end() : tail.start()]
    # No entity, no carriage return (XML turns \r\n into \n), ASCII (so that bytes strip as text does).
    if b"&" in content or b"\r" in content or not content.isascii():
        return None
    entries: list[tuple[bytes, bytes]] = _PLAIN_ENTRY.findall(content)
    # Every "<" is in an entry: nothing else (a comment, CDATA, another element) is in the urlset.
    if len(entries) > MAX_SITEMAP_ENTRIES or content.count(b"<") != sum(6 if lastmod else 4 for _, lastmod in entries):
        return None
    parser = etree.XMLParser(
        target=cast("etree.ParserTarget", _Nothing()), resolve_entities=False, no_network=True, huge_tree=False
    )
    try:
        parser.feed(data)
        parser.close()
    except etree.XMLSyntaxError:
        return None
    return entries


def _plain_entries(entries: list[tuple[bytes, bytes]], read: SitemapRead) -> Iterator[dict[str, str | None]]:
    """The entries as the stream reader gives them, passing by those `read` knows (see SitemapRead)."""
    digest, known = hashlib.blake2b, read.known
    for loc, element in entries:
        lastmod = element.strip()[9:-10]
        key = digest(loc.strip() + b"\x1f" + lastmod, digest_size=KEY_BYTES).digest()  # SitemapEntry.key_of
        if key in known:
            read.passed_urls.append(loc.strip().decode())
            read.passed_keys.append(key)
        else:
            yield {LOC: loc.decode(), LASTMOD: lastmod.decode() or None}


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
