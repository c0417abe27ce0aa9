"""`extraction: generic`: an article read without selectors, for a site Pānui has no rules for. Pure.

The main text is trafilatura's (the generic extractor that stands in for broken selectors elsewhere);
title, published date, summary and categories come from the page's own metadata (pipeline/extract/
metadata.py), else from the item of the feed that listed the page. The result passes the same guard as
a selector-extracted article."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bs4 import Tag
from trafilatura.settings import use_config

from pipeline.dom import html_text, parse_html
from pipeline.errors import ExtractError, NotHTML
from pipeline.extract.article import canonical_url, not_html
from pipeline.extract.fallback import clean_body, main_html
from pipeline.extract.metadata import page_metadata
from pipeline.extract.sanitise import clean_text
from pipeline.feed_item import FeedItem
from pipeline.model import Article, Page, Source

# trafilatura replaces a main text shorter than 250 characters by a coarser extractor's, which runs the
# heading, the byline and every paragraph into one. A release of two sentences is content (as INZ's short
# notices are): keep the main text, however short.
TRAFILATURA = use_config()
TRAFILATURA.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
HINT = "the page says neither in its metadata nor in a feed item; `python run.py check --url URL` shows what it says"


def extract_generic(page: Page, source: Source, item: FeedItem | None = None) -> Article:
    """Raises NotHTML for a document that is not a web page, ExtractError when neither the page nor the
    feed item gives a title or a published date. A page with no main text gets an empty body, which the
    guard holds back."""
    if (kind := not_html(page)) is not None:
        raise NotHTML(f"not an HTML page ({kind})")
    soup = parse_html(page)
    meta = page_metadata(soup, source.timezone)
    url = canonical_url(soup, page, source)
    h1 = soup.find("h1")  # the page's own title: never part of the body, whatever title is chosen
    heading = _clean(html_text(h1)) if isinstance(h1, Tag) else None
    title = meta.title or _clean(item.title if item else None) or heading
    if not title:
        raise ExtractError("no title: no og:title, JSON-LD headline or <h1>", HINT)
    published = meta.published or (
        item.published.astimezone(ZoneInfo(source.timezone)) if item and item.published else None
    )
    if published is None:
        raise ExtractError("no published date: no article:published_time, JSON-LD datePublished or <time>", HINT)
    summary = meta.summary or _clean(item.summary if item else None) or ""
    topics = meta.categories or tuple(filter(None, (clean_text(name) for name in (item.categories if item else ()))))
    body = main_html(str(soup), page.final_url, TRAFILATURA)  # str: decoded by the charset rule every page is
    return Article(
        url=url,
        title=title,
        published=published,
        news_type=None,
        topics=topics,
        summary=summary,
        body_html=clean_body(body, url, {text for text in (title, heading, summary, *topics) if text}) if body else "",
    )


def _clean(text: str | None) -> str | None:
    return clean_text(text) or None if text else None
