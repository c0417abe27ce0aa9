"""The static archive's pages, rendered from Jinja2 templates with autoescaping: only bodies, which
were sanitised on the way in, are inserted as HTML. Links between pages are relative, so the archive
also works from a copy on disk or under any site_url."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from pipeline.dom import parse_fragment
from pipeline.model import Alert, Config, Source, Version
from pipeline.publish.calendar import RECENT_DAYS, UPCOMING_DAYS, Dated
from pipeline.publish.changes import issued_text
from pipeline.publish.collections import slugify
from pipeline.publish.entries import Entry, nz_date
from pipeline.publish.feeds import FEED_EXTENSIONS, MEDIA_TYPES

if TYPE_CHECKING:  # Jinja2 is imported by the first page a publication renders (a no-change sync renders none)
    from jinja2 import Environment

FEED_LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}


@dataclass(frozen=True)
class FeedLink:
    href: str
    media_type: str
    label: str
    title: str


@dataclass(frozen=True)
class LinkGroup:
    """A titled list of (label, path relative to the output root) links, e.g. the topics of a source."""

    heading: str
    links: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class HistoryItem:
    """One version in an article's history, as its page lists it (newest first)."""

    number: int
    anchor: str
    retrieved: str
    diff_html: str  # what changed from the version before ("" for the first)
    path: str  # the page of this version, relative to the article's folder ("" for the current one)


@dataclass(frozen=True)
class AlertBox:
    """A source's site alerts that its website shows now, for the front page (with its alerts feed)."""

    source: Source
    alerts: tuple[Alert, ...]


@dataclass(frozen=True)
class Listing:
    path: str  # e.g. "index.html", "inz/topics/work/index.html"
    heading: str
    description: str
    entries: Sequence[Entry]
    feed_folder: str | None  # folder of the feeds that go with this page, if any
    groups: tuple[LinkGroup, ...] = ()
    alerts: tuple[AlertBox, ...] = ()


@cache
def environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("pipeline.publish", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates ship with Pānui: no stat() of the file on every get_template
    )
    env.globals.update(nz_date=nz_date, slugify=slugify, images_as_links=images_as_links)
    # The shared macros, made once: a template's own {% import %} makes them anew at every page it renders
    # (7 us of an article page's 105).
    env.globals["parts"] = env.get_template("parts.html").module
    return env


def search_script() -> dict[str, bytes]:
    return {"search/search.js": resources.files("pipeline.publish").joinpath("templates", "search.js").read_bytes()}


def feed_links(root: str, folder: str, title: str, basename: str = "feed") -> list[FeedLink]:
    """Links to the three feeds in `folder` (relative to the output root: '' or 'inz/')."""
    return [
        FeedLink(
            href=f"{root}{folder}{basename}{FEED_EXTENSIONS[kind]}",
            media_type=MEDIA_TYPES[kind],
            label=FEED_LABELS[kind],
            title=f"{title} ({FEED_LABELS[kind]})",
        )
        for kind in ("rss", "atom", "json")
    ]


def _page(config: Config, template: str, path: str, **values: object) -> dict[str, bytes]:
    root = "../" * path.count("/")
    html = (
        environment()
        .get_template(template)
        .render(
            language=config.feeds.language,
            site_title=config.feeds.title,
            sources=config.sources,
            root=root,
            canonical=config.site_url + path.removesuffix("index.html"),
            **values,
        )
    )
    return {path: html.encode("utf-8")}


def render_listing(config: Config, listing: Listing) -> dict[str, bytes]:
    root = "../" * listing.path.count("/")
    feeds = feed_links(root, listing.feed_folder, listing.heading) if listing.feed_folder is not None else []
    return _page(
        config,
        "listing.html",
        listing.path,
        heading=listing.heading,
        description=listing.description,
        entries=listing.entries,
        feeds=feeds,
        groups=listing.groups,
        alert_boxes=[
            (
                box.source,
                [(alert, issued_text(alert, box.source)) for alert in box.alerts],
                feed_links(root, f"{box.source.id}/", f"Alerts · {box.source.name}", "alerts"),
            )
            for box in listing.alerts
        ],
    )


def images_as_links(body_html: str) -> str:
    """Archive pages make no external requests: an image on the source's site becomes a link to it,
    labelled with its alt text (feeds keep the <img>, readers fetch images themselves)."""
    if "<img" not in body_html:
        return body_html
    soup = parse_fragment(body_html)
    for image in soup.find_all("img"):
        link = soup.new_tag("a", href=str(image.get("src") or ""))
        link.string = f"[Image: {image.get('alt') or 'no description'}]"
        image.replace_with(link)
    container = soup.body or soup
    return container.decode_contents()


def _article(config: Config, entry: Entry, path: str, **values: object) -> dict[str, bytes]:
    feeds = feed_links("../" * path.count("/"), f"{entry.source.id}/", entry.source.name)
    return _page(config, "article.html", path, entry=entry, article=entry.stored.article, feeds=feeds, **values)


def render_article(
    config: Config, entry: Entry, history: Sequence[HistoryItem], document: str | None
) -> dict[str, bytes]:
    """`document`: the file name of the PDF copy beside the page, when there is one."""
    return _article(
        config, entry, entry.archive_path + "index.html", history=history, version_note=None, document=document
    )


def render_version(config: Config, entry: Entry, version: Version, count: int) -> dict[str, bytes]:
    """An earlier version of an article, kept readable at <article>/v<n>/."""
    note = f"This is version {version.number} of {count}, retrieved {nz_date(version.retrieved_at, entry.source.timezone)}. The source has changed the article since."
    # The page's "Retrieved" date and attribution are this version's, not the current one's.
    stored = replace(entry.stored, retrieved_at=version.retrieved_at, article=version.article)
    path = f"{entry.archive_path}v{version.number}/index.html"
    # No document: the copy beside the article is of its current version.
    return _article(config, replace(entry, stored=stored), path, history=(), version_note=note, document=None)


def render_coming_up(config: Config, coming: Sequence[Dated], past: Sequence[Dated]) -> dict[str, bytes]:
    """The "Coming up" page: the dates to come, soonest first, and the recent past, newest first."""
    feeds = feed_links("../", "", f"Coming up · {config.feeds.title}", "upcoming")
    return _page(
        config,
        "coming-up.html",
        "coming-up/index.html",
        coming=coming,
        past=past,
        days=UPCOMING_DAYS,
        recent_days=RECENT_DAYS,
        feeds=feeds,
    )


def render_search_page(config: Config, shards: Sequence[str], file: int) -> dict[str, bytes]:
    return _page(config, "search.html", "search/index.html", shards=shards, file=file, feeds=[])
