"""Publication dates as PubMed writes them, read into ``PartialDate`` / ``date``.

PubDate comes as Year/Month/Day (month a name or a number), Year/Season, or
MedlineDate free text ("2009 Jan-Feb", "1998 Dec-1999 Jan", "2000 Spring",
"1975-1976"). MEDLINE text has the same in its DP field. We keep the text and
read the first year, month and day it names; a season counts as the month it
starts in, except Winter, which straddles two years and keeps only the year.
"""

from __future__ import annotations

import re
from datetime import date

from .article import PartialDate

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
MONTH_ABBREVIATIONS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": None}

_YEAR = re.compile(r"\b(1[5-9]\d\d|2[01]\d\d)\b")
_MONTH_DAY = re.compile(r"^\s*([A-Za-z]+|\d{1,2})(?:\s+(\d{1,2})\b)?")


def month_number(value: str | None) -> int | None:
    """``"Mar"``, ``"March"``, ``"03"``, ``"3"`` -> 3; anything else -> None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        number = int(value)
        return number if 1 <= number <= 12 else None
    return MONTHS.get(value.lower().rstrip("."))


def _day(value: str | None, year: int | None, month: int | None) -> int | None:
    if not value or not value.strip().isdigit() or year is None or month is None:
        return None
    day = int(value)
    try:
        date(year, month, day)
    except ValueError:
        return None
    return day


def partial_from_parts(
    year: str | None, month: str | None = None, day: str | None = None, season: str | None = None
) -> PartialDate | None:
    """PubDate's structured form; ``text`` is written the way PubMed displays it."""
    y = int(year) if year and year.strip().isdigit() else None
    if season and season.strip():
        text = " ".join(p.strip() for p in (year, season) if p and p.strip())
        return PartialDate(text, y, SEASONS.get(season.strip().lower()), None)
    m = month_number(month)
    d = _day(day, y, m)
    # Written as PubMed displays it: "2009 Feb 3", whether the month came as "02" or "Feb".
    shown_month = MONTH_ABBREVIATIONS[m - 1] if m else month
    shown_day = str(d) if d else day
    text = " ".join(p.strip() for p in (year, shown_month, shown_day) if p and p.strip())
    if not text:
        return None
    return PartialDate(text, y, m, d)


def partial_from_text(text: str | None) -> PartialDate | None:
    """MedlineDate / MEDLINE DP free text: the first year, and month/day after it."""
    if not text or not text.strip():
        return None
    text = " ".join(text.split())
    found = _YEAR.search(text)
    if found is None:
        return PartialDate(text)
    year = int(found.group(1))
    rest = text[found.end() :]
    month: int | None = None
    day: int | None = None
    head = _MONTH_DAY.match(rest)
    if head:
        word = head.group(1)
        lowered = word.lower()
        if lowered in SEASONS:
            month = SEASONS[lowered]
        elif not word.isdigit():  # "1975-1976": a bare number after the year is not a month
            month = month_number(word.split("-")[0])
            day = _day(head.group(2), year, month)
    else:
        # "Spring 2002", "Jan 2002": the month word before the year.
        before = text[: found.start()].strip().split()
        if before:
            lowered = before[-1].lower()
            month = SEASONS[lowered] if lowered in SEASONS else month_number(lowered)
    return PartialDate(text, year, month, day)


def full_date(year: str | None, month: str | None, day: str | None) -> date | None:
    """A complete date (History, DateRevised); impossible or partial ones give None."""
    if not year or not year.strip().isdigit():
        return None
    m = month_number(month) if month else 1
    d = int(day) if day and day.strip().isdigit() else 1
    if m is None:
        return None
    try:
        return date(int(year), m, d)
    except ValueError:
        return None
