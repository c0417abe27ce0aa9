"""A plainly written urlset, read without a Python step per entry where it can be.

Most sites write their sitemap plainly: UTF-8, each <url> a <loc> and perhaps a <lastmod>, nothing else.
Such a sitemap is checked by libxml2 (no Python per element) and its entries cut out by a regular
expression. Any other sitemap (an entity, a comment, CDATA, other elements, another encoding) is read by
the stream reader (pipeline/discover/sitemap.py), which must yield the same for every sitemap.

A read keeps a slot for each entry, in the sitemap's order: the key of an entry it settled (see
SitemapEntry), NOT_A_LINK for one that is no article link, NO_KEY for the others. When the sitemap
changes, the new copy is compared with the one that read was made of: the entries before the first
changed byte and after the last are the same entries, so their slots carry over (only those with
NO_KEY are looked at again), and only the entries between are checked and looked at one by one. A
sitemap of 50,000 URLs that gained one is read in about 20 ms instead of 130."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import zlib
from array import array
from dataclasses import dataclass, field
from typing import cast

from lxml import etree

KEY_BYTES = 8  # an entry's key: a digest of its loc and lastmod (see SitemapEntry)
NO_KEY = bytes(KEY_BYTES)  # the slot of an entry to look at again: not settled (or not looked at)
NOT_A_LINK = b"\xff" * KEY_BYTES  # the slot of an entry that is no article link (so no key is), as written
MAX_SITEMAP_ENTRIES = 500_000  # ten times the protocol's 50,000 URLs: a bound on the work, not on real sitemaps
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
PLAIN_MAX_BYTES = 16 * 1024 * 1024  # decompressed, held whole: a bigger sitemap is read as a stream
# (WordPress and Yoast put a stylesheet instruction after the declaration, for browsers.)
_PLAIN_HEAD = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:<\?xml\s(?P<declaration>[^<>]*)\?>)?(?:\s*<\?xml-stylesheet\s[^<>]*\?>)*\s*<urlset[^<>]*>"
)
_PLAIN_ENCODING = re.compile(rb"\bencoding\s*=\s*[\"'](?:utf|UTF)-8[\"']")
_PLAIN_ENTRY = re.compile(rb"<url>\s*<loc>([^<]*)</loc>\s*(<lastmod>[^<]*</lastmod>\s*)?</url>")
_PLAIN_TAIL = re.compile(rb"</urlset>\s*\Z")
_LOC = re.compile(r"<loc>([^<]*)</loc>")  # (read from text: ASCII, decoded at once)
ENTRY, END = b"<url>", b"</url>"
LOCS_AT_ONCE = 512 * 1024
_NOT_A_LINK = int.from_bytes(NOT_A_LINK, "little")  # as a slot reads as a number (any byte order)


def key_of(loc: bytes, lastmod: bytes) -> bytes:
    """SitemapEntry.key_of of a plain entry's stripped loc and lastmod text."""
    return hashlib.blake2b(loc + b"\x1f" + lastmod, digest_size=KEY_BYTES).digest()


def decompressing(body: bytes) -> io.BufferedIOBase:
    """The sitemap's bytes as a stream, decompressed as it is read when gzipped (sitemap.xml.gz)."""
    raw = io.BytesIO(body)
    return gzip.GzipFile(fileobj=raw, mode="rb") if body.startswith(b"\x1f\x8b") else raw


@dataclass
class PlainRead:
    """A plain urlset's entries to look at (slot, loc, <lastmod> element), those of `settled` passed by:
    their URLs in `passed_urls`, their keys in `slots` (KEY_BYTES each, in order; NO_KEY for the rest)."""

    slots: bytearray
    entries: list[tuple[int, bytes, bytes]] = field(default_factory=list)
    passed_urls: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Plain:
    data: bytes  # decompressed
    start: int  # where its entries begin: after the root's start tag
    end: int  # where they end: at the root's end tag


class _Nothing:
    """A parser target that keeps nothing: lxml calls only the methods a target has, so libxml2 checks
    the document with no Python per element (the type is lxml-stubs' ParserTarget, which lists them all)."""

    def close(self) -> None:
        return None


def read_plain(body: bytes, settled: bytes, previous: bytes | None) -> PlainRead | None:
    """`body` read as a plain urlset, or None when it is not one. `settled`: the slots of the last read
    when `previous` is the body it was made of (else any keys of settled entries, in any order)."""
    plain = _plain(body)
    if plain is None:
        return None
    if previous is not None and (old := _plain(previous)) is not None:
        changed = _read_changes(plain, old, settled)
        if changed is not None:
            return changed
    entries = _checked(plain, plain.start, plain.end)
    if entries is None:
        return None
    read = PlainRead(bytearray(KEY_BYTES * len(entries)))
    _sort(read, entries, 0, keys_in(settled))
    return read


def _plain(body: bytes) -> _Plain | None:
    """The sitemap decompressed, if it is a urlset that may be plain (its entries are checked apart)."""
    try:
        data = decompressing(body).read(PLAIN_MAX_BYTES + 1)
    except (OSError, EOFError, zlib.error):
        return None  # the stream reader says what is wrong with it
    # (Only the last end tag may be followed by nothing but space: a search would try every byte.)
    head, tail = _PLAIN_HEAD.match(data), _PLAIN_TAIL.match(data, max(data.rfind(b"</urlset>"), 0))
    if len(data) > PLAIN_MAX_BYTES or head is None or tail is None or tail.start() < head.end():
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
    # No entity, no carriage return (XML turns \r\n into \n), ASCII (so that bytes strip as text does).
    if data.find(b"&", head.end(), tail.start()) >= 0 or data.find(b"\r", head.end(), tail.start()) >= 0:
        return None
    if not data.isascii() and not data[head.end() : tail.start()].isascii():  # (the first: no copy)
        return None
    return _Plain(data, head.end(), tail.start())


def _checked(plain: _Plain, start: int, end: int) -> list[tuple[bytes, bytes]] | None:
    """The entries between `start` and `end` (entry boundaries), or None when that part is not plain.
    Every "<" is in an entry (nothing else, a comment, CDATA, another element, is in the urlset), and
    the document with only that part of its entries is well-formed."""
    data = plain.data
    entries: list[tuple[bytes, bytes]] = _PLAIN_ENTRY.findall(data, start, end)
    if len(entries) > MAX_SITEMAP_ENTRIES or data.count(b"<", start, end) != sum(
        6 if lastmod else 4 for _, lastmod in entries
    ):
        return None
    parser = etree.XMLParser(
        target=cast("etree.ParserTarget", _Nothing()), resolve_entities=False, no_network=True, huge_tree=False
    )
    try:
        for part in (data[: plain.start], data[start:end], data[plain.end :]):
            parser.feed(part)
        parser.close()
    except etree.XMLSyntaxError:
        return None
    return entries


def _sort(read: PlainRead, entries: list[tuple[bytes, bytes]], first: int, known: set[bytes]) -> None:
    """Pass by the entries (slots from `first`) whose keys are `known`; keep the others to look at."""
    slots, passed, kept = read.slots, read.passed_urls, read.entries
    for slot, (loc, element) in enumerate(entries, start=first):
        key = key_of(loc.strip(), element.strip()[9:-10])
        if key in known:
            slots[slot * KEY_BYTES : (slot + 1) * KEY_BYTES] = key
            passed.append(loc.strip().decode())
        else:
            kept.append((slot, loc, element))


def keys_in(slots: bytes) -> set[bytes]:
    """The keys of the settled entries in `slots` (or in a list of keys)."""
    return {slots[at : at + KEY_BYTES] for at in range(0, len(slots), KEY_BYTES)} - {NO_KEY, NOT_A_LINK}


def _read_changes(plain: _Plain, old: _Plain, settled: bytes) -> PlainRead | None:
    """The read of `plain` from that of `old`, whose slots are `settled`: None when they do not fit it,
    or its root's start tag or what follows its entries changed."""
    new, prior = plain.data, old.data
    if len(settled) % KEY_BYTES or plain.start != old.start or new[: plain.start] != prior[: old.start]:
        return None
    head = _same_head(new, prior, min(plain.end, old.end))
    tail = _same_tail(new, prior, min(len(new), len(prior)) - head)
    if tail < len(new) - plain.end or tail < len(prior) - old.end:
        return None
    # The changed part, widened to whole entries: from the last entry whose start tag lies wholly in the
    # same head, to the end of the first that ends past the last changed byte (or the entries' ends).
    # Both ends must be entries' bounds in the old copy too: a <url> that begins where the copies part, or
    # a </url> written over the old copy's bytes, may stand inside an old entry, and the new copy would
    # be read as plain with half an entry left over before or after the part checked.
    start = max(new.rfind(ENTRY, plain.start, head), plain.start)
    last = len(new) - tail - 1
    end = new.find(END, max(start, last - len(END) + 1), plain.end)
    end = plain.end if end < 0 else end + len(END)
    shift = len(prior) - len(new)
    entries = _checked(plain, start, end) if end == plain.end or prior.endswith(END, 0, end + shift) else None
    if entries is None:
        return None
    # A plain entry has one <loc>, and only an entry has one: the locs before and after are the entries.
    before, after = _locs(new, plain.start, start), _locs(new, end, plain.end)
    count, replaced = len(settled) // KEY_BYTES, prior.count(ENTRY, start, end + shift)
    if len(before) + replaced + len(after) != count or len(before) + len(entries) + len(after) > MAX_SITEMAP_ENTRIES:
        return None
    slots = bytearray(settled[: KEY_BYTES * len(before)])
    slots += bytes(KEY_BYTES * len(entries)) + settled[KEY_BYTES * (count - len(after)) :]
    read = PlainRead(slots)
    if not _pass(read, new, plain.start, before, 0):
        return None
    known = keys_in(settled[KEY_BYTES * len(before) : KEY_BYTES * (len(before) + replaced)])
    _sort(read, entries, len(before), known)
    return read if _pass(read, new, end, after, len(before) + len(entries)) else None


def _locs(data: bytes, start: int, end: int) -> list[str]:
    """The locs of the entries between `start` and `end` (entries' bounds), decoded a part of about
    LOCS_AT_ONCE bytes at a time, where they lie: one string of the 8 MB of a 50,000-URL sitemap would
    be 2,000 more pages of memory to fault in (about 6 ms)."""
    view, locs = memoryview(data), []
    while start < end:
        cut = data.find(END, min(start + LOCS_AT_ONCE, end), end)
        cut = end if cut < 0 else cut + len(END)
        locs += _LOC.findall(str(view[start:cut], "ascii"))
        start = cut
    return locs


def _pass(read: PlainRead, data: bytes, start: int, locs: list[str], first: int) -> bool:
    """The entries from byte `start` (their `locs`), whose slots begin at `first`, as the last read left
    them: the settled ones passed by, those with NO_KEY kept to look at, the others (no links) left.
    The few slots that are not keys are found by list.index (no Python step per entry), and only the
    entries kept are cut out whole, found by counting entries from the last one found."""
    keys = array("Q", read.slots[KEY_BYTES * first : KEY_BYTES * (first + len(locs))])  # (no object per slot)
    if len(keys) != len(locs):  # (never: the caller counted the slots)
        return False
    again, passed, begin = _places(keys, 0), read.passed_urls, 0
    for index in sorted(again + _places(keys, _NOT_A_LINK)):
        passed += map(str.strip, locs[begin:index])
        begin = index + 1
    passed += map(str.strip, locs[begin:])
    at, counted = start - 1, -1
    for index in again:
        for _ in range(index - counted):
            at = data.find(ENTRY, at + 1)
        counted = index
        entry = _PLAIN_ENTRY.match(data, at)
        if entry is None:  # (never: that part was read as plain, and every entry of it matched)
            return False
        read.entries.append((first + index, entry[1], entry[2] or b""))
    return True


def _places(values: array[int], value: int) -> list[int]:
    """Where `value` is in `values`, in order."""
    places: list[int] = []
    try:
        while True:
            places.append(values.index(value, places[-1] + 1 if places else 0))
    except ValueError:
        return places


def _same_head(a: bytes, b: bytes, limit: int) -> int:
    """How many first bytes `a` and `b` have in common, up to `limit`: found by halves, each half
    compared where it lies (a slice of megabytes would be copied, page faults and all)."""
    low, high, view = 0, limit, memoryview(b)
    while low < high:
        middle = (low + high + 1) // 2
        if a.startswith(view[low:middle], low):
            low = middle
        else:
            high = middle - 1
    return low


def _same_tail(a: bytes, b: bytes, limit: int) -> int:
    """How many last bytes `a` and `b` have in common, up to `limit`."""
    low, high, size_a, size_b, view = 0, limit, len(a), len(b), memoryview(b)
    while low < high:
        middle = (low + high + 1) // 2
        if a.startswith(view[size_b - middle : size_b - low], size_a - middle):
            low = middle
        else:
            high = middle - 1
    return low
