"""`run.py check`: fetch a source's discovery pages and one or a few articles, and show what each
selector matches. For an operator who has just edited selectors, or a daily monitoring check. It
writes nothing: no store, no output."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from pipeline.bounds import shorten
from pipeline.discover import MAX_SITEMAP_BYTES, find_listing_links, read_feed, read_sitemap
from pipeline.dom import parse_html
from pipeline.errors import DiscoverError, ExtractError, FetchError
from pipeline.extract import unmet_expectations, word_count
from pipeline.extract.alerts import extract_alerts
from pipeline.extract.article import all_texts, canonical_url, extract_article, optional_text, parse_published
from pipeline.extract.generic import extract_generic
from pipeline.extract.watched import extract_watched
from pipeline.feed_item import FeedItem
from pipeline.fetch import Fetcher
from pipeline.logs import visible
from pipeline.model import Config, Link, Page, Source
from pipeline.sync.run import source_for_url

ARTICLES_CHECKED = 2


@dataclass(frozen=True)
class Finding:
    name: str  # the sources.yaml key, e.g. "extraction.title"
    selector: str
    ok: bool
    detail: str


def inspect_article(page: Page, source: Source, item: FeedItem | None = None) -> list[Finding]:
    """What each extraction selector finds on one page (or what generic extraction reads). Pure."""
    rules = source.extraction
    if rules is None:
        return inspect_generic(page, source, item)
    soup = parse_html(page)
    findings: list[Finding] = []
    if rules.page_type is not None:
        marker = soup.select_one(rules.page_type.selector)
        value = marker.get(rules.page_type.attribute) if marker is not None else None
        ok = isinstance(value, str) and value in rules.page_type.accept
        findings.append(
            Finding("extraction.page_type", f"{rules.page_type.selector}[{rules.page_type.attribute}]", ok, repr(value))
        )
    for name, selector in (("title", rules.title), ("news_type", rules.news_type), ("summary", rules.summary)):
        if selector:
            text = optional_text(soup, selector)
            findings.append(Finding(f"extraction.{name}", selector, bool(text), shorten(text or "", 70) or "no match"))
    text = optional_text(soup, rules.published) or ""
    try:
        day = parse_published(text, rules.published_format, source.timezone).date()
        detail, ok = f"{text!r} -> {day.isoformat()}", True
    except ExtractError as error:
        detail, ok = (error.message if text else "no match"), False
    findings.append(Finding("extraction.published", rules.published, ok, detail))
    if rules.topics:
        topics = ", ".join(all_texts(soup, rules.topics)) or "none (optional)"
        findings.append(Finding("extraction.topics", rules.topics, True, topics))
    body = soup.select_one(rules.body)
    if body is None:  # a missing container is a changed layout; a short body is not
        findings.append(Finding("extraction.body", rules.body, False, "no match"))
    else:
        words = word_count(body)
        findings.append(Finding("extraction.body", rules.body, words > 0, f"{words} words"))
    findings.append(Finding("canonical", "link[rel=canonical]", True, canonical_url(soup, page, source)))
    return findings


def inspect_generic(page: Page, source: Source, item: FeedItem | None) -> list[Finding]:
    """What `extraction: generic` reads on one page (the feed `item` filling what the page lacks). Pure."""
    try:
        article = extract_generic(page, source, item)
    except ExtractError as error:
        return [Finding("extraction", "generic", False, error.message)]
    words = word_count(article.body_html)
    return [
        Finding("extraction.title", "generic", True, shorten(article.title, 70)),
        Finding("extraction.published", "generic", True, article.published.isoformat()),
        Finding("extraction.summary", "generic", True, shorten(article.summary, 70) or "none (optional)"),
        Finding("extraction.topics", "generic", True, ", ".join(article.topics) or "none (optional)"),
        Finding("extraction.body", "generic", words > 0, f"{words} words"),
        Finding("canonical", "link[rel=canonical]", True, article.url),
    ]


def run_check(config: Config, sources: Sequence[Source], urls: Sequence[str], out: TextIO) -> int:
    """Print what matches; 0 when every selector matched, 1 otherwise."""
    misses = 0
    for source in sources:
        print(f"{source.id} ({source.base_url})", file=out)
        with Fetcher(source, config.user_agent) as fetcher:
            try:
                given = [url for url in urls if source_for_url(config, url) is source]  # as sync takes them
                misses += _check_source(source, fetcher, given, out)
            except FetchError as error:
                print(visible(f"  MISS  {error.url}: {error.message}"), file=out)
                misses += 1
    print("all selectors matched" if not misses else f"{misses} selector(s) or page(s) did not match", file=out)
    return 1 if misses else 0


def _check_source(source: Source, fetcher: Fetcher, urls: list[str], out: TextIO) -> int:
    misses = 0
    links: list[str] = []
    for index, listing in enumerate(source.discovery.listings):
        page = fetcher.fetch(fetcher.url_for(listing.path))
        found = [link.url for link in find_listing_links(page, listing, source)]
        links += found
        detail = f"{len(found)} article link(s) on {page.url}"
        misses += _show(out, Finding(f"discovery.listings[{index}].links", listing.links, bool(found), detail))
        if source.alerts is not None and listing.path == source.alerts.path:
            try:
                alerts = extract_alerts(page, source)
                detail = f"{len(alerts)} alert(s)" + "".join(f": {alert.title}" for alert in alerts[:1])
                misses += _show(out, Finding("alerts", source.alerts.container, True, detail))
            except ExtractError as error:
                misses += _show(out, Finding("alerts", source.alerts.container, False, error.message))
    sitemap_links: list[Link] = []
    if source.discovery.sitemap:
        try:
            sitemap_url = fetcher.url_for(source.discovery.sitemap)
            content = read_sitemap(fetcher.fetch(sitemap_url, max_bytes=MAX_SITEMAP_BYTES), source)
            for child in content.sitemaps[:1]:  # enough to find articles to check when a listing broke
                sitemap_links += read_sitemap(fetcher.fetch(child, max_bytes=MAX_SITEMAP_BYTES), source).links
            sitemap_links += content.links
            detail = (
                f"{len(content.sitemaps)} child sitemap(s)"
                if content.sitemaps
                else f"{len(content.links)} article link(s)"
            )
            print(f"  ok    discovery.sitemap: {detail}", file=out)
        except FetchError as error:
            print(visible(f"  note  discovery.sitemap: {error.message} (optional)"), file=out)
        except DiscoverError as error:
            misses += _show(out, Finding("discovery.sitemap", source.discovery.sitemap, False, error.message))
    items: dict[str, FeedItem] = {}
    for index, feed in enumerate(source.discovery.feeds):
        try:
            feed_content = read_feed(fetcher.fetch(fetcher.url_for(feed)), source)
        except (FetchError, DiscoverError) as error:
            misses += _show(out, Finding(f"discovery.feeds[{index}]", feed, False, error.message))
            continue
        items |= {item.url: item for item in feed_content.items if item.url not in items}
        damage = f" (not well-formed: {feed_content.damage})" if feed_content.damage else ""
        detail = f"{len(feed_content.items)} article link(s){damage}"
        misses += _show(out, Finding(f"discovery.feeds[{index}]", feed, True, detail))
    links += [url for url in items if url not in links]
    now = datetime.now(UTC)
    misses += _check_watched(source, fetcher, out, now)
    if source.watch_only:  # no article to check
        return misses
    newest_in_sitemap = sorted(
        sitemap_links, key=lambda link: link.lastmod or datetime.min.replace(tzinfo=UTC), reverse=True
    )
    for url in urls or (links or [link.url for link in newest_in_sitemap])[:ARTICLES_CHECKED]:
        page = fetcher.fetch(url)
        print(visible(f"  article {page.final_url}"), file=out)
        for finding in inspect_article(page, source, items.get(url)):
            misses += _show(out, finding, indent="    ")
        try:
            article = (
                extract_article(page, source) if source.extraction else extract_generic(page, source, items.get(url))
            )
            unmet = unmet_expectations(article, source, now)
        except ExtractError as error:
            unmet = [error.message]
        for problem in unmet:
            misses += _show(out, Finding("expect", "", False, problem), indent="    ")
    return misses


def _check_watched(source: Source, fetcher: Fetcher, out: TextIO, now: datetime) -> int:
    """What each watched page's selector finds (a page that cannot be read is a miss of its own)."""
    misses = 0
    for index, watched in enumerate(source.watch):
        url = fetcher.url_for(watched.path)
        name, selector = f"watch[{index}]", watched.selector or ""
        try:
            article = extract_watched(fetcher.fetch(url), source, watched, url, now)
            finding = Finding(name, selector, True, f"{word_count(article.body_html)} words on {url}")
        except (FetchError, ExtractError) as error:
            finding = Finding(name, selector, False, f"{error.message} ({url})")
        misses += _show(out, finding)
    return misses


def _show(out: TextIO, finding: Finding, indent: str = "  ") -> int:
    status = "ok  " if finding.ok else "MISS"
    selector = f" {finding.selector!r}" if finding.selector else ""
    print(visible(f"{indent}{status}  {finding.name}{selector}: {finding.detail}"), file=out)
    return 0 if finding.ok else 1
