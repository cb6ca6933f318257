"""Corrections of records (更正政府信息记录).

条例 (2019) Art. 41: a citizen, legal person or other organisation with evidence that a
government information record about itself, provided by an agency, is inaccurate may ask the
agency to correct it. The agency with the power to correct it, finding it so, corrects it and
tells the applicant; one without the power may transfer the request to the agency that has it
and tell the applicant, or tell the applicant to ask that agency.

Gongkai records the request on the case through which the agency provided the record (the
request is to the agency that holds it), so it is allowed only once the case has provided
information (予以公开, 部分公开) and the answer has gone out; it neither reopens the case nor
moves its status. Each answer is an event with its letter (政府信息更正申请答复告知书). A refusal
is an administrative act: the letter states the applicant's remedies (the applicant chooses:
行政复议法 Art. 23 makes reconsideration first only for 不予公开).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from gongkai_shared.events import (
    Letter,
    RecordCorrected,
    RecordCorrectionReferred,
    RecordCorrectionRefused,
    RecordCorrectionRequested,
)
from gongkai_shared.outcomes import Outcome
from gongkai_shared.text import line, paragraph

from .. import letters
from ..case import CaseState
from ..case_records import Correction
from .common import Context, Input, Text, reject

Paragraph = Annotated[str, paragraph(2000, min_length=1)]
CorrectionId = Annotated[str, line(200, min_length=1)]


class RequestCorrection(Input):
    record: Paragraph  # the record, as the agency provided it
    inaccuracy: Paragraph  # what is wrong, and the correction asked for
    evidence: Paragraph  # Art. 41: 有证据证明
    received_on: date


class CorrectRecord(Input):
    correction_id: CorrectionId
    correction: Text  # what was corrected, and how


class RefuseCorrection(Input):
    correction_id: CorrectionId
    reason: Text  # why the record is not shown to be inaccurate


class ReferCorrection(Input):
    correction_id: CorrectionId
    agency: Annotated[str, line(300, min_length=1)]
    agency_contact: Annotated[str, line(300)] | None = None
    transferred: bool  # True: 转送 the request; False: tell the applicant to ask the agency


def request_correction(s: CaseState, c: RequestCorrection, ctx: Context) -> RecordCorrectionRequested:
    """Art. 41: only a record the agency provided (this case disclosed information), received
    after the answer and not in the future."""
    if s.outcome_code is None or s.outcome_code.split(".")[0] not in (Outcome.disclose, Outcome.partial):
        raise reject(
            "本案未向申请人提供政府信息，不能据此申请更正（第四十一条：行政机关提供的与其自身相关的政府信息记录）"
            " (Art. 41: only a record the agency provided can be corrected)"
        )
    if c.received_on > ctx.today or (s.answered_on is not None and c.received_on < s.answered_on):
        raise reject(
            f"更正申请收到日期须在答复日期 {s.answered_on} 至今天 {ctx.today} 之间 (received_on out of range)"
        )
    return RecordCorrectionRequested(
        case_id=s.case_id,
        correction_id=ctx.new_id,
        record=c.record,
        inaccuracy=c.inaccuracy,
        evidence=c.evidence,
        received_on=c.received_on,
    )


def _open(s: CaseState, correction_id: str) -> Correction:
    found = s.corrections.get(correction_id)
    if found is None:
        raise reject(f"没有更正申请 {correction_id} (no such correction request)")
    if found.outcome is not None:
        raise reject(f"更正申请 {correction_id} 已答复 (already answered: {found.outcome})")
    return found


def _letter(s: CaseState, r: Correction, ctx: Context, decision: str, **values: object) -> Letter:
    return letters.render(
        "correction",
        s.applicant_name,
        office=ctx.office,
        today=ctx.today,
        received_on=r.received_on.isoformat(),
        record=r.record,
        decision=decision,
        remedy="choice",  # not a refusal to disclose: the applicant chooses (行政复议法 Art. 23)
        reconsideration_body=ctx.reconsideration_body,
        **values,
    )


def correct_record(s: CaseState, c: CorrectRecord, ctx: Context) -> RecordCorrected:
    """Art. 41: found inaccurate, corrected, the applicant told."""
    r = _open(s, c.correction_id)
    letter = _letter(s, r, ctx, "corrected", correction=c.correction)
    return RecordCorrected(
        case_id=s.case_id, correction_id=r.correction_id, correction=c.correction, letter=letter
    )


def refuse_correction(s: CaseState, c: RefuseCorrection, ctx: Context) -> RecordCorrectionRefused:
    """Art. 41: not shown to be inaccurate: the applicant is told why, and the remedies."""
    r = _open(s, c.correction_id)
    letter = _letter(s, r, ctx, "refused", reason=c.reason)
    return RecordCorrectionRefused(
        case_id=s.case_id, correction_id=r.correction_id, reason=c.reason, letter=letter
    )


def refer_correction(s: CaseState, c: ReferCorrection, ctx: Context) -> RecordCorrectionReferred:
    """Art. 41: not this agency's to correct: transferred, or the applicant told where to ask."""
    r = _open(s, c.correction_id)
    if c.agency.strip() == ctx.office.name.strip():
        raise reject("转送或告知的机关不能是本机关 (refer to another agency, or correct or refuse)")
    letter = _letter(
        s, r, ctx, "referred", agency=c.agency, agency_contact=c.agency_contact, transferred=c.transferred
    )
    return RecordCorrectionReferred(
        case_id=s.case_id,
        correction_id=r.correction_id,
        agency=c.agency,
        agency_contact=c.agency_contact,
        transferred=c.transferred,
        letter=letter,
    )
