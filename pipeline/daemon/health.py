"""health.json: what each source's last run did, so an operator (or a monitoring check calling
`run.py status`) sees at a glance whether the feeds are current.

Written after every run, by `run.py sync` and by the daemon, to state_dir; a public copy without
internals (no error texts, URLs, paths or process ids) goes to output_dir when `health.public` is on.

A source is unhealthy when its last attempt failed (nothing could be synced: the site was unreachable,
discovery failed, every page failed, or publishing failed), when its last run was degraded (a selector
stopped matching: the site changed), or when it has had no success for `health.stale_after` times its
schedule's interval (the daemon stopped, the lock was always busy...). A run that finished with some
failed pages is "problems": healthy, with the problems listed.

Each source also lists its held-back articles (read, but not published: a future date, no text), each
with its URL and reason, from the run that first held it back until a sync or rebuild publishes it."""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pipeline import __version__
from pipeline.files import write_atomic
from pipeline.model import Config
from pipeline.reports import Problem, SyncReport

log = logging.getLogger("panui.health")
HEALTH_FILE = "health.json"
HEALTH_LOCK = "health.lock"
FORMAT = 1
Outcome = Literal["ok", "problems", "degraded", "failed"]
COUNTS = ("new", "updated", "unchanged", "skipped", "problems", "requests")
MAX_HELD_BACK = 100  # the most recently seen are kept: a redesign can hold back a whole archive


@dataclass(frozen=True)
class Attempt:
    """One source's part of one run."""

    source_id: str
    started_at: datetime
    finished_at: datetime
    outcome: Outcome
    counts: Mapping[str, int] = field(default_factory=dict)
    error: Problem | None = None
    degraded: tuple[str, ...] = ()  # what broke in discovery or extraction (a site redesign, most likely)
    held_back: tuple[Problem, ...] = ()  # articles read but not published
    stored: tuple[str, ...] = ()  # URLs read into the store: held back no longer


@dataclass(frozen=True)
class SourceHealth:
    source_id: str
    name: str
    state: str  # ok, problems, degraded, failed, stale, pending
    healthy: bool
    reason: str
    entry: Mapping[str, Any]


def attempts_from_report(report: SyncReport) -> list[Attempt]:
    attempts = []
    for source in report.sources:
        worked = source.new or source.updated or source.unchanged or source.skipped
        outcome: Outcome = "ok"
        if report.problems or (source.problems and not worked):
            outcome = "failed"  # publishing failed, or nothing of this source could be synced
        elif source.degraded:
            outcome = "degraded"  # articles may still arrive (sitemap, fallback), but selectors need fixing
        elif source.problems:
            outcome = "problems"
        attempts.append(
            Attempt(
                source.source_id,
                report.started_at,
                report.finished_at or report.started_at,
                outcome,
                counted(vars(source)),
                next(iter(source.problems or report.problems), None),
                degraded=tuple(source.degraded),
                held_back=tuple(source.held_back),
                stored=tuple(source.stored),
            )
        )
    return attempts


def counted(figures: Mapping[str, Any]) -> dict[str, int]:
    """A source's figures of a run (COUNTS), from its report: a list (new, updated, problems) by its length."""
    values = {name: figures.get(name) for name in COUNTS}
    return {name: len(value) if isinstance(value, list) else int(value or 0) for name, value in values.items()}


def failed_attempt(source_id: str, started_at: datetime, message: str, hint: str) -> Attempt:
    """A run that ended without a report (it could not start, crashed, or ran over its budget)."""
    return Attempt(source_id, started_at, _now(), "failed", {}, Problem(source_id, "", "run", message, hint))


def read_health(state_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((state_dir / HEALTH_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # none yet, or damaged: the next run writes it afresh
    return data if isinstance(data, dict) and isinstance(data.get("sources"), dict) else None


def record_attempts(
    config: Config,
    attempts: Sequence[Attempt],
    periods: Mapping[str, float],
    *,
    command: str,
    now: datetime | None = None,
    notifications: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """Fold `attempts` into state_dir/health.json (and the public copy); return the new contents."""
    now = now or _now()
    with _health_lock(config.state_dir):
        health = read_health(config.state_dir) or {"format": FORMAT, "created_at": iso_time(now), "sources": {}}
        previous: dict[str, Any] = health["sources"]
        for attempt in attempts:
            previous[attempt.source_id] = _fold(previous.get(attempt.source_id) or {}, attempt)
        statuses = assess(config, health, periods, now)
        health.update(
            format=FORMAT,
            updated_at=iso_time(now),
            updated_by={"command": command, "pid": os.getpid(), "version": __version__},
            config=str(config.path),
            healthy=all(status.healthy for status in statuses),
            sources={status.source_id: annotated(status, periods) for status in statuses},
        )
        if notifications is not None:  # the subscriptions' outbox as the last sync left it
            health["notifications"] = notifications
        write_atomic(config.state_dir / HEALTH_FILE, _dump(health))
        if config.health.public:
            write_atomic(config.output_dir / HEALTH_FILE, _dump(public_view(health)))
    return health


def record_report(config: Config, report: SyncReport, periods: Mapping[str, float], *, command: str) -> None:
    """After a sync: record it, or log why that was impossible (the run itself still counts)."""
    try:
        notifications = {"pending": notify_entries(report.warnings), "given_up": notify_entries(report.problems)}
        record_attempts(config, attempts_from_report(report), periods, command=command, notifications=notifications)
    except OSError as error:
        log.warning("cannot write %s: %s", config.state_dir / HEALTH_FILE, error, extra={"event": "health.unwritable"})


def notify_entries(problems: Sequence[Problem]) -> list[dict[str, str]]:
    """The subscriptions' messages pending or given up, each by subscription and target label."""
    return [
        dict(zip(("subscription", "target"), problem.url.removeprefix("subscription ").split(" ", 1), strict=False))
        | {"message": problem.message}
        for problem in problems
        if problem.stage == "notify" and problem.url.startswith("subscription ")
    ]


def record_held_back(config: Config, report: SyncReport) -> None:
    """After a rebuild (no request made, so not a run of the source): only which articles it published
    and which it still holds back."""
    try:
        with _health_lock(config.state_dir):
            health = read_health(config.state_dir)
            if health is None:
                return  # nothing listed yet; the next sync records the rest
            for source in report.sources:
                entry = health["sources"].get(source.source_id)
                if isinstance(entry, dict):
                    entry["held_back"] = held_back_entries(entry, source.held_back, source.stored, report.started_at)
            write_atomic(config.state_dir / HEALTH_FILE, _dump(health))
    except OSError as error:
        log.warning("cannot write %s: %s", config.state_dir / HEALTH_FILE, error, extra={"event": "health.unwritable"})


def held_back_entries(
    entry: Mapping[str, Any], held: Sequence[Problem], stored: Sequence[str], when: datetime
) -> list[dict[str, str]]:
    """The source's held-back articles after a run: the earlier ones it did not store, and its own."""
    published = set(stored)  # a rebuild stores the whole archive
    known = {
        item["url"]: item
        for item in entry.get("held_back") or []
        if isinstance(item, dict) and isinstance(item.get("url"), str) and item["url"] not in published
    }
    for problem in held:
        since = (known.get(problem.url) or {}).get("since") or iso_time(when)
        known[problem.url] = {
            "url": problem.url,
            "reason": problem.message.removeprefix("held back: "),
            "hint": problem.hint,
            "since": since,
            "last_seen": iso_time(when),
        }
    newest = sorted(known.values(), key=lambda item: (str(item.get("last_seen")), item["url"]), reverse=True)
    return newest[:MAX_HELD_BACK]


def _fold(entry: dict[str, Any], attempt: Attempt) -> dict[str, Any]:
    entry = dict(entry)
    totals = dict(entry.get("totals") or {})
    failed = attempt.outcome == "failed"
    totals["runs"] = int(totals.get("runs", 0)) + 1
    totals["failures"] = int(totals.get("failures", 0)) + int(failed)
    for name in ("new", "updated"):
        totals[name] = int(totals.get(name, 0)) + int(attempt.counts.get(name, 0))
    entry.update(
        last_attempt=iso_time(attempt.started_at),
        last_finished=iso_time(attempt.finished_at),
        last_duration_seconds=round((attempt.finished_at - attempt.started_at).total_seconds(), 1),
        last_outcome=attempt.outcome,
        degraded=list(attempt.degraded),
        last_run={name: int(attempt.counts.get(name, 0)) for name in COUNTS},
        consecutive_failures=int(entry.get("consecutive_failures", 0)) + 1 if failed else 0,
        totals=totals,
        held_back=held_back_entries(entry, attempt.held_back, attempt.stored, attempt.started_at),
    )
    if not failed:
        entry["last_success"] = iso_time(attempt.finished_at)
    if attempt.error is not None:
        error = attempt.error
        entry["last_error"] = {
            "at": iso_time(attempt.finished_at),
            "stage": error.stage,
            "url": error.url,
            "message": error.message,
            "hint": error.hint,
        }
    return entry


def assess(
    config: Config, health: Mapping[str, Any], periods: Mapping[str, float], now: datetime
) -> list[SourceHealth]:
    """Each configured source's health at `now` (sources no longer configured are left out)."""
    created = parse_time(health.get("created_at")) or now
    entries: Mapping[str, Any] = health.get("sources") or {}
    statuses = []
    for source in config.sources:
        entry = entries.get(source.id) or {}
        allowed = timedelta(seconds=config.health.stale_after * periods.get(source.id, 900.0))
        last_success = parse_time(entry.get("last_success"))
        if not entry.get("last_attempt"):
            overdue = now - created > allowed
            state, healthy = "pending", not overdue
            reason = f"never run, and health was first recorded {age_text(now - created)} ago" if overdue else ""
        elif entry.get("last_outcome") == "degraded":
            reasons = "; ".join(entry.get("degraded") or []) or "see the last sync's report"
            state, healthy, reason = "degraded", False, f"degraded: {reasons}"
        elif entry.get("last_outcome") == "failed":
            message = (entry.get("last_error") or {}).get("message", "unknown error")
            state, healthy, reason = "failed", False, f"last attempt failed: {message}"
        elif last_success is None or now - last_success > allowed:
            since = f"for {age_text(now - last_success)}" if last_success else "ever"
            state, healthy = "stale", False
            reason = f"no success {since} (allowed: {age_text(allowed)}, {config.health.stale_after:g} × the interval)"
        else:
            state, healthy, reason = str(entry.get("last_outcome", "ok")), True, ""
        statuses.append(SourceHealth(source.id, source.name, state, healthy, reason, entry))
    return statuses


def annotated(status: SourceHealth, periods: Mapping[str, float]) -> dict[str, Any]:
    return {
        **status.entry,
        "name": status.name,
        "interval_seconds": periods.get(status.source_id),
        "state": status.state,
        "healthy": status.healthy,
        "reason": status.reason,
    }


def public_view(health: Mapping[str, Any]) -> dict[str, Any]:
    """What anyone may see: whether each source is current, and when it last ran."""
    public_keys = ("name", "state", "healthy", "last_attempt", "last_success")
    return {
        "format": health.get("format", FORMAT),
        "updated_at": health.get("updated_at"),
        "healthy": health.get("healthy"),
        "sources": {
            source_id: {key: entry.get(key) for key in public_keys}
            for source_id, entry in (health.get("sources") or {}).items()
        },
    }


@contextmanager
def _health_lock(state_dir: Path) -> Iterator[None]:
    """Serialises read-modify-write of health.json between a sync and the daemon."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(state_dir / HEALTH_LOCK, os.O_RDWR | os.O_CREAT, 0o644)) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


def _dump(data: Mapping[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def age_text(span: timedelta) -> str:
    seconds = max(0, int(span.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def iso_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
