"""A plainly written sitemap is read without a Python step per known entry (pipeline/discover/sitemap.py):
what it yields must be exactly what the stream reader yields, for every sitemap, plain or not. Random
sitemaps mix what real ones hold (whitespace, missing and empty lastmods, foreign and relative links,
repeats, dates in the future) with what makes one not plain (a comment, CDATA, an entity, another
element, a prefix, another encoding, CRLF, non-ASCII), and each is read both ways."""

from __future__ import annotations

import gzip
import random
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from pipeline.config import load_config
from pipeline.discover import SitemapEntry, SitemapRead, sitemap_entries
from pipeline.discover import sitemap as reader
from pipeline.discover.plain_sitemap import KEY_BYTES, NO_KEY, NOT_A_LINK, read_plain
from pipeline.errors import DiscoverError
from pipeline.model import Link, Page, Source
from tests.helpers import REPO_ROOT

SITE = "https://www.immigration.govt.nz"
NEWS = SITE + "/about-us/news-centre/"
NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
FETCHED = datetime(2026, 7, 13, tzinfo=UTC)


def inz_source() -> Source:
    return load_config(REPO_ROOT / "sources.yaml").source("inz")


def page(body: bytes) -> Page:
    return Page(SITE + "/sitemap.xml", SITE + "/sitemap.xml", 200, {}, body, FETCHED)


@dataclass(frozen=True)
class Read:
    children: list[str]
    entries: list[tuple[Link, bytes | None, bool]]  # (an entry's place among a plain urlset's is not compared)
    passed_urls: list[str]
    passed_keys: list[bytes]  # in their order
    broken: str | None


def slot_keys(slots: bytes | bytearray) -> list[bytes]:
    keys = [bytes(slots[at : at + KEY_BYTES]) for at in range(0, len(slots), KEY_BYTES)]
    return [key for key in keys if key not in (NO_KEY, NOT_A_LINK)]


def read_with(body: bytes, known: frozenset[bytes]) -> Read | str:
    read = SitemapRead(b"".join(sorted(known)))
    try:
        children, entries = sitemap_entries(page(body), inz_source(), read)
        listed = [(entry.link, entry.key, entry.lasting) for entry in entries]
    except DiscoverError as error:
        return error.message
    broken = read.broken.message if read.broken else None
    passed = read.settled_keys if read.slots is None else slot_keys(read.slots)
    return Read(children, listed, read.passed_urls, passed, broken)


LOCS = [
    NEWS + "visa-fees-change/",
    NEWS + "green-list-update/",
    f"  {NEWS}padded/ ",
    f"\n\t{NEWS}on-its-own-line/\n",
    "https://example.org/about-us/news-centre/foreign/",
    "/about-us/news-centre/relative/",
    SITE + "/visas/not-an-article/",
    NEWS + "same/",
    NEWS + "same/",
]
LASTMODS = [None, "", "2026-07-01", "2026-07-10T09:30:00+12:00", " 2026-07-02 ", "2027-01-01", "yesterday"]
NOT_PLAIN = [  # (what, entry text): each makes the sitemap one the stream reader reads
    ("a comment", "<!-- moved --><url><loc>{loc}</loc></url>"),
    ("CDATA", "<url><loc><![CDATA[{loc}]]></loc></url>"),
    ("an entity", "<url><loc>{loc}?a=1&amp;b=2</loc></url>"),
    ("another element", "<url><loc>{loc}</loc><changefreq>daily</changefreq></url>"),
    ("lastmod first", "<url><lastmod>2026-07-01</lastmod><loc>{loc}</loc></url>"),
    ("CRLF", "<url>\r\n<loc>{loc}</loc>\r\n</url>"),
    ("non-ASCII", "<url><loc>{loc}māori/</loc></url>"),
    ("an attribute", '<url id="1"><loc>{loc}</loc></url>'),
]


def random_sitemap(rng: random.Random) -> bytes:
    entries = []
    for _ in range(rng.randint(0, 12)):
        loc, lastmod = rng.choice(LOCS), rng.choice(LASTMODS)
        element = "" if lastmod is None else f"<lastmod>{lastmod}</lastmod>"
        space = rng.choice(["", "\n", "\n  ", " "])
        entries.append(f"<url>{space}<loc>{loc}</loc>{space}{element}{space}</url>")
    if rng.random() < 0.3:
        entries.insert(rng.randint(0, len(entries)), rng.choice(NOT_PLAIN)[1].format(loc=NEWS + "odd/"))
    namespace = rng.choice(
        [
            f' xmlns="{NS}"',
            f" xmlns='{NS}'",
            "",
            ' xmlns="http://example.org/other"',
            f' note=\' xmlns="{NS}"\' xmlns="http://example.org/other"',  # the namespace is the attribute's
            f' xmlns="{NS}" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"',
        ]
    )
    stylesheet = '<?xml-stylesheet type="text/xsl" href="//example.org/sitemap.xsl"?>\n'
    declaration = rng.choice(
        ["", '<?xml version="1.0"?>\n', '<?xml version="1.0" encoding="UTF-8"?>\n' + stylesheet, stylesheet]
    )
    if rng.random() < 0.1:
        declaration = '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
    text = f"{declaration}<urlset{namespace}>\n" + "\n".join(entries) + "\n</urlset>\n"
    if rng.random() < 0.1:
        text = text.replace("<url>", "<sm:url>").replace("</url>", "</sm:url>").replace("<urlset", "<sm:urlset")
        text = text.replace("</urlset>", "</sm:urlset>").replace(namespace, f' xmlns:sm="{NS}"')
    if rng.random() < 0.1:
        text = text[: rng.randint(0, len(text))]  # broken off
    body = text.encode("utf-8")
    return gzip.compress(body) if rng.random() < 0.2 else body


def test_a_plain_sitemap_yields_what_the_stream_reader_yields(monkeypatch: pytest.MonkeyPatch) -> None:
    rng, plain = random.Random(20261206), 0
    for _ in range(400):
        body = random_sitemap(rng)
        with monkeypatch.context() as patched:
            patched.setattr(reader, "read_plain", lambda *_: None)
            streamed = read_with(body, frozenset())
            keys = [key for _, key, _ in streamed.entries if key] if isinstance(streamed, Read) else []
            known = frozenset(key for key in keys if rng.random() < 0.6)
            expected = read_with(body, known)
        plain += read_plain(body, b"", None) is not None
        assert read_with(body, known) == expected, body
    assert plain > 100  # the comparison is worth something only when the plain reading is taken often


@pytest.mark.parametrize(("what", "entry"), NOT_PLAIN, ids=[what for what, _ in NOT_PLAIN])
def test_what_is_not_plain_is_left_to_the_stream_reader(what: str, entry: str) -> None:
    plain = f'<urlset xmlns="{NS}"><url><loc>{NEWS}a/</loc><lastmod>2026-07-01</lastmod></url></urlset>'
    assert read_plain(plain.encode(), b"", None) is not None
    odd = plain.replace("</urlset>", entry.format(loc=NEWS + "b/") + "</urlset>")
    assert read_plain(odd.encode(), b"", None) is None


def test_a_known_entry_of_a_plain_sitemap_is_passed_by_without_reading_it_as_an_element(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = f'<urlset xmlns="{NS}"><url><loc> {NEWS}a/ </loc><lastmod>2026-07-01</lastmod></url></urlset>'.encode()
    key = SitemapEntry.key_of(NEWS + "a/", "2026-07-01")
    examined: list[str] = []

    def key_of(loc: str, lastmod: str | None) -> bytes:
        examined.append(loc)
        return key

    monkeypatch.setattr(SitemapEntry, "key_of", key_of)
    read = read_with(body, frozenset({key}))
    assert isinstance(read, Read)
    assert (read.entries, read.passed_urls, read.passed_keys, examined) == ([], [NEWS + "a/"], [key], [])
    monkeypatch.undo()
    fresh = read_with(body, frozenset())
    assert isinstance(fresh, Read) and [entry_key for _, entry_key, _ in fresh.entries] == [key]
    assert fresh.entries[0][0].url == NEWS + "a/"


ENTRY = f"<url><loc>{NEWS}a/</loc><lastmod>2026-07-01</lastmod></url>"
PLAIN = f'<urlset xmlns="{NS}">{ENTRY}</urlset>'.encode()
EDGES = {  # bodies at the edges of "plain": each read both ways gives the same, whether plain or not
    "a byte order mark and a standalone declaration": b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8" '
    b'standalone="yes"?>' + PLAIN,
    "a stylesheet instruction in place of a declaration": b'<?xml-stylesheet href="s.xsl"?>\n' + PLAIN,
    "a declaration that is not one": b'<?xml encoding="utf-8"?>' + PLAIN,
    "whitespace before the declaration": b' <?xml version="1.0"?>' + PLAIN,
    "an undeclared prefix on the root": PLAIN.replace(b"<urlset ", b'<urlset s:a="1" '),
    "a repeated attribute on the root": PLAIN.replace(b"<urlset ", b'<urlset a="1" a="2" '),
    "xml:base": PLAIN.replace(b"<urlset ", b'<urlset xml:base="https://example.org/" '),
    "a self-closed root": f'<urlset xmlns="{NS}"/>'.encode(),
    "text between entries": PLAIN.replace(b"</urlset>", b" odd > text " + ENTRY.encode() + b"</urlset>"),
    "']]>' between entries": PLAIN.replace(b"</urlset>", b"]]>" + ENTRY.encode() + b"</urlset>"),
    "a nested urlset": PLAIN.replace(b"</urlset>", b"<urlset>" + ENTRY.encode() + b"</urlset></urlset>"),
    "a comment after the root": PLAIN + b"<!-- end -->",
    "a second root": PLAIN + PLAIN,
    "the end tag twice": PLAIN + b"</urlset>",
    "space after the end tag": PLAIN + b" \n\t",
    "an end tag inside the last entry": PLAIN.replace(b"</lastmod>", b"</urlset></lastmod>"),
    "non-ASCII in the root's start tag": PLAIN.replace(b"<urlset ", '<urlset a="é" '.encode()),
    "non-ASCII in an entry": PLAIN.replace(b"/a/", "/é/".encode()),
    "a form feed after the root": PLAIN + b"\x0c",
    "a vertical tab in an entry": PLAIN.replace(b"<url><loc>", b"<url>\x0b<loc>"),
    "empty loc and lastmod": PLAIN.replace(b"2026-07-01", b"").replace(b"<loc>", b"<loc>   "),
    "gzip with trailing zeros": gzip.compress(PLAIN) + bytes(8),
    "gzip with trailing junk": gzip.compress(PLAIN) + b"junk",
    "gzip in two members": gzip.compress(PLAIN[:20]) + gzip.compress(PLAIN[20:]),
    "gzip cut short": gzip.compress(PLAIN)[:-4],
    "gzip of nothing": gzip.compress(b""),
    "gzip's magic alone": b"\x1f\x8b" + PLAIN,
}


@pytest.mark.parametrize("body", EDGES.values(), ids=EDGES.keys())
def test_a_sitemap_at_the_edge_of_plain_is_read_as_the_stream_reader_reads_it(
    body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(reader, "read_plain", lambda *_: None)
        streamed = read_with(body, frozenset())
        keys = [key for _, key, _ in streamed.entries if key] if isinstance(streamed, Read) else []
        expected = [read_with(body, frozenset(known)) for known in ([], keys, keys[:1])]
    assert [read_with(body, frozenset(known)) for known in ([], keys, keys[:1])] == expected
