"""Store contents -> feeds and archive pages. `render_site` is pure (same articles, same bytes);
`publish` writes the result atomically, touching only files whose bytes changed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.model import Config, Source, StoredArticle
from pipeline.publish.archive import SiteContext, render_article, render_index
from pipeline.publish.entries import Entry, make_entry
from pipeline.publish.feeds import FeedSpec, render_feeds
from pipeline.publish.files import OutputWriter


def ttl_minutes(sources: Sequence[Source]) -> int:
    """How often readers should poll: the most frequent source schedule (cron schedules: hourly)."""
    intervals = [source.schedule.interval_seconds or 3600.0 for source in sources]
    return max(1, round(min(intervals, default=3600.0) / 60))


def render_site(config: Config, articles: Mapping[str, Sequence[StoredArticle]]) -> dict[str, bytes]:
    """Every output file, keyed by its path under output_dir. `articles` maps source id to its
    stored articles, newest first."""
    site = SiteContext(
        site_url=config.site_url,
        site_title=config.feeds.title,
        language=config.feeds.language,
        sources=config.sources,
    )
    limit = config.feeds.max_items
    files: dict[str, bytes] = {}
    everything: list[Entry] = []
    for source in config.sources:
        entries = [make_entry(stored, source, config.site_url) for stored in articles.get(source.id, ())]
        everything.extend(entries)
        folder = f"{source.id}/"
        spec = FeedSpec(
            title=f"{source.name} · {config.feeds.title}",
            description=f"Announcements from {source.name} ({source.base_url}), republished with attribution under {source.licence.name}.",
            language=config.feeds.language,
            home_url=config.site_url + folder,
            folder_url=config.site_url + folder,
            entries=tuple(entries[:limit]),
            ttl_minutes=ttl_minutes([source]),
        )
        files.update({folder + name: data for name, data in render_feeds(spec).items()})
        files[folder + "index.html"] = render_index(
            site,
            path=folder + "index.html",
            heading=source.name,
            description=spec.description,
            entries=entries,
            feed_folder=folder,
        )
        for entry in entries:
            files[entry.archive_path + "index.html"] = render_article(site, entry)
    everything.sort(
        key=lambda entry: (entry.stored.article.published, entry.stored.first_seen, entry.url),
        reverse=True,
    )
    spec = FeedSpec(
        title=config.feeds.title,
        description=config.feeds.description,
        language=config.feeds.language,
        home_url=config.site_url,
        folder_url=config.site_url,
        entries=tuple(everything[:limit]),
        ttl_minutes=ttl_minutes(config.sources),
    )
    files.update(render_feeds(spec))
    files["index.html"] = render_index(
        site,
        path="index.html",
        heading=config.feeds.title,
        description=config.feeds.description,
        entries=everything,
        feed_folder="",
    )
    return files


def publish(config: Config, articles: Mapping[str, Sequence[StoredArticle]]) -> list[str]:
    """Write the site; return the paths that changed."""
    writer = OutputWriter(config.output_dir)
    for path, data in sorted(render_site(config, articles).items()):
        writer.write(path, data)
    return writer.written
