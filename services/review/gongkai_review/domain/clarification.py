"""Clarification (补正).

条例 Art. 30: when an application is unclear, the office guides the applicant and, within
7 working days of receipt, tells them **once**, in one consolidated notice, what to correct and
in what reasonable period (补正告知书). The answer deadline runs anew from the day the corrected
application is received. No correction within the period without good reason: the application
is deemed abandoned (视为放弃申请) and no longer handled. The 7 days and the default period are
the profile's.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from gongkai_shared.events import ApplicationAbandoned, ClarificationReceived, ClarificationRequested, Day
from gongkai_shared.outcomes import BY_CODE
from gongkai_shared.periods import period_end
from gongkai_shared.text import paragraph

from .. import letters
from ..case import CaseState
from .common import Context, Input, Text, due, on_record, profile_of, reject


class RequestClarification(Input):
    items: list[Annotated[str, paragraph(2000, min_length=1)]] = Field(min_length=1, max_length=30)
    period_days: int | None = Field(None, ge=1, le=60)


class ReceiveClarification(Input):
    received_on: Day
    summary: Text
    corrected_request: Annotated[str, paragraph(5000, min_length=1)] | None = None  # quoted in the answer


class Abandon(Input):
    pass


def request_clarification(s: CaseState, c: RequestClarification, ctx: Context) -> ClarificationRequested:
    """One consolidated notice per application, within the profile's days of receipt."""
    p = profile_of(s, ctx)
    if s.clarification_requested_on is not None:
        raise reject("补正只能一次性告知 (one consolidated clarification notice per application)")
    if ctx.today > due(ctx, s.received_on, p.clarification_notice_days):
        raise reject(f"补正告知须在收到申请之日起{p.clarification_notice_days}个工作日内作出")
    period = c.period_days or p.clarification_period_days
    letter = letters.render(
        "clarification",
        s.applicant_name,
        office=ctx.office,
        today=ctx.today,
        received_on=s.received_on.isoformat(),
        items=c.items,
        period_days=period,
    )
    return ClarificationRequested(case_id=s.case_id, items=c.items, period_days=period, letter=letter)


def receive_clarification(s: CaseState, c: ReceiveClarification, ctx: Context) -> ClarificationReceived:
    """The corrected application's receipt date (the clock's new start) lies between the notice
    and today."""
    if c.received_on > ctx.today or c.received_on < (s.clarification_requested_on or c.received_on):
        raise reject("the correction's receipt date must lie between the notice and today")
    return ClarificationReceived(
        case_id=s.case_id, received_on=c.received_on, summary=c.summary, corrected_request=c.corrected_request
    )


def correction_due(s: CaseState, ctx: Context) -> date:
    """The last day to correct: the period runs from the day the applicant received the notice
    (Art. 30): the delivery record's (an e-mail sent, a registrar's return receipt), else the
    profile's presumed delivery time for the applicant's channel."""
    asked_on = on_record(s.clarification_requested_on, "补正告知")
    return period_end(asked_on, s.applicant_channel, s.clarification_delivered_on,
                      s.clarification_period_days or 0, profile_of(s, ctx), ctx.calendar)  # fmt: skip


def abandon(s: CaseState, c: Abandon, ctx: Context) -> ApplicationAbandoned:
    """Deemed abandoned only once the correction period, from the notice's receipt, has run out
    (Art. 30; report row 三.（六）.1)."""
    until = correction_due(s, ctx)
    if ctx.today <= until:
        raise reject(f"the correction period runs until {until}")
    r = BY_CODE["other.no_clarification"]
    return ApplicationAbandoned(
        case_id=s.case_id, outcome_code=r.code, report_row=r.report_row, reason=r.label
    )
