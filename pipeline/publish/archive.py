"""The static archive: one page per article, an index per source and one for everything (Jinja2,
autoescaped, so only the already-sanitised bodies are inserted as HTML)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pipeline.model import Source
from pipeline.publish.entries import Entry, nz_date
from pipeline.publish.feeds import FEED_FILES, MEDIA_TYPES

FEED_LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}


@dataclass(frozen=True)
class FeedLink:
    href: str
    media_type: str
    label: str
    title: str


@dataclass(frozen=True)
class SiteContext:
    site_url: str
    site_title: str
    language: str
    sources: tuple[Source, ...]


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("pipeline.publish", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.globals["nz_date"] = nz_date
    return environment


def feed_links(root: str, folder: str, title: str) -> list[FeedLink]:
    """Links to the three feeds in `folder` (relative to the output root, '' or 'inz/')."""
    return [
        FeedLink(
            href=f"{root}{folder}{FEED_FILES[kind]}",
            media_type=MEDIA_TYPES[kind],
            label=FEED_LABELS[kind],
            title=f"{title} ({FEED_LABELS[kind]})",
        )
        for kind in ("rss", "atom", "json")
    ]


def render_index(
    site: SiteContext,
    *,
    path: str,
    heading: str,
    description: str,
    entries: Sequence[Entry],
    feed_folder: str,
) -> bytes:
    """An index page at `path` (e.g. 'index.html' or 'inz/index.html')."""
    root = "../" * path.count("/")
    html = (
        _environment()
        .get_template("index.html")
        .render(
            language=site.language,
            site_title=site.site_title,
            sources=site.sources,
            root=root,
            canonical=site.site_url + path.removesuffix("index.html"),
            feeds=feed_links(root, feed_folder, heading),
            heading=heading,
            description=description,
            entries=entries,
        )
    )
    return html.encode("utf-8")


def render_article(site: SiteContext, entry: Entry) -> bytes:
    path = entry.archive_path + "index.html"
    root = "../" * path.count("/")
    html = (
        _environment()
        .get_template("article.html")
        .render(
            language=site.language,
            site_title=site.site_title,
            sources=site.sources,
            root=root,
            canonical=entry.archive_url,
            feeds=feed_links(root, f"{entry.source.id}/", entry.source.name),
            entry=entry,
        )
    )
    return html.encode("utf-8")
