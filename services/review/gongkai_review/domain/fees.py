"""Fees (信息处理费), 国办函〔2020〕109号 《政府信息公开信息处理费管理办法》, under 条例 第四十二条.

No fee as a rule. A processing fee only for excessive applications, on marginal progressive
bands, **one basis per application** (DOMAIN.md §6):

- **per application** (按件计收): by the number of applications the same applicant made in a
  calendar month: 1-10 free, 11-30 ¥100 each, then each further band of 10 costs ¥100 more each
  (31-40 ¥200, 41-50 ¥300 …). The application pays the rate of the band its number falls in.
- **by volume** (按量计收): by the pages of paper or copied data of one application: up to 30
  pages free, 31-100 ¥10 a page, 101-200 ¥20 a page, from 201 ¥40 a page; each band's rate
  applies to the pages in that band.

The office issues a payment notice (收费通知书) with the amount and its calculation; the time from
the notice to the payment is not counted in the answer period; the applicant pays within 20
working days (the profile's ``fee_payment_days``) of **receiving** the notice; unpaid by then: the
application is deemed abandoned (row 三.（六）.2). A registrar records the payment.

The arithmetic (``per_application_fee``, ``per_volume_fee``) is pure and exact in whole yuan.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, model_validator

from gongkai_shared.events import (
    ApplicationAbandoned,
    Day,
    FeeBasis,
    FeeLine,
    FeeNoticeIssued,
    FeePaid,
)
from gongkai_shared.outcomes import BY_CODE
from gongkai_shared.periods import period_end, received_on
from gongkai_shared.text import line

from .. import letters
from ..case import CaseState
from .common import Context, Input, on_record, profile_of, reject

FREE_APPLICATIONS = 10  # 109号: 10 applications a month (included) are free
FIRST_PAID_BAND_END = 30  # 11-30: ¥100 each
BAND_STEP = 10  # from 31: each band of 10 costs ¥100 more each
APPLICATION_RATE = 100

# 109号 按量计收: (first page, last page or None, yuan per page)
PAGE_BANDS: tuple[tuple[int, int | None, int], ...] = (
    (1, 30, 0),
    (31, 100, 10),
    (101, 200, 20),
    (201, None, 40),
)


def application_rate(ordinal: int) -> int:
    """The fee in yuan of the applicant's ``ordinal``-th application of a calendar month (109号)."""
    if ordinal < 1:
        raise ValueError("an application's number in its month starts at 1")
    if ordinal <= FREE_APPLICATIONS:
        return 0
    if ordinal <= FIRST_PAID_BAND_END:
        return APPLICATION_RATE
    return APPLICATION_RATE * (2 + (ordinal - FIRST_PAID_BAND_END - 1) // BAND_STEP)


def _application_band(ordinal: int) -> str:
    if ordinal <= FREE_APPLICATIONS:
        return f"1—{FREE_APPLICATIONS}件"
    if ordinal <= FIRST_PAID_BAND_END:
        return f"{FREE_APPLICATIONS + 1}—{FIRST_PAID_BAND_END}件"
    first = FIRST_PAID_BAND_END + 1 + (ordinal - FIRST_PAID_BAND_END - 1) // BAND_STEP * BAND_STEP
    return f"{first}—{first + BAND_STEP - 1}件"


def per_application_fee(ordinal: int) -> list[FeeLine]:
    """The calculation of the ``ordinal``-th application's fee: one line, its band and rate."""
    rate = application_rate(ordinal)
    return [FeeLine(band=_application_band(ordinal), units=1, rate_yuan=rate, amount_yuan=rate)]


def per_volume_fee(pages: int) -> list[FeeLine]:
    """The calculation for ``pages`` pages (109号): one line per band the pages reach, each band's
    rate on the pages in that band (the free band included, at ¥0)."""
    if pages < 1:
        raise ValueError("a volume has at least one page")
    out = []
    for first, last, rate in PAGE_BANDS:
        if pages < first:
            break
        units = (pages if last is None else min(pages, last)) - first + 1
        band = f"{first}页以上" if last is None else (f"{last}页以下" if first == 1 else f"{first}—{last}页")
        out.append(FeeLine(band=band, units=units, rate_yuan=rate, amount_yuan=units * rate))
    return out


def total(lines: list[FeeLine]) -> int:
    return sum(x.amount_yuan for x in lines)


class IssueFeeNotice(Input):
    basis: FeeBasis
    pages: int | None = Field(None, ge=1, le=1_000_000)  # by volume: the pages of paper or copies
    sent_by: Literal["online", "email", "in_person", "post"] = "online"
    delivered_on: Day | None = None  # when the delivery is already known (handed over, signed for)

    @model_validator(mode="after")
    def _one_basis(self) -> IssueFeeNotice:
        if self.basis == FeeBasis.per_volume and self.pages is None:
            raise ValueError("pages: required when the fee is by volume (按量计收)")
        if self.basis == FeeBasis.per_application and self.pages is not None:
            raise ValueError("pages: only for a fee by volume; one basis per application (109号)")
        return self


class RecordPayment(Input):
    amount_yuan: int = Field(ge=1, le=100_000_000)
    paid_on: Day
    receipt: Annotated[str, line(100, min_length=1)] | None = None  # the receipt's number


class AbandonUnpaid(Input):
    pass


def issue_fee_notice(s: CaseState, c: IssueFeeNotice, ctx: Context) -> FeeNoticeIssued:
    """收费通知书 (109号), once per application, only for an amount due: the calculation goes in
    the event and the letter. Per application, the case's number among the same applicant's
    applications of its calendar month comes from the caseload (``ctx.month_ordinal``)."""
    p = profile_of(s, ctx)
    if s.fee is not None:
        raise reject("本申请已发出收费通知 (one fee notice per application)")
    if c.basis == FeeBasis.per_application:
        ordinal = on_record(ctx.month_ordinal, "本月申请件数")
        lines, month, pages = (
            per_application_fee(ordinal),
            (s.first_received_on or s.received_on).strftime("%Y-%m"),
            None,
        )
    else:
        pages = on_record(c.pages, "页数")
        lines, month, ordinal = per_volume_fee(pages), None, None
    amount = total(lines)
    if amount == 0:
        raise reject("按此方式计算不收费 (no fee is due on this basis: 109号)")
    # the day the applicant receives it: known (handed over), else the profile's presumed delivery
    # time for the channel until an e-mail's record or a registrar's (record_delivery) says
    delivered_on = received_on(ctx.today, c.sent_by, c.delivered_on, p)
    if delivered_on < ctx.today:
        raise reject("delivered_on: the notice cannot reach the applicant before it is issued")
    pay_by = period_end(ctx.today, c.sent_by, delivered_on, p.fee_payment_days, p, ctx.calendar)
    letter = letters.render(
        "fee",
        s.applicant_name,
        office=ctx.office,
        today=ctx.today,
        received_on=s.received_on.isoformat(),
        basis=c.basis.value,
        month=month,
        ordinal=ordinal,
        pages=pages,
        lines=[x.model_dump() for x in lines],
        amount_yuan=amount,
        payment_days=p.fee_payment_days,
        pay_by=pay_by.isoformat(),
        delivery_presumed=c.delivered_on is None,
    )
    return FeeNoticeIssued(
        case_id=s.case_id,
        basis=c.basis,
        month=month,
        ordinal=ordinal,
        pages=pages,
        lines=lines,
        amount_yuan=amount,
        notified_on=ctx.today,
        delivered_on=delivered_on,
        delivery_presumed=c.delivered_on is None,
        payment_days=p.fee_payment_days,
        letter=letter,
    )


def payment_due(s: CaseState, ctx: Context) -> date:
    """The last day to pay: ``payment_days`` working days from the day the notice was received
    (presumed at issue; moved by the delivery record: an e-mail sent, a registrar's
    ``record_delivery``)."""
    fee = on_record(s.fee, "收费通知")
    return period_end(
        fee.notified_on, "post", fee.delivered_on, fee.payment_days, profile_of(s, ctx), ctx.calendar
    )


def record_payment(s: CaseState, c: RecordPayment, ctx: Context) -> FeePaid:
    """The registrar records the payment of the amount notified, made between the notice and today
    and within the payment period (after it the application is abandoned, 109号)."""
    fee = on_record(s.fee, "收费通知")
    if c.amount_yuan != fee.amount_yuan:
        raise reject(f"amount_yuan: the notice asks for ¥{fee.amount_yuan}")
    if not (fee.notified_on <= c.paid_on <= ctx.today):
        raise reject("paid_on: the payment's date must lie between the notice and today")
    until = payment_due(s, ctx)
    if c.paid_on > until:
        raise reject(f"paid_on: the payment period ended on {until} (逾期未缴费视为放弃申请)")
    return FeePaid(case_id=s.case_id, amount_yuan=c.amount_yuan, paid_on=c.paid_on, receipt=c.receipt)


def abandon_unpaid(s: CaseState, c: AbandonUnpaid, ctx: Context) -> ApplicationAbandoned:
    """Unpaid 20 working days after the applicant received the notice: deemed abandoned
    (109号; report row 三.（六）.2). Refused while the period runs."""
    until = payment_due(s, ctx)
    if ctx.today <= until:
        raise reject(f"the payment period runs until {until}")
    r = BY_CODE["other.fee_unpaid"]
    return ApplicationAbandoned(
        case_id=s.case_id, outcome_code=r.code, report_row=r.report_row, reason=r.label
    )
