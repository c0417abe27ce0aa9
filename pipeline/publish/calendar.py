"""The calendar's forms: calendar.ics (RFC 5545), the items of the feed of dates
coming up, and what the "Coming up" page lists. Each date is an event of its own, keyed by its UID,
with its sentence, links to the archived article and the original, and the attribution. Every stamp
is a version's retrieval time, never the clock, so an unchanged store gives the same bytes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from markupsafe import Markup

from pipeline.model import NZ
from pipeline.publish.dated import DatedEvent
from pipeline.publish.entries import Entry
from pipeline.publish.feed_items import FeedItem, newest_first

UPCOMING_DAYS = 14  # the feed of dates coming up: today and the next 14 days
RECENT_DAYS = 60  # the "Coming up" page also lists the dates of the last 60 days, below the future ones
# calendar.ics holds every future date and those of the last year: bounded however long the archive grows
# (a change of one date rewrites the whole file), and a year back is more than a calendar that subscribes
# to it keeps in view.
KEPT_DAYS = 366


def upcoming_title(site_title: str) -> str:
    return f"Coming up in the next {UPCOMING_DAYS} days · {site_title}"


@dataclass(frozen=True)
class Dated:
    """An event with the article it came from."""

    event: DatedEvent
    entry: Entry

    @property
    def when(self) -> str:
        """'1 October 2026' or '1 October 2026, 10:00 NZDT'."""
        event = self.event
        text = f"{event.day.day} {event.day:%B %Y}"
        return f"{text}, {event.at.astimezone(NZ):%H:%M %Z}" if event.at else text


def render_ics(name: str, description: str, events: Iterable[bytes]) -> bytes:
    """calendar.ics: the header, New Zealand's time zone and the events (each from `ics_event`)."""
    header = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Pānui//Dates from the announcements//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALDESC:{_text(description)}",
        f"X-WR-CALNAME:{_text(name)}",
        "X-WR-TIMEZONE:Pacific/Auckland",
    ]
    return b"".join([_lines(header), _NEW_ZEALAND, *events, b"END:VCALENDAR\r\n"])


def ics_event(item: Dated) -> bytes:
    """One VEVENT: the date, whole-day or at its time in New Zealand, kept in step with the article by
    its UID and SEQUENCE."""
    event, entry, source = item.event, item.entry, item.entry.source
    if event.at is not None:
        when = [f"DTSTART;TZID=Pacific/Auckland:{event.at.astimezone(NZ):%Y%m%dT%H%M%S}"]
    else:
        when = [f"DTSTART;VALUE=DATE:{event.day:%Y%m%d}", f"DTEND;VALUE=DATE:{event.day + timedelta(days=1):%Y%m%d}"]
    attribution = (
        f"Source: {entry.stored.article.title}, {source.name} ({entry.url}). {source.attribution} "
        f"Licence: {source.licence.name} ({source.licence.url}). Dates found by Pānui in the article's text."
    )
    description = (
        f"{event.sentence}\n\nThe article, archived: {entry.archive_url}\nThe original: {entry.url}\n\n{attribution}"
    )
    return _lines(
        [
            "BEGIN:VEVENT",
            f"SUMMARY:{_text(f'{event.label}: {entry.stored.article.title}')}",
            *when,
            f"DTSTAMP:{_utc(event.stamp)}",
            f"UID:{_text(event.uid)}",
            f"SEQUENCE:{event.sequence}",
            f"CATEGORIES:{_text(event.label)}",
            f"CREATED:{_utc(event.created)}",
            f"DESCRIPTION:{_text(description)}",
            f"LAST-MODIFIED:{_utc(event.stamp)}",
            f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
            "TRANSP:TRANSPARENT",  # a date to know about, not time someone is busy
            f"URL:{entry.archive_url}",
            "END:VEVENT",
        ]
    )


# Pacific/Auckland by its rule since 2007 (daylight time from the last Sunday of September to the first
# Sunday of April), which readers apply to any year; a list of each change up to 2038 instead (as
# icalendar writes) is read wrongly by dateutil (vobject's, khal's).
_NEW_ZEALAND = "".join(
    f"{line}\r\n"
    for line in (
        "BEGIN:VTIMEZONE",
        "TZID:Pacific/Auckland",
        "BEGIN:DAYLIGHT",
        "DTSTART:20070930T020000",
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=9",
        "TZNAME:NZDT",
        "TZOFFSETFROM:+1200",
        "TZOFFSETTO:+1300",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "DTSTART:20080406T030000",
        "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4",
        "TZNAME:NZST",
        "TZOFFSETFROM:+1300",
        "TZOFFSETTO:+1200",
        "END:STANDARD",
        "END:VTIMEZONE",
    )
).encode()


def _text(value: str) -> str:
    """An RFC 5545 TEXT value: backslash, semicolon, comma and line breaks escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}"


FOLD_AT = 74  # octets of a content line before it is folded (RFC 5545: at most 75 with the CRLF's space)


def _lines(lines: Iterable[str]) -> bytes:
    """Content lines folded at FOLD_AT octets, between characters and never inside a backslash escape
    (some readers take a folded escape apart), each ended by CRLF."""
    out = bytearray()
    for line in lines:
        data = line.encode()
        start = 0
        while len(data) - start > FOLD_AT:
            end = start + FOLD_AT
            while data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: back to the character's start
                end -= 1
            backslashes = 0
            while data[end - 1 - backslashes] == 0x5C:  # (a line starts with a name, never a backslash)
                backslashes += 1
            if backslashes % 2 and end - 1 > start:  # the line would end inside an escape ("\\,"): keep it whole
                end -= 1
            out += data[start:end] + b"\r\n "
            start = end
        out += data[start:] + b"\r\n"
    return bytes(out)


def window(dated: Sequence[Dated], today: date) -> tuple[list[Dated], list[Dated]]:
    """The "Coming up" page's two lists: the dates from today on, soonest first; the recent past, newest
    first. Cancelled dates are in neither."""
    live = [item for item in dated if not item.event.cancelled]
    coming = [item for item in live if item.event.day >= today]
    past = [item for item in live if today - timedelta(days=RECENT_DAYS) <= item.event.day < today]
    return coming, past[::-1]


def upcoming_items(dated: Sequence[Dated]) -> list[FeedItem]:
    """One feed item per date, newest-found first; its id is the event's, so a moved date is an update."""
    return newest_first(_item(item) for item in dated)


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
