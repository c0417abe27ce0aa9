"""What every output of a publication shares: the site key (a change re-renders everything), the
polling hint, the titles of a source's feeds, and the files a collection occupies."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from importlib import resources

from pipeline import __version__
from pipeline.model import Config, Source
from pipeline.publish.calendar import upcoming_title
from pipeline.publish.extras import FeedOutline
from pipeline.publish.feeds import FEED_EXTENSIONS
from pipeline.store import CollectionInfo, Membership

OPML_FILES = ("feeds.opml", "topics.opml")  # the main feeds; the overlapping feeds of sources, types and topics


def poll_minutes(sources: Sequence[Source]) -> int:
    """How often readers should poll: the most frequent source schedule (cron schedules: hourly)."""
    intervals = [source.schedule.interval_seconds or 3600.0 for source in sources]
    return max(1, round(min(intervals, default=3600.0) / 60))


def site_key(config: Config) -> str:
    """Changes when anything that every page shows changes: the templates, Pānui, the settings."""
    digest = hashlib.sha256(
        f"{__version__}|{config.site_url}|{config.websub_hub}|{config.feeds!r}|{config.sources!r}".encode()
    )
    if config.notify.saved_searches:  # what their feeds list (never their targets: those are secrets)
        digest.update(
            repr(
                [(item.id, item.sources, item.topics, item.types, item.words) for item in config.notify.saved_searches]
            ).encode()
        )
    for item in sorted(resources.files("pipeline.publish").joinpath("templates").iterdir(), key=lambda item: item.name):
        digest.update(item.name.encode() + item.read_bytes())
    return digest.hexdigest()


def source_feed_titles(source: Source, site_title: str) -> dict[str, str]:
    """The titles of a source's own feeds, by file basename."""
    return {
        "feed": f"{source.name} · {site_title}",
        "updates": f"Corrections and withdrawals · {source.name}",
        "alerts": f"Alerts · {source.name}",
        "changes": f"Changed pages · {source.name}",
    }


def collection_paths(membership: Membership) -> tuple[str, ...]:
    """The files a collection's pages and feeds occupy (what goes when it lists nothing any more)."""
    folder = membership.collection
    feeds = tuple(folder + "feed" + extension for extension in FEED_EXTENSIONS.values())
    if membership.kind in ("topic", "type", "subscription"):
        return (*feeds, folder + "index.html")
    return (folder + "index.html",)


def opml_lists(
    config: Config, groups: Callable[[str, str], Sequence[CollectionInfo]]
) -> list[tuple[str, str, list[FeedOutline]]]:
    """feeds.opml: the feeds whose items no other of them has (the site's articles, the dates coming up,
    each source's corrections and alerts), so a reader that keeps one copy of an item, by its id, shows every
    article in the main feed. topics.opml: each source's own feed, its types and its topics, which
    overlap (an article is in its source's, its type's and each of its topics'). `groups(kind, folder)`
    lists a source's collections of one kind."""
    site_url = config.site_url
    main = [
        FeedOutline(config.feeds.title, site_url + "feed.xml", site_url, ""),
        FeedOutline(upcoming_title(config.feeds.title), site_url + "upcoming.xml", site_url, ""),
    ]
    topics = []
    for source in config.sources:
        folder = f"{source.id}/"
        titles = source_feed_titles(source, config.feeds.title)
        extra = (["alerts"] if source.alerts is not None else []) + (["changes"] if source.watch else [])
        for basename in ["updates", *extra]:
            main.append(
                FeedOutline(titles[basename], f"{site_url}{folder}{basename}.xml", site_url + folder, source.name)
            )
        topics.append(FeedOutline(titles["feed"], f"{site_url}{folder}feed.xml", site_url + folder, source.name))
        for kind in ("type", "topic"):
            for info in groups(kind, folder):
                name, url = f"{info.name} · {source.name}", site_url + info.collection
                topics.append(FeedOutline(name, url + "feed.xml", url, source.name))
    for subscription in config.notify.saved_searches:  # saved searches: they overlap the others
        url = f"{site_url}subscriptions/{subscription.id}/"
        topics.append(FeedOutline(f"Subscription: {subscription.id} · {config.feeds.title}", url + "feed.xml", url, ""))
    return [
        (OPML_FILES[0], config.feeds.title, main),
        (OPML_FILES[1], f"{config.feeds.title}: by source, type and topic", topics),
    ]
