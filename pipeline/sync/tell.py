"""A sync's last step: tell the subscribers. The events it stored are matched into the outbox (before
publishing), and the outbox is delivered after publishing, so every link in a message already works.
A failed delivery is a warning (retried by later runs); only a message given up is a problem."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from pipeline.model import NZ, Config
from pipeline.notify import deliver, route_changes
from pipeline.notify.upcoming import route_reminders
from pipeline.reports import Problem, SyncReport
from pipeline.store import Store, is_store_failure

log = logging.getLogger("panui.sync")
HINT = "this is a bug in Pānui; please report it (the events stay queued and are tried again)"


def queue_events(config: Config, store: Store, report: SyncReport) -> None:
    """Match this run's events (and any a killed run left) to the subscriptions, in one transaction."""
    try:
        route_changes(config, store, datetime.now(UTC).replace(microsecond=0))
    except Exception as error:
        if is_store_failure(error):
            raise
        log.exception("unexpected error while matching events to subscriptions")
        report.problems.append(Problem("*", "subscriptions", "notify", f"{type(error).__name__}: {error}", HINT))


def tell_subscribers(config: Config, store: Store, report: SyncReport, deadline: float) -> None:
    """Deliver what is due, once the publication the messages link to is on disk."""
    if any(problem.stage == "publish" for problem in report.problems):
        return  # the links would not work yet: the next run delivers
    try:  # the coming dates are read from the publication just made
        now = datetime.now(UTC).replace(microsecond=0)
        route_reminders(config, store, now.astimezone(NZ).date(), now)
        delivery = deliver(config, store, deadline=deadline)
    except Exception as error:
        if is_store_failure(error):
            raise
        log.exception("unexpected error while delivering messages")
        report.problems.append(Problem("*", "subscriptions", "notify", f"{type(error).__name__}: {error}", HINT))
        return
    report.problems += delivery.problems
    labels = {(item.id, target.key): target.label for item in config.notify.subscriptions for target in item.targets}
    for pending in store.pending_messages():  # a warning: the run itself succeeded
        label = labels.get((pending.subscription, pending.target), "a removed target")
        why = f" (last: {pending.last_error})" if pending.last_error else ""
        report.warnings.append(
            Problem(
                "*",
                f"subscription {pending.subscription} {label}",
                "notify",
                f"{pending.count} message(s) pending since {_local(pending.oldest)}{why}; "
                f"next try after {_local(pending.next_try + timedelta(seconds=59))}",  # (12:11:52 shows 12:12)
                "retried by each run until notify_give_up_after; `python run.py notify --test ID` tries the target",
            )
        )


def _local(moment: datetime) -> str:
    """A time as `status` shows its others: New Zealand's, to the minute."""
    return f"{moment.astimezone(NZ):%Y-%m-%d %H:%M %Z}"
