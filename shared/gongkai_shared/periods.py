"""Periods given to someone else, counted from the day they receive the notice (条例 第三十条,
第三十二条, 第三十四条; 国办函〔2020〕109号 for the fee notice): review (may the silence be recorded
yet?) and notify (when does the answer clock's pause end?) count them here, so they agree.

The day of receipt is the delivery record's (an e-mail that was sent: its Beijing day; a letter by
post: the day a registrar enters from the return receipt); until it is known, the profile's
presumed delivery time for the channel (:meth:`RuleProfile.presumed_delivery`).
"""

from __future__ import annotations

from datetime import date, timedelta

from .calendar import WorkingCalendar
from .profiles import RuleProfile


def notice_channel(recipient: str) -> str:
    """How a letter to ``recipient`` goes out: notify e-mails it to an address, else it is posted."""
    return "email" if "@" in recipient else "post"


def received_on(issued_on: date, channel: str, delivered_on: date | None, p: RuleProfile) -> date:
    """The day the recipient received the notice: recorded, else presumed."""
    if delivered_on is not None:
        return delivered_on
    return issued_on + timedelta(days=p.presumed_delivery(channel))


def period_end(
    issued_on: date,
    channel: str,
    delivered_on: date | None,
    days: int,
    p: RuleProfile,
    calendar: WorkingCalendar,
) -> date:
    """The last day of ``days`` working days from the day the notice was received (that day not
    counted, as the profile says)."""
    start = received_on(issued_on, channel, delivered_on, p)
    due = calendar.add_working_days(start, days, count_start=p.count_receipt_day).due
    if due is None:  # only an open pause stops a count, and none is given
        raise ValueError(f"no due date for {days} working days from {start}")
    return due
