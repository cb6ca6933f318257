"""Sign-off of the decision (审核签发) or its return to the drafter (退回).

Not an article of the 条例: Art. 17 has each office fix its review procedure and who answers for
it, and the office's procedure (DOMAIN.md §5) is four eyes: the approver (office head, a leader
for a major case) is never the drafter. Signing turns the draft into the decision: a disclosing
one (``review-approved``, which publishing may later put in the catalogue) or one that discloses
nothing (``decision-recorded``; a refusal names the refused information for the register that
keeps it from ever being published, seed measures and Art. 25; a 36(7) referral to the special
procedure is not a refusal and names nothing).

Issue 10: the decision names the documents the draft named (disclosed, and withheld whole or in
part: these enter the refusal register); a document registered as refused since the draft is
not signed out (seed measures Art. 25, ``refusals.check_register``).
"""

from __future__ import annotations

from gongkai_shared.events import DecisionRecorded, DraftRejected, ReviewApproved
from gongkai_shared.outcomes import BY_CODE, Outcome, discloses, is_refusal

from ..case import CaseState
from .common import Context, Input, Text, on_record, reject
from .refusals import check_register


class RejectDraft(Input):
    reason: Text


class SignOff(Input):
    major: bool = False


def reject_draft(s: CaseState, c: RejectDraft, ctx: Context) -> DraftRejected:
    """Back to the drafter, with the reason."""
    d = on_record(s.draft, "拟定的答复")
    return DraftRejected(case_id=s.case_id, draft_id=d.draft_id, reason=c.reason)


def sign_off(s: CaseState, c: SignOff, ctx: Context) -> ReviewApproved | DecisionRecorded:
    """签发人不能是拟稿人: the approver must not be the drafter."""
    d = on_record(s.draft, "拟定的答复")
    if ctx.actor.id == d.drafted_by:
        raise reject("签发人不能是拟稿人 (the approver must not be the drafter)")
    check_register(d.documents, d.withheld_parts_of, ctx)
    outcome = Outcome(d.outcome)
    reason = BY_CODE[d.outcome_code].reason
    reasons = [reason] if reason else []
    if discloses(outcome):
        return ReviewApproved(
            case_id=s.case_id,
            outcome=outcome,
            reasons=reasons,
            legal_basis=d.legal_basis,
            note=d.note,
            outcome_code=d.outcome_code,
            draft_id=d.draft_id,
            drafted_by=d.drafted_by,
            title=d.title,
            disclosed_content=d.disclosed_content or "",
            withheld_parts=d.withheld_parts,
            documents=d.documents,
            withheld_documents=d.withheld_documents,
        )
    return DecisionRecorded(
        case_id=s.case_id,
        outcome=outcome,
        reasons=reasons,
        legal_basis=d.legal_basis,
        note=d.note,
        outcome_code=d.outcome_code,
        draft_id=d.draft_id,
        drafted_by=d.drafted_by,
        responsible_agency=d.responsible_agency,
        # the refused information, for the refusal register: refusals only (a 36(7) referral is not one)
        description=s.description if is_refusal(d.outcome_code) else None,
        reason_text=d.reason_text,
        withheld_documents=d.withheld_documents,
    )
