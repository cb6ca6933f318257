"""Excessive requests (申请数量、频次明显超过合理范围), 条例 第三十五条.

When the number or frequency of an applicant's applications is clearly beyond a reasonable
range, the office may ask the applicant to give reasons. If it finds the reasons **not
reasonable**, it tells the applicant the application is not processed (不予处理, row 三.（五）.4:
the answer, drafted as ``not_processed`` / ``excessive``). If it finds them **reasonable** but
cannot answer within the period of 第三十三条, it sets a reasonable later answer date and tells
the applicant (the letter); that date becomes the answer deadline. The judgement and the date are
the office head's (an approver), as for an extension.
"""

from __future__ import annotations

from pydantic import model_validator

from gongkai_shared.events import Day, ExcessiveReasonsAssessed, ExcessiveReasonsRequested

from .. import letters
from ..case import CaseState
from .common import Context, Input, Text, due, profile_of, reject


class AskReasons(Input):
    matter: Text  # what is beyond a reasonable range: how many applications, how often


class AssessReasons(Input):
    reasonable: bool
    assessment: Text
    answer_by: Day | None = None  # reasonable: the later answer date

    @model_validator(mode="after")
    def _date_iff_reasonable(self) -> AssessReasons:
        if self.reasonable and self.answer_by is None:
            raise ValueError("answer_by: required when the reasons are reasonable (第三十五条)")
        if not self.reasonable and self.answer_by is not None:
            raise ValueError("answer_by: only when the reasons are reasonable")
        return self


def ask_reasons(s: CaseState, c: AskReasons, ctx: Context) -> ExcessiveReasonsRequested:
    """Once per application: the letter asks the applicant for the reasons."""
    if s.excessive is not None:
        raise reject("已要求申请人说明理由 (the reasons were already asked for)")
    letter = letters.render(
        "excessive_reasons",
        s.applicant_name,
        office=ctx.office,
        today=ctx.today,
        received_on=s.received_on.isoformat(),
        matter=c.matter,
    )
    return ExcessiveReasonsRequested(case_id=s.case_id, matter=c.matter, letter=letter)


def assess_reasons(s: CaseState, c: AssessReasons, ctx: Context) -> ExcessiveReasonsAssessed:
    """Only after the reasons were asked for, once. A reasonable case's later answer date lies
    after the 第三十三条 period (otherwise no later date is needed) and after today."""
    if s.excessive != "asked":
        raise reject("须先要求申请人说明理由 (ask for the reasons first), and judge them once")
    if not c.reasonable:
        return ExcessiveReasonsAssessed(case_id=s.case_id, reasonable=False, assessment=c.assessment)
    assert c.answer_by is not None  # the model requires it
    statutory = due(ctx, s.received_on, profile_of(s, ctx).answer_days)
    if c.answer_by <= statutory or c.answer_by <= ctx.today:
        raise reject(f"answer_by: a later answer date must be after {max(statutory, ctx.today)}")
    letter = letters.render(
        "excessive_deadline",
        s.applicant_name,
        office=ctx.office,
        today=ctx.today,
        received_on=s.received_on.isoformat(),
        answer_by=c.answer_by.isoformat(),
    )
    return ExcessiveReasonsAssessed(
        case_id=s.case_id, reasonable=True, assessment=c.assessment, answer_by=c.answer_by, letter=letter
    )
