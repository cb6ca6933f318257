"""Fees (国办函〔2020〕109号) and excessive requests (条例 第三十五条), on the pure rules: the band
arithmetic, the review commands, and how notify's clock counts the fee interval."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from gongkai_notify.domain.deadlines import ClockEvent, compute_case
from gongkai_review import domain as d
from gongkai_review.case import payer_key
from gongkai_review.domain.fees import application_rate, per_application_fee, per_volume_fee, total
from gongkai_shared.calendar import WorkingCalendar
from gongkai_shared.decisions import CommandRejected
from gongkai_shared.profiles import NATIONAL_2019
from tests.unit.review_model import Desk, received

CALENDAR = WorkingCalendar()


def volume(pages: int) -> int:
    return total(per_volume_fee(pages))


# --- 109号: per application (按件计收) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("ordinal", "rate"),
    [(1, 0), (10, 0), (11, 100), (12, 100), (30, 100), (31, 200), (40, 200), (41, 300), (50, 300),
     (51, 400), (100, 800)],
)  # fmt: skip
def test_109hao_per_application_band_edges(ordinal: int, rate: int) -> None:
    """109号: 1-10 free, 11-30 ¥100 each, 31-40 ¥200, 41-50 ¥300, each band of 10 ¥100 more."""
    assert application_rate(ordinal) == rate
    [line] = per_application_fee(ordinal)
    assert line.amount_yuan == rate and line.units == 1


@given(st.integers(1, 10_000))
def test_109hao_per_application_rate_is_monotonic_and_constant_within_a_band(n: int) -> None:
    """109号: a later application in the month never costs less; within a band of 10 (from 31)
    every application costs the same, and the next band costs exactly ¥100 more."""
    assert application_rate(n + 1) >= application_rate(n)
    if n > 30:
        band_start = 31 + (n - 31) // 10 * 10
        assert application_rate(n) == application_rate(band_start)
        assert application_rate(band_start + 10) == application_rate(band_start) + 100


# --- 109号: by volume (按量计收) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("pages", "yuan"),
    [(1, 0), (30, 0), (31, 10), (100, 700), (101, 720), (200, 2700), (201, 2740), (250, 4700)],
)
def test_109hao_per_volume_band_edges(pages: int, yuan: int) -> None:
    """109号: ≤30 pages free; 31-100 ¥10/page; 101-200 ¥20/page; ≥201 ¥40/page, each band's rate
    on the pages in that band (100 pages: 70 × ¥10; 201 pages: 700 + 100 × ¥20 + 1 × ¥40)."""
    assert volume(pages) == yuan


@given(st.integers(1, 100_000))
def test_109hao_per_volume_is_marginal_and_monotonic(pages: int) -> None:
    """109号: one more page costs exactly its band's rate (marginal, never a jump on the whole
    volume), so the fee never falls as pages grow; the lines add up to the pages and the total."""
    rate = 0 if pages + 1 <= 30 else 10 if pages + 1 <= 100 else 20 if pages + 1 <= 200 else 40
    assert volume(pages + 1) - volume(pages) == rate
    lines = per_volume_fee(pages)
    assert sum(x.units for x in lines) == pages
    assert all(x.amount_yuan == x.units * x.rate_yuan for x in lines)


# --- "the same applicant" -------------------------------------------------------------------


def test_109hao_same_applicant_is_the_id_number_else_name_and_contact() -> None:
    """109号 counts by applicant: the ID number when given (whatever the name's spelling), else the
    name with the phone (digits only) or e-mail."""
    a = {"name": "张三", "id_number": "11010519491231002x", "contact": {"email": "a@b.cn"}}
    b = {"name": "张 三", "id_number": "11010519491231002X ", "contact": {"phone": "138"}}
    assert payer_key(a) == payer_key(b) == "id:11010519491231002X"
    c = {"name": "李四", "contact": {"phone": "138-0000-0000", "email": "x@y.cn"}}
    e = {"name": "李 四", "contact": {"phone": "13800000000"}}
    assert payer_key(c) == payer_key(e) != payer_key({"name": "李四", "contact": {"email": "x@y.cn"}})


# --- the review commands --------------------------------------------------------------------


def desk_registered() -> Desk:
    state, _ = received()
    desk = Desk(state)
    desk.do(d.Register(), "丙", "registrar")
    return desk


def test_109hao_fee_notice_states_amount_and_calculation_and_pauses_the_case() -> None:
    """109号: the 收费通知书 (received 2026-03-02, notice the same day online) gives the basis, the
    calculation per band, the total and the 20 working days from receipt of the notice."""
    desk = desk_registered()
    body = desk.do(d.IssueFeeNotice(basis="per_volume", pages=101), "甲", "reviewer")
    assert body.amount_yuan == 720 and [x.amount_yuan for x in body.lines] == [0, 700, 20]
    assert body.notified_on == body.delivered_on == date(2026, 3, 2) and body.delivery_presumed
    letter = body.letter.body
    assert (
        "收费通知书" in body.letter.title and "720元" in letter and "101—200页：1页 × 20元 = 20元" in letter
    )
    assert "20个工作日" in letter and "二〇二六年三月三十日" in letter and "不计算在答复期限内" in letter
    assert desk.state.status == "fee_due"
    with pytest.raises(CommandRejected):  # one notice per application
        desk.do(d.IssueFeeNotice(basis="per_volume", pages=300), "甲", "reviewer")


def test_109hao_no_notice_when_nothing_is_due_and_one_basis_only() -> None:
    desk = desk_registered()
    with pytest.raises(CommandRejected, match="不收费"):
        desk.do(d.IssueFeeNotice(basis="per_volume", pages=30), "甲", "reviewer")
    with pytest.raises(ValidationError, match="one basis"):
        d.IssueFeeNotice(basis="per_application", pages=40)
    with pytest.raises(ValidationError, match="pages"):
        d.IssueFeeNotice(basis="per_volume")


def test_109hao_payment_resumes_the_case_and_unpaid_after_20_working_days_is_abandoned() -> None:
    """109号: notice 2026-03-02 delivered that day: the applicant pays by 2026-03-30 (20 working
    days); a payment of another amount or after the period is refused; unpaid, the application is
    abandoned from 2026-03-31 (row 三.（六）.2), never before."""
    desk = desk_registered()
    desk.do(d.IssueFeeNotice(basis="per_volume", pages=40), "甲", "reviewer")
    with pytest.raises(CommandRejected, match="¥100"):
        desk.do(d.RecordPayment(amount_yuan=90, paid_on=date(2026, 3, 2)), "丙", "registrar")
    desk.wait(28)  # 2026-03-30: the last day to pay
    with pytest.raises(CommandRejected, match="2026-03-30"):
        desk.do(d.AbandonUnpaid(), "丙", "registrar")
    desk.wait(1)  # 2026-03-31
    with pytest.raises(CommandRejected, match="ended on 2026-03-30"):
        desk.do(d.RecordPayment(amount_yuan=100, paid_on=date(2026, 3, 31)), "丙", "registrar")
    body = desk.do(d.AbandonUnpaid(), "丙", "registrar")
    assert body.outcome_code == "other.fee_unpaid" and body.report_row == "三.（六）.2"
    assert desk.state.status == "abandoned"

    paid = desk_registered()
    paid.do(d.IssueFeeNotice(basis="per_volume", pages=40), "甲", "reviewer")
    paid.wait(10)
    paid.do(d.RecordPayment(amount_yuan=100, paid_on=date(2026, 3, 12), receipt="NO.0001"), "丙", "registrar")
    assert (
        paid.state.status == "registered" and paid.state.fee and paid.state.fee.paid_on == date(2026, 3, 12)
    )


def test_art35_unreasonable_reasons_lead_to_not_processed() -> None:
    """条例 第三十五条: reasons are asked for once; judged not reasonable, the answer is 不予处理
    (not_processed/excessive, row 三.（五）.4). Judging before asking is refused."""
    desk = desk_registered()
    with pytest.raises(CommandRejected):
        desk.do(d.AssessReasons(reasonable=False, assessment="理由不合理"), "乙", "approver")
    body = desk.do(d.AskReasons(matter="您本月已提交45件申请"), "甲", "reviewer")
    assert "第三十五条" in body.letter.body and "说明理由" in body.letter.body
    desk.do(d.AssessReasons(reasonable=False, assessment="理由不合理"), "乙", "approver")
    assert desk.state.excessive == "unreasonable"
    desk.do(d.ReviewConfidentiality(passed=True, notes="无"), "甲", "reviewer")
    desk.do(d.Draft(outcome="not_processed", reasons=["excessive"]), "甲", "reviewer")
    desk.do(d.SignOff(), "乙", "approver")
    answer = desk.do(d.SendAnswer(), "丙", "registrar")
    assert answer.outcome_code == "not_processed.excessive" and answer.report_row == "三.（五）.4"


def test_art35_reasonable_reasons_get_a_later_answer_date_after_the_statutory_one() -> None:
    """第三十五条: received 2026-03-02, the statutory date is 2026-03-30; a later date must be
    after it, and the letter tells the applicant the date."""
    desk = desk_registered()
    desk.do(d.AskReasons(matter="您本月已提交45件申请"), "甲", "reviewer")
    with pytest.raises(ValidationError, match="answer_by"):
        d.AssessReasons(reasonable=True, assessment="理由合理")
    with pytest.raises(CommandRejected, match="2026-03-30"):
        desk.do(d.AssessReasons(reasonable=True, assessment="理由合理", answer_by=date(2026, 3, 30)),
                "乙", "approver")  # fmt: skip
    body = desk.do(
        d.AssessReasons(reasonable=True, assessment="理由合理", answer_by=date(2026, 5, 15)), "乙", "approver"
    )
    assert body.letter and "二〇二六年五月十五日" in body.letter.body and "第三十五条" in body.letter.body
    assert desk.state.answer_by == date(2026, 5, 15)


# --- notify's clock -------------------------------------------------------------------------


def clock(*events: tuple[str, date, dict]) -> dict:
    evs = [ClockEvent(i, f"e{i}", n, on, data) for i, (n, on, data) in enumerate(events, start=1)]
    return {x.kind: x for x in compute_case("c", evs, NATIONAL_2019, CALENDAR)}


RECEIVED = ("request-received", date(2026, 3, 2), {"received_on": "2026-03-02"})
NOTICE = ("fee-notice-issued", date(2026, 3, 9),
          {"notified_on": "2026-03-09", "delivered_on": "2026-03-09", "payment_days": 20})  # fmt: skip


def test_109hao_the_interval_from_notice_to_payment_is_not_counted() -> None:
    """109号: received 2026-03-02 (due 2026-03-30); fee notice 2026-03-09, delivered that day:
    the answer pauses (no due date) and the applicant must pay by 2026-04-07 (20 working days
    after 03-09, over 清明 04-04..06). Paid 2026-03-12: the four working days 03-09..03-12 are not
    counted, the answer is due 2026-04-03."""
    assert clock(RECEIVED)["answer"].due_on == date(2026, 3, 30)
    waiting = clock(RECEIVED, NOTICE)
    assert waiting["answer"].status == "paused" and waiting["answer"].due_on is None
    assert waiting["fee_payment"].due_on == date(2026, 4, 7) and waiting["fee_payment"].enforced
    paid = clock(
        RECEIVED, NOTICE, ("fee-paid", date(2026, 3, 12), {"paid_on": "2026-03-12", "amount_yuan": 100})
    )
    assert paid["answer"].status == "running" and paid["answer"].due_on == date(2026, 4, 3)
    assert paid["fee_payment"].status == "met"


def test_109hao_payment_period_runs_from_delivery_not_the_notice() -> None:
    """109号 (and issue 9 item 2): a notice posted 2026-03-09 and received 2026-03-12 gives the
    applicant until 2026-04-10, 20 working days from 03-12."""
    posted = (NOTICE[0], NOTICE[1], {**NOTICE[2], "delivered_on": "2026-03-12"})
    assert clock(RECEIVED, posted)["fee_payment"].due_on == date(2026, 4, 10)


def test_art35_the_later_answer_date_is_the_deadline() -> None:
    """第三十五条: reasons judged reasonable with a later date 2026-05-15: notify's answer deadline
    is that date, not 2026-03-30."""
    assessed = (
        "excessive-reasons-assessed",
        date(2026, 3, 10),
        {"reasonable": True, "answer_by": "2026-05-15"},
    )
    assert clock(RECEIVED, assessed)["answer"].due_on == date(2026, 5, 15)
