"""Calendar arithmetic shared with SQL (the add_months macro in pipelines/macros.sql)."""

from __future__ import annotations

import calendar
import datetime as dt


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day number `months` later, or that month's last day: 31 Jan + 1 = 28/29 Feb."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


# A date outside these years is a typo; the working-day calendar also spans ten years before an
# as-of and two after it, which Python's dates cannot hold near their ends.
YEARS = range(1900, 3000)


def outside_years(day: dt.date | dt.datetime | int) -> str | None:
    """Why a date (or a year) given to Insyn cannot be taken, or None."""
    year, shown = (day, str(day)) if isinstance(day, int) else (day.year, day.isoformat()[:10])
    if year in YEARS:
        return None
    return f"{shown}: outside the years Insyn takes ({YEARS.start}–{YEARS.stop - 1})"
