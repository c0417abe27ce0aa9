"""The outbox, delivered: each due message to its target, marked sent at once; a failure is retried with
back-off on later runs, and given up (a problem) once older than `notify_give_up_after`.

Within the instant of a send the choice is at most once: a message is marked `sending` before it is
handed over and `sent` after. A run killed between the two (SIGKILL, power cut) cannot know whether the
service took it, so the next run reports it and does not resend it: no one receives a message twice."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pipeline.model import Config
from pipeline.notify.messages import Message
from pipeline.notify.send import send
from pipeline.reports import Problem
from pipeline.store import Store

FIRST_RETRY = 60.0  # seconds; doubled after each failure
LONGEST_RETRY = 6 * 3600.0
MAX_PER_RUN = 200  # messages one run hands over; the rest wait for the next (a run stays bounded)


@dataclass
class Delivery:
    sent: int = 0
    problems: list[Problem] = field(default_factory=list)  # given up: the run exits 1
    warnings: list[Problem] = field(default_factory=list)  # failed now, retried later


def deliver(
    config: Config, store: Store, *, deadline: float | None = None, subscription: str | None = None
) -> Delivery:
    """Send what is due. Never raises for a failed target: it is retried by a later run."""
    result = Delivery()
    targets = {(item.id, target.key): target for item in config.notify.subscriptions for target in item.targets}
    for lost in store.interrupted_sends(_now()):
        target = targets.get((lost.subscription, lost.target))
        why = "was interrupted while being sent; not resent, so it may not have arrived"
        result.problems.append(_problem(lost.subscription, target.label if target else "a removed target", why))
    expired: list[int] = []
    for index, outgoing in enumerate(store.due_messages(_now(), subscription)):
        target = targets.get((outgoing.subscription, outgoing.target))
        if target is None:  # its target or subscription is gone from sources.yaml: nobody to tell
            expired.append(outgoing.id)
            continue
        if index >= MAX_PER_RUN or (deadline is not None and time.monotonic() > deadline):
            break
        store.mark_sending(outgoing.id, _now())
        error = send(target, Message.from_json(outgoing.message))
        if error is None:
            store.mark_sent(outgoing.id, _now())
            result.sent += 1
            continue
        age = (_now() - outgoing.created_at).total_seconds()
        if age >= config.notify.give_up_after:
            store.give_up([outgoing.id], _now(), error)
            result.problems.append(
                _problem(outgoing.subscription, target.label, f"given up after {age / 3600:.0f} h: {error}")
            )
            continue
        wait = min(FIRST_RETRY * 2**outgoing.attempts, LONGEST_RETRY)
        store.mark_failed(outgoing.id, _now() + timedelta(seconds=wait), error)
        result.warnings.append(
            _problem(outgoing.subscription, target.label, f"not delivered ({error}); retried in {wait / 60:.0f} min")
        )
    store.give_up(expired, _now(), "its target is no longer configured")
    return result


def _problem(subscription: str, label: str, message: str) -> Problem:
    return Problem(
        "*",
        f"subscription {subscription} {label}",
        "notify",
        f"a message {message}",
        "check the target's service; `python run.py notify --test ID` tries it, and `status` shows what is pending",
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
