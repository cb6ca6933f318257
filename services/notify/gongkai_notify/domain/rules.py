"""The law's time limits, one function each: where a reader finds every deadline rule of notify.

《中华人民共和国政府信息公开条例》 (2019 revision, "条例" below); the numbers of days are data of
the rule profile (``gongkai_shared.profiles``: the national 2019 profile and a stricter local one),
the counting is the working-day calendar's (``gongkai_shared.calendar``: 工作日, the State
Council's holiday schedule, pauses). Pure functions: no I/O, no clock.

Counting days: a period "自收到申请之日起" does not count the day it starts on (the national
profile's ``count_receipt_day`` is False), so 20 working days from a receipt on Tuesday 2026-02-10
end on 2026-03-16. The receipt day itself is fixed by 条例 第三十一条 (handed in: that day; by
post: the day it is signed for; online: the day both sides confirm it), and intake records it
as ``received_on``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from gongkai_shared.calendar import DueDate, Pause, WorkingCalendar
from gongkai_shared.profiles import RuleProfile


def answer_due(
    received_on: date,
    p: RuleProfile,
    calendar: WorkingCalendar,
    *,
    pauses: Sequence[Pause] = (),
    extension_days: int = 0,
) -> DueDate:
    """答复期限 (条例 第三十三条): ``answer_days`` (20) working days from receipt.

    延期 (第三十三条 第一款): the head of the disclosure office may extend it by at most
    ``extension_max_days`` (20); ``extension_days`` is the sum of approved extensions.
    征求意见 (第三十三条 第二款): the time a third party or another agency takes to give its opinion
    is not counted (``pauses``: from the letter to the earlier of the reply and the end of the
    party's period, so every pause has an end; ``deadlines.compute_case`` builds them).
    补正 (第三十条): after a request for correction the period runs anew from the day the corrected
    application is received; the caller passes that day as ``received_on``.
    """
    return calendar.add_working_days(
        received_on, p.answer_days + extension_days, count_start=p.count_receipt_day, pauses=pauses
    )


def clarification_notice_due(received_on: date, p: RuleProfile, calendar: WorkingCalendar) -> DueDate:
    """补正告知 (条例 第三十条): an unclear application is answered with one request for correction
    within ``clarification_notice_days`` (7) working days of receipt. Informational: the clock
    never warns about or breaches it."""
    return calendar.add_working_days(
        received_on, p.clarification_notice_days, count_start=p.count_receipt_day
    )


def correction_period_due(
    received_on: date, period_days: int, p: RuleProfile, calendar: WorkingCalendar
) -> DueDate:
    """补正期限 (条例 第三十条): the reasonable period the request for correction gives the applicant
    (``period_days``, default ``clarification_period_days``), from the day the applicant received
    the notice; unexcused silence past it counts as abandoning the application (视为放弃申请)."""
    return calendar.add_working_days(received_on, period_days, count_start=p.count_receipt_day)


def consultation_reply_due(
    started_on: date, reply_days: int, p: RuleProfile, calendar: WorkingCalendar
) -> DueDate:
    """征求意见 (条例 第三十二条 third parties, 第三十四条 agencies that co-produced the information):
    the party gives its opinion within ``reply_days`` (15) working days of receiving the letter
    (``started_on``: the day it received it, ``gongkai_shared.periods.received_on``). A silent third
    party: the agency decides (第三十二条); a silent co-producing agency: consent (第三十四条)."""
    return calendar.add_working_days(started_on, reply_days, count_start=p.count_receipt_day)


def third_party_reply_due(started_on: date, p: RuleProfile, calendar: WorkingCalendar) -> DueDate:
    """The profile's default for :func:`consultation_reply_due` (``third_party_reply_days``, 15)."""
    return consultation_reply_due(started_on, p.third_party_reply_days, p, calendar)


def department_feedback_due(
    assigned_on: date, days: int, p: RuleProfile, calendar: WorkingCalendar
) -> DueDate:
    """部门反馈: a department asked for the information answers within ``days`` working days (the
    assignment's, else the profile's ``department_feedback_days``). Local practice: the 条例 sets no
    such limit, so the national profile has none."""
    return calendar.add_working_days(assigned_on, days, count_start=p.count_receipt_day)


def fee_payment_due(received_on: date, p: RuleProfile, calendar: WorkingCalendar) -> DueDate:
    """缴费 (条例 第四十二条, 信息处理费; 《政府信息公开信息处理费管理办法》 2020): a fee not paid within
    ``fee_payment_days`` (20) working days of receiving the notice counts as abandoning the
    application."""
    return calendar.add_working_days(received_on, p.fee_payment_days, count_start=p.count_receipt_day)


def proactive_publication_due(formed_on: date, p: RuleProfile, calendar: WorkingCalendar) -> DueDate:
    """主动公开 (条例 第二十六条): within ``proactive_publication_days`` (20) working days of the
    information being formed or changed."""
    return calendar.add_working_days(formed_on, p.proactive_publication_days, count_start=p.count_receipt_day)


def annual_report_due(report_year: int, level: str) -> date:
    """年度报告 (条例 第四十九条): departments publish by 31 January, governments by 31 March, of the
    next year."""
    if level == "department":
        return date(report_year + 1, 1, 31)
    if level == "government":
        return date(report_year + 1, 3, 31)
    raise ValueError(f"unknown level {level!r}: department or government")


def warn_on(due_on: date, warn_days: int, calendar: WorkingCalendar) -> date:
    """The day from which a warning is due: ``warn_days`` working days remain after it (office
    practice, not the law: ``GONGKAI_NOTIFY_WARN_DAYS``)."""
    return calendar.subtract_working_days(due_on, warn_days)


def is_breached(due_on: date, today: date, answered: bool) -> bool:
    """A deadline is breached once its last day has passed with no answer."""
    return not answered and today > due_on
