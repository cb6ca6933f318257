"""The clock's corrections of issue 9, with hand-counted dates (条例 Art. 30, 32-34; 放假办法 2024).

The consultation scenario of the issue: received Monday 2026-03-02; a third party consulted by
e-mail on Monday 2026-03-09 and the letter delivered that day.

- The party's 15 working days run from receipt (03-09, not counted): 03-10..03-13 (4), 03-16..03-20
  (9), 03-23..03-27 (14), 03-30 (15). Its period ends on 2026-03-30.
- The answer's 20 working days from 03-02 (not counted): 03-03..03-06 count (4); 03-09..03-30 are
  paused (the letter's day to the period's end); then 03-31 (5), 04-01..04-03 (8), 04-04..04-06 are
  清明 holidays, 04-07..04-10 (12), 04-13..04-17 (17), 04-20..04-22 (20): due 2026-04-22.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongkai_notify.domain.deadlines import ClockEvent, compute_case, letter_notice_id
from gongkai_review import domain as d
from gongkai_review.case import evolve
from gongkai_shared.calendar import WorkingCalendar, statutory_holidays
from gongkai_shared.decisions import CommandRejected
from gongkai_shared.envelope import Actor
from gongkai_shared.events import DeadlineSet, NoticeDeliveryAttempted, make_event
from gongkai_shared.profiles import NATIONAL_2019
from tests.unit.review_model import Desk, received

CAL = WorkingCalendar()
RECEIVED, CONSULTED = date(2026, 3, 2), date(2026, 3, 9)
PARTY = "party@corp.cn"
CLOCK = Actor(id="clock", role="system")


def _clock(*extra: tuple[str, date, dict]) -> list[ClockEvent]:
    start = {"consultation_id": "k1", "party_kind": "third_party", "party": PARTY, "matter": "m",
             "reply_days": 15, "started_on": CONSULTED.isoformat()}  # fmt: skip
    delivered = {"notice_id": letter_notice_id("e2", "consultation", "party"), "kind": "consultation",
                 "channel": "email", "attempted_at": "2026-03-09T02:00:00+00:00"}  # fmt: skip
    events = [
        ClockEvent(1, "e1", "request-received", RECEIVED, {"received_on": RECEIVED.isoformat()}),
        ClockEvent(2, "e2", "consultation-started", CONSULTED, start),
        ClockEvent(3, "e3", "notice-delivery-attempted", CONSULTED, delivered),
    ]
    for i, (name, on, data) in enumerate(extra, start=4):
        events.append(ClockEvent(i, f"e{i}", name, on, data))
    return events


def _answer(events: list[ClockEvent]):  # noqa: ANN202
    return next(x for x in compute_case("c1", events, NATIONAL_2019, CAL) if x.kind == "answer")


def _replied(on: date, reply: str = "silent") -> tuple[str, date, dict]:
    data = {"consultation_id": "k1", "reply": reply, "effective": reply, "replied_on": on.isoformat()}
    return ("consultation-replied", on, data)


@pytest.mark.parametrize(
    "reply",
    [None, _replied(date(2026, 3, 30), "consent"), _replied(date(2026, 3, 31)), _replied(date(2026, 4, 15))],
    ids=["never", "reply-03-30", "silence-03-31", "silence-04-15"],
)
def test_the_consultation_pause_ends_with_the_party_s_period_art_33(reply: tuple | None) -> None:
    """Rule (Art. 32, 33 ¶2): the pause ends at the earlier of the reply and the end of the
    party's 15 working days from delivery (03-30); a silence recorded late does not extend it,
    and while nothing is recorded the answer already shows 2026-04-22 (module docstring)."""
    a = _answer(_clock(*([reply] if reply else [])))
    assert a.due_on == date(2026, 4, 22) and a.status == "running"
    assert a.pauses[0].start == CONSULTED and a.pauses[0].end == date(2026, 3, 30)


def test_an_earlier_reply_ends_the_pause_on_its_day_art_33() -> None:
    """Rule (Art. 33 ¶2): a reply on Friday 03-13 pauses 03-09..03-13 (5 working days): the
    unpaused due date 03-30 (20 working days from 03-02) moves 5 working days, to 04-07 (04-06 is
    a 清明 holiday: 03-31, 04-01, 04-02, 04-03, 04-07)."""
    a = _answer(_clock(_replied(date(2026, 3, 13), "consent")))
    assert a.due_on == date(2026, 4, 7)


def test_a_letter_by_post_counts_from_its_presumed_then_recorded_delivery_art_32() -> None:
    """Rule (Art. 32: 自收到征求意见书之日起): a posted letter of 03-09 is presumed received 3 days
    later (03-12, the profile's); its 15 working days end 04-02. A registrar's record of receipt on
    03-16 moves the end to 04-07 (03-17..04-03 is 14 working days, 04-04..06 清明, 04-07 the 15th)."""
    events = _clock()
    events[1].data["party"] = "某公司"
    events.pop()  # no e-mail: by post
    reply = next(x for x in compute_case("c1", events, NATIONAL_2019, CAL) if x.kind == "consultation_reply")
    assert (reply.start_on, reply.due_on) == (date(2026, 3, 12), date(2026, 4, 2))
    events.append(ClockEvent(9, "e9", "notice-delivered", date(2026, 3, 17),
                             {"consultation_id": "k1", "delivered_on": "2026-03-16"}))  # fmt: skip
    reply = next(x for x in compute_case("c1", events, NATIONAL_2019, CAL) if x.kind == "consultation_reply")
    assert (reply.start_on, reply.due_on) == (date(2026, 3, 16), date(2026, 4, 7))
    assert _answer(events).pauses[0].end == date(2026, 4, 7)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 60))
def test_a_reply_never_moves_the_answer_past_the_silent_due_date_art_33(after: int) -> None:
    """Rule (Art. 33 ¶2): whatever day a reply or silence is recorded, the answer falls due no
    later than if the party stayed silent (04-22), and a later reply never gives an earlier date."""
    on = CONSULTED + timedelta(days=after)
    due = _answer(_clock(_replied(on))).due_on
    earlier = _answer(_clock(_replied(on - timedelta(days=1)))).due_on if after else None
    assert due is not None and due <= date(2026, 4, 22)
    assert earlier is None or earlier <= due


# --- review: the same period, the silence, the extension, Beijing dates -------------------------


def _consulting() -> Desk:
    state, _ = received()
    desk = Desk(state)
    desk.do(d.Register(), "丙", "registrar")
    desk.now = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)  # 10:00 Beijing
    desk.do(d.StartConsultation(party_kind="third_party", party=PARTY, matter="商业秘密"), "甲", "reviewer")
    started = desk.events[-1]
    delivered = NoticeDeliveryAttempted(
        case_id="case-1", notice_id=letter_notice_id(started.id, "consultation", "party"),
        delivery_id="d1", kind="consultation", channel="email", recipient="p***@corp.cn", attempt=1,
        status="sent", attempted_at=desk.now,
    )  # fmt: skip
    desk.state = evolve(desk.state, make_event(delivered, aggregate_id="case-1", actor=CLOCK, time=desk.now))
    return desk


def test_silence_is_recorded_only_after_the_period_from_delivery_art_32() -> None:
    """Rule (Art. 32): delivered 03-09, the party may reply until 03-30: silence on 03-30 is
    refused, on 03-31 recorded."""
    desk = _consulting()
    (cid,) = desk.state.consultations
    assert desk.state.consultations[cid].delivered_on == CONSULTED
    desk.now = datetime(2026, 3, 30, 2, 0, tzinfo=UTC)
    with pytest.raises(CommandRejected, match="2026-03-30"):
        desk.do(d.RecordReply(consultation_id=cid, reply="silent"), "丙", "registrar")
    desk.now = datetime(2026, 3, 31, 2, 0, tzinfo=UTC)
    desk.do(d.RecordReply(consultation_id=cid, reply="silent"), "丙", "registrar")
    assert desk.state.consultations[cid].reply == "silent"


def _due_set(desk: Desk, due: date) -> None:
    body = DeadlineSet(case_id="case-1", deadline_id="dl", kind="answer", start_on=RECEIVED,
                       working_days=20, due_on=due, profile="national-2019@1", calendar_version="v",
                       provisional=False)  # fmt: skip
    desk.state = evolve(desk.state, make_event(body, aggregate_id="case-1", actor=CLOCK, time=desk.now))


def test_an_extension_after_the_due_date_is_refused_and_the_letter_gives_the_new_date_art_33() -> None:
    """Rule (Art. 33): due 2026-03-30 (20 working days from 03-02): an extension approved on 03-31
    is refused; approved on 03-30 it is granted and its letter says the new due date: 20 working
    days after 03-30 are 03-31..04-03 (4), 04-07..04-10 (8), 04-13..04-17 (13), 04-20..04-24 (18),
    04-27, 04-28 (20): 2026-04-28."""
    state, _ = received()
    desk = Desk(state)
    desk.do(d.Register(), "丙", "registrar")
    _due_set(desk, date(2026, 3, 30))
    desk.now = datetime(2026, 3, 31, 2, 0, tzinfo=UTC)
    with pytest.raises(CommandRejected, match="2026-03-30"):
        desk.do(d.Extend(working_days=20, reason="需要协调"), "乙", "approver")
    desk.now = datetime(2026, 3, 30, 2, 0, tzinfo=UTC)
    body = desk.do(d.Extend(working_days=20, reason="需要协调"), "乙", "approver")
    assert "二〇二六年四月二十八日" in body.letter.body  # type: ignore[attr-defined]


def test_a_notice_at_07_30_beijing_carries_that_day_s_date_art_30() -> None:
    """Rule (Beijing dates): a clarification notice at 07:30 Beijing on 03-10 (23:30 UTC on 03-09)
    is dated 2026-03-10, the day the correction period counts from."""
    state, _ = received()
    desk = Desk(state)
    desk.do(d.Register(), "丙", "registrar")
    desk.now = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)
    desk.do(d.RequestClarification(items=["请提供文号"]), "丙", "registrar")
    assert desk.state.clarification_requested_on == date(2026, 3, 10)
    assert desk.events[-1].time.date() == date(2026, 3, 9)  # the UTC date it used to store


# --- provisional years: the certain statutory holidays --------------------------------------------


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_computed_statutory_holidays_are_the_published_ones(year: int) -> None:
    """Rule (放假办法 2024, in force 2025): the 13 days computed from the lunar calendar and the
    solar term are holidays in the State Council's published schedule (chinesecalendar)."""
    days = statutory_holidays(year)
    assert len(days) == 13
    assert all(x in chinese_calendar.holidays for x in days)


@settings(max_examples=80, deadline=None)
@given(st.integers(2027, 2099))
def test_every_provisional_year_has_its_13_statutory_days_off(year: int) -> None:
    """Rule (放假办法 2024): 元旦, 4 days of 春节 from 除夕 (consecutive, late January to
    February), 清明 on 04-04..04-06, 劳动节 5-1/5-2, 端午, 中秋, 国庆 10-1..3: 13 days, none a
    working day in a year nobody loaded (12 distinct days when 中秋 falls on 10-1..10-3, as in 2077)."""
    days = statutory_holidays(year)
    assert len(days) in (12, 13)
    assert not any(CAL.is_working_day(x) for x in days)
    assert any(date(year, 4, n) in days for n in (4, 5, 6))
    spring = sorted(x for x in days if x.month in (1, 2) and x != date(year, 1, 1))
    assert len(spring) == 4 and (spring[-1] - spring[0]).days == 3


# --- the applicant's periods from the day it received the notice (Art. 30; 109号) --------------
#
# A clarification notice and a fee notice sent by post on Tuesday 2026-03-10 (the applicant gave
# no e-mail address) are presumed received 3 days later, 03-13 (the profile's). A registrar
# records the actual receipt on Monday 03-16 from the return receipt.
# - correction period, 15 working days: from 03-13, 03-16..03-20 (5), 03-23..03-27 (10),
#   03-30..04-03 (15): 04-03; from 03-16, 03-17..04-03 (14), 04-04..04-06 清明, 04-07 (15): 04-07.
# - payment period, 20 working days: from 03-13, 04-07..04-10 (19), 04-13 (20): 04-13; from
#   03-16, 04-07..04-10 (18), 04-13 (19), 04-14 (20): 04-14.

NOTICE_SENT, PRESUMED, RECEIVED_BY_POST = date(2026, 3, 10), date(2026, 3, 13), date(2026, 3, 16)


def _by_post() -> Desk:
    """Registered 03-02; the applicant gave no e-mail address: its notices go by post."""
    state, _ = received()
    desk = Desk(state.model_copy(update={"applicant_channel": "post"}))
    desk.do(d.Register(), "丙", "registrar")
    desk.now = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    return desk


def _on(desk: Desk, day: date) -> None:
    desk.now = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)  # 10:00 Beijing


def test_abandonment_waits_for_the_correction_period_from_receipt_art_30() -> None:
    """Rule (Art. 30: 视为放弃 only after the correction period, which runs from the day the
    applicant received the notice): posted 03-10, presumed received 03-13 (period to 04-03); the
    registrar records receipt on 03-16: abandonment refused on 04-07, allowed on 04-08."""
    desk = _by_post()
    desk.do(d.RequestClarification(items=["请说明所需信息的年份"], period_days=15), "甲", "reviewer")
    _on(desk, date(2026, 3, 13))
    with pytest.raises(CommandRejected, match="2026-04-03"):  # presumed receipt
        desk.do(d.Abandon(), "丙", "registrar")
    _on(desk, date(2026, 3, 17))
    with pytest.raises(CommandRejected, match="2026-03-10"):  # not before the notice
        desk.do(d.RecordDelivery(notice="clarification", delivered_on=date(2026, 3, 9)), "丙", "registrar")
    body = desk.do(d.RecordDelivery(notice="clarification", delivered_on=RECEIVED_BY_POST), "丙", "registrar")
    assert body.notice == "clarification" and body.consultation_id is None  # type: ignore[attr-defined]
    assert desk.state.clarification_delivered_on == RECEIVED_BY_POST
    for day in (date(2026, 4, 6), date(2026, 4, 7)):
        _on(desk, day)
        with pytest.raises(CommandRejected, match="2026-04-07"):
            desk.do(d.Abandon(), "丙", "registrar")
    _on(desk, date(2026, 4, 8))
    assert desk.do(d.Abandon(), "丙", "registrar").outcome_code == "other.no_clarification"  # type: ignore[attr-defined]


def test_an_e_mailed_clarification_notice_counts_from_the_day_it_was_sent_art_30() -> None:
    """Rule (Art. 30): an applicant with an e-mail address: the notice e-mailed on 03-11 (Beijing)
    is received that day, whatever later attempt follows; 15 working days: 03-12, 03-13 (2),
    03-16..03-27 (12), 03-30..04-01 (15): abandonment refused on 04-01."""
    state, _ = received()
    desk = Desk(state)
    desk.do(d.Register(), "丙", "registrar")
    _on(desk, NOTICE_SENT)
    desk.do(d.RequestClarification(items=["请说明所需信息的年份"], period_days=15), "甲", "reviewer")
    asked = desk.events[-1]
    for day in (11, 12):
        sent = NoticeDeliveryAttempted(
            case_id="case-1", notice_id=letter_notice_id(asked.id, "clarification", "applicant"),
            delivery_id="d1", kind="clarification", channel="email", recipient="a***@b.cn", attempt=1,
            status="sent", attempted_at=datetime(2026, 3, day, 2, 0, tzinfo=UTC),
        )  # fmt: skip
        desk.state = evolve(desk.state, make_event(sent, aggregate_id="case-1", actor=CLOCK, time=desk.now))
    assert desk.state.clarification_delivered_on == date(2026, 3, 11)
    _on(desk, date(2026, 4, 1))
    with pytest.raises(CommandRejected, match="2026-04-01"):
        desk.do(d.Abandon(), "丙", "registrar")


def test_the_fee_is_unpaid_only_after_20_working_days_from_receipt_109hao() -> None:
    """Rule (国办函〔2020〕109号: unpaid 20 working days after receiving the notice): posted 03-10,
    presumed received 03-13 (the profile's, no table of review's own): pay by 04-13; the
    registrar records receipt on 03-16: pay by 04-14, abandoned from 04-15, a payment on 04-14
    accepted."""
    desk = _by_post()
    body = desk.do(d.IssueFeeNotice(basis="per_volume", pages=40, sent_by="post"), "甲", "reviewer")
    assert (body.delivered_on, body.delivery_presumed) == (PRESUMED, True)  # type: ignore[attr-defined]
    assert "二〇二六年四月十三日" in body.letter.body  # type: ignore[attr-defined]
    _on(desk, date(2026, 3, 17))
    desk.do(d.RecordDelivery(notice="fee", delivered_on=RECEIVED_BY_POST), "丙", "registrar")
    assert desk.state.fee and desk.state.fee.delivered_on == RECEIVED_BY_POST
    paid = Desk(desk.state)
    _on(desk, date(2026, 4, 14))
    with pytest.raises(CommandRejected, match="2026-04-14"):
        desk.do(d.AbandonUnpaid(), "丙", "registrar")
    _on(paid, date(2026, 4, 14))
    paid.do(d.RecordPayment(amount_yuan=100, paid_on=date(2026, 4, 14)), "丙", "registrar")
    assert paid.state.status == "registered"
    _on(desk, date(2026, 4, 15))
    assert desk.do(d.AbandonUnpaid(), "丙", "registrar").outcome_code == "other.fee_unpaid"  # type: ignore[attr-defined]


def test_a_registrar_names_the_notice_delivered_and_old_records_are_consultations() -> None:
    """Rule (Art. 30, 32, 34; 109号): a delivery record names its notice; a consultation letter's
    names the consultation, the others none; records written before the notice was named are a
    consultation's."""
    from gongkai_shared.events import NoticeDelivered

    old = NoticeDelivered.model_validate(
        {"case_id": "c1", "consultation_id": "k1", "delivered_on": "2026-03-16"}
    )
    assert old.notice == "consultation"
    with pytest.raises(ValueError, match="consultation_id"):
        NoticeDelivered(case_id="c1", delivered_on=RECEIVED_BY_POST)
    with pytest.raises(ValueError, match="consultation_id"):
        d.RecordDelivery(notice="fee", consultation_id="k1", delivered_on=RECEIVED_BY_POST)
    desk = _by_post()
    with pytest.raises(CommandRejected):  # no fee notice on the case
        desk.do(d.RecordDelivery(notice="fee", delivered_on=RECEIVED_BY_POST), "丙", "registrar")


def _applicant_clock(*extra: tuple[str, date, dict]) -> list[ClockEvent]:
    """Notify's view: received 03-02 from an applicant without e-mail; both notices on 03-10."""
    events = [
        ClockEvent(
            1, "e1", "request-received", RECEIVED, {"received_on": RECEIVED.isoformat(), "channel": "post"}
        ),
        ClockEvent(2, "e2", "clarification-requested", NOTICE_SENT, {"period_days": 15, "items": ["x"]}),
    ]
    return events + [ClockEvent(i, f"e{i}", n, on, data) for i, (n, on, data) in enumerate(extra, start=3)]


def _kind(events: list[ClockEvent], kind: str):  # noqa: ANN202
    return next(x for x in compute_case("c1", events, NATIONAL_2019, CAL) if x.kind == kind)


def test_notify_counts_the_correction_period_from_receipt_art_30() -> None:
    """Rule (Art. 30): notify's correction period agrees with review: 03-13..04-03 presumed,
    03-16..04-07 once the registrar's record arrives; an e-mail sent 03-11 to an applicant with an
    address: from 03-11."""
    c = _kind(_applicant_clock(), "correction_period")
    assert (c.start_on, c.due_on) == (PRESUMED, date(2026, 4, 3))
    record = (
        "notice-delivered",
        date(2026, 3, 17),
        {"notice": "clarification", "delivered_on": "2026-03-16"},
    )
    c = _kind(_applicant_clock(record), "correction_period")
    assert (c.start_on, c.due_on) == (RECEIVED_BY_POST, date(2026, 4, 7))
    sent = {"notice_id": letter_notice_id("e2", "clarification", "applicant"), "kind": "clarification",
            "channel": "email", "attempted_at": "2026-03-11T02:00:00+00:00"}  # fmt: skip
    c = _kind(_applicant_clock(("notice-delivery-attempted", date(2026, 3, 11), sent)), "correction_period")
    assert c.start_on == date(2026, 3, 11)


def test_notify_counts_the_fee_payment_from_receipt_109hao() -> None:
    """Rule (109号): the fee notice presumed received 03-13: pay by 04-13; the registrar's record
    of 03-16: by 04-14; the answer's pause still starts on the notice's day (03-10)."""
    fee = {"basis": "per_volume", "amount_yuan": 100, "notified_on": "2026-03-10",
           "delivered_on": "2026-03-13", "delivery_presumed": True, "payment_days": 20,
           "lines": []}  # fmt: skip
    events = [_applicant_clock()[0], ClockEvent(2, "e2", "fee-notice-issued", NOTICE_SENT, fee)]
    f = _kind(events, "fee_payment")
    assert (f.start_on, f.due_on) == (PRESUMED, date(2026, 4, 13))
    events.append(ClockEvent(3, "e3", "notice-delivered", date(2026, 3, 17),
                             {"notice": "fee", "delivered_on": "2026-03-16"}))  # fmt: skip
    f = _kind(events, "fee_payment")
    assert (f.start_on, f.due_on) == (RECEIVED_BY_POST, date(2026, 4, 14))
    assert _kind(events, "answer").pauses[-1].start == NOTICE_SENT
