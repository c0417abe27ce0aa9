"""Subscriptions delivered: events matched into an outbox in the store, sent by Apprise after each
publication, retried until sent or given up; digests; and test messages. The only Apprise user."""

from __future__ import annotations

from pipeline.errors import PanuiError
from pipeline.model import Config
from pipeline.notify.delivery import deliver
from pipeline.notify.digest import due_period, send_digests
from pipeline.notify.messages import trial_message
from pipeline.notify.route import route_changes
from pipeline.notify.send import check_targets, send

__all__ = [
    "check_targets",
    "deliver",
    "due_period",
    "route_changes",
    "send_digests",
    "send_trial",
]


def send_trial(config: Config, subscription_id: str) -> list[tuple[str, str | None]]:
    """`notify --test ID`: a test message to each of the subscription's targets; (label, error or None)."""
    found = {item.id: item for item in config.notify.subscriptions}
    if subscription_id not in found:
        raise PanuiError(
            f"no subscription with id {subscription_id!r}",
            f"subscriptions in {config.path}: {', '.join(sorted(found)) or 'none'}",
        )
    message = trial_message(config, subscription_id)
    return [(target.label, send(target, message)) for target in found[subscription_id].targets]
