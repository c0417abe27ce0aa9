"""`run.py daemon`: keeps the feeds current unattended. The only APScheduler user.

One job per source, on the source's schedule in Pacific/Auckland time, first run at start-up. Jobs run
one at a time (a one-thread executor), and each run is `run.py sync --source ID` in a child process
(pipeline/daemon/runner.py): the store lock, health.json and atomic writes are the same as for a manual sync,
a hung run can be stopped, and SIGTERM abandons a run at once and cleanly (the child unwinds, releasing
the lock and removing temporary files). A control tick each second handles stop and reload requests
(signal handlers only set flags: a handler must not take the scheduler's locks) and pings systemd."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import FrameType

from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.schedulers.blocking import BlockingScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from pipeline.config import load_config, require_real_contact
from pipeline.daemon.periods import schedule_periods
from pipeline.daemon.runner import SyncRunner, run_digest
from pipeline.errors import ConfigError, LockError, PanuiError
from pipeline.logs import LogFormat, log_event
from pipeline.model import NZ, Config, Schedule
from pipeline.notify import check_targets
from pipeline.store import StoreLock

log = logging.getLogger("panui.daemon")
MISFIRE_GRACE_SECONDS = 7 * 24 * 3600  # a run missed while the machine slept still runs (once) on waking
CONTROL_TICK_SECONDS = 1.0
DAEMON_LOCK = "daemon.lock"
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def build_trigger(schedule: Schedule, *, with_jitter: bool = True) -> BaseTrigger:
    jitter = int(schedule.jitter_seconds) if with_jitter and schedule.jitter_seconds >= 1 else None
    if schedule.cron is not None:
        minute, hour, day, month, weekday = schedule.cron.split()
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=crontab_weekdays(weekday),
            timezone=NZ,
            jitter=jitter,
        )
    return IntervalTrigger(seconds=schedule.interval_seconds or 900.0, timezone=NZ, jitter=jitter)


def crontab_weekdays(field: str) -> str:
    """A crontab weekday field (0 and 7 are Sunday) as APScheduler 3 names (where 0 is Monday)."""
    names: list[str] = []
    for part in field.lower().split(","):
        if part in ("*", "?") or any(char.isalpha() for char in part):
            names.append(part)
            continue
        span, _, step = part.partition("/")
        first, _, last = span.partition("-")
        try:
            low = 0 if span == "*" else int(first)
            high = 6 if span == "*" else int(last or (first if not step else 6))
            days = range(low, high + 1, int(step or 1))
        except ValueError:  # (a step of 0 too)
            days = range(0)
        if not days or not 0 <= low <= high <= 7:  # (8 would otherwise wrap round to Monday)
            raise ValueError(f"cannot read weekday {part!r}: days are 0-7 (0 and 7 are Sunday) or sun-sat")
        names += [WEEKDAYS[number % 7] for number in days]
    return ",".join(dict.fromkeys(names))


def describe(schedule: Schedule) -> str:
    every = f"cron '{schedule.cron}' ({NZ.key})" if schedule.cron else f"every {schedule.interval_seconds:g}s"
    return every + (f" + up to {schedule.jitter_seconds:g}s jitter" if schedule.jitter_seconds else "")


def notify_systemd(state: str) -> None:
    """sd_notify(3) without a dependency: READY=1, WATCHDOG=1, STOPPING=1 (when run by systemd)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    target = "\0" + address[1:] if address.startswith("@") else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as connection:
            connection.sendto(state.encode(), target)
    except OSError:
        log.debug("cannot notify systemd at %s", address)


class Daemon:
    def __init__(self, config: Config, *, log_format: LogFormat = "text", verbose: bool = False) -> None:
        self.config = config  # its path stays the same through reloads
        self._stamp = _file_stamp(config.path)
        self.stop_requested = threading.Event()
        self.reload_requested = threading.Event()
        self.runner = SyncRunner(config.path, self.stop_requested, log_format=log_format, verbose=verbose)
        self.scheduler = BlockingScheduler(
            timezone=NZ,
            executors={"default": ThreadPoolExecutor(1), "control": ThreadPoolExecutor(1)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
        )
        self.scheduler.add_listener(self._on_job_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED | EVENT_JOB_ERROR)

    def run(self) -> int:
        """Schedule every source and run until SIGTERM or SIGINT. Returns the exit code (0)."""
        triggers = source_triggers(self.config)
        require_real_contact(self.config, self.config.sources)
        lock = StoreLock(self.config.state_dir)
        lock.path = self.config.state_dir / DAEMON_LOCK  # one daemon per store; the kernel frees it on exit
        try:
            lock.acquire()
        except LockError as error:
            raise PanuiError(
                f"another daemon already serves {self.config.state_dir}: {error.message}",
                "stop that daemon first (systemctl stop panui), or give this one another state_dir",
            ) from None
        try:
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(signum, self._on_signal)
            self.scheduler.add_job(
                self._tick, IntervalTrigger(seconds=CONTROL_TICK_SECONDS), id="control", executor="control"
            )
            for source in self.config.sources:
                self._add_source_job(source.id, triggers[source.id])
            self._schedule_digests()
            log_event(
                log,
                logging.INFO,
                "daemon.started",
                config=str(self.config.path),
                pid=os.getpid(),
                sources=[source.id for source in self.config.sources],
            )
            notify_systemd("READY=1")
            self.scheduler.start()  # blocks until _tick shuts the scheduler down
            self.runner.wait_until_idle()
        finally:
            lock.release()
        log_event(log, logging.INFO, "daemon.stopped", pid=os.getpid())
        return 0

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        (self.reload_requested if signum == signal.SIGHUP else self.stop_requested).set()

    def _add_source_job(self, source_id: str, trigger: BaseTrigger) -> None:
        self.scheduler.add_job(
            self._run_source,
            trigger,
            args=[source_id],
            id=f"sync:{source_id}",
            name=f"sync {source_id}",
            next_run_time=datetime.now(NZ),  # the first run at start-up
            replace_existing=True,
        )
        source = self.config.source(source_id)
        log_event(log, logging.INFO, "job.scheduled", source=source_id, schedule=describe(source.schedule))

    def _schedule_digests(self) -> None:
        """A job per digest period some subscription uses, at digest_at (weekly: Mondays), and one at
        start-up: `digest` sends only a period not sent yet, so a digest missed while stopped goes out."""
        hour, minute = self.config.notify.digest_at
        for period in ("daily", "weekly"):
            job_id = f"digest:{period}"
            if self.scheduler.get_job(job_id):
                self.scheduler.remove_job(job_id)
            if not any(item.digest == period for item in self.config.notify.subscriptions):
                continue
            self.scheduler.add_job(
                run_digest,
                CronTrigger(hour=hour, minute=minute, day_of_week="mon" if period == "weekly" else "*", timezone=NZ),
                args=[self.config.path, period, self.stop_requested],
                id=job_id,
                name=f"digest {period}",
                next_run_time=datetime.now(NZ),
            )
            log_event(log, logging.INFO, "job.scheduled", digest=period, at=f"{hour:02d}:{minute:02d}")

    def _on_job_event(self, event: JobEvent) -> None:
        if event.job_id == "control" and event.code != EVENT_JOB_ERROR:
            return
        if event.code == EVENT_JOB_MAX_INSTANCES:
            log_event(log, logging.INFO, "run.skipped", "the previous run is still going", job=event.job_id)
        elif event.code == EVENT_JOB_MISSED:
            log_event(log, logging.WARNING, "run.missed", "missed by more than the grace time", job=event.job_id)
        else:
            log_event(log, logging.ERROR, "job.error", str(getattr(event, "exception", "")), job=event.job_id)

    def _run_source(self, source_id: str) -> None:
        config = self.config
        if self.stop_requested.is_set() or source_id not in {source.id for source in config.sources}:
            return
        self.runner.run(config, config.source(source_id), schedule_periods(config))

    def _tick(self) -> None:
        notify_systemd("WATCHDOG=1")
        if self.stop_requested.is_set():
            if self.scheduler.running:  # (shut down once)
                notify_systemd("STOPPING=1")
                log_event(log, logging.INFO, "daemon.stopping", running=self.runner.busy)
                self.scheduler.shutdown(wait=False)
            return
        stamp = _file_stamp(self.config.path)
        if self.reload_requested.is_set() or stamp != self._stamp:
            why = "SIGHUP" if self.reload_requested.is_set() else "file changed"
            self.reload_requested.clear()
            self._stamp = stamp
            self._reload(why)

    def _reload(self, why: str) -> None:
        try:
            config = load_config(self.config.path)
            check_targets(config)
            triggers = source_triggers(config)
        except PanuiError as error:
            log_event(
                log,
                logging.ERROR,
                "config.invalid",
                error.message,
                reason=why,
                hint=error.hint,
                action="keeping the previous schedule",
            )
            return
        old = {source.id: source for source in self.config.sources}
        new = {source.id: source for source in config.sources}
        if config.state_dir != self.config.state_dir:
            log_event(log, logging.WARNING, "config.state_dir_changed", "restart the daemon to move its lock")
        self.config = config
        for source_id in old.keys() - new.keys():
            self.scheduler.remove_job(f"sync:{source_id}")
        changed = [key for key in new if key in old and new[key].schedule != old[key].schedule]
        for source_id in changed:
            self.scheduler.reschedule_job(f"sync:{source_id}", trigger=triggers[source_id])
        for source_id in new.keys() - old.keys():
            self._add_source_job(source_id, triggers[source_id])
        self._schedule_digests()
        log_event(
            log,
            logging.INFO,
            "config.reloaded",
            reason=why,
            added=sorted(new.keys() - old.keys()),
            removed=sorted(old.keys() - new.keys()),
            rescheduled=changed,
        )


def source_triggers(config: Config) -> Mapping[str, BaseTrigger]:
    """Each source's trigger. A crontab APScheduler cannot read (a field out of range, a step of 0) is
    a ConfigError naming every such source: what `daemon` refuses to start with, or to reload, and
    `check` reports (sources.yaml's loader checks only the field count: it must not import APScheduler)."""
    triggers: dict[str, BaseTrigger] = {}
    problems: list[tuple[str, str, str]] = []
    for source in config.sources:  # (enabled ones only: an index here would not be the file's)
        try:
            triggers[source.id] = build_trigger(source.schedule)
        except ValueError as error:
            hint = "a 5-field crontab in Pacific/Auckland time, e.g. '0 */2 * * *'"
            problems.append((f"source {source.id}: schedule.cron {source.schedule.cron!r}", str(error), hint))
    if problems:
        raise ConfigError(str(config.path), problems)
    return triggers


def _file_stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size, status.st_ino)
