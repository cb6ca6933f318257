"""Withdrawal and archiving (撤回、归档).

Not articles of the 条例: an applicant may withdraw an application at any time before the
answer (asked through intake, ``withdrawal-requested``, or recorded by the registrar); a closed
case (answered, abandoned, withdrawn) is archived (归档, the last step of 登记、审核、办理、答复、
归档, DOMAIN.md §1).
"""

from __future__ import annotations

from gongkai_shared.events import ApplicationWithdrawn, CaseArchived
from gongkai_shared.outcomes import WITHDRAWN

from ..case import CaseState
from .common import Context, Input, Text


class Withdraw(Input):
    reason: Text


class Archive(Input):
    pass


def withdraw(s: CaseState, c: Withdraw, ctx: Context) -> ApplicationWithdrawn:
    """The case closes; its clock stops. It ends in the annual report's row 三.（六）.3 (其他), so
    that 一 + 二 = 三（总计） + 四 (国办公开办函〔2021〕30号)."""
    return ApplicationWithdrawn(
        case_id=s.case_id, reason=c.reason, outcome_code=WITHDRAWN.code, report_row=WITHDRAWN.report_row
    )


def archive(s: CaseState, c: Archive, ctx: Context) -> CaseArchived:
    return CaseArchived(case_id=s.case_id)
