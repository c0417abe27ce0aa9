"""The calendar's forms: calendar.ics (RFC 5545, written by icalendar), the items of the feed of dates
coming up, and what the "Coming up" page lists. Each date is an event of its own, keyed by its UID,
with its sentence, links to the archived article and the original, and the attribution. Every stamp
is a version's retrieval time, never the clock, so an unchanged store gives the same bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from markupsafe import Markup

from pipeline.extract.dates import NZ
from pipeline.publish.dated import DatedEvent
from pipeline.publish.entries import Entry
from pipeline.publish.feed_items import FeedItem

if TYPE_CHECKING:
    from icalendar import Event, Timezone

UPCOMING_DAYS = 14  # the feed of dates coming up: today and the next 14 days
RECENT_DAYS = 60  # the "Coming up" page also lists the dates of the last 60 days, below the future ones
# calendar.ics holds every future date and those of the last year: bounded however long the archive grows
# (at 10,000 articles, icalendar took 7 s to write every date ever given), and a year back is more than a
# calendar that subscribes to it keeps in view.
KEPT_DAYS = 366


def upcoming_title(site_title: str) -> str:
    return f"Coming up in the next {UPCOMING_DAYS} days · {site_title}"


@dataclass(frozen=True)
class Dated:
    """An event with the article it came from."""

    event: DatedEvent
    entry: Entry

    @property
    def summary(self) -> str:
        return f"{self.event.label}: {self.entry.stored.article.title}"

    @property
    def when(self) -> str:
        """'1 October 2026' or '1 October 2026, 10:00 NZDT'."""
        event = self.event
        text = f"{event.day.day} {event.day:%B %Y}"
        return f"{text}, {event.at.astimezone(NZ):%H:%M %Z}" if event.at else text

    @property
    def attribution(self) -> str:
        source = self.entry.source
        return (
            f"Source: {self.entry.stored.article.title}, {source.name} ({self.entry.url}). {source.attribution} "
            f"Licence: {source.licence.name} ({source.licence.url}). Dates found by Pānui in the article's text."
        )

    @property
    def dependency(self) -> tuple[object, ...]:
        return (self.entry.dependency, self.event)


def render_ics(name: str, description: str, dated: Sequence[Dated]) -> bytes:
    # Imported here: a sync whose dates did not change never renders a calendar, and the daemon starts a
    # process for each run.
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", "-//Pānui//Dates from the announcements//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-caldesc", description)
    calendar.add("x-wr-timezone", "Pacific/Auckland")
    calendar.add_component(_new_zealand())
    for item in dated:
        calendar.add_component(_event(item))
    data: bytes = calendar.to_ical()
    return data


def _new_zealand() -> Timezone:
    """Pacific/Auckland by its rule since 2007 (daylight time from the last Sunday of September to the
    first Sunday of April), which readers apply to any year; icalendar's own VTIMEZONE lists each
    change up to 2038 instead, and dateutil (vobject's, khal's) reads that list wrongly."""
    from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

    zone = Timezone()
    zone.add("tzid", "Pacific/Auckland")
    for part, start, rule, offsets, name in (
        (
            TimezoneDaylight(),
            datetime(2007, 9, 30, 2),
            {"freq": "yearly", "bymonth": 9, "byday": "-1SU"},
            (12, 13),
            "NZDT",
        ),
        (
            TimezoneStandard(),
            datetime(2008, 4, 6, 3),
            {"freq": "yearly", "bymonth": 4, "byday": "1SU"},
            (13, 12),
            "NZST",
        ),
    ):
        part.add("dtstart", start)
        part.add("rrule", rule)
        part.add("tzoffsetfrom", timedelta(hours=offsets[0]))
        part.add("tzoffsetto", timedelta(hours=offsets[1]))
        part.add("tzname", name)
        zone.add_component(part)
    return zone


def _event(item: Dated) -> Event:
    from icalendar import Event

    event, entry = item.event, item.entry
    component = Event()
    component.add("uid", event.uid)
    component.add("dtstamp", event.stamp.astimezone(UTC))
    component.add("created", event.created.astimezone(UTC))
    component.add("last-modified", event.stamp.astimezone(UTC))
    component.add("sequence", event.sequence)
    component.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    if event.at is not None:
        component.add("dtstart", event.at.astimezone(NZ))
    else:
        component.add("dtstart", event.day)
        component.add("dtend", event.day + timedelta(days=1))
    component.add("summary", item.summary)
    component.add("transp", "TRANSPARENT")  # a date to know about, not time someone is busy
    component.add("categories", [event.label])
    component.add(
        "description",
        f"{event.sentence}\n\nThe article, archived: {entry.archive_url}\nThe original: {entry.url}\n\n{item.attribution}",
    )
    component.add("url", entry.archive_url)
    return component


def window(dated: Sequence[Dated], today: date) -> tuple[list[Dated], list[Dated]]:
    """The "Coming up" page's two lists: the dates from today on, soonest first; the recent past, newest
    first. Cancelled dates are in neither."""
    live = [item for item in dated if not item.event.cancelled]
    coming = [item for item in live if item.event.day >= today]
    past = [item for item in live if today - timedelta(days=RECENT_DAYS) <= item.event.day < today]
    return coming, past[::-1]


def upcoming_items(dated: Sequence[Dated]) -> list[FeedItem]:
    """One feed item per date, newest-found first; its id is the event's, so a moved date is an update."""
    items = [_item(item) for item in dated]
    return sorted(items, key=lambda item: (item.updated, item.id), reverse=True)


def _item(item: Dated) -> FeedItem:
    event, entry = item.event, item.entry
    source = entry.source
    content = Markup(
        '<p><strong>{}</strong>: {}</p><blockquote><p>{}</p></blockquote><p><a href="{}">The article as archived</a> · <a href="{}">the original</a></p>'
    ).format(item.when, event.label, event.sentence, entry.archive_url, entry.url)
    stamp = event.stamp.astimezone(NZ)
    return FeedItem(
        id=f"{entry.url}#date-{event.uid.split('@', 1)[0]}",
        title=f"{event.label} {item.when}: {entry.stored.article.title}",
        link=entry.archive_url,
        published=event.created.astimezone(NZ),
        updated=stamp,
        author=source.name,
        author_url=source.base_url,
        content_html=str(content + Markup(entry.attribution_html)),
        summary=f"{event.label} {item.when}: {event.sentence}",
        categories=(event.label,),
        archive_url=entry.archive_url,
        external_url=entry.url,
        rights=f"{source.licence.name}: {source.licence.url}",
    )
