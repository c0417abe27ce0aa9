"""Site alerts, pure: the INZ home page banner read into Alert values, its issued time in NZ time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.config import load_config
from pipeline.errors import ExtractError
from pipeline.extract.alerts import extract_alerts, parse_issued
from pipeline.model import Page, Source
from tests.fixture_site import CAPTURES

REPO_ROOT = Path(__file__).resolve().parents[1]
AUCKLAND = "Pacific/Auckland"
FORMAT = "%A %d %b %Y, %I:%M %p"  # the shipped sources.yaml's alerts.issued_format
HOME = "https://www.immigration.govt.nz/"
MIDDLE_EAST_URL = (
    HOME
    + "about-us/news-centre/middle-east-advice-for-temporary-visa-holders-in-new-zealand-affected-by-travel-disruptions/"
)


@pytest.fixture(scope="module")
def inz() -> Source:
    """The shipped configuration's INZ source: its alert selectors are what the tests check."""
    return load_config(REPO_ROOT / "sources.yaml").source("inz")


def home_page(body: str | None = None) -> Page:
    text = body if body is not None else (CAPTURES / "homepage-latest-announcements-block.html").read_text("utf-8")
    return Page(
        url=HOME,
        final_url=HOME,
        status=200,
        headers={"content-type": "text/html; charset=utf-8"},
        body=text.encode("utf-8"),
        fetched_at=datetime(2026, 7, 13, 1, 0, tzinfo=UTC),
    )


# -- parse_issued -----------------------------------------------------------------------------------


def test_issued_time_in_daylight_saving_is_read_as_nzdt() -> None:
    issued = parse_issued("Issued: Monday 02 Mar 2026, 07:10 pm NZDT", FORMAT, AUCKLAND)

    assert issued == datetime(2026, 3, 2, 19, 10, tzinfo=ZoneInfo(AUCKLAND))
    assert issued.utcoffset() == timedelta(hours=13)
    assert issued.astimezone(UTC) == datetime(2026, 3, 2, 6, 10, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "offset"), [("NZDT", 13), ("NZST", 12)])
def test_the_repeated_hour_when_daylight_saving_ends_is_told_apart_by_the_abbreviation(zone: str, offset: int) -> None:
    issued = parse_issued(f"Issued: Sunday 05 Apr 2026, 02:30 am {zone}", FORMAT, AUCKLAND)

    assert issued.utcoffset() == timedelta(hours=offset)


def test_issued_time_in_winter_is_read_as_nzst() -> None:
    issued = parse_issued("Issued: Friday 10 Jul 2026, 09:05 am NZST", FORMAT, AUCKLAND)

    assert issued.utcoffset() == timedelta(hours=12)
    assert issued.astimezone(UTC) == datetime(2026, 7, 9, 21, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "Issued: Monday 02 Mar 2026, 07:10 pm NZDT",
        "  issued:\n   Monday 02 Mar 2026,   07:10 PM   NZDT ",
        "Issued Monday 02 Mar 2026, 07:10 pm",
        "Monday 02 Mar 2026, 07:10 pm",
    ],
)
def test_the_label_the_zone_and_extra_white_space_are_dropped(text: str) -> None:
    assert parse_issued(text, FORMAT, AUCKLAND) == datetime(2026, 3, 2, 19, 10, tzinfo=ZoneInfo(AUCKLAND))


def test_an_unreadable_issued_time_says_which_format_it_expected() -> None:
    with pytest.raises(ExtractError) as caught:
        parse_issued("Issued: sometime next week", FORMAT, AUCKLAND)

    assert FORMAT in caught.value.message
    assert "issued_format" in caught.value.hint


# -- extract_alerts on the real home page -----------------------------------------------------------


def test_the_real_home_page_banner_is_one_alert(inz: Source) -> None:
    alerts = extract_alerts(home_page(), inz)

    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.title == "Travel disrupted by the Middle East situation"
    assert alert.issued == datetime(2026, 3, 2, 19, 10, tzinfo=ZoneInfo(AUCKLAND))
    assert alert.issued.utcoffset() == timedelta(hours=13)
    assert alert.source_id == "inz"
    assert alert.page_url == HOME
    assert "priority phone line" in alert.text_html
    assert f'href="{MIDDLE_EAST_URL}"' in alert.text_html  # the site-relative link made absolute
    assert "Issued" not in alert.text_html  # the text is the banner's text, not its heading


def test_the_same_banner_keeps_its_id_and_a_new_one_gets_another(inz: Source) -> None:
    capture = (CAPTURES / "homepage-latest-announcements-block.html").read_text("utf-8")
    first = extract_alerts(home_page(capture), inz)[0]
    again = extract_alerts(home_page(capture), inz)[0]
    changed = capture.replace(
        "Travel disrupted by the Middle East situation", "Online services unavailable on Sunday"
    ).replace("Monday 02 Mar 2026, 07:10 pm NZDT", "Friday 10 Jul 2026, 09:00 am NZST")

    other = extract_alerts(home_page(changed), inz)[0]

    assert again.id == first.id
    assert other.id != first.id
    assert other.title == "Online services unavailable on Sunday"
    assert other.issued.utcoffset() == timedelta(hours=12)


def test_a_banner_is_read_in_the_charset_its_server_declares_as_an_article_is(inz: Source) -> None:
    """One charset rule for every page: the server's Content-Type first, the page's own <meta> after."""
    capture = (CAPTURES / "homepage-latest-announcements-block.html").read_text("utf-8")
    title = "Café closed – the office reopens on Monday"
    text = '<meta charset="utf-8">' + capture.replace("Travel disrupted by the Middle East situation", title)
    page = replace(home_page(), headers={"content-type": "text/html; charset=windows-1252"}, body=text.encode("cp1252"))

    assert extract_alerts(page, inz)[0].title == title


def test_a_page_without_a_banner_has_no_alerts(inz: Source) -> None:
    page = home_page('<!doctype html><html><body data-pagetype="HomePage"><main>Kia ora</main></body></html>')

    assert extract_alerts(page, inz) == []


def test_a_banner_without_a_title_names_the_title_selector(inz: Source) -> None:
    capture = (CAPTURES / "homepage-latest-announcements-block.html").read_text("utf-8")
    untitled = capture.replace('<h3 class="site-banner__title">Travel disrupted by the Middle East situation</h3>', "")
    assert untitled != capture
    assert inz.alerts is not None

    with pytest.raises(ExtractError) as caught:
        extract_alerts(home_page(untitled), inz)

    assert inz.alerts.title in caught.value.message
    assert caught.value.hint


def test_a_banner_without_an_issued_time_names_the_issued_selector(inz: Source) -> None:
    capture = (CAPTURES / "homepage-latest-announcements-block.html").read_text("utf-8")
    undated = capture.replace('<p class="site-banner__issued"><b>Issued:</b> Monday 02 Mar 2026, 07:10 pm NZDT</p>', "")
    assert undated != capture
    assert inz.alerts is not None

    with pytest.raises(ExtractError) as caught:
        extract_alerts(home_page(undated), inz)

    assert inz.alerts.issued in caught.value.message
