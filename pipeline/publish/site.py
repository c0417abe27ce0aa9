"""What every output of a publication shares: the site key (a change re-renders everything), the
polling hint, the titles of a source's feeds, and the files a collection occupies."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib import resources

from pipeline import __version__
from pipeline.model import Config, Source
from pipeline.publish.feeds import FEED_EXTENSIONS
from pipeline.store.catalogue import Membership


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


def source_feed_titles(source: Source, site_title: str) -> dict[str, str]:
    """The titles of a source's own feeds, by file basename."""
    return {
        "feed": f"{source.name} · {site_title}",
        "updates": f"Corrections and withdrawals · {source.name}",
        "alerts": f"Alerts · {source.name}",
    }


def collection_paths(membership: Membership) -> tuple[str, ...]:
    """The files a collection's pages and feeds occupy (what goes when it lists nothing any more)."""
    folder = membership.collection
    feeds = tuple(folder + "feed" + extension for extension in FEED_EXTENSIONS.values())
    if membership.kind == "year":
        return (folder + "index.html", f"search/{membership.name}.json")
    if membership.kind in ("topic", "type"):
        return (*feeds, folder + "index.html")
    return (folder + "index.html",)
