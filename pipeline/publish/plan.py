"""What a publication consists of: each output file, a key that changes whenever its bytes would, and how
to render it. A plan covers a scope (the collections that changed articles are listed in, and those
articles' own pages), so adding one article to a large archive plans the pages and feeds it appears in,
reading them from the store one collection at a time, never the whole archive."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, partial

from pipeline.batching import batched
from pipeline.model import Config, Source, StoredArticle
from pipeline.publish import render, saved
from pipeline.publish import search as search_layout
from pipeline.publish.archive import (
    AlertBox,
    LinkGroup,
    Listing,
    render_listing,
    render_search_page,
    render_version,
    search_script,
)
from pipeline.publish.calendar_plan import calendar_outputs
from pipeline.publish.changes import change_items, correction_items
from pipeline.publish.collections import SITE, year_first
from pipeline.publish.entries import MAX_DOCUMENT_COPY, Entry, document_name, make_entry
from pipeline.publish.extras import render_opml
from pipeline.publish.feed_items import FeedItem
from pipeline.publish.feeds import FEED_EXTENSIONS
from pipeline.publish.render import FeedContent, StoreView
from pipeline.publish.search_plan import search_leftovers, search_outputs
from pipeline.publish.site import collection_paths, opml_lists, poll_minutes, site_key, source_feed_titles
from pipeline.store import Catalogue, CollectionInfo, Membership

Render = Callable[[], dict[str, bytes]]
ARTICLE_CHUNK = 200  # article pages are planned this many at a time, so memory holds a chunk, not the archive


@dataclass(frozen=True)
class Output:
    paths: tuple[str, ...]
    key: str
    render: Render
    weight: int = 1  # the articles it lists: what it holds in memory until it is written


@dataclass
class Scope:
    """What a publication covers: collections by folder, and the articles whose own pages it plans."""

    collections: dict[str, Membership] = field(default_factory=dict)
    article_ids: list[int] = field(default_factory=list)
    search_shards: set[str] = field(default_factory=set)  # the search index's files (see publish.search)
    search_terms: dict[str, int] = field(default_factory=dict)  # each with its first page that changed
    search_groups: set[int] = field(default_factory=set)

    def add(self, members: Iterable[Membership]) -> None:
        self.collections.update((member.collection, member) for member in members)


def _counted(collections: Sequence[CollectionInfo]) -> tuple[tuple[str, str], ...]:
    """Links to the collections' pages, each labelled with its name and how many articles it lists."""
    return tuple((f"{info.name} ({info.count})", info.collection + "index.html") for info in collections)


class SitePlanner:
    def __init__(self, config: Config, catalogue: Catalogue, view: StoreView, today: date) -> None:
        self.config = config
        self.today = today  # in NZ: what the calendar's page and feed count from
        self.catalogue = catalogue
        self.view = view
        self.base_key = site_key(config)
        self.limit = config.feeds.max_items
        self.sources = {source.id: source for source in config.sources}
        self._known: dict[tuple[str, str], tuple[CollectionInfo, ...]] = {}

    def plan(self, scope: Scope) -> Iterator[Output]:
        """Every output of the scope; plus, when the scope is not empty, the site-wide pages that depend
        on which collections exist, and always the alert feeds and the front page that shows the current
        alerts (they change without any article), and the calendar's outputs (they change with the day)."""
        yield from self._article_pages(scope.article_ids)
        for membership in sorted(scope.collections.values(), key=year_first):
            if self._exists(membership):
                yield from self._collection(membership)
        if scope.collections:
            yield from self._site_wide()
        yield from search_outputs(self, scope)
        if SITE not in scope.collections and self._alert_boxes:
            yield self._front_page()
        for source in self.config.sources:
            if source.alerts is not None:
                yield self._alerts_feed(source)
            if source.watch:
                yield self._changes_feed(source)
        for paths, depends, render_ in calendar_outputs(self.config, self.catalogue, self.today):
            yield self._output(paths, depends, render_)

    def removed(self, scope: Scope) -> list[str]:
        """The files of the scope's collections that list nothing any more (a topic no article has),
        and the search index's files of the scope that have nothing to hold."""
        paths = [
            path
            for _, membership in sorted(scope.collections.items())
            if membership.kind not in ("site", "source") and not self._exists(membership)
            for path in collection_paths(membership)
        ]
        return paths + search_leftovers(self, scope)

    def _exists(self, membership: Membership) -> bool:
        """The site's and each configured source's pages always exist; the others while they list
        something (a source taken out of sources.yaml lists nothing any more)."""
        if membership.kind == "site" or (membership.kind == "source" and membership.collection[:-1] in self.sources):
            return True
        if membership.kind == saved.KIND:  # while configured, listing something or not
            return membership in saved.configured(self.config)
        return membership.kind != "source" and self.catalogue.size(membership.collection) > 0

    def _output(self, paths: tuple[str, ...], depends: object, render_: Render, weight: int = 1) -> Output:
        # repr, not JSON: dependencies are tuples, strings, numbers and frozen dataclasses, whose repr
        # is exact and stable, and it costs a fraction of json.dumps (run for every planned output).
        key = hashlib.sha256(repr((self.base_key, paths, depends)).encode()).hexdigest()
        return Output(paths=paths, key=key, render=render_, weight=weight)

    def _entries(self, stored: Sequence[StoredArticle]) -> list[Entry]:
        return [make_entry(item, self.sources[item.source_id], self.config.site_url) for item in stored]

    def _listing(self, listing: Listing) -> Output:
        entries = [entry.dependency for entry in listing.entries]
        depends = [listing.heading, listing.description, entries, listing.groups, listing.alerts]
        return self._output((listing.path,), depends, partial(render_listing, self.config, listing), len(entries))

    def _feed(self, content: FeedContent, entries: Sequence[Entry], make_items: Callable[[], list[FeedItem]]) -> Output:
        paths = tuple(content.folder + content.basename + extension for extension in FEED_EXTENSIONS.values())
        depends = [content, [entry.dependency for entry in entries]]
        return self._output(paths, depends, partial(render.feed_files, self.config, content, make_items), len(entries))

    def _article_feed(self, folder: str, title: str, description: str, minutes: int) -> Output:
        newest = self._entries(self.catalogue.listed(folder, limit=self.limit, current_only=True))
        since = self._began
        if not newest:  # every article it listed was withdrawn (or it never listed one): dated by the last
            withdrawn = [item.withdrawn_at for item in self.catalogue.listed(folder) if item.withdrawn_at]
            since = max(withdrawn, default=since)
        content = FeedContent(folder, title, description, minutes, since)
        return self._feed(content, newest, partial(render.feed_items, self.view, newest))

    @cached_property
    def _began(self) -> datetime:
        return self.catalogue.archive_began()

    def _groups(self, kind: str, parent: str) -> tuple[CollectionInfo, ...]:
        """The collections of a kind under a parent (asked for by many outputs: read once)."""
        if (kind, parent) not in self._known:
            self._known[kind, parent] = tuple(self.catalogue.collections(kind, parent))
        return self._known[kind, parent]

    def _years_group(self) -> LinkGroup:
        # No counts in these links: they are on every year page, which would then all change with each
        # new article (benchmark item 4 measured 32 -> 19 files rendered per new article).
        years = self._groups("year", "")
        return LinkGroup("Archive by year", tuple((info.name, info.collection + "index.html") for info in years[::-1]))

    # The outputs.

    def _article_pages(self, article_ids: Sequence[int]) -> Iterator[Output]:
        for chunk in batched(article_ids, ARTICLE_CHUNK):
            stored = [item for item in self.catalogue.articles(chunk) if item.source_id in self.sources]
            revised = [item.id for item in stored if item.version > 1]
            versions = self.view.versions(revised) if revised else {}
            bodies = render.bodies_when_asked(self.view, [item.id for item in stored])  # (for the chunk's pages)
            for entry in self._entries(stored):
                history = versions.get(entry.stored.id, [])
                document = self._document(entry)
                paths = (entry.archive_path + "index.html", *((entry.archive_path + document,) if document else ()))
                page = partial(render.article_page, self.config, self.view, bodies, entry, history, document)
                yield self._output(paths, [entry.dependency, document], page)
                for version in history[:-1]:
                    version_path = f"{entry.archive_path}v{version.number}/index.html"
                    yield self._output(
                        (version_path,),
                        [entry.dependency, version.number],
                        partial(render_version, self.config, entry, version, len(history)),
                    )

    def _document(self, entry: Entry) -> str | None:
        """The name of the copy of the PDF an article was read from, published beside its page, or None
        (not a PDF, or larger than a copy may be: the page then links the original only)."""
        if entry.stored.extractor != "pdf":
            return None
        size = self.view.document_size(entry.stored.id)
        return document_name(entry.stored) if size is not None and size <= MAX_DOCUMENT_COPY else None

    def _collection(self, membership: Membership) -> Iterator[Output]:
        if membership.kind == "site":
            yield self._front_page()
            feeds = self.config.feeds
            yield self._article_feed("", feeds.title, feeds.description, poll_minutes(self.config.sources))
        elif membership.kind == "source":
            yield from self._source(self.sources[membership.collection.rstrip("/")])
        elif membership.kind == "year":
            yield from self._year(membership.name)
        elif membership.kind in ("topic", "type"):
            yield from self._grouping(membership)
        elif membership.kind == saved.KIND:
            yield from saved.subscription_outputs(self, membership)
        else:
            yield self._grouping_year(membership)

    def _front_page(self) -> Output:
        config = self.config
        sources_group = LinkGroup(
            "Sources", tuple((source.name, f"{source.id}/index.html") for source in config.sources)
        )
        newest = self._entries(self.catalogue.listed(SITE, limit=self.limit))
        return self._listing(
            Listing(
                "index.html",
                config.feeds.title,
                config.feeds.description,
                newest,
                "",
                (self._years_group(), sources_group, *saved.front_page_groups(config)),
                self._alert_boxes,
            )
        )

    @cached_property
    def _alert_boxes(self) -> tuple[AlertBox, ...]:
        """Each source's current alerts (for the sources that have alerts configured)."""
        return tuple(
            AlertBox(source, tuple(self.view.alerts(source.id, self.limit, current_only=True)))
            for source in self.config.sources
            if source.alerts is not None
        )

    def _source(self, source: Source) -> Iterator[Output]:
        folder, minutes = f"{source.id}/", poll_minutes([source])
        description = f"Announcements from {source.name} ({source.base_url}), republished with attribution under {source.licence.name}."
        titles = source_feed_titles(source, self.config.feeds.title)
        yield self._article_feed(folder, titles["feed"], description, minutes)
        corrected = self._entries(self.catalogue.corrected(source.id, self.limit))
        updates = FeedContent(
            folder,
            titles["updates"],
            f"Each silent edit of an article from {source.name}, with what changed, and each article the source removed.",
            minutes,
            self._began,
            basename="updates",
        )
        yield self._feed(
            updates, corrected, partial(render.revision_feed_items, self.view, corrected, correction_items)
        )
        groups = tuple(
            LinkGroup(heading, _counted(self._groups(kind, folder)))
            for kind, heading in (("type", "Types"), ("topic", "Topics"))
        )
        newest = self._entries(self.catalogue.listed(folder, limit=self.limit))
        yield self._listing(
            Listing(f"{folder}index.html", source.name, description, newest, folder, (*groups, self._years_group()))
        )

    def _alerts_feed(self, source: Source) -> Output:
        alerts = self.view.alerts(source.id, self.limit)
        depends = [
            (item.id, item.title, item.issued, item.text_html, item.page_url, item.first_seen) for item in alerts
        ]
        title = source_feed_titles(source, self.config.feeds.title)["alerts"]
        description = f"Urgent notices shown across {source.name}'s website."
        content = FeedContent(f"{source.id}/", title, description, poll_minutes([source]), self._began, "alerts")
        paths = tuple(content.folder + "alerts" + extension for extension in FEED_EXTENSIONS.values())
        items = partial(render.alert_items, alerts, source)
        return self._output(paths, depends, partial(render.feed_files, self.config, content, items))

    def _changes_feed(self, source: Source) -> Output:
        """Each change of the source's watched pages, with its diff (their first versions: no item)."""
        watched = self._entries(self.catalogue.watched(source.id))
        title = source_feed_titles(source, self.config.feeds.title)["changes"]
        description = f"Each change of the pages of {source.name} that Pānui watches, with what changed."
        content = FeedContent(f"{source.id}/", title, description, poll_minutes([source]), self._began, "changes")
        return self._feed(content, watched, partial(render.revision_feed_items, self.view, watched, change_items))

    def _year(self, year: str) -> Iterator[Output]:
        members = self._entries(self.catalogue.listed(f"years/{year}/"))
        yield self._listing(
            Listing(
                f"years/{year}/index.html",
                f"Articles of {year}",
                f"Every article published in {year}, newest first.",
                members,
                None,
                (self._years_group(),),
            )
        )

    def _grouping(self, membership: Membership) -> Iterator[Output]:
        """A topic's or news type's feed and page: its newest articles, and its years."""
        folder, label = membership.collection, membership.kind
        source = self.sources[membership.parent.rstrip("/")]
        name = self._name(label, membership.parent, folder)
        yield self._article_feed(
            folder,
            f"{name} · {source.name}",
            f"{source.name} articles with the {label} “{name}”.",
            poll_minutes([source]),
        )
        years = self._groups(f"{membership.kind}-year", folder)
        by_year = LinkGroup("By year", _counted(years[::-1]))
        yield self._listing(
            Listing(
                f"{folder}index.html",
                f"{label.capitalize()}: {name}",
                f"The newest {source.name} articles with the {label} “{name}”. Every one of them is on the pages by year.",
                self._entries(self.catalogue.listed(folder, limit=self.limit)),
                folder,
                (by_year,),
            )
        )

    def _grouping_year(self, membership: Membership) -> Output:
        """One year of a topic or news type: every article of it, newest first."""
        parent, label, year = membership.parent, membership.kind.removesuffix("-year"), membership.name
        source_folder = parent.split("/", 1)[0] + "/"
        source = self.sources[source_folder.rstrip("/")]
        name = self._name(label, source_folder, parent)
        back = LinkGroup(f"{label.capitalize()}: {name}", (("Newest articles and every year", parent + "index.html"),))
        return self._listing(
            Listing(
                f"{membership.collection}index.html",
                f"{label.capitalize()}: {name}, {year}",
                f"Every {source.name} article of {year} with the {label} “{name}”, newest first.",
                self._entries(self.catalogue.listed(membership.collection)),
                parent,
                (back,),
            )
        )

    def _name(self, kind: str, parent: str, folder: str) -> str:
        return next((info.name for info in self._groups(kind, parent) if info.collection == folder), folder)

    def _site_wide(self) -> Iterator[Output]:
        shards, file = self.catalogue.search_shards(), search_layout.FILE  # (read here: a test may set it)
        yield self._output(
            ("search/index.html",), (shards, file), partial(render_search_page, self.config, shards, file)
        )
        yield self._output(("search/search.js",), "static", search_script)
        for path, title, outlines in opml_lists(self.config, self._groups):  # feeds.opml, topics.opml
            yield self._output((path,), [title, outlines], partial(render_opml, path, title, outlines))
