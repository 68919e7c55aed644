from datetime import UTC, datetime

import pytest

from litwatch.schedules import ScheduleError, is_due, parse_schedule

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # a Tuesday


@pytest.mark.parametrize(
    ("schedule", "last_run", "due"),
    [
        ("weekly", None, True),
        ("weekly", datetime(2026, 11, 23, 5, 17, tzinfo=UTC), False),  # ran at Monday's slot
        ("weekly", datetime(2026, 11, 16, 6, 0, tzinfo=UTC), True),
        ("daily", datetime(2026, 11, 23, 6, 0, tzinfo=UTC), True),
        ("daily", datetime(2026, 11, 24, 5, 30, tzinfo=UTC), False),
        ("0 12 * * *", datetime(2026, 11, 24, 11, 0, tzinfo=UTC), True),
    ],
)
def test_is_due(schedule: str, last_run: datetime | None, due: bool) -> None:
    assert is_due(schedule, last_run, NOW) is due


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("61 * * * *", "higher than the maximum value"),
        ("fortnightly", "neither daily/weekly/monthly/hourly nor a 5-field cron"),
        ("* * * *", "5-field cron"),
    ],
)
def test_bad_schedules(schedule: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(schedule)
