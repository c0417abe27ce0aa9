"""The `sources:` list of sources.yaml -> Source values (discovery, extraction, schedule, revisit,
alerts, expectations). Problems are collected by the Reader with their key paths."""

from __future__ import annotations

import logging
import re
from dataclasses import fields
from typing import Any
from urllib.parse import urljoin, urlsplit

from pipeline.config.reader import (
    Reader,
    between,
    check_date_format,
    check_http_url,
    check_regex,
    check_slug,
    check_timezone,
    join_key,
    one_of,
    parse_interval,
    shown,
)
from pipeline.config.selectors import check_selector
from pipeline.logs import log_event
from pipeline.model import (
    DEFAULT_REVISIT,
    AlertSelectors,
    Discovery,
    Expectations,
    Licence,
    Listing,
    PageTypeRule,
    RevisitRule,
    Schedule,
    Selectors,
    Source,
    WatchedPage,
)

SOURCE_KEYS = {
    "id", "name", "base_url", "timezone", "request_delay", "timeout", "retries", "backoff",
    "max_bytes", "discovery", "extraction", "licence", "attribution", "schedule", "revisit",
    "removal_grace", "alerts", "expect", "fallback", "watch", "enabled",
}  # fmt: skip
log = logging.getLogger("panui.config")
NO_DISCOVERY = Discovery(listings=(), sitemap=None, article_paths=re.compile(".*"), never_fetch=())
MAX_WATCHED = 100  # pages per source: each is a request on every run


def parse_sources(reader: Reader, value: Any) -> list[Source]:
    if not isinstance(value, list) or not value:
        reader.problem(
            "sources",
            "must be a non-empty list of sources",
            "see the INZ entry in the shipped sources.yaml",
        )
        return []
    sources: list[Source] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        key = join_key("sources", index)
        data = reader.mapping(item, key, SOURCE_KEYS)
        if not data:
            continue
        source_id = reader.get(data, key, "id", str, check=check_slug)
        if source_id in seen:
            reader.problem(
                join_key(key, "id"),
                f"duplicate source id {source_id!r}",
                "each source needs its own id",
            )
        seen.add(source_id)
        source = _source(reader, data, key, source_id or "")
        # A disabled source is checked like any other (enabling it later cannot surprise), then left out
        # of the run entirely: never fetched, scheduled, published or listed.
        if source is not None and reader.get(data, key, "enabled", bool, True):
            sources.append(source)
    if not sources and not reader.problems:
        reader.problem("sources", "every source is disabled", "set enabled: true on at least one source")
    return sources


def _source(reader: Reader, data: dict[str, Any], key: str, source_id: str) -> Source | None:
    number = (int, float)
    get = reader.get
    before = len(reader.problems)
    base_url = get(data, key, "base_url", str, check=check_http_url)
    licence = reader.mapping(data.get("licence"), join_key(key, "licence"), {"name", "url"})
    watch = _watch(reader, data.get("watch"), join_key(key, "watch"))
    # A source of watched pages alone needs no way to find articles, nor to read them.
    watch_only = bool(watch) and "discovery" not in data and "extraction" not in data
    source = Source(
        id=source_id,
        name=get(data, key, "name", str),
        base_url=(base_url or "") if (base_url or "").endswith("/") else f"{base_url}/",
        timezone=get(data, key, "timezone", str, "Pacific/Auckland", check_timezone),
        # Waits stay within MAX_WAIT (10 minutes; the fetcher starts none longer), a response within
        # 3 × 300 s, a body within 100 MB of memory.
        request_delay=float(get(data, key, "request_delay", number, 5, between(0, 600))),
        timeout=float(get(data, key, "timeout", number, 30, between(0, 300, above=True))),
        retries=int(get(data, key, "retries", int, 3, between(0, 10))),
        backoff=float(get(data, key, "backoff", number, 2, between(0, 600))),
        max_bytes=int(get(data, key, "max_bytes", int, 5_000_000, between(1, 100_000_000))),
        discovery=NO_DISCOVERY if watch_only else _discovery(reader, data.get("discovery"), join_key(key, "discovery")),
        extraction=None if watch_only else _extraction(reader, data.get("extraction"), join_key(key, "extraction")),
        licence=Licence(
            name=get(licence, join_key(key, "licence"), "name", str) or "",
            url=get(licence, join_key(key, "licence"), "url", str, check=check_http_url) or "",
        ),
        attribution=get(data, key, "attribution", str) or "",
        schedule=_schedule(reader, data.get("schedule"), join_key(key, "schedule")),
        revisit=_revisit(reader, data.get("revisit"), join_key(key, "revisit")),
        removal_grace_seconds=reader.duration(data, key, "removal_grace", "1h", zero=True),
        alerts=_alerts(reader, data.get("alerts"), join_key(key, "alerts")),
        expect=_expectations(reader, data.get("expect"), join_key(key, "expect")),
        fallback=get(data, key, "fallback", str, "trafilatura", one_of("trafilatura", "none")) == "trafilatura",
        watch=watch,
    )
    _feeds_on_host(reader, source, key)
    return source if len(reader.problems) == before else None


def _discovery(reader: Reader, value: Any, key: str) -> Discovery:
    data = reader.mapping(value, key, {"listings", "sitemap", "feeds", "article_paths", "never_fetch"})
    listings: list[Listing] = []
    raw_listings = data.get("listings") or []
    if not isinstance(raw_listings, list):
        reader.problem(join_key(key, "listings"), "must be a list of {path, links}")
        raw_listings = []
    for index, item in enumerate(raw_listings):
        item_key = join_key(join_key(key, "listings"), index)
        entry = reader.mapping(item, item_key, {"path", "links"})
        path = reader.get(entry, item_key, "path", str)
        links = reader.get(entry, item_key, "links", str, check=check_selector)
        if path and links:
            listings.append(Listing(path=path, links=links))
    sitemap = reader.get(data, key, "sitemap", str, None)
    pattern = reader.get(data, key, "article_paths", str, ".*", check_regex)
    never = reader.strings(data, key, "never_fetch")
    feeds = reader.strings(data, key, "feeds", _check_feed)
    if not listings and not sitemap and not feeds:
        reader.problem(
            key,
            "needs at least one listing, a sitemap or a feed",
            "add discovery.listings, discovery.sitemap or discovery.feeds",
        )
    return Discovery(
        listings=tuple(listings),
        sitemap=sitemap,
        article_paths=re.compile(pattern),
        never_fetch=never,
        feeds=feeds,
    )


def _watch(reader: Reader, value: Any, key: str) -> tuple[WatchedPage, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value or len(value) > MAX_WATCHED:
        reader.problem(
            key,
            f"must be a list of 1 to {MAX_WATCHED} pages, each {{path, selector}}",
            "e.g. [{path: /visas/processing-times/, selector: main}]",
        )
        return ()
    pages: list[WatchedPage] = []
    for index, item in enumerate(value):
        item_key = join_key(key, index)
        entry = reader.mapping(item, item_key, {"path", "selector"})
        path = reader.get(entry, item_key, "path", str)
        if path is not None and (not path.startswith("/") or path.startswith("//")):
            reader.problem(
                join_key(item_key, "path"), f"{path!r} is not a path on the source's host", "start it with /"
            )
        if path in {page.path for page in pages}:
            reader.problem(join_key(item_key, "path"), f"{path!r} is watched twice", "keep one entry per page")
        selector = reader.get(entry, item_key, "selector", str, None, check_selector)
        if path:
            pages.append(WatchedPage(path=path, selector=selector))
    return tuple(pages)


def _check_feed(value: str) -> str | None:
    if value.startswith("/") or (value.startswith(("http://", "https://")) and check_http_url(value) is None):
        return None
    return f"{value!r} is neither a path (starting with /) nor an http(s) URL"


def _feeds_on_host(reader: Reader, source: Source, key: str) -> None:
    """A feed URL must be on the source's host: robots.txt and the request delay are the host's, and a
    feed's links must be the source's articles anyway."""
    for index, feed in enumerate(source.discovery.feeds):
        if urlsplit(urljoin(source.base_url, feed)).netloc.lower() != source.host:
            reader.problem(
                join_key(join_key(join_key(key, "discovery"), "feeds"), index),
                f"{feed} is not on {source.host}",
                "a source's feeds are on its base_url's host; another site is another source",
            )


def _extraction(reader: Reader, value: Any, key: str) -> Selectors | None:
    """`generic` (None: no selectors), or the selectors."""
    if value == "generic":
        return None
    if isinstance(value, str):
        reader.problem(key, f"must be 'generic' or a mapping of selectors, not {value!r}")
        return None
    return _selectors(reader, value, key)


def _selectors(reader: Reader, value: Any, key: str) -> Selectors:
    data = reader.mapping(value, key, {field.name for field in fields(Selectors)})  # its keys are its fields
    if not data:
        reader.problem(key, "is required", "the CSS selectors that find each field on an article page")
    get = reader.get
    page_type = None
    if data.get("page_type") is not None:
        rule_key = join_key(key, "page_type")
        rule = reader.mapping(data["page_type"], rule_key, {"selector", "attribute", "accept"})
        page_type = PageTypeRule(
            selector=get(rule, rule_key, "selector", str, "body", check_selector),
            attribute=get(rule, rule_key, "attribute", str),
            accept=reader.strings(rule, rule_key, "accept", required=True),
        )
    excludes = reader.strings(data, key, "body_exclude", check_selector)
    return Selectors(
        page_type=page_type,
        title=get(data, key, "title", str, check=check_selector),
        published=get(data, key, "published", str, check=check_selector),
        published_format=get(data, key, "published_format", str, "%d %B %Y", check_date_format),
        news_type=get(data, key, "news_type", str, None, check_selector),
        topics=get(data, key, "topics", str, None, check_selector),
        summary=get(data, key, "summary", str, None, check_selector),
        body=get(data, key, "body", str, check=check_selector),
        body_exclude=excludes,
    )


def _schedule(reader: Reader, value: Any, key: str) -> Schedule:
    data = reader.mapping(value, key, {"interval", "cron", "jitter"})
    interval = data.get("interval")
    cron = reader.get(data, key, "cron", str, None)
    seconds = 900.0 if cron is None else None  # every 15 minutes, unless an interval or a cron says otherwise
    if interval is not None and cron is not None:
        reader.problem(key, "has both interval and cron", "keep one of them")
    if interval is not None:
        seconds = parse_interval(interval)
        if seconds is None:
            reader.problem(
                join_key(key, "interval"),
                f"cannot read {shown(interval)} as an interval",
                "a number with s, m or h, e.g. 15m",
            )
    if cron is not None and len(cron.split()) != 5:
        reader.problem(
            join_key(key, "cron"),
            f"{cron!r} is not a 5-field crontab",
            "minute hour day month weekday, e.g. '0 */2 * * *'",
        )
    jitter = reader.get(data, key, "jitter", (int, float), 120, between(0, 86400))
    return Schedule(interval_seconds=seconds, cron=cron, jitter_seconds=float(jitter))


def _revisit(reader: Reader, value: Any, key: str) -> tuple[RevisitRule, ...]:
    """A list of {younger_than, every} rules, checked in order; the last should have no younger_than."""
    if value is None:
        return DEFAULT_REVISIT
    if not isinstance(value, list) or not value:
        reader.problem(
            key,
            "must be a non-empty list of {younger_than, every}",
            "e.g. [{younger_than: 30d, every: 1d}, {every: 30d}]",
        )
        return DEFAULT_REVISIT
    rules: list[RevisitRule] = []
    for index, item in enumerate(value):
        item_key = join_key(key, index)
        data = reader.mapping(item, item_key, {"younger_than", "every"})
        if "every" not in data:
            reader.problem(join_key(item_key, "every"), "is required", "how often to re-check, e.g. 1d")
            continue
        younger = reader.duration(data, item_key, "younger_than", "0s", zero=True) if "younger_than" in data else None
        rules.append(
            RevisitRule(
                younger_than_seconds=younger,
                every_seconds=reader.duration(data, item_key, "every", "1d", zero=True),
            )
        )
    return tuple(rules) or DEFAULT_REVISIT


def _alerts(reader: Reader, value: Any, key: str) -> AlertSelectors | None:
    if value is None:
        return None
    data = reader.mapping(value, key, {"path", "container", "title", "issued", "issued_format", "text"})
    get = reader.get
    return AlertSelectors(
        path=get(data, key, "path", str, "/"),
        container=get(data, key, "container", str, check=check_selector) or "",
        title=get(data, key, "title", str, check=check_selector) or "",
        issued=get(data, key, "issued", str, check=check_selector) or "",
        issued_format=get(data, key, "issued_format", str, "%A %d %b %Y, %I:%M %p"),
        text=get(data, key, "text", str, check=check_selector) or "",
    )


def _expectations(reader: Reader, value: Any, key: str) -> Expectations:
    data = reader.mapping(value, key, {"min_words", "max_future_days", "min_links"})
    if "min_words" in data:  # accepted, so a config written for an earlier version still runs
        log_event(
            log,
            logging.WARNING,
            "config.deprecated",
            f"{join_key(key, 'min_words')} is no longer used and is ignored: an article is published however "
            "short, and a changed layout is told by missing selectors; remove the key",
        )
    defaults = Expectations()
    return Expectations(
        max_future_days=float(
            reader.get(data, key, "max_future_days", (int, float), defaults.max_future_days, between(0, 3650))
        ),
        min_links=reader.get(data, key, "min_links", int, defaults.min_links, between(0, 1_000_000)),
    )
