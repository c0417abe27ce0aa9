"""Digests: each daily or weekly subscription's waiting events, one message per period, exactly once.

A period is named by the last digest time at or before now (`digest_at`, NZ time; weekly: on Mondays),
so `digest` run late still sends the period that is due, and run twice sends it once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial

from pipeline.errors import PanuiError
from pipeline.model import NZ, Config
from pipeline.notify.delivery import Delivery, deliver
from pipeline.notify.messages import digest_message
from pipeline.store import Store


@dataclass
class DigestRun:
    sent: list[str] = field(default_factory=list)  # "id: period"
    empty: list[str] = field(default_factory=list)  # nothing happened in the period
    done_before: list[str] = field(default_factory=list)  # that period's digest was sent already
    delivery: Delivery = field(default_factory=Delivery)


def due_period(period: str, digest_at: tuple[int, int], now: datetime) -> str:
    """The name of the period whose digest is due at `now`: e.g. "daily 2026-12-06", "weekly 2026-11-30"."""
    local = now.astimezone(NZ)
    day = local.date() - timedelta(days=local.weekday() if period == "weekly" else 0)
    if local < datetime.combine(day, time(*digest_at), tzinfo=NZ):
        day -= timedelta(days=7 if period == "weekly" else 1)
    return f"{period} {day.isoformat()}"


def send_digests(
    config: Config, store: Store, period: str, now: datetime, *, subscription_id: str | None = None
) -> DigestRun:
    chosen = [item for item in config.notify.subscriptions if item.digest == period]
    if subscription_id is not None:
        known = {item.id: item for item in config.notify.subscriptions}
        if subscription_id not in known:
            raise PanuiError(
                f"no subscription with id {subscription_id!r}", f"subscriptions: {', '.join(sorted(known)) or 'none'}"
            )
        chosen = [known[subscription_id]]
        if (digest := chosen[0].digest) != period:
            raise PanuiError(
                f"the subscription {subscription_id} has digest: {digest}, not {period}",
                f"run `digest --period {digest}`" if digest != "none" else "its events are sent as they happen",
            )
    result = DigestRun()
    name = due_period(period, config.notify.digest_at, now)
    for subscription in chosen:
        render = partial(digest_message, config, period, subscription.id)
        taken = store.take_digest(subscription.id, name, [target.key for target in subscription.targets], now, render)
        label = f"{subscription.id}: {name}"
        (result.done_before if taken is None else result.sent if taken else result.empty).append(label)
        delivered = deliver(config, store, subscription=subscription.id)
        result.delivery.sent += delivered.sent
        result.delivery.problems += delivered.problems
        result.delivery.warnings += delivered.warnings
    return result
