"""Publication reads a stored body with lxml alone (pipeline/fragment.py): the search words, the
subscriptions' text and the dates must be what BeautifulSoup's tree of the body gives, whatever the body
holds (an old store's, a hand-edited one), and every body the sanitiser writes is read without it."""

from __future__ import annotations

import random
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from pipeline.dom import html_text, parse_fragment
from pipeline.extract.article import extract_article
from pipeline.extract.dates import find_dates
from pipeline.extract.sanitise import ALLOWED_TAGS, sanitise_html
from pipeline.fragment import PLAIN_TAGS, _plain, _soup_reading, fragment_text, read_fragment
from pipeline.model import Article
from tests.test_extract import ARTICLE_CAPTURES, capture_page, inz_source

NZ = ZoneInfo("Pacific/Auckland")

# Where libxml2's tree and the strings BeautifulSoup keeps could part: each body (plain or not) must read the same.
TRICKY = [
    "<p>Opens 1 October 2026.</p>",
    "<p>a<!-- 1 May 2026 -->b</p><!---->c",
    "<p>a<?php echo 1; ?>b</p><?xml version='1.0'?>",
    "<p>a<![CDATA[1 May 2026]]>b</p>",
    "<template><p>Closes 1 May 2026</p></template><p>x</p>",
    "<p><ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby> 1 May 2026</p>",
    "<script>var d = '1 May 2026';</script><style>p { }</style><p>text</p>",
    "<p>&amp; &nbsp; &lt;b&gt; &foo; &#0; &#x110000; &#xD800; &#128512; &#150; &notin &AMP;</p>",
    "<p>a</p>  \n\t <p>b</p> <p> </p><p>\n</p><p>\r\n</p>",
    "<pre>  \n\t</pre><pre><b> \n </b>x</pre>",
    "<textarea> \n </textarea><p> \n </p>",
    "  <p>leading white space</p>",
    "\n<p>a</p>",
    "&#9;<p>a character reference to white space first</p>",
    "&nbsp;<p>a</p>",
    "\ufeff<p>a byte-order mark first</p>",
    "\x0c</b> <p>a form feed, an end tag and white space first</p>",
    "</p> <p>an end tag first</p>",
    "no element at all, 1 May 2026",
    "",
    "   ",
    "<p>unclosed <b>bold <i>italic</p> after</b></i><li>a list item with no list<td>a cell",
    "<p>a\x00b\x01c\x0cd\x7fe\x85f</p>",
    "<p>a\ufffeb\uffff</p>",
    "<p>😀 𝒜 \U0010fffd 1 May 2026</p>",
    "<P>Upper case</P><p class=a>unquoted</p><p title='single'>quoted</p><br/>",
    "<o:p>a prefixed name</o:p><p>x</p>",
    "<!DOCTYPE html><html><head><title>1 May 2026</title></head><body><p>x</p></body></html> tail",
    "<table><tr><th>Date</th><th>What</th></tr><tr><td>1 October 2026</td><td>Opens</td></tr></table>",
    "<table><tr><td>a<table><tr><th>x</th></tr><tr><td>Closes 1 May 2026</td></tr></table></td></tr></table>",
    "<table><template><tr><td>1 May 2026</td></tr></template><tr><td>Opens 2 May 2026</td></tr></table>",
    "<ul><li>Opens 1 May 2026<ul><li>closes 3 May 2026</li></ul> then</li></ul><div>bare 4 June 2026</div>",
    "<svg><text>1 May 2026</text></svg><math><mi>x</mi></math><p>y</p>",
    "<xmp><p>1 May 2026</p></xmp><plaintext><p>raw",
]


def article(body_html: str) -> Article:
    return Article(
        url="https://www.immigration.govt.nz/about-us/news-centre/an-article/",
        title="A title",
        published=datetime(2026, 3, 1, tzinfo=NZ),
        news_type="Announcement",
        topics=(),
        summary="",
        body_html=body_html,
    )


def assert_read_as_beautifulsoup_reads(body: str) -> None:
    reading = read_fragment(body)
    assert fragment_text(reading) == html_text(body)  # the search words
    assert fragment_text(reading, "\n") == html_text(body, "\n")  # the subscriptions' text
    # Its elements and strings as BeautifulSoup's tree has them: the dates' blocks and tables too.
    assert reading == _soup_reading(parse_fragment(body))


@pytest.mark.parametrize("body", TRICKY)
def test_a_stored_body_reads_as_beautifulsoup_reads_it(body: str) -> None:
    assert_read_as_beautifulsoup_reads(body)
    assert find_dates(article(body)) == find_dates(article(body), _soup_reading(parse_fragment(body)))


@pytest.mark.parametrize("depth", [250, 254, 255, 300, 3000])
def test_a_body_nested_deeper_than_libxml2_builds_keeps_its_words_and_dates(depth: int) -> None:
    # libxml2's tree stops at 256 elements deep, dropping what lies below; BeautifulSoup keeps it. A
    # hostile page's body, kept by the sanitiser as it is, must still be found by its words and dates.
    body = "<div>" * depth + "<p>Applications close on 1 May 2026.</p>" + "</div>" * depth
    assert _plain(body)
    assert "Applications close" in fragment_text(read_fragment(body))
    assert_read_as_beautifulsoup_reads(body)
    assert find_dates(article(body)) == find_dates(article(body), _soup_reading(parse_fragment(body)))


def test_tables_and_nested_blocks_give_the_dates_they_gave() -> None:
    # (What the walk of BeautifulSoup's tree gave: a nested table's rows and cells are its table's too,
    # nothing in a <template> is read, a list item's text is without its sub-list's.)
    body = "".join(TRICKY[-6:-2])
    assert [(each.kind, each.day, each.sentence) for each in find_dates(article(body))] == [
        ("opens", date(2026, 10, 1), "Date: 1 October 2026 · What: Opens"),
        ("closes", date(2026, 5, 1), "a x Closes 1 May 2026 · x · Closes 1 May 2026"),
        ("opens", date(2026, 5, 2), "Opens 2 May 2026"),
        ("opens", date(2026, 5, 1), "Opens 1 May 2026 then"),
        ("closes", date(2026, 5, 3), "closes 3 May 2026"),
        ("other", date(2026, 6, 4), "bare 4 June 2026"),
    ]


PIECES = [
    *(f"<{name}>" for name in sorted(PLAIN_TAGS)),
    *(f"</{name}>" for name in sorted(PLAIN_TAGS)),
    '<a href="https://x/?a=1&amp;b=2" title="1 May">',
    "1 May 2026",
    " Opens ",
    " ",
    "\n",
    " \n\t ",
    "\r\n",
    "&amp;",
    "&nbsp;",
    "&#32;",
    "x < y",
    "😀",
    "\u2028",
    "\ufeff",
    "<!-- c -->",
    "<script>s</script>",
    "<rt>r</rt>",
    "<template>t</template>",
    "\x00",
    "\x0b",
    "<P>",
    "<p class=x>",
]


def test_random_bodies_read_as_beautifulsoup_reads_them() -> None:
    rng = random.Random(20)
    plain = 0
    for _ in range(400):
        pieces = [rng.choice(PIECES[:-9] if rng.random() < 0.6 else PIECES) for _ in range(rng.randint(0, 30))]
        body = "".join(pieces)
        plain += _plain(body)
        assert_read_as_beautifulsoup_reads(body)
    assert plain > 100  # (lxml's own tree was read, not only BeautifulSoup's)


def test_every_body_the_sanitiser_writes_is_read_by_lxml_alone() -> None:
    assert ALLOWED_TAGS <= PLAIN_TAGS
    for name in ARTICLE_CAPTURES:
        stored = extract_article(capture_page(name), inz_source()).body_html  # (a stored body)
        whole_page = sanitise_html(capture_page(name).body.decode())
        for body in (stored, whole_page):
            assert _plain(body), name
            assert_read_as_beautifulsoup_reads(body)
        assert_read_as_beautifulsoup_reads(body)
