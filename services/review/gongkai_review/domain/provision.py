"""The form of provision (提供形式).

条例 (2019) Art. 40: the agency provides the information in the form the applicant asks for
(paper, electronic files, or inspection 查阅), as far as the way it keeps the information allows;
where that form would endanger the information's carrier or cost too much, it may provide it
electronically or in another suitable form, or arrange for the applicant to inspect and copy it
(查阅、抄录). So:

- the applicant's form (intake's ``form``) is the default; another form needs a reason;
- an inspection is by appointment: a time (on a working day, after the arrangement) and a place,
  which the answer letter states;
- the answer that provides information (予以公开, 部分公开) states the form; an answer to an
  applicant who asked to inspect cannot go out before the appointment is made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import model_validator

from gongkai_shared.clock import OFFICE_TZ
from gongkai_shared.events import Form, ProvisionArranged
from gongkai_shared.letterframe import chinese_date
from gongkai_shared.outcomes import Outcome
from gongkai_shared.text import line

from ..case import CaseState, Draft
from ..case_records import Provision
from .common import Context, Input, Text, reject

FORM_LABELS = {"paper": "纸质文本", "electronic": "电子文件", "inspection": "查阅"}


class ArrangeProvision(Input):
    form: Form
    reason: Text | None = None  # why not the form the applicant asked for
    inspection_at: datetime | None = None
    inspection_place: Annotated[str, line(300, min_length=1)] | None = None

    @model_validator(mode="after")
    def _appointment(self) -> ArrangeProvision:
        """Art. 40: an inspection needs a time and a place; other forms have neither."""
        if self.form == Form.inspection:
            missing = [f for f in ("inspection_at", "inspection_place") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"{', '.join(missing)}: an inspection (查阅) needs a time and a place")
            assert self.inspection_at is not None
            if self.inspection_at.tzinfo is None:
                raise ValueError("inspection_at: give the time with its offset (e.g. +08:00)")
        elif self.inspection_at is not None or self.inspection_place is not None:
            raise ValueError("inspection_at, inspection_place: only with the form inspection")
        return self


def arrange_provision(s: CaseState, c: ArrangeProvision, ctx: Context) -> ProvisionArranged:
    """Art. 40: the applicant's form unless a reason is given; an appointment in the future on a
    working day."""
    requested = Form(s.requested_form or c.form)
    if c.form != requested and not c.reason:
        raise reject(
            f"申请人要求以{FORM_LABELS[requested]}形式提供，改变形式须说明理由（第四十条：危及载体安全或者公开成本过高）"
            " (Art. 40: another form than the one asked for needs a reason)"
        )
    if c.inspection_at is not None:
        local = c.inspection_at.astimezone(OFFICE_TZ)
        if c.inspection_at <= ctx.now:
            raise reject("查阅时间须晚于当前时间 (the inspection must be in the future)")
        if not ctx.calendar.is_working_day(local.date()):
            raise reject(f"查阅时间 {local.date()} 不是工作日 (the inspection must be on a working day)")
    return ProvisionArranged(
        case_id=s.case_id,
        form=c.form,
        requested_form=requested,
        reason=c.reason,
        inspection_at=c.inspection_at,
        inspection_place=c.inspection_place,
    )


def provides_information(d: Draft) -> bool:
    """Whether the answer hands information over (not merely says where it was published)."""
    return d.outcome == Outcome.partial or (d.outcome == Outcome.disclose and d.outcome_code == "disclose")


def provision_for_answer(s: CaseState, d: Draft, ctx: Context) -> dict | None:
    """What the answer letter says of the form (Art. 40): the arranged one, else the applicant's;
    ``None`` when the answer provides nothing. An inspection without an appointment, or with one
    already past, is refused."""
    if not provides_information(d):
        return None
    p = s.provision or (Provision(form=s.requested_form) if s.requested_form else None)
    if p is None:
        return None  # a case opened before the form was kept: the letter says nothing of it
    if p.form == Form.inspection:
        if p.inspection_at is None or not p.inspection_place:
            raise reject(
                "申请人要求查阅，须先确定查阅的时间和地点（第四十条） (Art. 40: arrange the inspection first)"
            )
        if p.inspection_at <= ctx.now:
            raise reject(
                "约定的查阅时间已过，请重新约定 (the inspection appointment has passed: arrange another)"
            )
    at = p.inspection_at.astimezone(OFFICE_TZ) if p.inspection_at else None
    return {
        "form": p.form,
        "label": FORM_LABELS[p.form],
        "reason": p.reason if p.form != s.requested_form else None,  # why not the form asked for
        "inspection_date": chinese_date(at.date()) if at else None,  # dates in a letter: Chinese
        "inspection_time": (f"{at.hour}时{at.minute}分" if at.minute else f"{at.hour}时") if at else None,
        "inspection_place": p.inspection_place,
    }
