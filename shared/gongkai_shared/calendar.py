"""Working days (工作日) for the statutory clock.

The national schedule is seeded from the ``chinesecalendar`` package, which knows 2004 to its
last published year and raises for any later date. For a year it does not know (and no
operator has loaded yet) days are counted on weekdays only and every result is marked
**provisional**: it never crashes, and it is recomputed when the year's schedule is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib.metadata import version as pkg_version

import chinese_calendar


@dataclass(frozen=True)
class DayCount:
    """One calendar day looked at while counting: counted, or skipped and why."""

    day: date
    counted: bool
    reason: str  # "working_day", "weekend", "holiday", "adjusted_working_day", "receipt_day"
    provisional: bool = False


@dataclass(frozen=True)
class DueDate:
    due: date
    provisional: bool
    calendar_version: str
    trace: tuple[DayCount, ...] = field(repr=False, default=())


class WorkingCalendar:
    """The seeded national calendar plus operator-loaded years (holidays, adjusted workdays)."""

    def __init__(self, loaded: dict[int, tuple[frozenset[date], frozenset[date]]] | None = None):
        # year -> (holidays, adjusted working days) for years loaded from a published notice
        self.loaded = dict(loaded or {})
        years = sorted(chinese_calendar.holidays)
        self.seeded_years = range(years[0].year, years[-1].year + 1)
        extra = ",".join(str(y) for y in sorted(self.loaded))
        self.version = f"chinesecalendar-{pkg_version('chinesecalendar')}" + (f"+{extra}" if extra else "")

    def known(self, day: date) -> bool:
        return day.year in self.seeded_years or day.year in self.loaded

    def classify(self, day: date) -> DayCount:
        if day.year in self.loaded:
            holidays, adjusted = self.loaded[day.year]
            if day in adjusted:
                return DayCount(day, True, "adjusted_working_day")
            if day in holidays:
                return DayCount(day, False, "holiday")
            weekend = day.weekday() >= 5
            return DayCount(day, not weekend, "weekend" if weekend else "working_day")
        if day.year in self.seeded_years:
            working = chinese_calendar.is_workday(day)
            weekend = day.weekday() >= 5
            if working:
                return DayCount(day, True, "adjusted_working_day" if weekend else "working_day")
            return DayCount(
                day,
                False,
                "weekend" if weekend and day not in chinese_calendar.holidays else "holiday",
            )
        weekend = day.weekday() >= 5
        return DayCount(day, not weekend, "weekend" if weekend else "working_day", provisional=True)

    def add_working_days(self, start: date, days: int, *, count_start: bool = False) -> DueDate:
        """The date on which the ``days``-th working day after ``start`` ends.

        ``count_start``: whether ``start`` itself counts when it is a working day (the 2019
        national practice does not count the day of receipt).
        """
        if days < 0:
            raise ValueError("days must not be negative")
        trace: list[DayCount] = []
        counted = 0
        day = start
        if not count_start:
            trace.append(DayCount(start, False, "receipt_day", provisional=not self.known(start)))
            day = start + timedelta(days=1)
        due = start
        while counted < days:
            c = self.classify(day)
            trace.append(c)
            if c.counted:
                counted += 1
                due = day
            day += timedelta(days=1)
        provisional = any(c.provisional for c in trace)
        return DueDate(due, provisional, self.version, tuple(trace))
