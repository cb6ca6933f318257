"""Working days (工作日) for the statutory clock.

The national schedule is seeded from the ``chinesecalendar`` package, which knows 2004 to its
last published year and raises for any later date. Operators load later years (and, if ever
needed, corrections of a seeded year) from the State Council's notice; a loaded year wins over
the package. For a year nobody knows yet, the statutory holidays of 《全国年节及纪念日放假办法》
(2024 revision) are certain and computed (:func:`statutory_holidays`: 元旦 1-1; 春节 除夕 to 初三 and
端午, 中秋 from the lunar calendar; 清明 on its solar term; 劳动节 5-1, 5-2; 国庆 10-1 to 10-3); only
the 调休 swaps (which weekend days become working days, which bridge days are off) wait for the
notice. Every result touching such a year is marked **provisional**: it never crashes, and it is
recomputed when the year is loaded.

The version of a calendar names the package version and each loaded year with its revision
(``chinesecalendar-1.11.0+2027`` or ``...+2027r2`` after a second load of 2027), so every
deadline records exactly which calendar produced it.

Counting can skip **pauses** (征求意见: the time a consulted party takes is not counted): a day
inside a pause is never counted, and counting stops at an open pause (no due date yet).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib.metadata import version as pkg_version

import chinese_calendar
from lunar_python import Lunar

# Longest walk, in calendar days, per working day asked for (plus a margin): a loaded year that
# made every day a holiday must end in an error, not a loop.
_MAX_WALK_PER_DAY = 10
_MAX_WALK_MARGIN = 800


@dataclass(frozen=True)
class DayCount:
    """One calendar day looked at while counting: counted, or skipped and why."""

    day: date
    counted: bool
    # "working_day", "weekend", "holiday", "adjusted_working_day", "receipt_day", "paused"
    reason: str
    provisional: bool = False
    cause_id: str | None = None  # for a paused day: the event that paused the clock
    cause_type: str | None = None


@dataclass(frozen=True)
class Pause:
    """Days from ``start`` to ``end`` (both included) are not counted; ``end`` None: still open."""

    start: date
    end: date | None
    cause_id: str
    cause_type: str
    ended_by: str | None = None  # the event that ended the pause

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class DueDate:
    due: date | None  # None only while counting is stopped by an open pause
    provisional: bool
    calendar_version: str
    trace: tuple[DayCount, ...] = field(repr=False, default=())
    paused_by: Pause | None = None

    @property
    def counted_days(self) -> int:
        return sum(1 for c in self.trace if c.counted)


@dataclass(frozen=True)
class LoadedYear:
    """A year's schedule from the published notice (国务院办公厅关于YYYY年部分节假日安排的通知)."""

    holidays: frozenset[date]
    adjusted_working_days: frozenset[date]
    source: str = ""
    revision: int = 1


def statutory_holidays(year: int) -> frozenset[date]:
    """The days off that 《全国年节及纪念日放假办法》 (国务院令第795号, 2024) fixes for every citizen,
    whatever the year's notice later swaps: 元旦 (1 day), 春节 (农历除夕 to 正月初三, 4 days), 清明
    (the solar term's day), 劳动节 (5-1, 5-2), 端午 (农历五月初五), 中秋 (农历八月十五), 国庆 (10-1 to
    10-3): 13 days. Lunar dates and the solar term come from ``lunar-python``."""
    spring = _solar(Lunar.fromYmd(year, 1, 1))
    qingming = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]
    days = {
        date(year, 1, 1),
        spring - timedelta(days=1),  # 除夕: the last day of the twelfth month, 29th or 30th
        spring,
        spring + timedelta(days=1),
        spring + timedelta(days=2),
        date(qingming.getYear(), qingming.getMonth(), qingming.getDay()),
        date(year, 5, 1),
        date(year, 5, 2),
        _solar(Lunar.fromYmd(year, 5, 5)),
        _solar(Lunar.fromYmd(year, 8, 15)),
        date(year, 10, 1),
        date(year, 10, 2),
        date(year, 10, 3),
    }
    # 除夕 of a Spring Festival on 1-1..1-? would fall in the year before; never since 1900, but
    # a holiday of another year is not this year's
    return frozenset(d for d in days if d.year == year)


def _solar(lunar: Lunar) -> date:
    s = lunar.getSolar()
    return date(s.getYear(), s.getMonth(), s.getDay())


class WorkingCalendar:
    """The seeded national calendar plus operator-loaded years (holidays, adjusted workdays)."""

    def __init__(
        self,
        loaded: Mapping[int, LoadedYear | tuple[frozenset[date], frozenset[date]]] | None = None,
    ) -> None:
        self.loaded: dict[int, LoadedYear] = {
            y: v if isinstance(v, LoadedYear) else LoadedYear(frozenset(v[0]), frozenset(v[1]))
            for y, v in (loaded or {}).items()
        }
        self._computed: dict[int, frozenset[date]] = {}
        years = sorted(chinese_calendar.holidays)
        self.seeded_years = range(years[0].year, years[-1].year + 1)
        extra = ",".join(
            f"{y}" + (f"r{v.revision}" if v.revision > 1 else "") for y, v in sorted(self.loaded.items())
        )
        self.version = f"chinesecalendar-{pkg_version('chinesecalendar')}" + (f"+{extra}" if extra else "")

    def known(self, day: date) -> bool:
        return day.year in self.seeded_years or day.year in self.loaded

    def classify(self, day: date) -> DayCount:
        weekend = day.weekday() >= 5
        if day.year in self.loaded:
            y = self.loaded[day.year]
            if day in y.adjusted_working_days:
                return DayCount(day, True, "adjusted_working_day")
            if day in y.holidays:
                return DayCount(day, False, "holiday")
            return DayCount(day, not weekend, "weekend" if weekend else "working_day")
        if day.year in self.seeded_years:
            if chinese_calendar.is_workday(day):
                return DayCount(day, True, "adjusted_working_day" if weekend else "working_day")
            return DayCount(
                day,
                False,
                "weekend" if weekend and day not in chinese_calendar.holidays else "holiday",
            )
        if day in self._statutory(day.year):
            return DayCount(day, False, "holiday", provisional=True)
        return DayCount(day, not weekend, "weekend" if weekend else "working_day", provisional=True)

    def _statutory(self, year: int) -> frozenset[date]:
        found = self._computed.get(year)
        if found is None:
            found = self._computed[year] = statutory_holidays(year)
        return found

    def is_working_day(self, day: date) -> bool:
        return self.classify(day).counted

    def add_working_days(
        self,
        start: date,
        days: int,
        *,
        count_start: bool = False,
        pauses: Sequence[Pause] = (),
    ) -> DueDate:
        """The date on which the ``days``-th working day after ``start`` ends.

        ``count_start``: whether ``start`` itself counts when it is a working day (the 2019
        national practice does not count the day of receipt). ``pauses``: days not counted; an
        open pause reached before the count is complete stops it (``due`` is None).
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
        limit = start + timedelta(days=days * _MAX_WALK_PER_DAY + _MAX_WALK_MARGIN)
        while counted < days:
            if day > limit:
                raise ValueError(f"no {days} working days after {start} in calendar {self.version}")
            pause = next((p for p in pauses if p.covers(day)), None)
            if pause is not None:
                c = self.classify(day)
                trace.append(DayCount(day, False, "paused", c.provisional, pause.cause_id, pause.cause_type))
                if pause.end is None:
                    return DueDate(None, any(t.provisional for t in trace), self.version, tuple(trace), pause)
                day += timedelta(days=1)
                continue
            c = self.classify(day)
            trace.append(c)
            if c.counted:
                counted += 1
                due = day
            day += timedelta(days=1)
        provisional = any(c.provisional for c in trace)
        return DueDate(due, provisional, self.version, tuple(trace))

    def subtract_working_days(self, end: date, days: int) -> date:
        """The day after which exactly ``days`` working days remain up to and including ``end``."""
        if days < 0:
            raise ValueError("days must not be negative")
        day, counted = end, 0
        limit = end - timedelta(days=days * _MAX_WALK_PER_DAY + _MAX_WALK_MARGIN)
        while counted < days:
            if day < limit:
                raise ValueError(f"no {days} working days before {end}")
            if self.classify(day).counted:
                counted += 1
            day -= timedelta(days=1)
        return day

    def working_days_between(self, after: date, until: date) -> int:
        """Working days in (after, until]: how many remain after ``after`` up to ``until``."""
        n, day = 0, after + timedelta(days=1)
        while day <= until:
            n += self.classify(day).counted
            day += timedelta(days=1)
        return n
