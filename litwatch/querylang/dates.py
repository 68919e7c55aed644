"""Date values of date fields: ``2020``, ``2020/03``, ``2020/03/15``, ``last 30 days``.

A value names a period (a year, a month or a day); a range runs from the
first day of its start to the last day of its end, as PubMed reads
``2014:2018[dp]`` (1 January 2014 to 31 December 2018).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

_ABSOLUTE = re.compile(r"^(\d{4})(?:[/.\-](\d{1,2})(?:[/.\-](\d{1,2}))?)?$")
_RELATIVE = re.compile(r"^last\s+(\d+)\s+(day|week|month|year)s?$", re.IGNORECASE)


class DateValueError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date


@dataclass(frozen=True, slots=True)
class Relative:
    """``last N units``: the N units before ``today``, today included."""

    count: int
    unit: str  # day, week, month, year

    def period(self, today: date) -> Period:
        if self.unit == "day":
            first = today - timedelta(days=self.count)
        elif self.unit == "week":
            first = today - timedelta(weeks=self.count)
        elif self.unit == "month":
            first = _months_before(today, self.count)
        else:
            first = _months_before(today, 12 * self.count)
        return Period(first, today)


DateValue = Period | Relative


def looks_like_date(text: str) -> bool:
    return bool(_ABSOLUTE.match(text.strip()))


def parse_date_value(text: str) -> DateValue:
    """``"2020/03"`` -> March 2020; raises DateValueError saying what was expected."""
    cleaned = text.strip()
    relative = _RELATIVE.match(cleaned)
    if relative:
        return Relative(int(relative.group(1)), relative.group(2).lower())
    match = _ABSOLUTE.match(cleaned)
    if not match:
        raise DateValueError(
            f"expected a date such as 2020, 2020/03 or 2020/03/15 (or 'last 30 days'), not {text!r}"
        )
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    try:
        if month is None:
            return Period(date(year, 1, 1), date(year, 12, 31))
        if day is None:
            last_day = calendar.monthrange(year, month)[1]
            return Period(date(year, month, 1), date(year, month, last_day))
        return Period(date(year, month, day), date(year, month, day))
    except ValueError as exc:
        raise DateValueError(f"{text!r} is not a real date ({exc})") from None


def resolve(value: DateValue, today: date) -> Period:
    return value.period(today) if isinstance(value, Relative) else value


def _months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
