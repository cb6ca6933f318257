"""Registration and assignment (登记、分办、检索反馈).

条例 (2019, 国务院令第711号):

- Art. 29: an application is made in writing (letter, data message; an oral one is written down)
  and names the applicant, the information sought and the form wanted; intake checks the form,
  review registers the case.
- Art. 31: the receipt date (收到申请之日) that starts the clock: in person, the day of submission;
  signed-for post, the day signed for; ordinary post, the day confirmed with the applicant; online
  and fax, the day both sides confirm (an online application: the day it was submitted).

Assignment to the departments that may hold the information and their feedback (分办、检索反馈)
are office practice, not an article: the profile gives the departments' period.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from gongkai_shared.events import CaseRegistered, Day, DepartmentFeedbackGiven, DepartmentsAssigned
from gongkai_shared.profiles import PROFILES, profile
from gongkai_shared.text import line

from ..case import CaseState
from .common import Context, Department, Input, Text, profile_of, reject
from .refusals import DocumentIds, refs


class Register(Input):
    received_on: Day | None = Field(None, description="收到申请之日, for letters, fax, in person")
    profile: Annotated[str, line(100)] | None = Field(None, description=f"rule profile: {sorted(PROFILES)}")


class Assign(Input):
    departments: list[Department] = Field(min_length=1, max_length=20)


class GiveFeedback(Input):
    department: Department
    holds_information: bool
    summary: Text
    documents: DocumentIds  # issue 10: the documents (政府信息) the search found, by id


def register(s: CaseState, c: Register, ctx: Context) -> CaseRegistered:
    """Art. 31: the receipt date is the channel's; never in the future; the case's rule profile is
    fixed here. Earlier answered applications of the same person for the same information are
    named (Art. 36(6), 重复申请) for the reviewer to judge."""
    if c.received_on and s.channel == "online" and c.received_on != s.received_on:
        raise reject("online applications are received on the day they are submitted")
    if c.received_on and c.received_on > ctx.today:
        raise reject("the receipt date cannot be in the future")
    if c.profile and c.profile.split("@")[0] not in PROFILES:
        raise reject(f"unknown profile {c.profile}; known: {sorted(PROFILES)}")
    p = profile(c.profile or ctx.default_profile)
    return CaseRegistered(
        case_id=s.case_id,
        received_on=c.received_on or s.received_on,
        profile=p.ref,
        possible_repeat_of=ctx.repeats[:100],  # the earliest: the event names at most 100
    )


def assign(s: CaseState, c: Assign, ctx: Context) -> DepartmentsAssigned:
    """Each department once; the profile's period for their feedback."""
    return DepartmentsAssigned(
        case_id=s.case_id,
        departments=list(dict.fromkeys(c.departments)),
        feedback_days=profile_of(s, ctx).department_feedback_days,
    )


def give_feedback(s: CaseState, c: GiveFeedback, ctx: Context) -> DepartmentFeedbackGiven:
    """Only an assigned department answers, once; the case is searched when all have. The
    documents it found are named by their registered identity (a department that holds nothing
    found none)."""
    if c.department not in s.departments:
        raise reject(f"department {c.department} was not assigned this case")
    if c.department in s.feedback:
        raise reject(f"department {c.department} has already given feedback")
    if c.documents and not c.holds_information:
        raise reject(
            "未掌握该信息的部门不能列出找到的文件 (documents only when the department holds the information)"
        )
    return DepartmentFeedbackGiven(
        case_id=s.case_id,
        department=c.department,
        holds_information=c.holds_information,
        summary=c.summary,
        documents=refs(c.documents, ctx),
    )
