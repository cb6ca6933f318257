"""The answer (答复) and the remedies it names (救济途径).

条例 (2019):

- Art. 36: the answer tells the applicant the outcome of the signed decision (its report row in
  the annual report, Art. 49-50); Art. 37: a partial disclosure lists each withheld part with
  its reason and legal basis.
- Art. 51: the applicant may complain, apply for administrative reconsideration or sue. Since
  2024-01-01 reconsideration comes first for 不予公开 and the withheld parts of 部分公开
  (行政复议法 Art. 23(1)(4)); for every other answer (36(7) referrals included) the applicant
  chooses: reconsideration within 60 days or a lawsuit within 6 months. The letter names the
  reconsideration body (Art. 24; ``Context.reconsideration_body``, configured by name):
  ``letters.remedy`` picks the wording, ``templates/_remedy.j2`` holds it.
- Art. 30: after a correction the letter states the original receipt date and the correction's,
  and quotes the corrected request.

Sending the answer stops the clock (notify). Issue 10: the answer names the documents it
discloses (``disclosed_documents``, as the signed decision named them, and the letter lists them
with their 文号); a document with a standing refusal register entry (from any case, registered
even after the sign-off) is never sent (seed measures Art. 25, ``refusals.check_register``).
"""

from __future__ import annotations

from gongkai_shared.events import AnswerSent
from gongkai_shared.filerefs import FileRef
from gongkai_shared.outcomes import BY_CODE, Outcome, discloses

from .. import letters
from ..case import CaseState
from .common import Context, Input, on_record
from .provision import provision_for_answer
from .refusals import check_register


class SendAnswer(Input):
    pass


def send_answer(s: CaseState, c: SendAnswer, ctx: Context) -> AnswerSent:
    """The letter (依申请公开告知书) of the signed draft, dated today."""
    d = on_record(s.draft, "签发的答复")
    disclosed = d.documents if discloses(Outcome(d.outcome)) else []
    check_register(disclosed, d.withheld_parts_of, ctx)
    letter = letters.answer_letter(
        applicant=s.applicant_name,
        description=s.description,
        received_on=s.original_received_on,
        corrected_on=s.corrected_on,
        corrected_request=s.corrected_request,
        draft=d,
        office=ctx.office,
        reconsideration_body=ctx.reconsideration_body,
        today=ctx.today,
        provision=provision_for_answer(s, d, ctx),  # Art. 40
    )
    return AnswerSent(
        case_id=s.case_id,
        outcome=Outcome(d.outcome),
        outcome_code=d.outcome_code,
        report_row=BY_CODE[d.outcome_code].report_row,
        letter=letter,
        sent_on=ctx.today,
        documents=[FileRef.model_validate(_ref(d)) for d in s.documents] or None,  # issue 9
        disclosed_documents=disclosed,
    )


def _ref(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "title"}
