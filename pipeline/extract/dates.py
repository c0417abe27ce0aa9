"""The dates that matter in an article: when something takes effect, opens, closes or is due, found in
its title, summary and body (table cells and list items included; never its own publication date), each
with its kind, its time and time zone when the text gives one, and the sentence it came from. Pure.

A careful grammar, not a general date parser: a wrong date in someone's calendar is worse than a missing
one. Only dates written with a month name count ("1 October 2026", "Monday 20 July", "1 Oct 2026");
"1/10/2026" and "next Monday" do not. A date without a year takes one only when it cannot be wrong: from
a full date later in the same sentence ("1 March to 30 April 2026"), from its weekday ("Monday 20 July",
the year near the publication date whose 20 July is a Monday), or, for a date that something takes
effect, opens or closes on, the first such day from a month before the publication on."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain, repeat

from pipeline.fragment import END, START, TEXT, Reading, read_fragment
from pipeline.model import NZ, Article

# What one article may put in a calendar: well above INZ's (a handful of dates, sentences of 20-60 words).
MAX_DATES = 50
MAX_SENTENCE = 600
# English names and abbreviations (the calendar module's, in the C locale of time names: nothing in Pānui
# sets LC_TIME), and the other abbreviations people write.
MONTHS = {name: n for n in range(1, 13) for name in (calendar.month_name[n], calendar.month_abbr[n])} | {"Sept": 9}
WEEKDAYS = {name: n for n in range(7) for name in (calendar.day_name[n], calendar.day_abbr[n])}
WEEKDAYS |= {"Tues": 1, "Thurs": 3, "Thur": 3}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
# Case-sensitive on purpose: "3 may apply" is not a date, "3 May" is. A date begins with a day number or
# a capital (a weekday's or a month's name): the lookahead finds the same dates at less than half the cost,
# sparing the names' alternatives at every other word (most of an article's text).
DATE = re.compile(
    rf"(?=\d|[A-Z])(?:\b(?P<weekday>{_WEEKDAY})\.?,?\s+)?"
    rf"\b(?:(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH})\b\.?"
    rf"|(?P<month_first>{_MONTH})\.?\s+(?P<day_second>\d{{1,2}})(?:st|nd|rd|th)?(?=,\s*\d{{4}}))"
    r"(?:,?\s+(?P<year>(?:19|20)\d{2})\b(?![\d/]))?"
)
DIGIT = re.compile(r"\d")
_ZONE = r"(?P<zone>NZST|NZDT|NZT|UTC|GMT|(?:New Zealand|NZ) (?:standard |daylight )?time)"
_TIME = (
    r"(?:(?P<hour>\d{1,2})(?:[:.](?P<minute>[0-5]\d))?\s*(?P<half>am|pm)\b|(?P<h24>[01]?\d|2[0-3]):(?P<m24>[0-5]\d)"
    r"|(?:12\s*)?(?P<noon>noon|midday))"
)
TIME_BEFORE = re.compile(
    rf"\b(?P<word>at|from|until|by|before|after|is)\s+{_TIME}(?:\s*\(?{_ZONE}\)?)?,?\s*(?:on\s+)?(?:the\s+)?$",
    re.IGNORECASE,
)
TIME_AFTER = re.compile(rf"^,?\s*(?:at|from|until|by|before|after|,)?\s*{_TIME}(?:\s*\(?{_ZONE}\)?)?", re.IGNORECASE)
CLAUSE_BREAK = re.compile(r"[;(]|,\s(?!\d{4})")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"(])")

CLOSES_NEXT = re.compile(r"\b(?:until|till|by|no later than|up to and including|closes?|closing|deadline)\W*$", re.I)
CLOSES = re.compile(
    r"\b(?:clos(?:e|es|ed|ing)|deadline|expir(?:e|es|y|ing)|due|last day|cut-?off|end(?:s|ing)? on|stop(?:s|ping)?"
    r"|must be (?:made|submitted|lodged))\b",
    re.I,
)
OPENS = re.compile(r"\b(?:re-?)?open(?:s|ing)?\b(?!\s+(?:work|to)\b)|\blaunch(?:es|ing)?\b", re.I)
EFFECT_NEXT = re.compile(r"\b(?:from|on or after|starting|effective|as of|commencing|beginning)\W*$", re.I)
EFFECT = re.compile(
    r"\btake[sn]? effect|\bcom(?:e|es|ing) into (?:force|effect)|\bwill (?:change|apply|increase|decrease|rise|start|begin|end)"
    r"|\bchang(?:e|es|ed|ing) (?:on|from)\b|\bappl(?:y|ies) (?:from|on)\b|\bintroduc|\bcommenc|\bstart(?:s|ing)?\b"
    r"|\bbegin(?:s|ning)?\b",
    re.I,
)


@dataclass(frozen=True)
class FoundDate:
    """One date an article gives: `day` in NZ; `at` the moment when the text gives a time (aware, in
    Pacific/Auckland); `identity` names the sentence with its dates blanked out, so the same sentence
    with its date moved is the same found date (what follows a revision)."""

    kind: str
    day: date
    at: datetime | None
    sentence: str
    identity: str


def find_dates(article: Article, body: Reading | None = None) -> tuple[FoundDate, ...]:
    """Every date of the article worth a calendar entry, in reading order, once per (day, time, kind).
    `body`: the article's body_html already read (read_fragment), left as it is; reading costs more
    than the rest of finding the dates, so a caller that reads the body for more reads it once."""
    published = article.published.astimezone(NZ).date()
    found: list[FoundDate] = []
    seen: dict[str, int] = {}
    for where, block in _blocks(article, read_fragment(article.body_html) if body is None else body):
        for sentence in SENTENCE_END.split(block):
            dates = list(_sentence_dates(sentence, published))
            if not dates:  # (most sentences: the masking below costs as much as finding their dates)
                continue
            masked = DATE.sub("#", sentence)
            shown = sentence if len(sentence) <= MAX_SENTENCE else sentence[: MAX_SENTENCE - 1] + "…"
            for ordinal, (kind, day, at) in enumerate(dates):
                key = f"{where}|{masked}|{ordinal}"
                seen[key] = seen.get(key, 0) + 1
                found.append(FoundDate(kind, day, at, shown, f"{key}|{seen[key]}"))
    kinds_by_day = {(item.day, item.at) for item in found if item.kind != "other"}
    unique: dict[tuple[date, datetime | None, str], FoundDate] = {}
    for item in found:
        if item.kind == "other" and (item.day < published or (item.day, item.at) in kinds_by_day):
            continue  # a past event the article reports, or a date already found with what happens on it
        unique.setdefault((item.day, item.at, item.kind), item)
    return tuple(unique.values())[:MAX_DATES]


BLOCKS = frozenset(("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "caption", "figcaption", "blockquote"))
AM_PM = re.compile(r"\b([ap])\.m\.")


def _blocks(article: Article, body: Reading) -> Iterator[tuple[str, str]]:
    """(where, text) of each block a reader sees as one that may hold a date (has a day number): the
    title, the summary, each paragraph, heading and list item of the body, and each table row as
    "header: cell · header: cell". A block's text is html_text's of it without the blocks inside it (a
    list item's without its sub-list's); the last, "text", is what is in no block (a body that is one
    bare <div>); tables are in neither."""
    tables, blocks, rest = _walk(body)
    for where, text in (("title", article.title), ("summary", article.summary)):
        if DIGIT.search(text) is not None:
            yield where, _clean(text)
    for rows in tables:
        header: list[str] = []
        for row in rows:
            cells = [_clean(" ".join(cell)) for cell in row.cells]
            if not header and not row.has_td:
                header = cells
                continue
            labelled = zip(chain(header, repeat("")), cells, strict=False)  # (a row may outnumber its header)
            yield "table", " · ".join(f"{label}: {cell}" if label else cell for label, cell in labelled)
    for name, strings in [*blocks, ("text", rest)]:
        text = " ".join(strings)
        if DIGIT.search(text) is not None:  # (most blocks have none: cleaning and splitting them cost more)
            yield name, _clean(text)


@dataclass
class _Row:
    cells: list[list[str]] = field(default_factory=list)  # each its strings
    has_td: bool = False


def _walk(body: Reading) -> tuple[list[list[_Row]], list[tuple[str, list[str]]], list[str]]:
    """One pass over the body, in reading order: its tables (not those inside a table), each its rows
    (every <tr> in it) with their cells (every <td> and <th> in the row, and all the strings in each);
    its blocks, each with the strings html_text reads in it but in no block inside it; the strings in
    no block. What is in a table is in none of them."""
    tables: list[list[_Row]] = []
    blocks: list[tuple[str, list[str]]] = []
    rest: list[str] = []
    into = [rest]  # for each element open outside a table, where its strings go
    in_table: list[str] = []  # the elements open in a table, from the table out
    rows: list[_Row] = []  # the rows open
    cells: list[list[str]] = []  # the cells open
    for kind, value in body:
        if kind == TEXT:
            if not in_table:
                into[-1].append(value)
            for cell in cells:
                cell.append(value)
        elif kind == START and (in_table or value == "table"):
            if not in_table:
                tables.append([])
            in_table.append(value)
            if value == "tr":
                rows.append(_Row())
                tables[-1].append(rows[-1])
            elif value in ("td", "th"):
                cells.append([])
                for row in rows:
                    row.cells.append(cells[-1])
                    row.has_td = row.has_td or value == "td"
        elif kind == START:
            into.append([] if value in BLOCKS else into[-1])
            if value in BLOCKS:
                blocks.append((value, into[-1]))
        elif kind == END and in_table:
            value = in_table.pop()
            if value == "tr":
                rows.pop()
            elif value in ("td", "th"):
                cells.pop()
        else:
            into.pop()
    return tables, blocks, rest


def _clean(text: str) -> str:
    text = text.replace("\u2013", "-").replace("\u2014", "-")
    if ".m." in text:  # (the search alone, in every block, cost more than the rest of _clean)
        text = AM_PM.sub(r"\1m", text)
    return " ".join(text.split())


def _sentence_dates(sentence: str, published: date) -> Iterator[tuple[str, date, datetime | None]]:
    if DIGIT.search(sentence) is None:  # every date has a day number: spares DATE's search of most sentences
        return
    matches = list(DATE.finditer(sentence))
    previous_end = 0
    for index, match in enumerate(matches):
        later = matches[index + 1 :]
        day = _day(match, later, published)
        left = sentence[previous_end : match.start()]
        right = sentence[match.end() : later[0].start() if later else len(sentence)]
        previous_end = match.end()
        if day is None:
            continue
        kind = _kind(left, right)
        year_is_certain = match["year"] or match["weekday"] or any(other["year"] for other in later)
        if kind == "other" and not year_is_certain:
            continue  # a year guessed for a date that is only mentioned: not sure enough
        yield kind, day, _moment(day, left, right)


def _day(match: re.Match[str], later: list[re.Match[str]], published: date) -> date | None:
    day = int(match.group("day") or match.group("day_second"))
    month = MONTHS[match.group("month") or match.group("month_first")]
    weekday = match.group("weekday")
    year_text = match.group("year") or next((other.group("year") for other in later if other.group("year")), None)
    if year_text is not None:
        return _valid(int(year_text), month, day, weekday)
    near = [
        found for year in range(published.year - 1, published.year + 2) if (found := _valid(year, month, day, weekday))
    ]
    if weekday is not None:  # the year near publication whose day falls on that weekday, if only one does
        return near[0] if len(near) == 1 else None
    return next((found for found in near if found >= published - timedelta(days=31)), None)


def _valid(year: int, month: int, day: int, weekday: str | None) -> date | None:
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    if weekday is not None and found.weekday() != WEEKDAYS[weekday]:
        return None  # "Monday 21 July 2026" when 21 July is a Tuesday: one of them is wrong, so neither is used
    return found


def _kind(left: str, right: str) -> str:
    """What happens on the date, from the words of its clause: those just before it first."""
    before = CLAUSE_BREAK.split(left)[-1]
    before = TIME_BEFORE.sub(lambda match: match.group("word") + " ", before)
    after = CLAUSE_BREAK.split(right)[0]
    if CLOSES_NEXT.search(before) or before.strip() in ("to", "-"):  # the end of a range
        return "closes"
    for text in (before, after):
        if CLOSES.search(text):
            return "closes"
        if OPENS.search(text):
            return "opens"
        if EFFECT_NEXT.search(text) or EFFECT.search(text):
            return "takes-effect"
    return "other"


def _moment(day: date, left: str, right: str) -> datetime | None:
    """The time the text gives for the date (just before it: "at 10am NZST on", or just after it:
    "1 October 2026 at 10am"), as an aware moment in NZ; None for a whole day."""
    match = TIME_BEFORE.search(left) or TIME_AFTER.search(right)
    if match is None:
        return None
    if match.group("noon"):
        hour, minute = 12, 0
    elif match.group("h24"):
        hour, minute = int(match.group("h24")), int(match.group("m24"))
    else:
        hour, minute = int(match.group("hour")), int(match.group("minute") or 0)
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match.group("half").lower() == "pm" else 0)
    zone = (match.group("zone") or "").upper()
    # NZST or NZDT written in the other season is a slip for "NZ time" (the clock time is what people
    # plan by), so NZ's own zone names read as the zone in force that day; only UTC is an offset.
    tz = UTC if zone in ("UTC", "GMT") else NZ
    return datetime.combine(day, time(hour, minute), tz).astimezone(NZ)
