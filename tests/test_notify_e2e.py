"""What a subscriber and an operator read of the notifications, end to end through `python run.py`
against the fixture site and real receivers on 127.0.0.1: why a target failed (`notify --test`, the
sync's warning, `status`), a chat message's attribution, and a digest's one line per article."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.fixture_site import FixtureSite
from tests.helpers import run_cli, write_config
from tests.receivers import smtp_server, webhooks
from tests.test_subscriptions_e2e import SIGNIFICANT, TITLE, edit, hook_url, sync

pytestmark = pytest.mark.e2e  # syncs through run.py, with an HTTP receiver on 127.0.0.1

PASSWORD = "smtp-pa55-9z8y7x"
ORIGINAL = "/about-us/news-centre/improvements-to-the-pathway-student-visa/"
ARCHIVED = "http://localhost:8000/inz/articles/improvements-to-the-pathway-student-visa/"
CREDIT = "From Immigration New Zealand, licence CC BY 3.0 NZ https://creativecommons.org/licenses/by/3.0/nz/"


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: a connection to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_failed_target_is_told_with_apprises_reason_and_no_secret(site: FixtureSite, tmp_path: Path) -> None:
    with webhooks() as hooks:
        hooks.failing, hooks.failure = True, 500
        mail = f"mailto://panui:{PASSWORD}@127.0.0.1:{closed_port()}?from=panui@example.org&to=a@example.org"
        subscriptions = [{"id": "down", "events": ["revised"], "to": [hook_url(hooks), f"{mail}&mode=insecure"]}]
        config = write_config(site, tmp_path, contact="mailto:subs@example.org", subscriptions=subscriptions)
        trial = run_cli("notify", "--config", str(config), "--test", "down", "-v", timeout=60)
        sync(config)
        edit(site, SIGNIFICANT)
        down = sync(config)  # a failed delivery is a warning; the run itself succeeded
        status = run_cli("status", "--config", str(config), timeout=60)

    assert trial.returncode == 1
    assert "down #1 json://…: FAILED: target #1 json://… did not accept the message: " in trial.stdout
    assert "error=500" in trial.stdout
    assert "down #2 mailto://…: FAILED: " in trial.stdout and "(Connection refused)" in trial.stdout
    for text in (down.stderr, status.stdout):
        assert "(last: target #1 json://… did not accept the message: " in text and "error=500" in text
        assert "(last: target #2 mailto://… did not accept" in text and "(Connection refused)" in text
    health = (tmp_path / "state" / "health.json").read_text("utf-8")
    assert "Connection refused" in health
    for text in (trial.stdout, trial.stderr, down.stdout, down.stderr, status.stdout, health):
        assert PASSWORD not in text and "hook-s3cr3t" not in text
    for text in (trial.stdout, down.stderr, status.stdout):
        told = [line for line in text.splitlines() if "did not accept" in line]
        assert told and not any("127.0.0.1" in line for line in told)  # (the target's host is masked too)


def test_a_wrong_smtp_password_is_told_as_the_servers_refusal_not_a_connection_error(
    site: FixtureSite, tmp_path: Path
) -> None:
    with smtp_server(refuse_login=True) as (mailbox, port):
        mail = f"mailto://panui:{PASSWORD}@127.0.0.1:{port}?from=panui@example.org&to=a@example.org&mode=insecure"
        subscriptions = [{"id": "mail", "to": [mail]}]
        config = write_config(site, tmp_path, contact="mailto:subs@example.org", subscriptions=subscriptions)
        trial = run_cli("notify", "--config", str(config), "--test", "mail", timeout=60)

    assert trial.returncode == 1 and not mailbox.messages
    assert "(535 " in trial.stdout and "Authentication" in trial.stdout
    assert PASSWORD not in trial.stdout + trial.stderr


def test_chat_messages_and_a_digest_carry_the_sources_attribution_and_list_each_article_once(
    site: FixtureSite, tmp_path: Path
) -> None:
    with webhooks() as hooks:
        subscriptions = [
            {"id": "chat", "events": ["revised"], "to": [hook_url(hooks)]},
            {"id": "daily", "events": ["revised"], "to": [hook_url(hooks)], "digest": "daily"},
        ]
        config = write_config(site, tmp_path, contact="mailto:subs@example.org", subscriptions=subscriptions)
        sync(config)
        edit(site, SIGNIFICANT)
        sync(config)
        edit(site, (SIGNIFICANT[0], "From Monday 3 August"))  # revised again before the digest
        sync(config)
        digest = run_cli("digest", "--config", str(config), "--period", "daily", timeout=60)
        received = list(hooks.received)

    assert digest.returncode == 0, digest.stdout + digest.stderr
    *chats, daily = received
    assert [chat["title"] for chat in chats] == [f"Updated: {TITLE}"] * 2
    for chat in chats:
        assert ARCHIVED in chat["message"] and CREDIT in chat["message"]
        assert f"Original: {site.base_url.rstrip('/')}{ORIGINAL}" in chat["message"]
        assert len(chat["message"]) <= 500
    assert "From Monday 3 August" in chats[1]["message"]
    assert str(daily["title"]).endswith("digest (daily): 1 updated")  # articles, not events
    lines = [line for line in str(daily["message"]).splitlines() if TITLE in line]
    assert lines == [f"- {TITLE} (2 revisions) {ARCHIVED} (original: {site.base_url.rstrip('/')}{ORIGINAL})"]
    assert str(daily["message"]).endswith(CREDIT)
