"""Extension of the answer period (延期答复).

条例 Art. 33: the office answers on the spot when it can, otherwise within 20 working days of
receipt; an extension needs the approval of the head of the disclosure office (hence the
approver's role), the applicant is told (延期答复告知书), and it is at most 20 working days.
Both periods are the profile's (a local 2008-style profile: 15 and 15). One extension per case.
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
    letter = letters.render(
        "extension",
        s.applicant_name,
        office=ctx.office,
        today=ctx.today,
        received_on=s.received_on.isoformat(),
        reason=c.reason,
        working_days=c.working_days,
    )
    return ExtensionApproved(case_id=s.case_id, working_days=c.working_days, reason=c.reason, letter=letter)
