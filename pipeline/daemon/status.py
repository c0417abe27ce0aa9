"""`run.py status`: each source's health as a table (or JSON), with an exit code a monitoring check can use:
0 when every source is healthy, 1 when one is not, 2 when no health has been recorded yet or the store is
damaged."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pipeline.daemon.health import (
    HEALTH_FILE,
    SourceHealth,
    age_text,
    annotated,
    assess,
    iso_time,
    parse_time,
    read_health,
)
from pipeline.logs import visible
from pipeline.model import NZ, Config
from pipeline.store import STORE_FILE, inspect_store

HELD_BACK_SHOWN = 10  # per source in the table; `--json` lists every one


def print_status(config: Config, periods: Mapping[str, float], *, as_json: bool) -> int:
    now = datetime.now(UTC).replace(microsecond=0)
    inspect_store(config.state_dir / STORE_FILE)  # a monitoring check must not call a damaged store healthy
    health = read_health(config.state_dir)
    if health is None:
        path = config.state_dir / HEALTH_FILE
        if path.exists():  # (a monitoring check must not take a damaged record for a new installation)
            print(f"error: {path} cannot be read: it is not the health record Pānui writes", file=sys.stderr)
            print(
                "hint: the next sync or daemon run writes it afresh (its counts of runs start again)", file=sys.stderr
            )
        else:
            print(f"error: no health recorded yet in {path}", file=sys.stderr)
            print(
                "hint: run `python run.py sync` once, or start `python run.py daemon` (`python run.py demo` tries Pānui offline)",
                file=sys.stderr,
            )
        return 2
    statuses = assess(config, health, periods, now)
    healthy = all(status.healthy for status in statuses)
    if as_json:
        current = {status.source_id: annotated(status, periods) for status in statuses}
        checked = {**health, "healthy": healthy, "sources": current, "checked_at": iso_time(now)}
        print(json.dumps(checked, indent=2, ensure_ascii=False))
        return 0 if healthy else 1
    writer = health.get("updated_by") or {}
    print(
        f"health recorded {_when(health.get('updated_at'), now)} by {writer.get('command')} (pid {writer.get('pid')})"
    )
    print(render_table(statuses, now))
    for line in subscription_lines(config, health):
        print(visible(line))
    unhealthy = [status.source_id for status in statuses if not status.healthy]
    print(f"UNHEALTHY: {', '.join(unhealthy)}" if unhealthy else "all sources healthy")
    return 0 if healthy else 1


def render_table(statuses: Sequence[SourceHealth], now: datetime) -> str:
    headings = ("SOURCE", "STATE", "LAST ATTEMPT", "LAST SUCCESS", "NEW", "UPDATED", "PROBLEMS")
    rows = []
    for status in statuses:
        last_run = status.entry.get("last_run") or {}
        rows.append(
            (
                status.source_id,
                status.state if status.healthy else status.state.upper(),
                _when(status.entry.get("last_attempt"), now),
                _when(status.entry.get("last_success"), now),
                *(str(last_run.get(name, "-")) for name in ("new", "updated", "problems")),
            )
        )
    widths = [max(len(row[index]) for row in [headings, *rows]) for index in range(len(headings))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headings, *rows]
    ]
    for status in statuses:
        error = status.entry.get("last_error")
        if status.reason:
            lines.append(visible(f"{status.source_id}: {status.reason}"))
        elif error and status.state == "problems":
            lines.append(visible(f"{status.source_id}: last problem: {error.get('message')} ({error.get('url')})"))
        held = [item for item in status.entry.get("held_back") or [] if isinstance(item, dict)]
        for item in held[:HELD_BACK_SHOWN]:
            lines.append(visible(f"{status.source_id}: held back: {item.get('url')}: {item.get('reason')}"))
        if len(held) > HELD_BACK_SHOWN:
            lines.append(
                f"{status.source_id}: and {len(held) - HELD_BACK_SHOWN} more held back (`status --json` lists all)"
            )
    return "\n".join(lines)


def subscription_lines(config: Config, health: Mapping[str, Any]) -> list[str]:
    """Each subscription with its targets masked (a URL is a secret), then what the last sync left pending."""
    lines = [
        f"subscription {item.id}: {', '.join(target.label for target in item.targets)} (digest: {item.digest})"
        for item in config.notify.subscriptions
    ]
    notifications = health.get("notifications") or {}
    for kind, prefix in (("pending", ""), ("given_up", "GIVEN UP: ")):
        for entry in notifications.get(kind) or []:
            lines.append(f"{prefix}{entry.get('subscription')} {entry.get('target')}: {entry.get('message')}")
    return lines


def _when(value: object, now: datetime) -> str:
    moment = parse_time(value)
    if moment is None:
        return "never"
    return f"{moment.astimezone(NZ):%Y-%m-%d %H:%M %Z} ({age_text(now - moment)} ago)"
