"""Page + Source -> Article. Pure: selectors, the published date, absolute URLs, sanitising."""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup, Tag

from pipeline.bounds import join_url, web_url
from pipeline.dom import html_text, make_links_absolute, parse_html, select, select_each
from pipeline.errors import ExtractError, NotAnArticle, NotHTML
from pipeline.extract.sanitise import clean_text, sanitise_html
from pipeline.model import Article, Page, Selectors, Source

# Elements that are never content, whatever a source's selectors say.
ALWAYS_REMOVED = (
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "form",
    "button",
    "svg",
    "base",
    "meta",
    "link",
)
DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%Y-%m-%d")
# What a document that is not a web page starts with: PDF, ZIP (and so .docx/.xlsx), PNG, GIF, JPEG, and
# the older Office formats. Trusted over the Content-Type, which sites get wrong both ways.
BINARY_SIGNATURES = (b"%PDF-", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0")
NOT_HTML_MAIN_TYPES = ("image", "audio", "video", "font")
NOT_HTML_TYPES = ("application/pdf", "application/zip", "application/msword")
DRIFT_HINT = "the page layout may have changed; run `python run.py check`"


def not_html(page: Page) -> str | None:
    """What the page is when it is plainly not a web page (its media type, or "binary"), else None.
    HTML served with a wrong or no Content-Type is still read, as a browser would."""
    declared = page.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    start = page.body[:1024].removeprefix(b"\xef\xbb\xbf").lstrip()[:8]  # past a byte-order mark
    if start.startswith(BINARY_SIGNATURES):
        return declared or "binary"
    if start.startswith(b"<") and declared != "image/svg+xml":
        return None  # markup, whatever the header says (an SVG image is markup too, but not a page)
    plainly_not = declared.split("/", 1)[0] in NOT_HTML_MAIN_TYPES or declared in NOT_HTML_TYPES
    return declared if plainly_not or declared.startswith("application/vnd.") else None


def extract_article(page: Page, source: Source) -> Article:
    """Read one article page. Raises NotAnArticle for other page types, ExtractError for a page
    that claims to be an article but lacks a required field (the message names the selector), and
    NotHTML for a document that is not a web page (a PDF linked where articles live)."""
    if (kind := not_html(page)) is not None:
        raise NotHTML(f"not an HTML page ({kind})")
    rules = source.extraction
    if rules is None:
        raise ExtractError("the source has no selectors (extraction: generic)", "read it with extract_generic")
    soup = parse_html(page)
    page_type = rules.page_type
    # Every selector in one walk of the page (pipeline/dom.py): nothing is taken apart before the body.
    marker, title, published, news_type, topics, summary, body = select_each(
        soup,
        [
            (page_type.selector if page_type else None, 1),
            (rules.title, 1),
            (rules.published, 1),
            (rules.news_type, 1),
            (rules.topics, 0),
            (rules.summary, 1),
            (rules.body, 1),
        ],
    )
    if page_type is not None:
        value = marker[0].get(page_type.attribute) if marker else None
        if not isinstance(value, str):
            # No marker at all is a layout change, not another page type: report it, never skip silently.
            marker_name = f"{page_type.selector}[{page_type.attribute}]"
            raise ExtractError(f"extraction.page_type marker {marker_name} is missing", DRIFT_HINT)
        if value not in page_type.accept:
            raise NotAnArticle(f"page type {value!r} is not one of {list(page_type.accept)}")
    url = canonical_url(soup, page, source)
    title_text = _required_text(title, rules.title, "title")
    published_text = _required_text(published, rules.published, "published")
    return Article(
        url=url,
        title=title_text,
        published=parse_published(published_text, rules.published_format, source.timezone),
        news_type=_first_text(news_type),
        topics=_texts(topics),
        summary=_first_text(summary) or meta_description(soup),
        body_html=extract_body(body, rules, url),  # last: it takes the body apart
    )


def canonical_url(soup: BeautifulSoup, page: Page, source: Source) -> str:
    """The article's identity: its rel=canonical link, else the final URL, without a fragment.

    A canonical link on another host (a mirror serving the real site's pages) keeps its path but takes
    the source's base_url, so every URL of a source stays on the host it is configured with. A canonical
    link no feed could carry (see pipeline/bounds.py) is ignored, as one that is not http(s) is."""
    link = soup.find("link", rel="canonical")
    href = link.get("href") if isinstance(link, Tag) else None
    if isinstance(href, str) and href.strip():
        joined = join_url(page.final_url, href)
        url = _on_host(joined, source) if joined else None
        if url and web_url(url) is None:
            return url
    url = _on_host(page.final_url, source)
    if (problem := web_url(url)) is not None:
        raise ExtractError(f"the page's address cannot be an article's: {problem}", "only this page is affected")
    return url


def _on_host(url: str, source: Source) -> str:
    """`url` without its fragment, on the source's host; a URL that is not http(s) is left as it is."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    base = urlsplit(source.base_url)
    if parts.netloc.lower() != base.netloc.lower():
        parts = parts._replace(scheme=base.scheme, netloc=base.netloc)
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))


def parse_published(text: str, format_: str, timezone: str) -> datetime:
    """'09 July 2026' -> midnight of that calendar day in the source's zone (so the offset is the one
    in force on that day: +13:00 in March, +12:00 in July)."""
    cleaned = " ".join(text.split())
    for candidate in (format_, *DATE_FORMATS):
        try:
            day = datetime.strptime(cleaned, candidate).date()
        except ValueError:
            continue
        return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(timezone))
    raise ExtractError(
        f"published date {cleaned!r} does not match {format_!r}",
        "set extraction.published_format to the date's strftime format",
    )


def extract_body(container: list[Tag], rules: Selectors, url: str) -> str:
    """The body: the element the body selector found (`container`, empty when none), taken apart."""
    if not container:
        raise ExtractError(f"extraction.body selector {rules.body!r} matched nothing", DRIFT_HINT)
    body = container[0]
    for selector in rules.body_exclude:  # one after the other: what one removes changes what the next finds
        for element in select(selector, body):
            element.decompose()
    remove_never_content(body)
    make_links_absolute(body, url)
    # Found but empty is not a missing container: the guard holds that one article back.
    return sanitise_html(body.decode_contents())


def remove_never_content(element: Tag) -> None:
    # One walk, not one CSS query per tag name (nor find_all, whose filters cost seven times the walk).
    removed = [node for node in element.descendants if isinstance(node, Tag) and node.name in ALWAYS_REMOVED]
    for node in removed:
        if not node.decomposed:  # not already gone with an enclosing removed element
            node.decompose()


def _required_text(found: list[Tag], selector: str, field: str) -> str:
    text = _first_text(found)
    if text is None:
        state = "is empty" if found else "matched nothing"
        raise ExtractError(f"extraction.{field} selector {selector!r} {state}", DRIFT_HINT)
    return text


def optional_text(soup: BeautifulSoup, selector: str | None) -> str | None:
    return _first_text(select(selector, soup, 1)) if selector else None


def all_texts(soup: BeautifulSoup, selector: str | None) -> tuple[str, ...]:
    return _texts(select(selector, soup)) if selector else ()


def _first_text(found: list[Tag]) -> str | None:
    """The text of the first element found, or None when there is none or it has no text."""
    return (clean_text(html_text(found[0])) if found else "") or None


def _texts(found: list[Tag]) -> tuple[str, ...]:
    """The texts of the elements found, once each, in their order, without empty ones."""
    texts = (clean_text(html_text(element)) for element in found)
    return tuple(dict.fromkeys(text for text in texts if text))


def meta_description(soup: BeautifulSoup) -> str:
    meta = soup.find("meta", attrs={"name": "description"})
    content = meta.get("content") if isinstance(meta, Tag) else None
    return clean_text(content) if isinstance(content, str) else ""
