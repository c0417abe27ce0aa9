"""The renderers a plan binds (with functools.partial) to each output, so that nothing is rendered, and
no body read from the store, until publishing has found that the output changed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Protocol

from pipeline.model import Alert, Config, Source, Version
from pipeline.publish.archive import HistoryItem, render_article
from pipeline.publish.changes import alert_item, version_anchor
from pipeline.publish.diff import article_diff
from pipeline.publish.entries import Entry, nz_date
from pipeline.publish.feed_items import FeedItem, item_from_entry, newest_first
from pipeline.publish.feeds import FeedSpec, render_feeds


class StoreView(Protocol):
    """What rendering reads from the store on demand: article bodies and versions, and alerts."""

    def bodies(self, article_ids: Iterable[int]) -> dict[int, str]: ...

    def versions(self, article_ids: Iterable[int]) -> dict[int, list[Version]]: ...

    def alerts(self, source_id: str, limit: int = -1, *, current_only: bool = False) -> list[Alert]: ...

    def document_size(self, article_id: int) -> int | None: ...

    def document(self, article_id: int) -> bytes | None: ...


@dataclass(frozen=True)
class FeedContent:
    folder: str  # "" for everything, "inz/", "inz/topics/work/"...
    title: str
    description: str
    poll_minutes: int
    since: datetime  # the feed's date while it has no item (see FeedSpec.since)
    basename: str = "feed"


def with_bodies(view: StoreView, entries: Sequence[Entry]) -> list[Entry]:
    """The entries with their bodies, read for the outputs that show them (most outputs need none)."""
    bodies = view.bodies([entry.stored.id for entry in entries]) if entries else {}
    return [entry.with_body(bodies.get(entry.stored.id, "")) for entry in entries]


def feed_items(view: StoreView, entries: Sequence[Entry]) -> list[FeedItem]:
    return [item_from_entry(entry) for entry in with_bodies(view, entries)]


def revision_feed_items(
    view: StoreView, entries: Sequence[Entry], items_of: Callable[[Entry, Sequence[Version]], list[FeedItem]]
) -> list[FeedItem]:
    """The items `items_of` makes of each entry's versions (corrections, or a watched page's changes)."""
    versions = view.versions(entry.stored.id for entry in entries)
    return newest_first(item for entry in entries for item in items_of(entry, versions.get(entry.stored.id, [])))


def alert_items(alerts: Sequence[Alert], source: Source) -> list[FeedItem]:
    return [alert_item(alert, source) for alert in alerts]


def feed_files(config: Config, content: FeedContent, make_items: Callable[[], list[FeedItem]]) -> dict[str, bytes]:
    spec = FeedSpec(
        title=content.title,
        description=content.description,
        language=config.feeds.language,
        home_url=config.site_url + content.folder,
        folder_url=config.site_url + content.folder,
        items=tuple(make_items()[: config.feeds.max_items]),
        poll_minutes=content.poll_minutes,
        since=content.since,
        hub=config.websub_hub,
        basename=content.basename,
    )
    return {content.folder + name: data for name, data in render_feeds(spec).items()}


def bodies_when_asked(view: StoreView, article_ids: Sequence[int]) -> Callable[[], dict[int, str]]:
    """The current bodies of the articles, read when first asked for, for them all: the pages planned
    together share one query, not one a page (most of the cost of a query of one body)."""
    return cache(partial(view.bodies, article_ids))


def article_page(
    config: Config,
    view: StoreView,
    bodies: Callable[[], dict[int, str]],
    entry: Entry,
    versions: Sequence[Version],
    document: str | None = None,
) -> dict[str, bytes]:
    """The article's archive page; and beside it, when `document` names it, the copy of the PDF it was read
    from (a copy that can no longer be read from the store is left out, and the page links the original).
    `bodies`: the current bodies of the articles planned with it, by id (read once for them all)."""
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
    entry = entry.with_body(bodies().get(entry.stored.id, ""))
    copy = view.document(entry.stored.id) if document else None
    page = render_article(config, entry, history[::-1], document if copy is not None else None)
    return page | ({entry.archive_path + document: copy} if document and copy else {})
