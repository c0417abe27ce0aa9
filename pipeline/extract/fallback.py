"""A generic main-content extractor for when a source's selectors stop matching (trafilatura, the
field's best-measured open extractor). Pure. Its result is published only if it meets the same
expectations as a selector-extracted article (pipeline/extract/__init__.py)."""

from __future__ import annotations

import re
from configparser import ConfigParser
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import trafilatura
from trafilatura.settings import DEFAULT_CONFIG

from pipeline.dom import html_text, make_links_absolute, parse_fragment, parse_html, select
from pipeline.errors import ExtractError
from pipeline.extract.article import all_texts, canonical_url, meta_description, optional_text, remove_never_content
from pipeline.extract.sanitise import clean_text, sanitise_html
from pipeline.model import Article, Page, Source


def extract_fallback(page: Page, source: Source) -> Article:
    """Title, date and body by trafilatura; type and topics by the selectors when they still match."""
    tree = parse_html(page)
    html = str(tree)  # decoded with the same charset rule as the selectors' tree
    document = trafilatura.bare_extraction(
        html, url=page.final_url, with_metadata=True, include_links=True, include_formatting=True
    )
    body = main_html(html, page.final_url)
    title = clean_text(getattr(document, "title", None) or "")  # (getattr finds nothing on None)
    published_text = getattr(document, "date", None)
    if not title:
        raise ExtractError("the fallback extractor found no title")
    if not published_text or not body:
        raise ExtractError("the fallback extractor found no " + ("published date" if not published_text else "body"))
    try:
        day = date.fromisoformat(str(published_text)[:10])
    except ValueError:
        raise ExtractError(f"the fallback extractor's date {published_text!r} is not a date") from None
    url = canonical_url(tree, page, source)
    rules = source.extraction  # (the fallback stands in for selectors: a source has them)
    summary = optional_text(tree, rules.summary if rules else None) or meta_description(tree)
    news_type = optional_text(tree, rules.news_type if rules else None)
    topics = all_texts(tree, rules.topics if rules else None)
    return Article(
        url=url,
        title=title,
        published=datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(source.timezone)),
        news_type=news_type,
        topics=topics,
        summary=summary,
        body_html=clean_body(body, url, {text for text in (title, summary, news_type, *topics) if text}),
    )


def main_html(html: str, url: str, config: ConfigParser = DEFAULT_CONFIG) -> str | None:
    """trafilatura's main text of the page, as HTML with its links, formatting and tables."""
    return trafilatura.extract(
        html,
        url=url,
        output_format="html",
        include_links=True,
        include_formatting=True,
        include_comments=False,
        config=config,
    )


PUBLISHED_LINE = re.compile(r"^(published|updated|issued)\b", re.IGNORECASE)


def clean_body(body_html: str, url: str, furniture: set[str]) -> str:
    """trafilatura's HTML without its <html>/<body> wrapper and without blocks that only repeat the
    page's furniture (title, summary, type, topics, the "Published …" line), links absolute. Those
    blocks would otherwise repeat in the item, and make a page with no text of its own look like one."""
    soup = parse_fragment(body_html)
    container = soup.body or soup
    for block in select("h1, h2, h3, h4, p, div, li, span", container):
        text = clean_text(html_text(block))
        if not block.decomposed and (text in furniture or (PUBLISHED_LINE.match(text) and len(text.split()) <= 5)):
            block.decompose()
    remove_never_content(container)
    make_links_absolute(container, url)
    return sanitise_html(container.decode_contents())
