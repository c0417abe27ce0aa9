"""What a sync asks the source for, and in which order: the URLs the operator gave, the articles on the
listing pages, the sitemap's articles that are new or changed since our last check, then the known
articles due on the revisit schedule. Each URL once.

A source's sitemap can list every page it ever published. It is read a batch of links at a time and
only the links due for a request are kept, so a sync's memory follows what it fetches, not the size
of the sitemap or of the archive. A discovery page that answers 304 is not read again when what its
stored body yielded is kept (the store's discovery_reads): a listing's links, an index's sitemaps, or
that a sitemap's links were all settled (none new, none changed since its last check), so a sync that
finds nothing new decompresses and parses no stored page.

Deciding does no I/O: pages come through `Pages` (the sync's orchestrator fetches them, keeping each
response) and what is known through `Memory` (the store); a contract in pyproject.toml forbids this
module to import pipeline.fetch or pipeline.store."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from pipeline import __version__
from pipeline.batching import batched
from pipeline.discover import (
    MAX_SITEMAP_BYTES,
    SLOTS,
    SitemapEntry,
    SitemapRead,
    find_listing_links,
    read_feed,
    sitemap_entries,
)
from pipeline.errors import DiscoverError, ExtractError, FetchError
from pipeline.feed_item import FeedItem
from pipeline.model import Alert, Link, Page, Source
from pipeline.reports import Problem, SourceReport

MAX_SITEMAPS = 50  # child sitemaps followed from one index: a bound against a runaway site
# The first is fetched unconditionally; "withdrawn" is a revisit of an article the source withdrew.
ORIGIN_PRECEDENCE = ("url", "listing", "revisit", "feed", "sitemap", "withdrawn")
SITEMAP_BATCH = 500


class Pages(Protocol):
    """How discovery gets the source's pages (pipeline.sync.pages.SourcePages)."""

    def url_for(self, path: str) -> str: ...

    def discovery_page(
        self, url: str, reader: str, *, max_bytes: int | None = None, needs: tuple[str, ...] = ()
    ) -> tuple[Page | None, dict[str, Any]]: ...


class Memory(Protocol):
    """What discovery asks of the store, and keeps in it (pipeline.store.Store)."""

    def checked_times(self, urls: Sequence[str]) -> dict[str, datetime]: ...

    def revisit_candidates(
        self, source_id: str, now: datetime, bands: Sequence[tuple[float, float, float]]
    ) -> Iterable[tuple[str, datetime, datetime, bool]]: ...

    def remember_read(self, url: str, reader: str, found: dict[str, Any]) -> None: ...

    def previous_read(self, url: str, reader: str, *, body_for: str) -> tuple[dict[str, Any], bytes | None] | None: ...

    def save_alerts(self, page_url: str, alerts: list[Alert], seen_at: datetime) -> list[Alert]: ...


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
    source: Source, pages: Pages, store: Memory, report: SourceReport, urls: Sequence[str], now: datetime
) -> list[Candidate]:
    """Every article to request now. A sitemap link that is neither new nor changed since our last
    check (and not due for a revisit) is counted as unchanged in the report and not kept."""
    chosen = Chosen()
    for url in urls:
        chosen.add(Candidate(Link(url=url, found_on="--url"), "url"))
    for candidate in _listing_candidates(source, pages, store, report):
        chosen.add(candidate)
    revisits = revisit_candidates(source, store, now)
    revisit_urls = {candidate.link.url for candidate in revisits}
    discovered = len(chosen.by_url)
    # A feed's items are few (the newest 10 to 50), and read like a sitemap's links: a known article is
    # asked for again when its item is newer than our last check, or on the revisit schedule.
    feeds = _feeds(source, pages, report)
    items: dict[str, FeedItem] = {}
    for feed in feeds:
        discovered += feed.settled or 0  # a settled feed, not read again: its items count as found
        for item in feed.items:
            items.setdefault(item.url, item)  # the first feed to list one stands
    checked = store.checked_times(list(items))
    for url, item in items.items():
        if url in chosen.by_url:
            continue
        discovered += 1
        if _feed_due(item, checked):
            chosen.add(Candidate(_feed_link(item), "feed"))
        elif url not in revisit_urls:
            report.unchanged += 1
    for feed in feeds:  # as a sitemap: a 304 next time means none of its items can be due
        if feed.settled is None and feed.whole and not any(_feed_due(item, checked) for item in feed.items):
            store.remember_read(feed.url, discovery_reader(source), {"settled": len(feed.items)})
    # The sitemap's URLs seen so far (a sitemap, or two child sitemaps, may repeat one), ~100 bytes each.
    seen: set[str] = set()
    for sitemap in _sitemaps(source, pages, store, report):
        if isinstance(sitemap, int):  # a settled sitemap, not read again: its links count as found
            discovered += sitemap
            continue
        url, entries, read = sitemap
        settled, count = True, 0
        for batch in batched(entries, SITEMAP_BATCH):
            checked = store.checked_times([entry.link.url for entry in batch])
            for entry in batch:
                link = entry.link
                due = _changed_since(link, checked.get(link.url))
                settled = settled and not due and entry.lasting
                if not due:
                    read.settle(entry)
                if link.url in chosen.by_url:
                    continue
                if link.url in seen:  # listed before (another child sitemap, say), and not due there
                    if due:
                        chosen.add(Candidate(link, "sitemap"))
                        report.unchanged -= link.url not in revisit_urls
                    continue
                seen.add(link.url)
                discovered, count = discovered + 1, count + 1
                if due:
                    chosen.add(Candidate(link, "sitemap"))
                elif link.url not in revisit_urls:
                    report.unchanged += 1
        # The entries passed by, none due, counted as above (after the others: a URL taken is not counted twice)
        fresh = set(read.passed_urls).difference(chosen.by_url, seen)  # (set operations: 50,000 in 5 ms)
        seen |= fresh
        discovered, count = discovered + len(fresh), count + len(fresh)
        report.unchanged += len(fresh) - len(revisit_urls & fresh)
        if read.broken is not None:  # it broke off (read as a stream): the links before the break stand
            report.problems.append(Problem(source.id, url, "discover", read.broken.message, read.broken.hint))
            continue
        # When it changes, its entries that need no request now will need none then, as written (a
        # lastmod, and our last check of the article, only move forward): the next read passes them by,
        # so a sitemap of 50,000 links that gained one costs the checks of one.
        found = read.found()
        if settled:  # a 304 next time means nothing in it can be due: it need not be read
            found["settled"] = count
        store.remember_read(url, discovery_reader(source), found)
    # A source of watched pages alone discovers nothing, and expects to.
    if not source.watch_only and discovered < source.expect.min_links and not report.problems:
        report.degrade(
            f"discovery found {discovered} article link(s), fewer than expect.min_links ({source.expect.min_links}) (e.g. {source.base_url})",
        )
    for candidate in revisits:
        chosen.add(candidate)
    watched = source.watched_urls  # a page linked from a listing may be one: it is read as watched only
    return [
        replace(candidate, feed_item=items.get(url)) for url, candidate in chosen.by_url.items() if url not in watched
    ]


def revisit_candidates(source: Source, store: Memory, now: datetime) -> list[Candidate]:
    """Known articles due for a (conditional) re-check: often while young, rarely once old. One the
    source withdrew is asked for at the slowest pace (monthly by default): if it comes back, even
    where no listing or sitemap change points to it, it is reinstated."""
    due: list[Candidate] = []
    for url, published, checked, withdrawn in store.revisit_candidates(source.id, now, revisit_bands(source)):
        age = math.inf if withdrawn else (now - published).total_seconds()
        if (now - checked).total_seconds() >= source.revisit_every(age):
            due.append(Candidate(Link(url=url, found_on="revisit"), "withdrawn" if withdrawn else "revisit"))
    return due


def revisit_bands(source: Source) -> list[tuple[float, float, float]]:
    """The revisit schedule as (age from, age to, every) bands, in seconds: what Source.revisit_every
    answers for an age in each (its first matching rule; a withdrawn article's age is infinite)."""
    bands: list[tuple[float, float, float]] = []
    low = -math.inf
    for rule in source.revisit:
        high = math.inf if rule.younger_than_seconds is None else rule.younger_than_seconds
        if high > low:
            bands.append((low, high, rule.every_seconds))
            low = high
        if high == math.inf:
            return bands
    return [*bands, (low, math.inf, source.revisit_every(math.inf))]


def _changed_since(link: Link, checked: datetime | None) -> bool:
    """A sitemap link is requested when it is new to us, or its lastmod is newer than our last check."""
    return checked is None or (link.lastmod is not None and link.lastmod > checked)


def _listing_candidates(source: Source, pages: Pages, store: Memory, report: SourceReport) -> list[Candidate]:
    """Links from the listing pages (and the site alerts, from the page that shows them)."""
    reader = discovery_reader(source)
    candidates: list[Candidate] = []
    for listing in source.discovery.listings:
        url = pages.url_for(listing.path)
        try:
            page, found = pages.discovery_page(url, reader)
            if page is None:
                listed = found.get("articles", [])
                candidates += [Candidate(Link(url=str(link), found_on=url), "listing") for link in listed]
                continue
            links = find_listing_links(page, listing, source)
            if not links:
                report.degrade(f"discovery listing selector {listing.links!r} matched no article link (e.g. {url})")
            candidates += [Candidate(link, "listing") for link in links]
        except (FetchError, DiscoverError) as error:
            report.problems.append(Problem(source.id, url, "discover", error.message, error.hint))
            continue
        alerts_read = (
            source.alerts is None or listing.path != source.alerts.path or _collect_alerts(source, store, page, report)
        )
        if links and alerts_read:  # a read with a problem is read again, and the problem told again
            store.remember_read(url, reader, {"articles": [link.url for link in links]})
    if source.alerts is not None and all(listing.path != source.alerts.path for listing in source.discovery.listings):
        url = pages.url_for(source.alerts.path)
        try:
            page, _ = pages.discovery_page(url, reader)
        except FetchError as error:
            report.problems.append(Problem(source.id, url, "alerts", error.message, error.hint))
            return candidates
        if page is not None and _collect_alerts(source, store, page, report):
            store.remember_read(url, reader, {"alerts": True})
    return candidates


@dataclass(frozen=True)
class FeedRead:
    url: str
    items: tuple[FeedItem, ...] = ()
    settled: int | None = None  # not read again (a 304, none of its items due at its last read): how many
    whole: bool = True  # False for a feed not well-formed, read in part: never taken as settled


def _feeds(source: Source, pages: Pages, report: SourceReport) -> list[FeedRead]:
    """Each feed of the source, read or settled. A feed that cannot be read is a problem for this
    source; its other feeds and listings are read all the same."""
    found: list[FeedRead] = []
    for feed in source.discovery.feeds:
        url = pages.url_for(feed)
        try:
            page, remembered = pages.discovery_page(url, discovery_reader(source), needs=("settled",))
            if page is None:
                found.append(FeedRead(url, settled=int(remembered["settled"])))
                continue
            content = read_feed(page, source)
        except (FetchError, DiscoverError) as error:
            report.problems.append(Problem(source.id, url, "discover", error.message, error.hint))
            continue
        if content.damage:
            report.notes.append(f"feed {url} is not well-formed ({content.damage}); read what it holds")
        found.append(FeedRead(url, tuple(content.items), whole=not content.damage))
    return found


def _feed_link(item: FeedItem) -> Link:
    return Link(url=item.url, found_on="feed", lastmod=item.published)


def _feed_due(item: FeedItem, checked: dict[str, datetime]) -> bool:
    return _changed_since(_feed_link(item), checked.get(item.url))


def _sitemaps(
    source: Source, pages: Pages, store: Memory, report: SourceReport
) -> Iterator[tuple[str, Iterator[SitemapEntry], SitemapRead] | int]:
    """Each urlset to read, with its article links, read as they are asked for (and the sitemaps an
    index names) and the read (what it passes by as settled, where it broke off); or, for one that answered
    304 with all its links settled, their number."""
    if not source.discovery.sitemap:
        return
    reader = discovery_reader(source)
    queue, visited = [pages.url_for(source.discovery.sitemap)], set[str]()
    while queue and len(visited) < MAX_SITEMAPS:
        url = queue.pop(0)
        if url in visited:  # named twice (an index that names itself, or a blank <loc>: the index again)
            continue
        visited.add(url)
        try:
            page, found = pages.discovery_page(url, reader, max_bytes=MAX_SITEMAP_BYTES, needs=("sitemaps", "settled"))
            if page is None:
                queue += [str(child) for child in found.get("sitemaps", [])]
                yield int(found.get("settled", 0))
                continue
            # Its last complete read, of any bytes, and the body it was made of when that read is compared with.
            found, previous = store.previous_read(url, reader, body_for=SLOTS) or ({}, None)
            read = SitemapRead.after(found, previous)
            children, links = sitemap_entries(page, source, read)
        except FetchError as error:
            if error.status == 404 and len(visited) == 1:
                report.notes.append(f"no sitemap at {url}")
            else:
                report.problems.append(Problem(source.id, url, "discover", error.message, error.hint))
            continue
        except DiscoverError as error:
            report.problems.append(Problem(source.id, url, "discover", error.message, error.hint))
            continue
        if children:  # an index (no links of its own)
            store.remember_read(url, reader, {"sitemaps": children})
            queue += children
        else:
            yield url, links, read


def _collect_alerts(source: Source, store: Memory, page: Page, report: SourceReport) -> bool:
    """Keep the page's alerts; False when they could not be read (a problem in the report)."""
    from pipeline.extract.alerts import extract_alerts  # nh3: loaded by the run that reads a page

    try:
        alerts = extract_alerts(page, source)
    except ExtractError as error:
        report.problems.append(Problem(source.id, page.url, "alerts", error.message, error.hint))
        return False
    report.alerts += [alert.title for alert in store.save_alerts(page.url, alerts, page.fetched_at)]
    return True


def discovery_reader(source: Source) -> str:
    """What reads a source's discovery pages, as a key: Pānui's version and every setting that decides
    what a read of the same bytes finds (a change to any reads each page again)."""
    discovery = source.discovery
    settings = (__version__, source.id, source.base_url, source.timezone, source.alerts, discovery.listings)
    paths = (discovery.sitemap, discovery.article_paths.pattern, discovery.article_paths.flags, discovery.never_fetch)
    return hashlib.sha256(repr((settings, paths)).encode()).hexdigest()
