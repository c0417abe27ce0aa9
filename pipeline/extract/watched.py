"""A watched page (`watch:`) -> Article: the text of the page, or of the part its selector finds, one
paragraph a line, so that a new version is stored when, and only when, the text a reader sees changes
(a change of markup or of spacing alone is none). Pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bs4 import Tag

from pipeline.bounds import bounded_article
from pipeline.dom import html_text, parse_html, select_one
from pipeline.errors import ExtractError
from pipeline.extract.article import not_html, remove_never_content
from pipeline.extract.document import extract_pdf, is_pdf, paragraphs_html
from pipeline.extract.sanitise import clean_text
from pipeline.model import Article, Page, Source, WatchedPage

# Elements whose end is a line break in the text a reader sees.
BLOCKS = (
    "p", "div", "section", "article", "li", "dt", "dd", "tr", "td", "th", "caption", "blockquote", "pre",
    "h1", "h2", "h3", "h4", "h5", "h6", "br", "hr", "table", "ul", "ol", "dl", "header", "footer", "main",
)  # fmt: skip
LINE_BREAK = "\x1e"


def extract_watched(page: Page, source: Source, watched: WatchedPage, url: str, published: datetime) -> Article:
    """The watched page's text as an article of `url` (the address configured, whatever it redirects to),
    dated `published` (when it was first seen: the date is no part of what changes). A PDF is read as
    a document. Raises ExtractError when the selector matches nothing or the page has no text."""
    if is_pdf(page):
        document, _ = extract_pdf(page, source, published)
        return bounded_article(replace(document, url=url))[0]
    if (kind := not_html(page)) is not None:
        raise ExtractError(f"the watched page is not an HTML page or a PDF ({kind})", "check watch[].path")
    soup = parse_html(page)
    part = select_one(watched.selector, soup) if watched.selector else (soup.body or soup)
    if not isinstance(part, Tag):
        raise ExtractError(
            f"watch selector {watched.selector!r} matched nothing",
            "the page layout may have changed; fix the selector (`python run.py check` shows what matches)",
        )
    remove_never_content(part)
    for block in part.find_all(BLOCKS):
        block.insert_after(LINE_BREAK)
    lines = [line for line in (clean_text(text) for text in html_text(part, "").split(LINE_BREAK)) if line]
    if not lines:
        raise ExtractError("the watched page (or its selected part) has no text", "check watch[].selector")
    heading = soup.find("h1")
    title = clean_text(html_text(heading)) if isinstance(heading, Tag) else ""
    if not title and soup.title is not None:
        title = clean_text(soup.title.get_text())
    article = Article(url, title or watched.path, published, None, (), "", paragraphs_html(lines))
    return bounded_article(article)[0]  # a title past its cap is cut, as an article's is
