"""Subscriptions in process (issue 17): the config keys and their errors, matching, what counts as a
significant revision, digest periods, and the outbox's exactly-once bookkeeping in the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.notify import check_targets, due_period
from pipeline.store import Queued, Store
from pipeline.subscriptions import EventFacts, Subscription, changed_passage, matches
from tests.test_config import minimal_data, problems_of, write

SECRET = "s3cr3t-t0ken"


def config_with(tmp_path: Path, *subscriptions: dict[str, Any], **top: Any) -> Path:
    return write(tmp_path, {**minimal_data(), "subscriptions": list(subscriptions), **top})


# -- configuration ------------------------------------------------------------------------------------


def test_a_subscription_reads_with_its_defaults_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PANUI_CHAT_URL", f"json://127.0.0.1:9/{SECRET}")
    path = config_with(
        tmp_path,
        {"id": "fees", "match": {"topics": ["Fees"], "words": ["levy"]}, "to": ["${PANUI_CHAT_URL}"]},
    )
    notify = load_config(path).notify
    (fees,) = notify.subscriptions

    assert (fees.events, fees.digest, fees.topics, fees.words) == (("new", "alert"), "none", ("Fees",), ("levy",))
    assert fees.targets[0].url == f"json://127.0.0.1:9/{SECRET}"
    assert SECRET not in repr(notify) and fees.targets[0].label == "#1 json://…"
    assert (notify.digest_at, notify.give_up_after) == ((8, 0), 3 * 86400)
    assert fees.remind_days == 7  # (read only with events: [upcoming])


@pytest.mark.parametrize(
    ("subscription", "top", "key", "words"),
    [
        ({"id": "fees", "to": ["${PANUI_UNSET_FOR_TEST}"]}, {}, "subscriptions.fees.to[0]", "is not set"),
        (
            {"id": "fees", "match": {"topic": ["Fees"]}, "to": ["json://h/"]},
            {},
            "subscriptions.fees.match.topic",
            "unknown key",
        ),
        (
            {"id": "fees", "match": {"sources": ["nzta"]}, "to": ["json://h/"]},
            {},
            "subscriptions.fees.match.sources[0]",
            "no source",
        ),
        ({"id": "fees", "events": ["edited"], "to": ["json://h/"]}, {}, "subscriptions.fees.events", "not an event"),
        ({"id": "fees", "digest": "hourly", "to": ["json://h/"]}, {}, "subscriptions.fees.digest", "must be one of"),
        (
            {"id": "fees", "events": ["upcoming"], "remind_days": 365, "to": ["json://h/"]},
            {},
            "subscriptions.fees.remind_days",
            "90",
        ),
        ({"id": "fees"}, {}, "subscriptions.fees.to", "is required"),
        ({"id": "fees", "to": "json://h/"}, {}, "subscriptions.fees.to", "a list of Apprise URLs, not one text"),
        ({"id": "Fees!", "to": ["json://h/"]}, {}, "subscriptions[0].id", "slug"),
        ({"to": ["json://h/"]}, {}, "subscriptions[0].id", "is required"),
        ({"id": "fees", "to": ["json://h/"]}, {"digest_at": "8am"}, "digest_at", "HH:MM"),
        ({"id": "fees", "to": ["json://h/"]}, {"notify_give_up_after": "soon"}, "notify_give_up_after", "duration"),
    ],
)
def test_a_bad_subscription_is_a_config_error_naming_it(
    tmp_path: Path, subscription: dict[str, Any], top: dict[str, Any], key: str, words: str
) -> None:
    error = problems_of(config_with(tmp_path, subscription, **top))

    assert any(found == key and words in message for found, message, _ in error.problems), error.problems


def test_an_unquoted_digest_time_yaml_reads_as_a_number_is_explained(tmp_path: Path) -> None:
    path = config_with(tmp_path, {"id": "fees", "to": ["json://h/"]})
    path.write_text(path.read_text("utf-8") + "digest_at: 12:30\n", "utf-8")  # YAML 1.1: 750

    error = problems_of(path)

    assert error.problems == [("digest_at", "must be a time of day as text, not the number 750", "quote it: '12:30'")]
    path.write_text(path.read_text("utf-8").replace("digest_at: 12:30", "digest_at: 8"), "utf-8")
    assert problems_of(path).problems[0][2] == "quote it: '08:00'"  # an hour, not eight minutes past midnight


def test_a_url_apprise_cannot_read_is_a_config_error_that_keeps_the_secret(tmp_path: Path) -> None:
    config = load_config(config_with(tmp_path, {"id": "chat", "to": ["json://h/", f"nonsense://{SECRET}@host/"]}))
    with pytest.raises(ConfigError) as caught:
        check_targets(config)

    assert caught.value.problems[0][0] == "subscriptions.chat.to[1]"
    assert SECRET not in caught.value.message and "#2 nonsense://…" in caught.value.message


# -- matching and significance ----------------------------------------------------------------------

ARTICLE = EventFacts(
    "new",
    "inz",
    "Visa fees to rise",
    "The levy changes.",
    "From 1 July the fee is $1,000.",
    ("Fees", "Work"),
    "Announcement",
)


@pytest.mark.parametrize(
    ("subscription", "expected"),
    [
        (Subscription("a"), True),
        (Subscription("a", sources=("inz",), topics=("fees",), types=("announcement",), words=("LEVY",)), True),
        (Subscription("a", topics=("Study", "Work")), True),  # any value within a key
        (Subscription("a", topics=("Study",)), False),
        (Subscription("a", topics=("Fees",), types=("News",)), False),  # every key must match
        (Subscription("a", sources=("nzta",)), False),
        (Subscription("a", words=("fee",)), True),
        (Subscription("a", words=("fe",)), False),  # whole words only
        (Subscription("a", words=("1,000",)), True),
        (Subscription("a", events=("revised",)), False),
    ],
)
def test_matching(subscription: Subscription, expected: bool) -> None:
    assert matches(subscription, ARTICLE) is expected


def test_an_alert_matches_no_subscription_that_names_topics() -> None:
    alert = EventFacts("alert", "inz", "Offices closed", "", "All offices are closed today.")
    assert matches(Subscription("a", words=("closed",)), alert)
    assert not matches(Subscription("a", topics=("Fees",)), alert)


BEFORE = "Fees rise.\nFrom 1 July 2026 the fee is $1,000. Apply online.\nThe form is on the website."


@pytest.mark.parametrize(
    "after",
    [
        "fees rise\nFrom 1 July 2026, the fee is $1000 — apply online!\nThe  form is on the website",
        "FEES RISE.\n\nFrom 1 July 2026 the fee is $1,000.   Apply online.\nThe form is on the website.",
    ],
)
def test_spacing_punctuation_and_case_are_not_significant(after: str) -> None:
    assert changed_passage(BEFORE, after) is None


@pytest.mark.parametrize(
    ("after", "passage"),
    [
        (BEFORE.replace("$1,000", "$1,200"), "From 1 July 2026 the fee is $1,200."),  # an amount
        (BEFORE.replace("1 July", "8 July"), "From 8 July 2026 the fee is $1,000."),  # a date
        (BEFORE.replace("1.", "1.").replace("$1,000", "$1.5"), "From 1 July 2026 the fee is $1.5."),
        (BEFORE + "\nPaper forms end in March.", "Paper forms end in March."),  # a whole sentence
        (BEFORE.replace(" Apply online.", ""), "Removed: Apply online."),
    ],
)
def test_a_number_amount_date_or_sentence_is_significant_and_quoted(after: str, passage: str) -> None:
    assert changed_passage(BEFORE, after) == passage


# -- digest periods -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "period", "expected"),
    [
        ("2026-12-06T19:00:00+00:00", "daily", "daily 2026-12-07"),  # 08:00 on the 7th in NZ (UTC+13)
        ("2026-12-06T18:59:59+00:00", "daily", "daily 2026-12-06"),
        ("2026-12-06T19:00:00+00:00", "weekly", "weekly 2026-12-07"),  # the 7th is a Monday
        ("2026-12-06T18:00:00+00:00", "weekly", "weekly 2026-11-30"),
    ],
)
def test_the_period_due_is_the_last_digest_time_before_now(now: str, period: str, expected: str) -> None:
    assert due_period(period, (8, 0), datetime.fromisoformat(now)) == expected


# -- the outbox ---------------------------------------------------------------------------------------

NOW = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)


def test_a_new_subscriber_joins_after_the_changes_already_journalled(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        store.save_alerts("https://x/", [], NOW)  # (no change)
        seen: list[set[str]] = []

        def route(changes: Any, joined: set[str]) -> list[Queued]:
            seen.append(joined)
            return [Queued(member, "t", f"k{change.id}", change.kind, "{}") for change in changes for member in joined]

        with store.transaction() as db:  # a change, as the triggers journal one
            db.execute(
                "INSERT INTO changes (kind, article_id, version, at) VALUES ('new', 1, 1, ?)", (NOW.isoformat(),)
            )
        assert store.route_changes(["fees"], NOW, route) == [] and seen == [set()]  # fees joins: a baseline
        with store.transaction() as db:
            db.execute(
                "INSERT INTO changes (kind, article_id, version, at) VALUES ('new', 2, 1, ?)", (NOW.isoformat(),)
            )
        queued = store.route_changes(["fees", "study"], NOW, route)

        assert [(item.subscription, item.key) for item in queued] == [("fees", "k2")]  # study joined only now
        assert [item.subscription for item in store.due_messages(NOW)] == ["fees"]
        assert store.route_changes(["fees", "study"], NOW, route) == []  # the journal was emptied


def test_a_message_marked_sending_by_a_killed_run_is_given_up_not_resent(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        with store.transaction() as db:
            db.execute(
                "INSERT INTO changes (kind, article_id, version, at) VALUES ('new', 1, 1, ?)", (NOW.isoformat(),)
            )
        store.route_changes(["fees"], NOW, lambda changes, joined: [])
        with store.transaction() as db:
            db.execute(
                "INSERT INTO changes (kind, article_id, version, at) VALUES ('new', 2, 1, ?)", (NOW.isoformat(),)
            )
        store.route_changes(["fees"], NOW, lambda changes, joined: [Queued("fees", "t", "k", "new", "{}")])
        (outgoing,) = store.due_messages(NOW)
        store.mark_sending(outgoing.id, NOW)  # then the run is killed

        assert [item.id for item in store.interrupted_sends(NOW)] == [outgoing.id]
        assert store.due_messages(NOW + timedelta(days=1)) == [] and store.pending_messages() == []


def test_the_daemon_schedules_each_digest_period_in_use_at_digest_at(tmp_path: Path) -> None:
    from pipeline.daemon.schedule import Daemon  # (the only APScheduler user)

    path = config_with(
        tmp_path,
        {"id": "week", "to": ["json://h/"], "digest": "weekly"},
        {"id": "now", "to": ["json://h/"]},
        digest_at="07:30",
    )
    daemon = Daemon(load_config(path))
    daemon._schedule_digests()

    assert daemon.scheduler.get_job("digest:daily") is None
    trigger = str(daemon.scheduler.get_job("digest:weekly").trigger)
    assert "day_of_week='mon'" in trigger and "hour='7'" in trigger and "minute='30'" in trigger


def test_a_digest_groups_its_events_by_kind_one_line_each_and_stays_bounded(tmp_path: Path) -> None:
    from pipeline.notify.messages import DIGEST_LINES, Message, digest_message

    config = load_config(config_with(tmp_path))

    def event(kind: str, title: str) -> tuple[str, str]:
        return kind, Message(title, "", "", "", f"https://x/{title}/").to_json()

    items = [event("revised", "Updated: Fees"), event("new", "Visas"), event("alert", "Alert: Closed")]
    digest = Message.from_json(digest_message(config, "daily", "fees", items) or "")
    lines = [event("new", f"A{number}") for number in range(DIGEST_LINES + 5)]
    many = Message.from_json(digest_message(config, "weekly", "fees", lines) or "")

    assert digest.subject.endswith("daily digest (fees): 1 new, 1 updated, 1 alerts")
    assert (
        "New:\n- Visas https://x/Visas/\n\nUpdated:\n- Fees https://x/Updated: Fees/\n\nAlerts:\n- Closed"
        in digest.text
    )
    assert many.text.count("\n- A") == DIGEST_LINES and "… and 5 more" in many.text
    # Each alert is its own line, though two share a title and the front page's link.
    twice = Message.from_json(digest_message(config, "daily", "fees", [items[2], items[2]]) or "")
    assert twice.subject.endswith(": 2 alerts") and twice.text.count("\n- Closed") == 2


def test_a_subscription_may_name_a_disabled_source(tmp_path: Path) -> None:
    """Disabling a source stops its syncs, not every command: a subscription naming it waits for it."""
    data = minimal_data()
    data["sources"].append({**data["sources"][0], "id": "paused", "enabled": False})
    path = write(
        tmp_path, {**data, "subscriptions": [{"id": "fees", "match": {"sources": ["paused"]}, "to": ["json://h/"]}]}
    )

    (fees,) = load_config(path).notify.subscriptions

    assert fees.sources == ("paused",)


def test_a_failures_reason_masks_every_part_of_the_target_url_and_stays_bounded() -> None:
    from pipeline.notify.send import REASON_CHARACTERS, masked

    url = "mailtos://panui:p%40ss-w0rd@smtp.example.org:465/x?from=panui@example.org&to=adviser@example.org"
    said = 'Authentication failed for panui with p@ss-w0rd on "smtp.example.org" sending to adviser@example.org'

    assert masked(said, url) == 'Authentication failed for … with … on "…" sending to …'
    assert len(masked(said * 10, url)) == REASON_CHARACTERS
