"""The calendar's outputs, published in process: calendar.ics read back by a second iCalendar parser
(vobject), and the feed of the next 14 days' dates and the "Coming up" page, which move with the day and
keep their bytes between such moves."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import vobject

from pipeline.model import Article
from pipeline.publish import publish, render_site
from pipeline.publish.calendar import render_ics
from pipeline.store import Store
from tests.test_publish_incremental import NEWS, make_config, on_disk, save

NZ = ZoneInfo("Pacific/Auckland")
SEEN = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)
BODY = (
    "<p>Visitor visa fees will change on 1 October 2026.</p>"
    "<p>Applications open at 10am NZDT on 5 October 2026 and close on 30 October 2026.</p>"
)


def fees_article(body: str = BODY) -> Article:
    return Article(
        url=f"{NEWS}visitor-visa-fees-change/",
        title="Visitor visa fees change",
        published=datetime(2026, 9, 1, tzinfo=NZ),
        news_type="Announcement",
        topics=("Visitors",),
        summary="New fees for visitor visas.",
        body_html=body,
    )


def events_of(path: Path) -> dict[str, vobject.base.Component]:
    calendar = vobject.readOne(path.read_text("utf-8"))
    return {str(event.uid.value): event for event in calendar.vevent_list}


def test_calendar_ics_reads_back_with_a_second_parser(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    with Store(config.state_dir) as store:
        save(store, config, fees_article(), SEEN)
        publish(config, store, now=SEEN)
    site_wide = config.output_dir / "calendar.ics"
    assert events_of(site_wide).keys() == events_of(config.output_dir / "inz" / "calendar.ics").keys()
    events = sorted(events_of(site_wide).values(), key=lambda event: str(event.dtstart.value))
    fees, opening, closing = events
    assert fees.summary.value == "Takes effect: Visitor visa fees change"
    assert fees.dtstart.value == date(2026, 10, 1) and fees.dtend.value == date(2026, 10, 2)
    assert opening.summary.value == "Opens: Visitor visa fees change"
    assert opening.dtstart.value == datetime(2026, 10, 5, 10, tzinfo=NZ)
    assert b"DTSTART;TZID=Pacific/Auckland:20261005T100000" in site_wide.read_bytes()  # NZ local time
    assert closing.dtstart.value == date(2026, 10, 30)
    for event in events:
        assert event.sequence.value == "0" and event.status.value == "CONFIRMED"
        assert event.dtstamp.value == SEEN  # the version's retrieval, not the clock
        description = event.description.value
        assert "http://localhost:8000/inz/articles/visitor-visa-fees-change/" in description
        assert f"{NEWS}visitor-visa-fees-change/" in description and "CC BY 3.0 NZ" in description
    assert "Applications open at 10am NZDT on 5 October 2026" in opening.description.value


def test_the_feed_of_the_next_days_moves_with_the_day_and_keeps_its_bytes_between(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    with Store(config.state_dir) as store:
        save(store, config, fees_article(), SEEN)
        far = datetime(2026, 9, 2, tzinfo=NZ)  # 29 days before the first date
        publish(config, store, now=far)
        assert json.loads((config.output_dir / "upcoming.json").read_text("utf-8"))["items"] == []
        assert publish(config, store, now=far + timedelta(days=1)) == []  # nothing entered the window

        near = datetime(2026, 9, 20, 9, tzinfo=NZ)  # 1 October is 11 days on; 5 October, 15
        written = publish(config, store, now=near)
        assert {"upcoming.xml", "upcoming.atom", "upcoming.json"} <= set(written)
        items = json.loads((config.output_dir / "upcoming.json").read_text("utf-8"))["items"]
        assert [item["title"] for item in items] == ["Takes effect 1 October 2026: Visitor visa fees change"]
        assert publish(config, store, now=near + timedelta(hours=5)) == []  # the same day: not a byte moves
        assert on_disk(config.output_dir) == render_site(config, store, now=near)

        later = datetime(2026, 10, 3, 9, tzinfo=NZ)  # 1 October has passed; 5 October is 2 days on
        publish(config, store, now=later)
        page = (config.output_dir / "coming-up" / "index.html").read_text("utf-8")
        coming, past = page.split('id="past"')
        assert "5 October 2026, 10:00 NZDT" in coming and "30 October 2026" in coming
        assert coming.index("5 October 2026") < coming.index("30 October 2026")  # soonest first
        assert "1 October 2026" in past and "1 October 2026" not in coming
        items = json.loads((config.output_dir / "upcoming.json").read_text("utf-8"))["items"]
        assert [item["title"] for item in items] == ["Opens 5 October 2026, 10:00 NZDT: Visitor visa fees change"]


def test_the_dates_of_an_article_the_source_withdrew_are_cancelled(tmp_path: Path) -> None:
    """A calendar that imported them must drop them: CANCELLED with a higher SEQUENCE, and they leave
    the dates coming up."""
    config = make_config(tmp_path)
    article = fees_article()
    with Store(config.state_dir) as store:
        save(store, config, article, SEEN)
        publish(config, store, now=SEEN)
        for hours in (1, 2):  # missing twice, removal_grace apart: withdrawn
            store.record_missing(article.url, SEEN + timedelta(hours=hours), 0)
        publish(config, store, now=SEEN + timedelta(hours=3))
        assert render_site(config, store, now=SEEN + timedelta(hours=3)) == on_disk(config.output_dir)
    events = events_of(config.output_dir / "calendar.ics").values()
    assert len(events) == 3
    for event in events:
        assert (event.status.value, event.sequence.value) == ("CANCELLED", "1")
    upcoming = json.loads((config.output_dir / "upcoming.json").read_text("utf-8"))
    assert upcoming["items"] == []


def test_calendar_ics_keeps_a_year_of_past_dates_and_every_future_one(tmp_path: Path) -> None:
    """Bounded however long the archive grows: a date more than a year past leaves the file."""
    config = make_config(tmp_path)
    with Store(config.state_dir) as store:
        save(store, config, fees_article(), SEEN)
        publish(config, store, now=datetime(2027, 10, 20, tzinfo=UTC))  # 1 and 5 October 2026: over a year ago
        assert [str(event.dtstart.value) for event in events_of(config.output_dir / "calendar.ics").values()] == [
            "2026-10-30"
        ]
        assert render_site(config, store, now=datetime(2027, 10, 20, tzinfo=UTC)) == on_disk(config.output_dir)


def test_calendar_ics_folds_long_lines_between_characters_and_keeps_escapes_whole() -> None:
    # Commas, semicolons, backslashes and two-byte letters at every offset from a fold: a reader gets
    # the text back exactly, and no line ends inside a character or an escape ("\\;" cut after "\\").
    for shift in range(80):
        name = "x" * shift + "Māori\\; fees, levies\\\\ā " * 12
        data = render_ics(name, "Dates", [])
        for line in data.split(b"\r\n"):
            assert len(line) <= 75  # octets, as RFC 5545 asks
            line.decode("utf-8")  # never a character cut in two
            assert (len(line) - len(line.rstrip(b"\\"))) % 2 == 0
        assert vobject.readOne(data.decode()).x_wr_calname.value == name


def test_the_calendar_and_reminders_read_their_window_by_its_index(tmp_path: Path) -> None:
    """Catalogue.dated(since) runs on every sync with an `upcoming` subscription: it must look up the
    articles with a date in the window, not read every article's row (with its search words)."""
    with Store(tmp_path / "state") as store:
        catalogue = store.catalogue(tmp_path / "state")
        try:
            statements: list[str] = []
            catalogue._db.set_trace_callback(statements.append)
            catalogue.dated(date(2026, 1, 1))
            catalogue._db.set_trace_callback(None)
            query = next(statement for statement in statements if "last_day" in statement)
            plan = " ".join(str(row[3]) for row in catalogue._db.execute("EXPLAIN QUERY PLAN " + query))
        finally:
            catalogue.close()
    assert "entries_by_last_day" in plan, plan
