"""A year's holiday schedule as an operator writes it, and when notify refuses it. Pure.

Each November the State Council publishes the next year's schedule (国务院办公厅关于YYYY年部分节假日
安排的通知): the holidays (放假) and the weekend days that become working days (调休上班). The
operator copies it into a file (``gongkai calendar load 2027.yaml``)::

    year: 2027
    source: 国务院办公厅关于2027年部分节假日安排的通知
    holidays: [2027-01-01, "2027-02-06..2027-02-14", {from: 2027-10-01, to: 2027-10-07}]
    adjusted_working_days: [2027-02-20]

Each entry is a day, a range ``"a..b"`` or a mapping ``{from, to}`` (both ends included). The
schedule is refused, each problem named, when: the year is not 2000..2200; an entry is not a day
or a range, or a range ends before it starts; a day lies outside the year; a day is both a
holiday and a working day; the source (the notice it comes from) is empty; a list has more than
``MAX_DAYS`` days (a year must keep enough working days for every deadline to fall due, and
``calendar-loaded`` holds at most that many).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

FIRST_YEAR, LAST_YEAR = 2000, 2200
MAX_DAYS = 100  # per list, as calendar-loaded accepts
LISTS = ("holidays", "adjusted_working_days")

Entry = str | date | Mapping[str, object]


@dataclass(frozen=True)
class Problem:
    field: str  # a dotted path into the mapping: ``holidays.2``
    message: str


@dataclass(frozen=True)
class YearSchedule:
    year: int
    holidays: tuple[date, ...]  # sorted, each once
    adjusted_working_days: tuple[date, ...]
    source: str


def _day(v: object) -> date | None:
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v).strip())
    except ValueError:
        return None


def _entry(item: Entry) -> tuple[date, date] | str:
    """(first, last) of one entry, or what is wrong with it."""
    if isinstance(item, Mapping):
        if set(item) != {"from", "to"}:
            return "a range is a mapping with exactly `from` and `to`"
        a, b = _day(item["from"]), _day(item["to"])
    elif isinstance(item, str) and ".." in item:
        left, right = item.split("..", 1)
        a, b = _day(left), _day(right)
    else:
        a = b = _day(item)
    if a is None or b is None:
        return f"not a day (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD): {item!r}"
    if b < a:
        return f"the range ends before it starts: {a}..{b}"
    return a, b


def read_schedule(
    year: object, lists: Mapping[str, Sequence[Entry]], source: str
) -> YearSchedule | list[Problem]:
    """The schedule with every range expanded, or every problem found (never only the first)."""
    problems: list[Problem] = []
    if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= LAST_YEAR:
        problems.append(Problem("year", f"a year from {FIRST_YEAR} to {LAST_YEAR}, not {year!r}"))
        year = None
    days: dict[str, set[date]] = {}
    for name in LISTS:
        found: set[date] = set()
        for i, item in enumerate(lists.get(name) or ()):
            span = _entry(item)
            if isinstance(span, str):
                problems.append(Problem(f"{name}.{i}", span))
                continue
            a, b = span
            outside = [d for d in (a, b) if year is not None and d.year != year]
            if outside:
                problems.append(Problem(f"{name}.{i}", f"{outside[0]} is not in {year}"))
                continue
            found.update(a + timedelta(days=n) for n in range((b - a).days + 1))
        if len(found) > MAX_DAYS:
            problems.append(Problem(name, f"{len(found)} days; a year's schedule has at most {MAX_DAYS}"))
        days[name] = found
    both = days["holidays"] & days["adjusted_working_days"]
    if both:
        listed = ", ".join(map(str, sorted(both)))
        problems.append(Problem("adjusted_working_days", f"both a holiday and a working day: {listed}"))
    if not source.strip():
        problems.append(Problem("source", "the notice the schedule comes from must not be empty"))
    if problems or not isinstance(year, int):
        return problems
    return YearSchedule(
        year, tuple(sorted(days["holidays"])), tuple(sorted(days["adjusted_working_days"])), source.strip()
    )
