"""Subscriptions end to end (issue 17): `python run.py sync`, `notify --test` and `digest` against the
fixture site, delivering through Apprise to real receivers on 127.0.0.1 (an SMTP server, aiosmtpd, and
an HTTP server taking `json://` webhooks): the baseline, matching, a significant against a trivial edit,
the email's parts, an outage then recovery, a SIGKILL mid-delivery, digests, and secrets kept."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from pipeline.store import Store
from tests.fixture_site import (
    ARTICLE_CAPTURES,
    ARTICLE_PATHS,
    HTML,
    PATHWAY_PATH,
    FixtureSite,
    Route,
    home_page,
    read_capture,
)
from tests.helpers import run_cli, write_config
from tests.receivers import Mailbox, Webhooks, smtp_server, webhooks
from tests.test_crash import start_sync, wait_for_pause

pytestmark = pytest.mark.e2e  # syncs through run.py, with SMTP and HTTP receivers on 127.0.0.1

SECRET = "hook-s3cr3t-1a2b3c"
TITLE = "Improvements to the Pathway Student Visa to better support international students"
PAGE = read_capture(ARTICLE_CAPTURES[0])
EMPLOYER_PATH = ARTICLE_PATHS[1]
BANNER_TITLE = "Travel disrupted by the Middle East situation"
BANNER_ISSUED = "Monday 02 Mar 2026, 07:10 pm NZDT"
SIGNIFICANT = ("From Monday 20 July", "From Monday 27 July")  # a date
TRIVIAL = ("From Monday 20 July, there", "From monday 20 July there")  # case and a comma


def edit(site: FixtureSite, *changes: tuple[str, str]) -> None:
    page = PAGE
    for old, new in changes:
        assert old in page
        page = page.replace(old, new)
    site.set_article(PATHWAY_PATH, page)


def sync(
    config: Path, *args: str, exit_code: int = 0, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = run_cli("sync", "--config", str(config), *args, timeout=90, env=env)
    assert result.returncode == exit_code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


def hook_url(hooks: Webhooks) -> str:
    return f"{hooks.url}/{SECRET}"  # a secret in the path, as a chat service's token is


@dataclass(frozen=True)
class Story:
    tmp_path: Path
    hooks: Webhooks
    mailbox: Mailbox
    outputs: list[str]  # every stdout and stderr of every command run
    after_trivial: tuple[int, int]  # webhooks, emails received after the trivial edit


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """Subscriptions: `study` (topics, by email and webhook), `zebra` (a word no article has); a first
    sync (the baseline), a trivial edit, a significant edit, `status` and `notify --test`."""
    tmp_path = tmp_path_factory.mktemp("story")
    with FixtureSite(max_lifetime=300) as site, webhooks() as hooks, smtp_server() as (mailbox, port):
        mail = f"mailto://127.0.0.1:{port}?from=panui@example.org&to=adviser@example.org&mode=insecure"
        subscriptions = [
            {
                "id": "study",
                "match": {"topics": ["study to work"], "types": ["Announcement"]},
                "events": ["new", "revised", "withdrawn"],
                "to": [mail, "${PANUI_TEST_HOOK}"],
            },
            {"id": "zebra", "match": {"words": ["zebra"]}, "events": ["revised"], "to": ["${PANUI_TEST_HOOK}"]},
        ]
        config = write_config(site, tmp_path, contact="mailto:subs@example.org", subscriptions=subscriptions)
        env = {"PANUI_TEST_HOOK": hook_url(hooks)}
        outputs: list[str] = []
        for step in ("first", "trivial", "significant"):
            if step == "trivial":
                assert (hooks.received, mailbox.messages) == ([], [])  # the baseline: nothing for the archive
                edit(site, TRIVIAL)
            if step == "significant":
                after_trivial = (len(hooks.received), len(mailbox.messages))
                edit(site, SIGNIFICANT)
            result = sync(config, "--verbose", env=env)  # every log line too
            outputs += [result.stdout, result.stderr]
        for command in (["status"], ["status", "--json"], ["notify", "--test", "study"]):
            result = run_cli(*command, "--config", str(config), env=env, timeout=60)
            assert result.returncode == 0, result.stdout + result.stderr
            outputs += [result.stdout, result.stderr]
        yield Story(tmp_path, hooks, mailbox, outputs, after_trivial)


def test_the_first_sync_sends_nothing_and_a_trivial_edit_sends_nothing(story: Story) -> None:
    assert story.after_trivial == (0, 0)


def test_a_significant_edit_reaches_each_target_of_a_matching_subscription_once(story: Story) -> None:
    updates = [item for item in story.hooks.received if item["title"] == f"Updated: {TITLE}"]
    emails = [message for message in story.mailbox.messages if message["Subject"] == f"Updated: {TITLE}"]

    assert len(updates) == 1 and len(emails) == 1  # and none for `zebra`
    assert "From Monday 27 July" in updates[0]["message"]
    assert "/inz/articles/improvements-to-the-pathway-student-visa/" in updates[0]["message"]


def test_the_email_is_html_with_a_plain_text_alternative_that_people_can_act_on(story: Story) -> None:
    (email,) = [message for message in story.mailbox.messages if message["Subject"] == f"Updated: {TITLE}"]
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()  # type: ignore[union-attr]
        for part in email.walk()
        if not part.is_multipart()
    }

    assert email.get_content_type() == "multipart/alternative" and set(parts) == {"text/plain", "text/html"}
    for text in parts.values():
        assert "What changed" in text and "From Monday 27 July" in text
        assert "http://localhost:8000/inz/articles/improvements-to-the-pathway-student-visa/" in text
        assert "/about-us/news-centre/improvements-to-the-pathway-student-visa/" in text  # the original
        assert "Crown copyright" in text and "CC BY 3.0 NZ" in text


def test_notify_test_reports_each_target_masked(story: Story) -> None:
    assert "study #1 mailto://…: sent\nstudy #2 json://…: sent" in story.outputs[-2]
    assert any("test message for the subscription study" in item["title"] for item in story.hooks.received)


def test_secrets_appear_in_no_output_log_health_or_published_file(story: Story) -> None:
    files = [path for path in story.tmp_path.rglob("*") if path.is_file()]  # the store and its outbox too
    assert files and (story.tmp_path / "state" / "health.json") in files
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path
    for text in story.outputs:
        assert SECRET not in text and "127.0.0.1:" + str(story.hooks.server_address[1]) not in text


def test_a_withdrawal_and_a_new_alert_are_told_with_their_kind(site: FixtureSite, tmp_path: Path) -> None:
    with webhooks() as hooks:
        subscriptions = [{"id": "all", "events": ["withdrawn", "alert"], "to": [hook_url(hooks)]}]
        config = write_config(
            site,
            tmp_path,
            contact="mailto:subs@example.org",
            subscriptions=subscriptions,
            source={"removal_grace": "0s"},
        )
        sync(config)  # the banner already shown is part of the baseline
        site.remove(EMPLOYER_PATH)
        sync(config)  # the first 404 is only noted
        changed = home_page().decode("utf-8").replace(BANNER_TITLE, "Online services unavailable on Sunday")
        site.set(
            "/",
            Route(
                body=changed.replace(BANNER_ISSUED, "Friday 10 Jul 2026, 09:00 am NZST").encode(),
                headers={"Content-Type": HTML},
            ),
        )
        sync(config)

        withdrawn, alert = sorted(hooks.received, key=lambda item: str(item["title"]))[::-1]
        assert alert["title"] == "Alert: Online services unavailable on Sunday"
        assert str(withdrawn["title"]).startswith("Withdrawn: Employer sentenced")
        assert "http://localhost:8000/inz/articles/employer-sentenced" in withdrawn["message"]  # the archived copy


# -- an outage, then recovery ---------------------------------------------------------------------


def due_now(state: Path, queued_hours_ago: float = 0) -> None:
    """Let time pass: the back-off, and the messages' age (as they would be later)."""
    now = datetime.now(UTC).replace(microsecond=0)
    with Store(state) as store, store.transaction() as db:
        db.execute("UPDATE outbox SET next_try = ?", ((now - timedelta(seconds=1)).isoformat(),))
        if queued_hours_ago:
            db.execute("UPDATE outbox SET created_at = ?", ((now - timedelta(hours=queued_hours_ago)).isoformat(),))


def test_an_outage_keeps_the_message_pending_then_it_is_delivered_once(site: FixtureSite, tmp_path: Path) -> None:
    with webhooks() as hooks:
        subscriptions = [{"id": "all", "events": ["revised"], "to": [hook_url(hooks)]}]
        config = write_config(site, tmp_path, contact="mailto:subs@example.org", subscriptions=subscriptions)
        sync(config)
        hooks.failing = True
        edit(site, SIGNIFICANT)
        down = sync(config)  # a failed delivery does not fail the sync

        assert "1 message(s) pending" in down.stderr and "#1 json://…" in down.stderr
        health = json.loads((tmp_path / "state" / "health.json").read_text("utf-8"))
        assert health["notifications"]["pending"][0]["subscription"] == "all"
        status = run_cli("status", "--config", str(config), timeout=60)
        assert "all #1 json://…: 1 message(s) pending" in status.stdout
        # in New Zealand's time, as every other time `status` shows
        assert re.search(r"pending since \d{4}-\d\d-\d\d \d\d:\d\d NZ[SD]T .*next try after .* NZ[SD]T", status.stdout)
        assert hooks.received == []
        trial = run_cli("notify", "--config", str(config), "--test", "all", timeout=60)
        assert trial.returncode == 1 and "all #1 json://…: FAILED: target #1 json://… did not accept" in trial.stdout

        hooks.failing = False
        due_now(tmp_path / "state")
        sync(config)
        sync(config)
        assert hooks.titles() == [f"Updated: {TITLE}"]
        health = json.loads((tmp_path / "state" / "health.json").read_text("utf-8"))
        assert health["notifications"]["pending"] == []


def test_a_message_is_given_up_after_notify_give_up_after_with_a_problem(site: FixtureSite, tmp_path: Path) -> None:
    with webhooks() as hooks:
        subscriptions = [{"id": "all", "events": ["revised"], "to": [hook_url(hooks)]}]
        config = write_config(
            site, tmp_path, contact="mailto:subs@example.org", subscriptions=subscriptions, notify_give_up_after="1h"
        )
        sync(config)
        hooks.failing = True
        edit(site, SIGNIFICANT)
        sync(config)
        due_now(tmp_path / "state", queued_hours_ago=2)
        result = sync(config, exit_code=1)

        assert "given up after 2 h" in result.stderr and "subscription all #1 json://…" in result.stderr
        hooks.failing = False
        due_now(tmp_path / "state")
        sync(config)
        assert hooks.received == []


# -- killed mid-delivery ---------------------------------------------------------------------------


@pytest.mark.parametrize("point", ["send:2", "sent:1"], ids=["before-a-send", "after-a-send-before-its-mark"])
def test_a_sync_killed_mid_delivery_loses_nothing_it_had_not_begun_and_sends_nothing_twice(
    site: FixtureSite, tmp_path: Path, point: str
) -> None:
    with webhooks() as hooks:
        subscriptions = [
            {"id": name, "events": ["revised"], "to": [hook_url(hooks)]} for name in ("one", "two", "three")
        ]
        config = write_config(site, tmp_path, contact="mailto:subs@example.org", subscriptions=subscriptions)
        sync(config)
        edit(site, SIGNIFICANT)
        process = start_sync(config, point)
        try:
            wait_for_pause(process, point.partition(":")[0])
            os.kill(process.pid, signal.SIGKILL)
        finally:
            process.wait(timeout=30)
        received_before = len(hooks.received)
        after = sync(config, exit_code=0 if point.startswith("send") else 1)
        sync(config)

        assert hooks.titles() == [f"Updated: {TITLE}"] * 3  # one message per subscription, each once
        if point.startswith("sent"):  # the one message whose fate the killed run could not record
            assert received_before == 1 and "interrupted while being sent" in after.stderr


# -- digests ----------------------------------------------------------------------------------------


def test_a_daily_digest_sends_the_days_events_grouped_once(site: FixtureSite, tmp_path: Path) -> None:
    with webhooks() as hooks:
        subscriptions = [{"id": "daily", "events": ["revised", "new"], "to": [hook_url(hooks)], "digest": "daily"}]
        config = write_config(site, tmp_path, contact="mailto:subs@example.org", subscriptions=subscriptions)
        sync(config)
        edit(site, SIGNIFICANT)
        sync(config)
        assert hooks.received == []  # waiting for the digest

        first = run_cli("digest", "--config", str(config), "--period", "daily", timeout=60)
        again = run_cli("digest", "--config", str(config), "--period", "daily", timeout=60)
        weekly = run_cli("digest", "--config", str(config), "--period", "weekly", "--subscription", "daily", timeout=60)

        assert (first.returncode, again.returncode, weekly.returncode) == (0, 0, 2), first.stderr + weekly.stderr
        assert "digest queued: daily: daily " in first.stdout and "already sent: daily: daily " in again.stdout
        (digest,) = hooks.received
        assert "digest (daily): 1 updated" in digest["title"]
        assert f"Updated:\n- {TITLE} http://localhost:8000/inz/articles/" in digest["message"]


def test_an_unset_variable_stops_the_run_naming_the_subscription(site: FixtureSite, tmp_path: Path) -> None:
    subscriptions = [{"id": "chat", "to": ["${PANUI_TEST_UNSET_URL}"]}]
    config = write_config(site, tmp_path, contact="mailto:subs@example.org", subscriptions=subscriptions)
    result = run_cli("sync", "--config", str(config), timeout=60)

    assert result.returncode == 2
    assert "subscriptions.chat.to[0]: ${PANUI_TEST_UNSET_URL} is not set in the environment" in result.stderr
    assert not (tmp_path / "state").exists()


# -- each subscription's own feeds ------------------------------------------------------------------


def test_a_subscription_kept_out_of_the_archive_has_no_page_feed_or_link_and_is_still_told(
    site: FixtureSite, tmp_path: Path
) -> None:
    with webhooks() as hooks:
        told = {"id": "all", "events": ["withdrawn"], "to": [hook_url(hooks)]}
        setting = {"contact": "mailto:subs@example.org", "source": {"removal_grace": "0s"}}
        config = write_config(site, tmp_path, subscriptions=[told], **setting)
        sync(config)
        output = tmp_path / "output"
        assert (output / "subscriptions" / "all" / "feed.xml").is_file()

        write_config(site, tmp_path, subscriptions=[{**told, "publish": False}], **setting)
        site.remove(EMPLOYER_PATH)
        sync(config)  # the first 404 is only noted
        sync(config)

        assert not (output / "subscriptions").exists()  # its feeds and page are gone, and their folders
        assert "subscriptions/all" not in (output / "topics.opml").read_text("utf-8")
        assert "subscriptions/all" not in (output / "index.html").read_text("utf-8")
        assert [str(item["title"]).split(":")[0] for item in hooks.received] == ["Withdrawn"]


def test_each_subscription_has_its_own_feeds_listed_in_the_archive_and_the_opml(
    site: FixtureSite, tmp_path: Path
) -> None:
    subscriptions = [
        {"id": "study", "match": {"topics": ["Study to work"]}, "to": ["json://127.0.0.1:9/"]},
        {"id": "zebra", "match": {"words": ["zebra"]}, "to": ["json://127.0.0.1:9/"]},
        {"id": "schools", "match": {"words": ["secondary"]}, "to": ["json://127.0.0.1:9/"]},  # in the body only
    ]
    config = write_config(site, tmp_path, contact="mailto:subs@example.org", subscriptions=subscriptions)
    sync(config)
    output = tmp_path / "output"

    for extension in ("xml", "atom"):
        parsed = feedparser.parse((output / "subscriptions" / "study" / f"feed.{extension}").read_bytes())
        assert not parsed.bozo and [entry.title for entry in parsed.entries] == [TITLE]
    items = json.loads((output / "subscriptions" / "study" / "feed.json").read_text("utf-8"))["items"]
    assert [item["title"] for item in items] == [TITLE]
    assert json.loads((output / "subscriptions" / "zebra" / "feed.json").read_text("utf-8"))["items"] == []
    schools = json.loads((output / "subscriptions" / "schools" / "feed.json").read_text("utf-8"))["items"]
    assert [item["title"] for item in schools] == [TITLE]
    opml = (output / "topics.opml").read_text("utf-8")
    assert 'xmlUrl="http://localhost:8000/subscriptions/study/feed.xml"' in opml
    assert 'href="subscriptions/study/index.html"' in (output / "index.html").read_text("utf-8")

    write_config(site, tmp_path, contact="mailto:subs@example.org", subscriptions=subscriptions[:1])
    sync(config)
    assert not list((output / "subscriptions" / "zebra").glob("*"))  # a subscription removed: its files too
    assert (output / "subscriptions" / "study" / "feed.xml").is_file()
