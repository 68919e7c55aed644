"""Schedules as people write them: ``daily``, ``weekly`` or a 5-field cron expression.

APScheduler's ``CronTrigger.from_crontab`` does the parsing, so what
``queries check`` accepts is exactly what ``litwatch serve`` can run, and
``is_due`` lets ``litwatch run`` (from cron or systemd) skip queries whose
next scheduled time has not come yet.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from .errors import LitwatchError

# Early morning UTC: NCBI asks for large jobs outside US business hours.
NAMED_SCHEDULES = {
    "hourly": "17 * * * *",
    "daily": "17 5 * * *",
    "weekly": "17 5 * * mon",
    "monthly": "17 5 1 * *",
}


class ScheduleError(LitwatchError):
    pass


def parse_schedule(schedule: str) -> CronTrigger:
    expression = NAMED_SCHEDULES.get(schedule.strip().lower(), schedule)
    fields = expression.split()
    if len(fields) != 5:
        raise ScheduleError(
            f"schedule {schedule!r} is neither daily/weekly/monthly/hourly nor a 5-field cron "
            "expression (minute hour day month weekday)"
        )
    try:
        return CronTrigger.from_crontab(expression, timezone=UTC)
    except ValueError as exc:
        raise ScheduleError(f"bad cron expression {schedule!r}: {exc}") from exc


def is_due(schedule: str, last_run: datetime | None, now: datetime) -> bool:
    """True when a scheduled time has passed since ``last_run`` (or it never ran)."""
    if last_run is None:
        return True
    trigger = parse_schedule(schedule)
    # The first fire time strictly after the last run (a run at 05:17 sharp is not due again).
    next_time = trigger.get_next_fire_time(None, last_run + timedelta(seconds=1))
    return next_time is not None and next_time <= now
