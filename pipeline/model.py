"""The values that flow between the stages. Frozen, so a stage can never change another's input."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from pipeline.spacing import without_block_tag_space
from pipeline.subscriptions import NotifySettings

# New Zealand's time: the calendar's days, the reminders and digests, and the daemon's schedules.
NZ = ZoneInfo("Pacific/Auckland")


@dataclass(frozen=True)
class Licence:
    name: str
    url: str


@dataclass(frozen=True)
class Listing:
    """A server-rendered page whose links (a CSS selector) point at articles."""

    path: str
    links: str


@dataclass(frozen=True)
class Discovery:
    listings: tuple[Listing, ...]
    sitemap: str | None
    article_paths: re.Pattern[str]
    never_fetch: tuple[str, ...]
    feeds: tuple[str, ...] = ()  # RSS or Atom feeds (paths or URLs on the source's host)


@dataclass(frozen=True)
class PageTypeRule:
    """Which pages are articles: `selector`'s `attribute` must be one of `accept`."""

    selector: str
    attribute: str
    accept: tuple[str, ...]


@dataclass(frozen=True)
class Selectors:
    page_type: PageTypeRule | None
    title: str
    published: str
    published_format: str
    news_type: str | None
    topics: str | None
    summary: str | None
    body: str
    body_exclude: tuple[str, ...]


@dataclass(frozen=True)
class WatchedPage:
    """A page the source updates in place (`watch:`): each change of its text, or of the text of the
    part `selector` finds, is a new version and an item of the source's changes feed."""

    path: str
    selector: str | None = None


@dataclass(frozen=True)
class Schedule:
    interval_seconds: float | None
    cron: str | None
    jitter_seconds: float


@dataclass(frozen=True)
class RevisitRule:
    """Re-check articles younger than `younger_than_seconds` (None: any age) every `every_seconds`."""

    younger_than_seconds: float | None
    every_seconds: float


DEFAULT_REVISIT = (
    RevisitRule(30 * 86400, 86400),  # daily for a month
    RevisitRule(365 * 86400, 7 * 86400),  # weekly for a year
    RevisitRule(None, 30 * 86400),  # then monthly
)


@dataclass(frozen=True)
class AlertSelectors:
    """Where a source shows a site-wide urgent notice, and how to read it."""

    path: str
    container: str
    title: str
    issued: str
    issued_format: str
    text: str


@dataclass(frozen=True)
class Expectations:
    """What a source's articles and discovery must meet (see pipeline/extract/__init__.py, and docs/configuration.md on why)."""

    max_future_days: float = 1.0
    min_links: int = 1  # discovery must find at least this many article links


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    base_url: str
    timezone: str
    request_delay: float
    timeout: float
    retries: int
    backoff: float
    max_bytes: int
    discovery: Discovery
    extraction: Selectors | None  # None: no selectors: `extraction: generic`, or a source of watched pages alone
    licence: Licence
    attribution: str
    schedule: Schedule
    revisit: tuple[RevisitRule, ...] = DEFAULT_REVISIT
    removal_grace_seconds: float = 3600.0
    alerts: AlertSelectors | None = None
    expect: Expectations = Expectations()
    fallback: bool = True  # try the generic extractor when the selectors miss
    watch: tuple[WatchedPage, ...] = ()

    def revisit_every(self, age_seconds: float) -> float:
        """How long to leave an article of this age before checking it again."""
        for rule in self.revisit:
            if rule.younger_than_seconds is None or age_seconds < rule.younger_than_seconds:
                return rule.every_seconds
        return self.revisit[-1].every_seconds if self.revisit else DEFAULT_REVISIT[-1].every_seconds

    @cached_property  # asked for each link of a sitemap (50,000 of them)
    def host(self) -> str:
        return urlsplit(self.base_url).netloc.lower()

    @property
    def watch_only(self) -> bool:
        """A source of watched pages alone: it has no way to find articles."""
        return not (self.discovery.listings or self.discovery.sitemap or self.discovery.feeds)

    @property
    def watched_urls(self) -> frozenset[str]:
        """The addresses of the source's watched pages: read as watched pages, never as articles."""
        return frozenset(urljoin(self.base_url, page.path) for page in self.watch)


@dataclass(frozen=True)
class FeedSettings:
    title: str
    description: str
    max_items: int
    language: str


@dataclass(frozen=True)
class HealthSettings:
    """`health:` in sources.yaml: whether to publish a public health.json in output_dir (off by default:
    it changes with every run, and output should change only when content does), and when a source whose
    last success is older than `stale_after` times its schedule's interval counts as unhealthy."""

    public: bool = False
    stale_after: float = 3.0


@dataclass(frozen=True)
class Config:
    path: Path
    site_url: str
    output_dir: Path
    state_dir: Path
    user_agent: str
    feeds: FeedSettings
    sources: tuple[Source, ...]
    websub_hub: str | None = None
    warc: bool = False  # also keep every response in a WARC file per run (state_dir/warc/)
    run_budget: float = 1800.0  # seconds of wall clock one run may spend before it stops fetching articles
    health: HealthSettings = HealthSettings()
    contact: str = ""  # how a site's operators reach whoever runs Pānui: contact, or the user_agent replacing it
    notify: NotifySettings = field(default_factory=NotifySettings)  # subscriptions: who is told what, and how
    disabled_sources: tuple[str, ...] = ()  # the ids written with enabled: false (left out of every run)

    def source(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)


@dataclass(frozen=True)
class Page:
    """One HTTP answer. `status` 304 means the stored copy is still current (body is then empty)."""

    url: str
    final_url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    fetched_at: datetime

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


@dataclass(frozen=True)
class Link:
    url: str
    found_on: str
    lastmod: datetime | None = None


@dataclass(frozen=True)
class Article:
    """What extraction makes of one page: plain values, the body already sanitised."""

    url: str
    title: str
    published: datetime
    news_type: str | None
    topics: tuple[str, ...]
    summary: str
    body_html: str

    @property
    def content_hash(self) -> str:
        """Changes when the content changes, not when only white space does."""
        parts = [
            self.url,
            self.title,
            self.published.date().isoformat(),
            self.news_type or "",
            "\x1f".join(self.topics),
            self.summary,
            without_block_tag_space(self.body_html),
        ]
        # " ".join(part.split()) is re.sub(r"\s+", " ", part).strip(), both splitting at str.isspace()
        # characters, at a third of the cost: the hashes of stored versions stay the same.
        normalised = "\x1e".join(" ".join(part.split()) for part in parts)
        return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredArticle:
    """An article as the store keeps it: its latest version and where it lives in the archive."""

    id: int
    source_id: str
    slug: str
    first_seen: datetime
    version: int
    retrieved_at: datetime
    content_hash: str
    article: Article  # body_html is "" when the store was asked for metadata only
    withdrawn_at: datetime | None = None  # when the source was found to have removed it
    kind: str = "article"  # or "watch": a watched page, in no listing or article feed (its changes feed)
    extractor: str = "selectors"  # what read the current version: "selectors", "fallback", "pdf", "watch"


@dataclass(frozen=True)
class Version:
    number: int
    retrieved_at: datetime
    article: Article


@dataclass(frozen=True)
class Alert:
    """A site-wide urgent notice (INZ's home page banner)."""

    id: str  # stable: derived from the source, title and issued time
    source_id: str
    title: str
    issued: datetime
    text_html: str
    page_url: str
    first_seen: datetime | None = None
