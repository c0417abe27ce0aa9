"""What a page says about itself, for generic extraction: Open Graph and `article:` meta tags, JSON-LD,
and `<time datetime>`. Pure. Every value is plain text or an aware datetime, or None when the page does
not say (or says something unreadable): the caller falls back to the feed item."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup, Tag

from pipeline.extract.article import meta_description
from pipeline.extract.sanitise import clean_text

MAX_JSON_LD_CHARS = 200_000  # a script far larger than any page's metadata is not read
# JSON-LD types that describe the article itself (not the site, its publisher or a breadcrumb).
ARTICLE_TYPES = {"Article", "NewsArticle", "Report", "BlogPosting", "WebPage", "GovernmentPermit", "PressRelease"}


@dataclass(frozen=True)
class PageMetadata:
    title: str | None
    published: datetime | None
    summary: str | None
    categories: tuple[str, ...]


def page_metadata(soup: BeautifulSoup, timezone: str) -> PageMetadata:
    """Title, published date, summary and categories from the page's metadata, each from the first place
    that has it: Open Graph / `article:` meta tags, then JSON-LD, then (the date) the first `<time>`."""
    ld = json_ld_article(soup)
    zone = ZoneInfo(timezone)
    time_element = soup.find("time", attrs={"datetime": True})
    time_value = time_element.get("datetime") if isinstance(time_element, Tag) else None
    dates = (meta_values(soup, "article:published_time")[:1], [ld.get("datePublished")], [time_value])
    published = next((day for group in dates for value in group if (day := parse_date(value, zone))), None)
    keywords = ld.get("keywords")
    ld_categories = keywords.split(",") if isinstance(keywords, str) else keywords if isinstance(keywords, list) else []
    categories = [
        clean_text(value) for value in meta_values(soup, "article:tag") or ld_categories if isinstance(value, str)
    ]
    return PageMetadata(
        title=_first_text(*meta_values(soup, "og:title")[:1], ld.get("headline"), ld.get("name")),
        published=published,
        summary=_first_text(*meta_values(soup, "og:description")[:1], meta_description(soup), ld.get("description")),
        categories=tuple(dict.fromkeys(value for value in categories if value)),
    )


def meta_values(soup: BeautifulSoup, name: str) -> list[str]:
    """The content of every `<meta property=name>` (Open Graph's spelling) or `<meta name=name>`."""
    metas = (meta for meta in soup.find_all("meta") if isinstance(meta, Tag))
    contents = (meta.get("content") for meta in metas if name in (meta.get("property"), meta.get("name")))
    return [content for content in contents if isinstance(content, str) and content.strip()]


def json_ld_article(soup: BeautifulSoup) -> dict[str, Any]:
    """The first JSON-LD object of an article type (in a `@graph` too), or {}. A script that is not
    JSON is skipped: metadata is a hint, never a reason to hold an article back."""
    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        text = script.string if isinstance(script, Tag) else None
        if not text or len(text) > MAX_JSON_LD_CHARS:
            continue
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            continue
        for item in _objects(data):
            kinds = item.get("@type")
            if any(isinstance(kind, str) and kind in ARTICLE_TYPES for kind in _listed(kinds)):
                return item
    return {}


def _objects(data: Any) -> list[dict[str, Any]]:
    """The top-level objects of a JSON-LD document: itself, the items of a list, or of its @graph."""
    items = _listed(data)
    graph = [node for item in items if isinstance(item, dict) for node in _listed(item.get("@graph"))]
    return [item for item in items + graph if isinstance(item, dict)]


def _listed(value: Any) -> list[Any]:
    """A JSON-LD value that may be one thing or a list of them, as a list (whatever the page wrote)."""
    return value if isinstance(value, list) else [value]


def parse_date(value: object, zone: ZoneInfo) -> datetime | None:
    """An ISO 8601 date or date-time as an aware datetime in `zone` (a date alone: midnight that day; a
    time without an offset: the source's local time), or None when it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        if "T" not in text and " " not in text:
            return datetime.combine(datetime.fromisoformat(text).date(), time(0, 0), tzinfo=zone)
        parsed = datetime.fromisoformat(text)
        return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed.astimezone(zone)
    except (ValueError, OverflowError):  # not ISO 8601, or a year no datetime holds in that zone
        return None


def _first_text(*values: object) -> str | None:
    return next((text for value in values if isinstance(value, str) and (text := clean_text(value))), None)
