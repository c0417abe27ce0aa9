"""The bounds a value from a page must keep, checked where it enters (discovery, extraction's guard,
alerts), so one page can cost at most itself: nothing it says can stop publishing for every article,
fill the disk or reach the operator's terminal. Pure.

The caps come from the real pages (tests/captures, INZ-SITE.md), with room to spare: titles are 65-92
characters, summaries 99-212, topic names at most 31 (the site has 26 topics in all), news types at
most 13, and an article carries 1 or 2 topics. A value past its cap is cut, with a note in the report;
a URL or a date out of range is refused."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from urllib.parse import urljoin, urlsplit

from pipeline.model import Article

# The web's first pages were published in 1991: a page cannot have been published on it before then.
EARLIEST = date(1991, 1, 1)
# Time zones run from 12 hours behind UTC to 14 ahead: a date read a day ahead of the fetch may be true.
CLOCK_SLACK = timedelta(days=1)
MAX_URL_CHARS = 2048  # the sitemaps.org limit, and what every browser and server takes
MAX_TITLE_CHARS = 300
MAX_SUMMARY_CHARS = 1000
MAX_NAME_CHARS = 100  # a topic's or a news type's name
# More than the site's whole list of topics. Each topic of an article is a feed and pages it appears in:
# without a cap, an article's output grows with the square of its topics (each topic page lists them all).
MAX_TOPICS = 30
# The characters no text shows, composed per use from these parts: C0 controls other than tab, line feed
# and carriage return, DEL and the C1 controls; then what each use adds.
CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
LINE_BREAKS = "\t\n\r"
NONCHARACTERS = "\ufffe\uffff"  # not characters at all (and not allowed in XML)
BIDI_MARKS = "\u200e\u200f\u202a-\u202e\u2066-\u2069"  # reorder a line on a terminal
SURROGATES = "\ud800-\udfff"  # halves of a pair, never text on their own
# In an address: what XML 1.0 refuses (no feed could carry it) or a terminal acts on, and line breaks.
UNSAFE_IN_URL = re.compile(f"[{CONTROLS}{LINE_BREAKS}{NONCHARACTERS}]")


def join_url(base: str, href: str) -> str | None:
    """`href` made absolute against `base`, or None when urllib cannot read it (it raises ValueError on,
    e.g., an unclosed IPv6 bracket: `http://[x/a`). A link on a page is the page's data, never a crash."""
    try:
        url = urljoin(base, href.strip())
        urlsplit(url)
    except ValueError:
        return None
    return url


def web_url(url: str) -> str | None:
    """Why `url` (absolute, from a page) cannot be an article's address, or None when it can: an http(s)
    URL with a host, no credentials, no control character, at most MAX_URL_CHARS characters long."""
    if UNSAFE_IN_URL.search(url):
        return "it holds a control character"
    if len(url) > MAX_URL_CHARS:
        return f"it is longer than {MAX_URL_CHARS} characters"
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        return "urllib cannot read it"
    if parts.scheme not in ("http", "https") or not hostname:
        return "it is not an http(s) URL"
    if "@" in parts.netloc:
        return "it carries a user name or password"
    return None


def date_problem(day: date, fetched: datetime | None = None) -> str | None:
    """Why a date read from a page cannot be true, or None: before the web existed, or (when the time of
    the fetch is given) later than it, beyond the time zones' slack."""
    if day < EARLIEST:
        return f"{day.isoformat()} is before {EARLIEST.year}, when the web began"
    if fetched is not None and day > (fetched + CLOCK_SLACK).date():
        return f"{day.isoformat()} is in the future"
    return None


def bounded_article(article: Article) -> tuple[Article, list[str]]:
    """The article with every text within its cap, and a note for each kind of value that was cut."""
    notes: list[str] = []
    for what, text, limit in (
        ("title", article.title, MAX_TITLE_CHARS),
        ("summary", article.summary, MAX_SUMMARY_CHARS),
        ("news type", article.news_type or "", MAX_NAME_CHARS),
    ):
        if len(text) > limit:
            notes.append(f"cut its {what} to {limit} characters (it had {len(text)})")
    long_names = sum(len(topic) > MAX_NAME_CHARS for topic in article.topics)
    if long_names:
        notes.append(f"cut {long_names} topic name(s) to {MAX_NAME_CHARS} characters")
    topics = tuple(dict.fromkeys(shorten(topic, MAX_NAME_CHARS) for topic in article.topics))
    if len(topics) > MAX_TOPICS:
        notes.append(f"kept the first {MAX_TOPICS} of its {len(topics)} topics")
    if not notes:
        return article, notes
    bounded = replace(
        article,
        title=shorten(article.title, MAX_TITLE_CHARS),
        summary=shorten(article.summary, MAX_SUMMARY_CHARS),
        news_type=shorten(article.news_type, MAX_NAME_CHARS) if article.news_type else None,
        topics=topics[:MAX_TOPICS],
    )
    return bounded, notes


def shorten(text: str, limit: int) -> str:
    """`text` when it fits in `limit` characters, else cut at a word boundary, "…" marking the cut."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head[limit // 2 :]:  # a word boundary in the second half: cut there
        head = head.rsplit(" ", 1)[0]
    return head.rstrip() + "…"
