"""What a sync asks the source for, and in which order: the URLs the operator gave, the articles on the
listing pages, the sitemap's articles that are new or changed since our last check, then the known
articles due on the revisit schedule. Each URL once.

A source's sitemap can list every page it ever published. It is read a batch of links at a time and
only the links due for a request are kept, so a sync's memory follows what it fetches, not the size
of the sitemap or of the archive."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from pipeline.batching import batched
from pipeline.discover import find_listing_links, read_feed, sitemap_entries
from pipeline.errors import DiscoverError, ExtractError, FetchError
from pipeline.extract.alerts import extract_alerts
from pipeline.feed_item import FeedItem
from pipeline.fetch import Fetcher, Validators
from pipeline.model import Link, Page, Problem, Source, SourceReport
from pipeline.store import Store

MAX_SITEMAPS = 50  # child sitemaps followed from one index: a bound against a runaway site
# The first is fetched unconditionally; "withdrawn" is a revisit of an article the source withdrew.
ORIGIN_PRECEDENCE = ("url", "listing", "revisit", "feed", "sitemap", "withdrawn")
SITEMAP_BATCH = 500


@dataclass(frozen=True)
class Candidate:
    link: Link
    origin: str  # "url" (given by the operator), "listing", "revisit", "feed", "sitemap" or "withdrawn"
    feed_item: FeedItem | None = None  # what a feed said of it, whatever found it


class Chosen:
    """The candidates to request, one per URL in first-found order, each with the strongest origin it
    was found by (a URL given by the operator is fetched unconditionally, whoever else lists it)."""

    def __init__(self) -> None:
        self.by_url: dict[str, Candidate] = {}

    def add(self, candidate: Candidate) -> None:
        known = self.by_url.get(candidate.link.url)
        if known is None:
            self.by_url[candidate.link.url] = candidate
        elif ORIGIN_PRECEDENCE.index(candidate.origin) < ORIGIN_PRECEDENCE.index(known.origin):
            self.by_url[candidate.link.url] = Candidate(known.link, candidate.origin)


def gather_candidates(
    source: Source, store: Store, fetcher: Fetcher, report: SourceReport, urls: Sequence[str], now: datetime
) -> list[Candidate]:
    """Every article to request now. A sitemap link that is neither new nor changed since our last
    check (and not due for a revisit) is counted as unchanged in the report and not kept."""
    chosen = Chosen()
    for url in urls:
        chosen.add(Candidate(Link(url=url, found_on="--url"), "url"))
    for candidate in _listing_candidates(source, store, fetcher, report):
        chosen.add(candidate)
    revisits = revisit_candidates(source, store, now)
    revisit_urls = {candidate.link.url for candidate in revisits}
    discovered = len(chosen.by_url)
    # A feed's items are few (the newest 10 to 50), and read like a sitemap's links: a known article is
    # asked for again when its item is newer than our last check, or on the revisit schedule.
    items = _feed_items(source, store, fetcher, report)
    checked = store.checked_times(list(items))
    for url, item in items.items():
        if url in chosen.by_url:
            continue
        discovered += 1
        link = Link(url=url, found_on="feed", lastmod=item.published)
        if _changed_since(link, checked.get(url)):
            chosen.add(Candidate(link, "feed"))
        elif url not in revisit_urls:
            report.unchanged += 1
    # The sitemap's URLs seen so far (a sitemap, or two child sitemaps, may repeat one): the only thing
    # kept of the links that are not fetched, about 100 bytes each.
    seen: set[str] = set()
    for batch in _sitemap_batches(source, store, fetcher, report):
        checked = store.checked_times([link.url for link in batch])
        for link in batch:
            if link.url in chosen.by_url or link.url in seen:
                continue
            seen.add(link.url)
            discovered += 1
            if _changed_since(link, checked.get(link.url)):
                chosen.add(Candidate(link, "sitemap"))
            elif link.url not in revisit_urls:
                report.unchanged += 1
    # A source of watched pages alone discovers nothing, and expects to.
    searched = bool(source.discovery.listings or source.discovery.sitemap)
    if searched and discovered < source.expect.min_links and not report.problems:
        report.degrade(
            f"discovery found {discovered} article link(s), fewer than expect.min_links ({source.expect.min_links}) (e.g. {source.base_url})",
        )
    for candidate in revisits:
        chosen.add(candidate)
    watched = source.watched_urls  # a page linked from a listing may be one: it is read as watched only
    return [
        replace(candidate, feed_item=items.get(url)) for url, candidate in chosen.by_url.items() if url not in watched
    ]


def feed_help(source: Source, store: Store, candidate: Candidate) -> FeedItem | None:
    """The feed item generic extraction reads a page with: this run's (stored first, so `rebuild` reads
    the page with the same help), else the one stored when the page was last read."""
    if source.extraction is not None:
        return None  # selectors need no help
    if candidate.feed_item is not None:
        store.remember_feed_item(candidate.feed_item)
        return candidate.feed_item
    return store.feed_item(candidate.link.url)


def revisit_candidates(source: Source, store: Store, now: datetime) -> list[Candidate]:
    """Known articles due for a (conditional) re-check: often while young, rarely once old. One the
    source withdrew is asked for at the slowest pace (monthly by default): if it comes back, even
    where no listing or sitemap change points to it, it is reinstated."""
    due: list[Candidate] = []
    for url, published, checked, withdrawn in store.revisit_candidates(source.id):
        age = math.inf if withdrawn else (now - published).total_seconds()
        if (now - checked).total_seconds() >= source.revisit_every(age):
            due.append(Candidate(Link(url=url, found_on="revisit"), "withdrawn" if withdrawn else "revisit"))
    return due


def _changed_since(link: Link, checked: datetime | None) -> bool:
    """A sitemap link is requested when it is new to us, or its lastmod is newer than our last check."""
    return checked is None or (link.lastmod is not None and link.lastmod > checked)


def _listing_candidates(source: Source, store: Store, fetcher: Fetcher, report: SourceReport) -> list[Candidate]:
    """Links from the listing pages (and the site alerts, from the page that shows them)."""
    candidates: list[Candidate] = []
    for listing in source.discovery.listings:
        url = fetcher.url_for(listing.path)
        try:
            page = fetch_cached(store, fetcher, url)
            found = find_listing_links(page, listing, source)
            if not found:
                report.degrade(f"discovery listing selector {listing.links!r} matched no article link (e.g. {url})")
            candidates += [Candidate(link, "listing") for link in found]
        except (FetchError, DiscoverError) as error:
            report.problems.append(Problem(source.id, url, "discover", error.message, error.hint))
            continue
        if source.alerts is not None and listing.path == source.alerts.path:
            _collect_alerts(source, store, page, report)
    if source.alerts is not None and all(listing.path != source.alerts.path for listing in source.discovery.listings):
        url = fetcher.url_for(source.alerts.path)
        try:
            _collect_alerts(source, store, fetch_cached(store, fetcher, url), report)
        except FetchError as error:
            report.problems.append(Problem(source.id, url, "alerts", error.message, error.hint))
    return candidates


def _feed_items(source: Source, store: Store, fetcher: Fetcher, report: SourceReport) -> dict[str, FeedItem]:
    """The article items of the source's feeds, by URL (the first feed to list one stands). A feed that
    cannot be read is a problem for this source; its other feeds and listings are read all the same."""
    items: dict[str, FeedItem] = {}
    for feed in source.discovery.feeds:
        url = fetcher.url_for(feed)
        try:
            content = read_feed(fetch_cached(store, fetcher, url), source)
        except (FetchError, DiscoverError) as error:
            report.problems.append(Problem(source.id, url, "discover", error.message, error.hint))
            continue
        if content.damage:
            report.notes.append(f"feed {url} is not well-formed ({content.damage}); read what it holds")
        for item in content.items:
            items.setdefault(item.url, item)
    return items


def _sitemap_batches(source: Source, store: Store, fetcher: Fetcher, report: SourceReport) -> Iterator[list[Link]]:
    """The sitemap's article links (and those of the sitemaps an index names), a batch at a time."""
    if not source.discovery.sitemap:
        return
    queue, visited = [fetcher.url_for(source.discovery.sitemap)], 0
    while queue and visited < MAX_SITEMAPS:
        url = queue.pop(0)
        visited += 1
        try:
            children, links = sitemap_entries(fetch_cached(store, fetcher, url), source)
        except FetchError as error:
            if error.status == 404 and visited == 1:
                report.notes.append(f"no sitemap at {url}")
            else:
                report.problems.append(Problem(source.id, url, "discover", error.message, error.hint))
            continue
        except DiscoverError as error:
            report.problems.append(Problem(source.id, url, "discover", error.message, error.hint))
            continue
        queue += children
        yield from batched(links, SITEMAP_BATCH)


def _collect_alerts(source: Source, store: Store, page: Page, report: SourceReport) -> None:
    try:
        alerts = extract_alerts(page, source)
    except ExtractError as error:
        report.problems.append(Problem(source.id, page.url, "alerts", error.message, error.hint))
        return
    report.alerts += [alert.title for alert in store.save_alerts(page.url, alerts, page.fetched_at)]


def fetch_conditional(store: Store, fetcher: Fetcher, url: str, *, conditional: bool) -> Page:
    remembered = store.validators(url) if conditional else None
    validators = Validators(etag=remembered[0], last_modified=remembered[1]) if remembered else None
    return fetcher.fetch(url, validators)


def fetch_cached(store: Store, fetcher: Fetcher, url: str) -> Page:
    """A discovery page: conditional, with the stored copy standing in for a 304's empty body."""
    page = fetch_conditional(store, fetcher, url, conditional=True)
    if page.status == 304:
        body = store.cached_body(url)
        if body is not None:
            store.mark_checked(url, page.fetched_at)
            return Page(
                url=page.url,
                final_url=page.final_url,
                status=200,
                headers=page.headers,
                body=body,
                fetched_at=page.fetched_at,
            )
        page = fetcher.fetch(url)
    store.remember_response(page)
    return page
