"""The calendar end to end: `run.py sync` against the fixture site publishes calendar.ics, which a real
calendar program (khal, from Debian) imports; when the source moves a date the event keeps its UID with
a higher SEQUENCE, and when the sentence goes the event is cancelled, in the file and in khal."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import vobject

from tests.fixture_site import DEFAULT_SITEMAP_PATHS, FixtureSite, article_path, derive_article
from tests.helpers import MakeConfig, run_cli

pytestmark = pytest.mark.e2e  # runs run.py and khal

SLUG = "visitor-visa-fees-change"
FEES = "<p>Visitor visa fees will change on {day} March 2031.</p>"
CLOSING = "<p>Applications under the current fees close at 5pm NZDT on 14 February 2031.</p>"
KHAL_CONFIG = """[calendars]
[[panui]]
path = {folder}
type = calendar
[locale]
local_timezone = Pacific/Auckland
default_timezone = Pacific/Auckland
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
[sqlite]
path = {database}
"""


def serve_article(site: FixtureSite, body: str) -> None:
    page = derive_article(
        "article-improvements-to-the-pathway-student-visa.html",
        slug=SLUG,
        title="Visitor visa fees change",
        published="10 July 2026",
        body_html=body,
    )
    site.set_article(article_path(SLUG), page)


def sync(config: Path) -> None:
    result = run_cli("sync", "--config", str(config), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def events(output: Path) -> dict[str, vobject.base.Component]:
    """calendar.ics read by vobject, by summary (and the source's own calendar has the same events)."""
    calendar = vobject.readOne((output / "calendar.ics").read_text("utf-8"))
    mine = vobject.readOne((output / "inz" / "calendar.ics").read_text("utf-8"))
    assert {event.uid.value for event in calendar.vevent_list} == {event.uid.value for event in mine.vevent_list}
    return {str(event.summary.value): event for event in calendar.vevent_list}


def khal(tmp_path: Path, *args: str) -> str:
    assert shutil.which("khal"), "khal is not installed (Debian package khal; .ci/run installs it)"
    config = tmp_path / "khal.conf"
    if not config.exists():
        (tmp_path / "khal").mkdir()
        config.write_text(KHAL_CONFIG.format(folder=tmp_path / "khal", database=tmp_path / "khal.db"), "utf-8")
    result = subprocess.run(["khal", "-c", str(config), *args], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def in_khal(tmp_path: Path, output: Path) -> str:
    """Import calendar.ics into khal (as a subscriber's update would) and list February and March 2031."""
    khal(tmp_path, "import", "--batch", "-a", "panui", str(output / "calendar.ics"))
    return khal(tmp_path, "list", "-f", "{start} {title} [{status}]", "-df", "", "2031-02-01", "60d")


def test_a_date_moved_and_a_date_removed_by_the_source_follow_into_the_calendar(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    serve_article(site, FEES.format(day=1) + CLOSING)
    site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, article_path(SLUG)])
    config = make_config(site, tmp_path, contact="mailto:e2e-tests@example.org", source={"revisit": [{"every": "0s"}]})
    output = tmp_path / "output"

    sync(config)
    first = events(output)
    fees, closing = first["Takes effect: Visitor visa fees change"], first["Closes: Visitor visa fees change"]
    assert str(fees.dtstart.value) == "2031-03-01" and fees.sequence.value == "0"
    assert "Visitor visa fees will change on 1 March 2031." in fees.description.value
    assert f"/inz/articles/{SLUG}/" in fees.url.value
    listed = in_khal(tmp_path, output)
    assert "2031-03-01 Takes effect: Visitor visa fees change [CONFIRMED" in listed
    assert "2031-02-14 17:00 Closes: Visitor visa fees change [CONFIRMED" in listed
    page = (output / "coming-up" / "index.html").read_text("utf-8")
    assert "1 March 2031" in page and "14 February 2031, 17:00 NZDT" in page
    assert 'href="coming-up/index.html">Coming up</a>' in (output / "index.html").read_text("utf-8")

    serve_article(site, FEES.format(day=8) + CLOSING)  # the source moves the date
    sync(config)
    moved = events(output)["Takes effect: Visitor visa fees change"]
    assert (moved.uid.value, str(moved.dtstart.value), moved.sequence.value) == (fees.uid.value, "2031-03-08", "1")
    assert moved.dtstamp.value >= fees.dtstamp.value  # (stored to the second: two syncs may share one)
    listed = in_khal(tmp_path, output)
    assert "2031-03-08 Takes effect" in listed and "2031-03-01" not in listed

    serve_article(site, FEES.format(day=8))  # and drops the closing sentence
    sync(config)
    gone = events(output)["Closes: Visitor visa fees change"]
    assert (gone.uid.value, gone.status.value, gone.sequence.value) == (closing.uid.value, "CANCELLED", "1")
    assert "Closes: Visitor visa fees change [CANCELLED" in in_khal(tmp_path, output)
    page = (output / "coming-up" / "index.html").read_text("utf-8")
    assert "8 March 2031" in page and "14 February 2031" not in page  # a cancelled date is not listed
