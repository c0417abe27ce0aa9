"""How often each source is meant to run, for health (`status`, and each run's record): read without
loading the scheduler, except to read a cron expression.

The schedule's times are Pacific/Auckland's, so a cron line means INZ's working hours."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from pipeline.model import NZ, Config, Schedule


def expected_period(schedule: Schedule, now: datetime | None = None) -> float:
    """Seconds between two runs: the interval, or for cron the longest gap over the next five weeks."""
    if schedule.cron is None:
        return schedule.interval_seconds or 900.0
    from pipeline.daemon.schedule import build_trigger  # APScheduler reads the cron expression

    trigger = build_trigger(schedule, with_jitter=False)
    moment = (now or datetime.now(NZ)).astimezone(NZ)
    horizon = moment + timedelta(days=35)
    times: list[datetime] = []
    while len(times) < 500:
        previous = times[-1] if times else None
        following = trigger.get_next_fire_time(previous, previous or moment)
        if following is None or following > horizon:
            break
        times.append(following)
    if len(times) < 2:
        return 366 * 86400.0
    return max((later - earlier).total_seconds() for earlier, later in itertools.pairwise(times))


def schedule_periods(config: Config) -> dict[str, float]:
    periods: dict[str, float] = {}
    for source in config.sources:
        try:
            periods[source.id] = expected_period(source.schedule)
        except ValueError:
            periods[source.id] = 900.0  # an invalid cron is reported when the daemon starts
    return periods
