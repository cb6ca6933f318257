"""Extension of the answer period (延期答复).

条例 Art. 33: the office answers on the spot when it can, otherwise within 20 working days of
receipt; an extension needs the approval of the head of the disclosure office (hence the
approver's role), the applicant is told (延期答复告知书), and it is at most 20 working days.
Both periods are the profile's (a local 2008-style profile: 15 and 15). One extension per case.
An extension is approved before the period ends: once the due date notify recorded
(``deadline-set``) has passed, the answer is late and an extension cannot cure it; the letter
gives the new due date.
"""

from __future__ import annotations

from pydantic import Field

from gongkai_shared.events import ExtensionApproved

from .. import letters
from ..case import CaseState
from .common import Context, Input, Text, profile_of, reject


class Extend(Input):
    working_days: int = Field(ge=1, le=60)
    reason: Text


def extend(s: CaseState, c: Extend, ctx: Context) -> ExtensionApproved:
    """Once, at most the profile's maximum, with the letter to the applicant."""
    p = profile_of(s, ctx)
    if s.extension_days:
        raise reject("the answer deadline has already been extended")
    if c.working_days > p.extension_max_days:
        raise reject(f"延期最长不超过{p.extension_max_days}个工作日 ({p.ref})")
    if s.answer_due is not None and ctx.today > s.answer_due:
        raise reject(
            f"答复期限已于{s.answer_due}届满，不能再延期 (Art. 33: the period ended on {s.answer_due})"
        )
    new_due = ctx.calendar.add_working_days(s.answer_due, c.working_days).due if s.answer_due else None
    letter = letters.render(
        "extension",
        s.applicant_name,
        office=ctx.office,
        today=ctx.today,
        received_on=s.received_on.isoformat(),
        reason=c.reason,
        working_days=c.working_days,
        new_due_on=new_due.isoformat() if new_due else None,
    )
    return ExtensionApproved(case_id=s.case_id, working_days=c.working_days, reason=c.reason, letter=letter)
