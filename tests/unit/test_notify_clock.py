"""The clock's pure rules (gongkai_notify.domain): deadlines from a case's events, by property
and by known dates."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongkai_notify.domain.deadlines import ClockEvent, compute_case
from gongkai_notify.domain.rules import annual_report_due, fee_payment_due, proactive_publication_due, warn_on
from gongkai_shared.calendar import Pause, WorkingCalendar
from gongkai_shared.profiles import LOCAL_2008, NATIONAL_2019

CAL = WorkingCalendar()
_seq = count(1)


def ev(name: str, on: date, **data: object) -> ClockEvent:
    n = next(_seq)
    data = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()}
    return ClockEvent(n, f"e{n}", name, on, data)


def received(on: date) -> ClockEvent:
    return ev("request-received", on, received_on=on)


def answer(events: list[ClockEvent], cal: WorkingCalendar = CAL, profile=NATIONAL_2019):  # noqa: ANN001, ANN201
    return next(d for d in compute_case("c1", events, profile, cal) if d.kind == "answer")


# --- known dates ------------------------------------------------------------------------------


def test_twenty_working_days_after_receipt_on_2026_02_10_is_2026_03_16() -> None:
    """Rule: Art. 33, 20 working days, the receipt day not counted, across Spring Festival 2026."""
    a = answer([received(date(2026, 2, 10))])
    assert (a.due_on, a.status, a.provisional) == (date(2026, 3, 16), "running", False)
    assert a.profile == "national-2019@1" and a.calendar_version == CAL.version


def test_a_receipt_on_2026_12_20_gives_a_provisional_deadline_in_january_2027() -> None:
    """Rule (放假办法 2024): a deadline in a year nobody has loaded counts weekdays less the
    certain statutory holidays (2027-01-01 元旦 is off: 01-18, not 01-15) and is provisional."""
    if 2027 in CAL.seeded_years:
        pytest.skip("the chinesecalendar package now knows 2027")
    a = answer([received(date(2026, 12, 20))])
    assert a.provisional and a.due_on == date(2027, 1, 18)
    loaded = WorkingCalendar({2027: (frozenset({date(2027, 1, 1)}), frozenset())})
    b = answer([received(date(2026, 12, 20))], loaded)
    assert not b.provisional and b.due_on == date(2027, 1, 18)


def test_registration_confirms_the_receipt_date_and_the_profile() -> None:
    """Rule: case-registered's received_on and profile win over request-received's."""
    events = [
        received(date(2026, 2, 10)),
        ev("case-registered", date(2026, 2, 11), received_on=date(2026, 2, 9), profile="local-2008@1"),
    ]
    a = answer(events)
    assert a.profile == "local-2008@1" and a.working_days == 15
    assert a.due_on == CAL.add_working_days(date(2026, 2, 9), 15).due


def test_clarification_suspends_then_the_deadline_runs_anew_from_the_correction() -> None:
    """Rule: Art. 30, from the request for correction the answer deadline is suspended; from the
    corrected application's receipt it runs anew, the full 20 working days. The correction period
    runs from the applicant's receipt of the notice."""
    events = [
        received(date(2026, 3, 2)),
        ev("clarification-requested", date(2026, 3, 4), period_days=15, items=["x"]),
    ]
    a = answer(events)
    assert a.status == "suspended" and a.due_on is None and a.status_since == date(2026, 3, 4)
    cs = compute_case("c1", events, NATIONAL_2019, CAL)
    period = next(d for d in cs if d.kind == "correction_period")
    # the applicant's period runs from its receipt of the notice: no e-mail on record, by post,
    # presumed received 3 days later (03-07): 15 working days end 03-27
    assert period.start_on == date(2026, 3, 7)
    assert period.due_on == CAL.add_working_days(date(2026, 3, 7), 15).due and period.status == "running"
    assert next(d for d in cs if d.kind == "clarification_notice").status == "met"

    events.append(ev("clarification-received", date(2026, 3, 20), received_on=date(2026, 3, 20), summary="s"))
    a = answer(events)
    assert a.status == "running" and a.start_on == date(2026, 3, 20)
    assert a.due_on == CAL.add_working_days(date(2026, 3, 20), 20).due
    assert a.restarted_by is not None and a.restarted_by.type == "clarification-received"


def test_consultation_pauses_and_the_days_carry_their_cause() -> None:
    """Rule: Art. 32, the consulted party's time is not counted: the days from started_on to
    replied_on do not count, and each is explained by the consultation-started event. While it is
    open the answer already shows the day it falls due if the party stays silent (the pause ends
    with the party's period: a letter by post presumed received 3 days later, 03-12, and 15
    working days from then end on 04-02)."""
    start = ev("consultation-started", date(2026, 3, 9), consultation_id="k1", party_kind="third_party",
               party="某公司", matter="m", reply_days=15, started_on=date(2026, 3, 9))  # fmt: skip
    events = [received(date(2026, 3, 2)), start]
    a = answer(events)
    assert a.status == "running" and a.pauses[0].end == date(2026, 4, 2)
    assert a.due_on == CAL.add_working_days(date(2026, 3, 2), 20, pauses=a.pauses).due
    reply = next(d for d in compute_case("c1", events, NATIONAL_2019, CAL) if d.kind == "consultation_reply")
    assert reply.start_on == date(2026, 3, 12) and reply.due_on == date(2026, 4, 2)

    events.append(ev("consultation-replied", date(2026, 3, 13), consultation_id="k1", reply="consent",
                     effective="consent", replied_on=date(2026, 3, 13)))  # fmt: skip
    a = answer(events)
    unpaused = CAL.add_working_days(date(2026, 3, 2), 20).due
    assert a.status == "running" and a.due_on == CAL.add_working_days(unpaused, 5).due  # Mon-Fri paused
    paused = [d for d in a.explain()["days"] if d["reason"] == "paused"]
    assert [d["day"] for d in paused] == [f"2026-03-{d:02d}" for d in range(9, 14)]
    assert {d["cause_event_id"] for d in paused} == {start.id}
    assert a.explain()["pauses"][0]["cause_event_type"] == "consultation-started"


def test_extension_adds_working_days_and_only_the_answer_stops_the_clock() -> None:
    """Rule: extension-approved adds its days; decisions made at sign-off do not stop the clock,
    answer-sent meets it, withdrawal closes it."""
    events = [
        received(date(2026, 2, 10)),
        ev("extension-approved", date(2026, 3, 10), working_days=20, reason="r"),
    ]
    a = answer(events)
    assert a.working_days == 40 and a.due_on == CAL.add_working_days(date(2026, 2, 10), 40).due
    assert a.status == "running"
    assert answer([*events, ev("answer-sent", date(2026, 4, 1), outcome="disclose")]).status == "met"
    assert answer([*events, ev("application-withdrawn", date(2026, 4, 1), reason="r")]).status == "closed"


def test_department_feedback_follows_the_profile_or_the_assignment() -> None:
    """Rule: the local profile gives departments 10 working days; national has none unless the
    assignment says so."""
    events = [
        received(date(2026, 3, 2)),
        ev("departments-assigned", date(2026, 3, 3), departments=["教育科"]),
    ]
    assert not [d for d in compute_case("c", events, NATIONAL_2019, CAL) if d.kind == "department_feedback"]
    [fb] = [d for d in compute_case("c", events, LOCAL_2008, CAL) if d.kind == "department_feedback"]
    assert fb.subject == "教育科" and fb.due_on == CAL.add_working_days(date(2026, 3, 3), 10).due
    given_ = ev(
        "department-feedback-given",
        date(2026, 3, 5),
        department="教育科",
        holds_information=True,
        summary="s",
    )
    events.append(given_)
    [fb] = [d for d in compute_case("c", events, LOCAL_2008, CAL) if d.kind == "department_feedback"]
    assert fb.status == "met"


def test_other_statutory_dates() -> None:
    """Rule: fee 20 and proactive publication 20 working days; annual reports 31 Jan / 31 Mar."""
    assert fee_payment_due(date(2026, 2, 10), NATIONAL_2019, CAL).due == date(2026, 3, 16)
    assert proactive_publication_due(date(2026, 2, 10), NATIONAL_2019, CAL).due == date(2026, 3, 16)
    assert annual_report_due(2025, "department") == date(2026, 1, 31)
    assert annual_report_due(2025, "government") == date(2026, 3, 31)
    assert warn_on(date(2026, 3, 16), 3, CAL) == date(2026, 3, 11)  # 12, 13, 16 remain


# --- properties -------------------------------------------------------------------------------

starts = st.dates(min_value=date(2005, 1, 1), max_value=date(2027, 6, 30))
ndays = st.integers(min_value=0, max_value=60)
pause_st = st.tuples(st.integers(0, 60), st.integers(0, 30))


@settings(max_examples=150, deadline=None)
@given(start=starts, n=ndays, spans=st.lists(pause_st, max_size=3), cs=st.booleans())
def test_a_pause_never_shortens_a_deadline_and_paused_days_never_count(start, n, spans, cs) -> None:  # noqa: ANN001
    """Rule: with pauses the due date is never earlier than without; no paused day counts."""
    pauses = [Pause(start + timedelta(days=a), start + timedelta(days=a + b), f"p{i}", "consultation-started")
              for i, (a, b) in enumerate(spans)]  # fmt: skip
    plain = CAL.add_working_days(start, n, count_start=cs)
    paused = CAL.add_working_days(start, n, count_start=cs, pauses=pauses)
    assert paused.due >= plain.due
    for c in paused.trace:
        if any(p.covers(c.day) for p in pauses) and c.reason != "receipt_day":
            assert not c.counted and c.reason == "paused" and c.cause_id is not None


@settings(max_examples=150, deadline=None)
@given(start=starts, a=ndays, b=ndays, spans=st.lists(pause_st, max_size=2))
def test_adding_working_days_is_monotone_with_pauses(start, a, b, spans) -> None:  # noqa: ANN001
    """Rule: more working days never give an earlier due date, pauses or not."""
    pauses = [Pause(start + timedelta(days=x), start + timedelta(days=x + y), "p", "t") for x, y in spans]
    a, b = sorted((a, b))
    assert (
        CAL.add_working_days(start, a, pauses=pauses).due <= CAL.add_working_days(start, b, pauses=pauses).due
    )


@settings(max_examples=100, deadline=None)
@given(
    start=starts,
    pause_at=st.integers(0, 40),
    pause_len=st.integers(0, 20),
    ext=st.integers(0, 20),
    clarify=st.booleans(),
)
def test_the_explain_trace_sums_to_the_day_count(start, pause_at, pause_len, ext, clarify) -> None:  # noqa: ANN001
    """Rule: in every explanation, the counted days are exactly the deadline's working days,
    the days are consecutive and every paused day names its cause."""
    k0 = start + timedelta(days=pause_at)
    events = [
        received(start),
        ev(
            "consultation-started",
            k0,
            consultation_id="k",
            party_kind="third_party",
            party="p",
            matter="m",
            reply_days=15,
            started_on=k0,
        ),  # fmt: skip
        ev(
            "consultation-replied",
            k0,
            consultation_id="k",
            reply="consent",
            effective="consent",
            replied_on=k0 + timedelta(days=pause_len),
        ),  # fmt: skip
        ev("extension-approved", k0, working_days=ext, reason="r"),
    ]
    if clarify:
        events += [ev("clarification-requested", start, period_days=15, items=["x"]),
                   ev("clarification-received", k0, received_on=k0, summary="s")]  # fmt: skip
    for d in compute_case("c", events, NATIONAL_2019, CAL):
        x = d.explain()
        if d.due_on is None:
            continue
        assert x["counted_days"] == sum(1 for day in x["days"] if day["counted"]) == d.working_days
        days = [date.fromisoformat(day["day"]) for day in x["days"]]
        assert days == [d.start_on + timedelta(days=i) for i in range(len(days))]
        assert days[-1] == d.due_on or d.working_days == 0
        assert all(day.get("cause_event_id") for day in x["days"] if day["reason"] == "paused")
