"""The calendar's outputs, planned on every publication: calendar.ics for the site and for each source,
the "Coming up" page and the feed of the next days' dates. They are rendered when a date changed (the
index counts such changes) and, for the page and the feed, once a day; a file whose bytes come out the
same is not rewritten, so the feed's bytes stay put until a date enters or leaves its window."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cache, partial

from pipeline.batching import batched
from pipeline.model import Config
from pipeline.publish import render
from pipeline.publish.archive import render_coming_up
from pipeline.publish.calendar import (
    KEPT_DAYS,
    RECENT_DAYS,
    UPCOMING_DAYS,
    Dated,
    ics_event,
    render_ics,
    upcoming_items,
    upcoming_title,
    window,
)
from pipeline.publish.dated import DatedEvent, due_within, from_json
from pipeline.publish.entries import make_entry
from pipeline.publish.feeds import FEED_EXTENSIONS
from pipeline.publish.render import FeedContent
from pipeline.publish.site import poll_minutes
from pipeline.store import Catalogue

ARTICLES_AT_ONCE = 500  # dated articles read at a time (their entries are let go once written)
Planned = tuple[tuple[str, ...], object, Callable[[], dict[str, bytes]]]


def calendar_outputs(config: Config, catalogue: Catalogue, today: date) -> Iterator[Planned]:
    """(paths, what the files show, how to render them) of each of the calendar's outputs. What they show
    is named by the index's count of changes to dates (and, for the page and the feed, by the day), so
    a quiet publication reads no event: at 50,000 articles reading them all took about a second."""
    changes = catalogue.state("dates") or "0"
    first = today - timedelta(days=KEPT_DAYS)
    dates = cache(partial(_dates, config, catalogue, first, today - timedelta(days=RECENT_DAYS)))  # read once
    title = config.feeds.title
    everything = "Dates from the announcements"
    yield _ics(
        "calendar.ics",
        f"{everything} · {title}",
        f"{everything}: when something takes effect, opens or closes.",
        changes,
        today,
        lambda: [ics for _, ics in dates().events],
    )
    for source in config.sources:
        yield _ics(
            f"{source.id}/calendar.ics",
            f"{everything} · {source.name}",
            f"{everything} of {source.name}.",
            changes,
            today,
            partial(lambda source_id: [ics for of, ics in dates().events if of == source_id], source.id),
        )

    def coming_up() -> dict[str, bytes]:
        coming, past = window(dates().near, today)
        return render_coming_up(config, coming, past)

    yield (("coming-up/index.html",), [changes, today], coming_up)
    paths = tuple("upcoming" + extension for extension in FEED_EXTENSIONS.values())
    yield (paths, [title, changes, today], lambda: _upcoming(config, catalogue, dates(), today))


def _upcoming(config: Config, catalogue: Catalogue, dates: Dates, today: date) -> dict[str, bytes]:
    soon = {event.uid for event in due_within([item.event for item in dates.near], today, UPCOMING_DAYS)}
    near = [item for item in dates.near if item.event.uid in soon]
    # Dated, while it lists nothing, by the last change to a date of the last year or to come (a date from
    # the store, as every feed's).
    since = max((item.event.stamp for item in near), default=dates.latest) or catalogue.archive_began()
    content = FeedContent(
        "",
        upcoming_title(config.feeds.title),
        f"The dates the announcements give that fall in the next {UPCOMING_DAYS} days, one item per date.",
        poll_minutes(config.sources),
        since,
        basename="upcoming",
    )
    return render.feed_files(config, content, partial(upcoming_items, near))


def _ics(
    path: str, name: str, description: str, changes: str, today: date, events: Callable[[], list[bytes]]
) -> Planned:
    # The day is in the key as dates leave the file a year after they fell (its bytes change only then).
    return ((path,), [name, description, changes, today], lambda: {path: render_ics(name, description, events())})


@dataclass(frozen=True)
class Dates:
    """What the calendar's outputs show, read by the first one rendered: the VEVENT of each date from
    `first` on, with its source's id, in date order; the dates from RECENT_DAYS ago on with their articles
    (the page's and the feed's); the last change to any date. Only those recent dates keep their
    article: memory holds about the calendar's bytes, not an article for each of its dates."""

    events: list[tuple[str, bytes]]
    near: list[Dated]
    latest: datetime | None


def _dates(config: Config, catalogue: Catalogue, first: date, recent: date) -> Dates:
    """The events of each published article with a date on or after `first`, a chunk of articles at a time."""
    sources = {source.id: source for source in config.sources}
    events: list[tuple[tuple[date, float, str], str, bytes]] = []
    near: list[Dated] = []
    latest: datetime | None = None
    for chunk in batched(catalogue.dated(first), ARTICLES_AT_ONCE):
        texts = dict(chunk)
        for stored in catalogue.articles(list(texts)):
            if stored.source_id not in sources:
                continue
            entry = make_entry(stored, sources[stored.source_id], config.site_url)
            for event in from_json(texts[stored.id]):
                item = Dated(_withdrawn(event, stored.withdrawn_at), entry)
                latest = max(latest or item.event.stamp, item.event.stamp)
                if item.event.day >= first:  # (an article's earlier dates are read with its later ones)
                    events.append((_order(item), stored.source_id, ics_event(item)))
                if item.event.day >= recent:
                    near.append(item)
    events.sort(key=lambda event: event[0])  # stable: dates of one moment stay in article order
    return Dates([(source_id, ics) for _, source_id, ics in events], sorted(near, key=_order), latest)


def _order(item: Dated) -> tuple[date, float, str]:
    return (item.event.day, item.event.at.timestamp() if item.event.at else 0.0, item.event.uid)


def _withdrawn(event: DatedEvent, withdrawn_at: datetime | None) -> DatedEvent:
    """An article the source withdrew: its dates are cancelled, as a removed sentence's are (a change,
    so a calendar that imported them takes it: a higher SEQUENCE, stamped when it was found)."""
    if withdrawn_at is None or event.cancelled:
        return event
    return replace(event, cancelled=True, sequence=event.sequence + 1, stamp=withdrawn_at)
