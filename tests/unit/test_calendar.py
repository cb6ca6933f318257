"""Working-day arithmetic for the statutory clock (工作日), by property and by known dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongkai_shared.calendar import WorkingCalendar

CAL = WorkingCalendar()
FIRST_UNSEEDED = CAL.seeded_years[-1] + 1

# seeded years, the first year the package does not know, and one before the seed
starts = st.dates(min_value=date(2003, 12, 1), max_value=date(FIRST_UNSEEDED + 1, 12, 31))
days = st.integers(min_value=0, max_value=260)
count_start = st.booleans()

# an operator-loaded year: some holidays and some adjusted working days in it
loaded_year = st.tuples(
    st.frozensets(st.dates(date(FIRST_UNSEEDED, 1, 1), date(FIRST_UNSEEDED, 12, 31)), max_size=20),
    st.frozensets(st.dates(date(FIRST_UNSEEDED, 1, 1), date(FIRST_UNSEEDED, 12, 31)), max_size=5),
)


@settings(max_examples=150, deadline=None)
@given(start=starts, n=days, cs=count_start)
def test_counted_days_in_the_trace_equal_days_and_end_on_the_due_date(start: date, n: int, cs: bool) -> None:
    """Rule: exactly ``days`` days are counted, the trace walks consecutive days from the
    start (or the day after, for a receipt day that does not count), the due date is the last
    counted day and is a working day, and counted days are exactly the working days."""
    result = CAL.add_working_days(start, n, count_start=cs)
    trace = result.trace
    assert len([c for c in trace if c.counted]) == n
    assert [c.day for c in trace] == [start + timedelta(days=i) for i in range(len(trace))]
    if not cs:
        assert trace[0].reason == "receipt_day" and not trace[0].counted
    for c in trace:
        if c.reason != "receipt_day":
            assert CAL.classify(c.day) == c
    if n == 0:
        assert result.due == start
    else:
        assert trace[-1].counted and trace[-1].day == result.due
        assert CAL.classify(result.due).counted  # a working day, provisional or not
        assert result.due > start or (cs and result.due == start)


@settings(max_examples=150, deadline=None)
@given(start=starts, a=days, b=days, cs=count_start)
def test_due_date_grows_with_days(start: date, a: int, b: int, cs: bool) -> None:
    """Rule: more working days never give an earlier due date (strictly later once counting)."""
    a, b = sorted((a, b))
    due_a = CAL.add_working_days(start, a, count_start=cs).due
    due_b = CAL.add_working_days(start, b, count_start=cs).due
    assert due_a <= due_b
    if a < b:
        assert due_a < due_b


@settings(max_examples=150, deadline=None)
@given(s1=starts, s2=starts, n=days, cs=count_start)
def test_due_date_grows_with_start(s1: date, s2: date, n: int, cs: bool) -> None:
    """Rule: a later receipt never gives an earlier due date."""
    s1, s2 = sorted((s1, s2))
    assert CAL.add_working_days(s1, n, count_start=cs).due <= CAL.add_working_days(s2, n, count_start=cs).due


@settings(max_examples=100, deadline=None)
@given(start=starts, n=days)
def test_provisional_exactly_when_an_unknown_year_was_looked_at(start: date, n: int) -> None:
    """Rule: a result is provisional iff a day it looked at lies in a year nobody knows."""
    result = CAL.add_working_days(start, n)
    assert result.provisional == any(not CAL.known(c.day) for c in result.trace)
    assert result.calendar_version == CAL.version


@settings(max_examples=100, deadline=None)
@given(start=starts, n=days, year=loaded_year)
def test_a_loaded_year_is_followed_and_never_provisional(
    start: date, n: int, year: tuple[frozenset[date], frozenset[date]]
) -> None:
    """Rule: in a loaded year, adjusted working days count, holidays do not, other days count
    on weekdays; nothing looked at in a loaded year is provisional."""
    holidays, adjusted = year
    cal = WorkingCalendar(loaded={FIRST_UNSEEDED: (holidays, adjusted)})
    result = cal.add_working_days(start, n)
    assert len([c for c in result.trace if c.counted]) == n
    for c in result.trace:
        if c.day.year != FIRST_UNSEEDED or c.reason == "receipt_day":
            continue
        assert not c.provisional
        if c.day in adjusted:
            assert c.counted
        elif c.day in holidays:
            assert not c.counted and c.reason == "holiday"
        else:
            assert c.counted == (c.day.weekday() < 5)
    assert result.provisional == any(not cal.known(c.day) for c in result.trace)


def test_negative_days_are_refused() -> None:
    """Rule: a negative number of working days is a programming error, not a date."""
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 2, 10), -1)


# --- known dates --------------------------------------------------------------------------


def test_twenty_working_days_across_spring_festival_2026() -> None:
    """Rule: received Tuesday 2026-02-10, 20 working days (receipt day not counted) end on
    2026-03-16: the Spring Festival holiday 02-15..02-23 does not count, the adjusted
    working Saturdays 02-14 and 02-28 do."""
    result = CAL.add_working_days(date(2026, 2, 10), 20)
    assert result.due == date(2026, 3, 16)
    assert not result.provisional
    reasons = {c.day: c.reason for c in result.trace}
    assert reasons[date(2026, 2, 10)] == "receipt_day"
    assert reasons[date(2026, 2, 14)] == "adjusted_working_day"
    assert reasons[date(2026, 2, 17)] == "holiday"


needs_unseeded_2027 = pytest.mark.skipif(
    2027 in CAL.seeded_years, reason="the chinesecalendar package now knows 2027"
)


@needs_unseeded_2027
def test_a_deadline_running_into_an_unknown_year_is_provisional_and_does_not_raise() -> None:
    """Rule (放假办法 2024 Art. 2; DOMAIN §4): 2026-12-20 + 20 runs into 2027, which the package
    does not know: weekdays less the certain statutory holidays, marked provisional, no exception.

    By hand: 12-21..12-25 (Mon-Fri) 5, 12-28..12-31 (Mon-Thu) 9, 2027-01-01 (Fri, 元旦) skipped,
    01-04..01-08 14, 01-11..01-15 19, 01-18 (Mon) 20. Counting every weekday gave 01-15."""
    result = CAL.add_working_days(date(2026, 12, 20), 20)
    assert result.provisional
    assert result.due == date(2027, 1, 18)
    assert not any(c.counted for c in result.trace if c.day == date(2027, 1, 1))
    assert all(c.provisional == (c.day.year == 2027) for c in result.trace)


@needs_unseeded_2027
def test_loading_the_unknown_year_makes_the_deadline_final_and_moves_it() -> None:
    """Rule: once 2027 is loaded the result is not provisional; a loaded holiday inside the
    window moves the due date, an adjusted working day moves it back, holidays outside the
    window change nothing; the calendar version names the loaded year."""
    start = date(2026, 12, 20)
    new_year = frozenset({date(2027, 1, 1)})
    spring = frozenset(date(2027, 2, 6) + timedelta(days=i) for i in range(9))

    far = WorkingCalendar(loaded={2027: (spring, frozenset())}).add_working_days(start, 20)
    assert not far.provisional and far.due == date(2027, 1, 15)

    cal = WorkingCalendar(loaded={2027: (new_year | spring, frozenset())})
    moved = cal.add_working_days(start, 20)
    assert not moved.provisional
    assert moved.due == date(2027, 1, 18)  # one holiday in the window: one working day later
    assert cal.version.endswith("+2027") and cal.version != CAL.version

    saturday = date(2027, 1, 9)
    back = WorkingCalendar(loaded={2027: (new_year, frozenset({saturday}))})
    result = back.add_working_days(start, 20)
    assert result.due == date(2027, 1, 15) and not result.provisional
    assert {c.day: c.reason for c in result.trace}[saturday] == "adjusted_working_day"
