"""`events: [upcoming]` end to end: a subscription is reminded, `remind_days` before it, of a date an
article gives (the calendar's), once however many syncs see it in the window, and only when its `match`
selects the article; through `run.py sync` to a real `json://` receiver on 127.0.0.1."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.fixture_site import DEFAULT_SITEMAP_PATHS, FixtureSite, article_path, derive_article
from tests.helpers import MakeConfig, run_cli
from tests.receivers import webhooks

pytestmark = pytest.mark.e2e  # syncs through run.py, with an HTTP receiver on 127.0.0.1

SLUG = "visitor-visa-fees-change"
TITLE = "Visitor visa fees change"


def nz_day(days_from_today: int) -> date:
    return datetime.now(ZoneInfo("Pacific/Auckland")).date() + timedelta(days=days_from_today)


def serve_article(site: FixtureSite, body: str) -> None:
    page = derive_article(
        "article-improvements-to-the-pathway-student-visa.html",
        slug=SLUG,
        title=TITLE,
        published="10 July 2026",
        body_html=body,
    )
    site.set_article(article_path(SLUG), page)
    site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, article_path(SLUG)])


def sync(config: Path, hook: str) -> None:
    result = run_cli("sync", "--config", str(config), timeout=90, env={"PANUI_TEST_HOOK": hook})
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_date_coming_up_is_told_once_to_the_subscriptions_that_match_it(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    soon, later = nz_day(5), nz_day(40)
    serve_article(
        site,
        f"<p>Visitor visa fees will change on {soon.day} {soon:%B %Y} at 10am.</p>"
        f"<p>Applications under the current fees close on {later.day} {later:%B %Y}.</p>",
    )
    with webhooks() as hooks:
        subscriptions = [
            {"id": "fees", "match": {"words": ["fees"]}, "events": ["upcoming"], "to": ["${PANUI_TEST_HOOK}"]},
            {"id": "zebra", "match": {"words": ["zebra"]}, "events": ["upcoming"], "to": ["${PANUI_TEST_HOOK}"]},
            {"id": "news", "match": {"words": ["fees"]}, "events": ["new"], "to": ["${PANUI_TEST_HOOK}"]},
        ]
        config = make_config(
            site,
            tmp_path,
            contact="mailto:e2e-tests@example.org",
            subscriptions=subscriptions,
            source={"revisit": [{"every": "0s"}]},  # every sync reads the article again
        )
        hook = f"{hooks.url}/reminders"
        sync(config, hook)
        sync(config, hook)  # the same date still in the window: not told again

        reminders = [item for item in hooks.received if item["title"].startswith("Coming up: ")]
        assert [item["title"] for item in reminders] == [f"Coming up: Takes effect: {TITLE}"]  # not the one in 40 days
        (reminder,) = reminders
        at = datetime.combine(soon, time(10), ZoneInfo("Pacific/Auckland"))
        # The zone by its name, as the calendar's Coming up page gives it (not a bare "UTC+13:00").
        assert f"{soon.day} {soon:%B %Y}, 10:00 {at:%Z}: Visitor visa fees will change on" in reminder["message"]
        assert f"/inz/articles/{SLUG}/" in reminder["message"]
        assert not [item for item in hooks.received if item["title"] == TITLE]  # `news`: its baseline

        moved = nz_day(6)  # the source moves the date: told again, for its new day
        serve_article(site, f"<p>Visitor visa fees will change on {moved.day} {moved:%B %Y}.</p>")
        sync(config, hook)
        sync(config, hook)
        reminders = [item for item in hooks.received if item["title"].startswith("Coming up: ")]
        assert len(reminders) == 2
        assert f"{moved.day} {moved:%B %Y}: Visitor visa fees will change on" in reminders[1]["message"]
