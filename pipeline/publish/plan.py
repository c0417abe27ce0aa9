"""What the published site consists of: each output file, a key that changes whenever its bytes
would, and how to render it. Publishing renders only outputs whose key changed, so adding one article
to a large archive costs the pages and feeds it appears in, not the whole archive."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import resources
from typing import Protocol

from pipeline import __version__
from pipeline.model import Alert, Config, Source, StoredArticle, Version
from pipeline.publish.archive import (
    HistoryItem,
    LinkGroup,
    Listing,
    SiteContext,
    render_article,
    render_listing,
    render_search_page,
    render_version,
    static_asset,
)
from pipeline.publish.changes import alert_item, correction_items, version_anchor
from pipeline.publish.diff import article_diff
from pipeline.publish.entries import Entry, make_entry, nz_date
from pipeline.publish.extras import FeedOutline, render_opml, render_search_shard
from pipeline.publish.feeds import FEED_EXTENSIONS, FeedItem, FeedSpec, item_from_entry, render_feeds
from pipeline.publish.taxonomy import group_entries, topics_of, type_of, year_of


class StoreView(Protocol):
    """What publishing reads from the store beyond the article list, on demand."""

    def bodies(self, article_ids: Iterable[int]) -> dict[int, str]: ...

    def versions(self, article_ids: Iterable[int]) -> dict[int, list[Version]]: ...

    def alerts(self, source_id: str) -> list[Alert]: ...


@dataclass(frozen=True)
class Output:
    paths: tuple[str, ...]
    key: str
    render: Callable[[], dict[str, bytes]]


@dataclass(frozen=True)
class FeedPlan:
    folder: str  # "" for everything, "inz/", "inz/topics/work/"...
    title: str
    description: str
    poll_minutes: int
    group: str  # where feeds.opml lists it
    depends: object
    make_items: Callable[[], list[FeedItem]]
    basename: str = "feed"


class Bodies:
    """Loads article bodies on demand, once each: most outputs need none."""

    def __init__(self, view: StoreView) -> None:
        self._view = view
        self._cache: dict[int, str] = {}

    def fill(self, entries: Sequence[Entry]) -> tuple[Entry, ...]:
        missing = [entry.stored.id for entry in entries if entry.stored.id not in self._cache]
        if missing:
            self._cache.update(self._view.bodies(missing))
        return tuple(entry.with_body(self._cache.get(entry.stored.id, "")) for entry in entries)


def poll_minutes(sources: Sequence[Source]) -> int:
    """How often readers should poll: the most frequent source schedule (cron schedules: hourly)."""
    intervals = [source.schedule.interval_seconds or 3600.0 for source in sources]
    return max(1, round(min(intervals, default=3600.0) / 60))


def site_key(config: Config) -> str:
    """Changes when anything that every page shows changes: the templates, Pānui, the settings."""
    digest = hashlib.sha256(
        f"{__version__}|{config.site_url}|{config.websub_hub}|{config.feeds!r}|{config.sources!r}".encode()
    )
    for item in sorted(resources.files("pipeline.publish").joinpath("templates").iterdir(), key=lambda item: item.name):
        digest.update(item.name.encode() + item.read_bytes())
    return digest.hexdigest()


class SitePlanner:
    def __init__(self, config: Config, view: StoreView) -> None:
        self.config = config
        self.view = view
        self.site = SiteContext(
            site_url=config.site_url,
            site_title=config.feeds.title,
            language=config.feeds.language,
            sources=config.sources,
        )
        self.base_key = site_key(config)
        self.bodies = Bodies(view)
        self.limit = config.feeds.max_items
        self.outputs: list[Output] = []
        self.feeds: list[FeedPlan] = []

    def add(self, paths: tuple[str, ...], depends: object, render: Callable[[], dict[str, bytes]]) -> None:
        key = hashlib.sha256(json.dumps([self.base_key, paths, depends], default=str).encode()).hexdigest()
        self.outputs.append(Output(paths=paths, key=key, render=render))

    def add_listing(self, listing: Listing) -> None:
        depends = [[entry.dependency for entry in listing.entries], listing.groups]
        self.add((listing.path,), depends, partial(_listing_page, self.site, listing))

    def article_feed(
        self, folder: str, title: str, description: str, entries: Sequence[Entry], minutes: int, group: str
    ) -> FeedPlan:
        newest = [entry for entry in entries if entry.stored.withdrawn_at is None][: self.limit]
        make_items = partial(_article_items, self.bodies, newest)
        return FeedPlan(folder, title, description, minutes, group, [entry.dependency for entry in newest], make_items)

    def add_feed(self, plan: FeedPlan) -> None:
        self.feeds.append(plan)
        paths = tuple(plan.folder + plan.basename + extension for extension in FEED_EXTENSIONS.values())
        self.add(paths, plan.depends, partial(_feed_files, self.config, plan, self.limit))

    def add_article_pages(self, entries: Sequence[Entry]) -> None:
        revised = [entry.stored.id for entry in entries if entry.stored.version > 1]
        versions = self.view.versions(revised) if revised else {}
        for entry in entries:
            history = versions.get(entry.stored.id, [])
            path = entry.archive_path + "index.html"
            self.add((path,), entry.dependency, partial(_article_page, self.site, self.bodies, entry, history))
            for version in history[:-1]:
                version_path = f"{entry.archive_path}v{version.number}/index.html"
                self.add(
                    (version_path,),
                    [entry.dependency, version.number],
                    partial(_version_page, self.site, entry, version, len(history)),
                )

    def add_source(self, source: Source, stored: Sequence[StoredArticle], years_group: LinkGroup) -> list[Entry]:
        config, folder = self.config, f"{source.id}/"
        entries = [make_entry(item, source, config.site_url) for item in stored]
        minutes = poll_minutes([source])
        description = f"Announcements from {source.name} ({source.base_url}), republished with attribution under {source.licence.name}."
        self.add_feed(
            self.article_feed(
                folder, f"{source.name} · {config.feeds.title}", description, entries, minutes, source.name
            )
        )
        changed = [entry for entry in entries if entry.stored.version > 1 or entry.stored.withdrawn_at is not None]
        self.add_feed(
            FeedPlan(
                folder,
                f"Corrections and withdrawals · {source.name}",
                f"Each silent edit of a {source.name} article, with what changed, and each article the source removed.",
                minutes,
                source.name,
                [entry.dependency for entry in changed],
                partial(_correction_items, self.view, changed),
                basename="updates",
            )
        )
        if source.alerts is not None:
            alerts = self.view.alerts(source.id)[: self.limit]
            depends = [(alert.id, alert.title, alert.issued, alert.text_html, alert.page_url) for alert in alerts]
            self.add_feed(
                FeedPlan(
                    folder,
                    f"Alerts · {source.name}",
                    f"Urgent notices shown across {source.name}'s website.",
                    minutes,
                    source.name,
                    depends,
                    partial(_alert_items, alerts, source),
                    basename="alerts",
                )
            )
        groups: list[LinkGroup] = []
        for kind, heading, names_of in (("types", "Types", type_of), ("topics", "Topics", topics_of)):
            grouped = group_entries(entries, names_of)
            groups.append(
                LinkGroup(
                    heading,
                    tuple(
                        (f"{name} ({len(members)})", f"{folder}{kind}/{slug}/index.html")
                        for slug, (name, members) in grouped.items()
                    ),
                )
            )
            label = "topic" if kind == "topics" else "type"
            for slug, (name, members) in grouped.items():
                sub = f"{folder}{kind}/{slug}/"
                self.add_feed(
                    self.article_feed(
                        sub,
                        f"{name} · {source.name}",
                        f"{source.name} articles with the {label} “{name}”.",
                        members,
                        minutes,
                        source.name,
                    )
                )
                self.add_listing(
                    Listing(
                        f"{sub}index.html",
                        f"{label.capitalize()}: {name}",
                        f"Every {source.name} article with the {label} “{name}”, newest first.",
                        members,
                        sub,
                    )
                )
        self.add_listing(
            Listing(
                f"{folder}index.html", source.name, description, entries[: self.limit], folder, (*groups, years_group)
            )
        )
        self.add_article_pages(entries)
        return entries

    def add_site_wide(
        self, everything: list[Entry], years: Mapping[str, tuple[str, list[Entry]]], years_group: LinkGroup
    ) -> None:
        config = self.config
        for year, (_, members) in years.items():
            self.add_listing(
                Listing(
                    f"years/{year}/index.html",
                    f"Articles of {year}",
                    f"Every article published in {year}, newest first.",
                    members,
                    None,
                    (years_group,),
                )
            )
            shard = f"search/{year}.json"
            self.add(
                (shard,), [entry.dependency for entry in members], partial(_search_shard, shard, self.bodies, members)
            )
        sources_group = LinkGroup(
            "Sources", tuple((source.name, f"{source.id}/index.html") for source in config.sources)
        )
        self.add_listing(
            Listing(
                "index.html",
                config.feeds.title,
                config.feeds.description,
                everything[: self.limit],
                "",
                (years_group, sources_group),
            )
        )
        self.add_feed(
            self.article_feed(
                "", config.feeds.title, config.feeds.description, everything, poll_minutes(config.sources), ""
            )
        )
        self.feeds.insert(0, self.feeds.pop())  # the all-sources feed leads feeds.opml
        shards = sorted(years, reverse=True)
        self.add(("search/index.html",), shards, partial(_search_page, self.site, shards))
        self.add(("search/search.js",), "static", partial(_static, "search/search.js", "search.js"))
        outlines = [
            FeedOutline(
                plan.title,
                config.site_url + plan.folder + plan.basename + ".xml",
                config.site_url + plan.folder,
                plan.group,
            )
            for plan in self.feeds
        ]
        self.add(("feeds.opml",), outlines, partial(_opml, config.feeds.title, outlines))


def plan_site(config: Config, articles: Mapping[str, Sequence[StoredArticle]], view: StoreView) -> list[Output]:
    planner = SitePlanner(config, view)
    newest_first = sorted(
        (item for items in articles.values() for item in items),
        key=lambda item: (item.article.published, item.first_seen, item.article.url),
        reverse=True,
    )
    years = group_entries(
        (make_entry(item, config.source(item.source_id), config.site_url) for item in newest_first), year_of
    )
    years_group = LinkGroup(
        "Archive by year",
        # No counts in these links: they are on every year page, which would then all change with each
        # new article (measured in BENCHMARKS.md: 32 -> 19 files rendered per new article).
        tuple((year, f"years/{year}/index.html") for year in sorted(years, reverse=True)),
    )
    everything: list[Entry] = []
    for source in config.sources:
        everything += planner.add_source(source, articles.get(source.id, ()), years_group)
    everything.sort(
        key=lambda entry: (entry.stored.article.published, entry.stored.first_seen, entry.url), reverse=True
    )
    planner.add_site_wide(everything, years, years_group)
    return planner.outputs


# Renderers, bound with functools.partial so that nothing is rendered (or read) until needed.


def _listing_page(site: SiteContext, listing: Listing) -> dict[str, bytes]:
    return {listing.path: render_listing(site, listing)}


def _article_items(bodies: Bodies, entries: Sequence[Entry]) -> list[FeedItem]:
    return [item_from_entry(entry) for entry in bodies.fill(entries)]


def _correction_items(view: StoreView, entries: Sequence[Entry]) -> list[FeedItem]:
    versions = view.versions(entry.stored.id for entry in entries)
    items = [item for entry in entries for item in correction_items(entry, versions.get(entry.stored.id, []))]
    return sorted(items, key=lambda item: (item.updated, item.id), reverse=True)


def _alert_items(alerts: Sequence[Alert], source: Source) -> list[FeedItem]:
    return [alert_item(alert, source) for alert in alerts]


def _feed_files(config: Config, plan: FeedPlan, limit: int) -> dict[str, bytes]:
    spec = FeedSpec(
        title=plan.title,
        description=plan.description,
        language=config.feeds.language,
        home_url=config.site_url + plan.folder,
        folder_url=config.site_url + plan.folder,
        items=tuple(plan.make_items()[:limit]),
        poll_minutes=plan.poll_minutes,
        hub=config.websub_hub,
        basename=plan.basename,
    )
    return {plan.folder + name: data for name, data in render_feeds(spec).items()}


def _article_page(site: SiteContext, bodies: Bodies, entry: Entry, versions: Sequence[Version]) -> dict[str, bytes]:
    history = [
        HistoryItem(
            number=version.number,
            anchor=version_anchor(version.number),
            retrieved=nz_date(version.retrieved_at, entry.source.timezone),
            diff_html=article_diff(versions[index - 1].article, version.article) if index else "",
            path=f"v{version.number}/index.html" if index < len(versions) - 1 else "",
        )
        for index, version in enumerate(versions)
    ]
    return {entry.archive_path + "index.html": render_article(site, bodies.fill([entry])[0], history[::-1])}


def _version_page(site: SiteContext, entry: Entry, version: Version, count: int) -> dict[str, bytes]:
    return {f"{entry.archive_path}v{version.number}/index.html": render_version(site, entry, version, count)}


def _search_shard(path: str, bodies: Bodies, members: Sequence[Entry]) -> dict[str, bytes]:
    return {path: render_search_shard(bodies.fill(members))}


def _search_page(site: SiteContext, shards: Sequence[str]) -> dict[str, bytes]:
    return {"search/index.html": render_search_page(site, shards)}


def _static(path: str, asset: str) -> dict[str, bytes]:
    return {path: static_asset(asset)}


def _opml(title: str, outlines: Sequence[FeedOutline]) -> dict[str, bytes]:
    return {"feeds.opml": render_opml(title, outlines)}
