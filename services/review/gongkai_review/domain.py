"""Review's decisions, pure: ``decide(case state, command, context) -> event body``.

The state machine (``machine.py``) says which commands a state allows; the rules below say what
each command needs: the law's periods (profile), sign-off by someone other than the drafter,
no disclosure without a passed confidentiality review (保密审查) or over a third party's
objection without a public-interest decision, one consolidated clarification notice, and
partial disclosures that withhold each part with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gongkai_shared.calendar import WorkingCalendar
from gongkai_shared.decisions import CommandRejected
from gongkai_shared.envelope import Actor
from gongkai_shared.events import (
    AnswerSent,
    ApplicationAbandoned,
    ApplicationWithdrawn,
    CaseArchived,
    CaseRegistered,
    ClarificationReceived,
    ClarificationRequested,
    ConfidentialityReviewed,
    ConsultationReplied,
    ConsultationStarted,
    Day,
    DecisionDrafted,
    DecisionRecorded,
    DepartmentFeedbackGiven,
    DepartmentsAssigned,
    DraftRejected,
    EventBody,
    ExtensionApproved,
    PartyKind,
    PublicInterestOverride,
    Reply,
    ReviewApproved,
    WithheldPart,
)  # fmt: skip
from gongkai_shared.outcomes import BY_CODE, Outcome, code, discloses, reasons_for
from gongkai_shared.profiles import PROFILES, profile
from gongkai_shared.text import line, paragraph

from . import letters
from .case import CaseState
from .machine import BY_COMMAND


class CaseNotFound(LookupError):
    pass


def _model() -> ConfigDict:
    return ConfigDict(extra="forbid", str_strip_whitespace=True)


Text = Annotated[str, paragraph(5000, min_length=1)]  # reasons, notes, summaries: several lines allowed
Department = Annotated[str, line(200, min_length=1)]
ConsultationId = Annotated[str, line(200, min_length=1)]


class Register(BaseModel):
    model_config = _model()
    received_on: Day | None = Field(None, description="收到申请之日, for letters, fax, in person")
    profile: Annotated[str, line(100)] | None = Field(None, description=f"rule profile: {sorted(PROFILES)}")


class Assign(BaseModel):
    model_config = _model()
    departments: list[Department] = Field(min_length=1, max_length=20)


class GiveFeedback(BaseModel):
    model_config = _model()
    department: Department
    holds_information: bool
    summary: Text


class RequestClarification(BaseModel):
    model_config = _model()
    items: list[Annotated[str, paragraph(2000, min_length=1)]] = Field(min_length=1, max_length=30)
    period_days: int | None = Field(None, ge=1, le=60)


class ReceiveClarification(BaseModel):
    model_config = _model()
    received_on: Day
    summary: Text


class Abandon(BaseModel):
    model_config = _model()


class StartConsultation(BaseModel):
    model_config = _model()
    party_kind: PartyKind
    party: Annotated[str, line(300, min_length=1)]
    matter: Text


class RecordReply(BaseModel):
    model_config = _model()
    consultation_id: ConsultationId
    reply: Reply
    grounds: Annotated[str, paragraph(5000)] | None = None


class Override(BaseModel):
    model_config = _model()
    consultation_id: ConsultationId
    reason: Text


class ReviewConfidentiality(BaseModel):
    model_config = _model()
    passed: bool
    notes: Text


class PartWithheld(BaseModel):
    model_config = _model()
    part: Annotated[str, paragraph(2000, min_length=1)]
    reason: Annotated[str, line(100)]


class Draft(BaseModel):
    """The decision draft (答复意见). Wire names as in the skeleton's decision body."""

    model_config = _model()
    outcome: Outcome
    reasons: list[Annotated[str, line(100)]] = Field(default_factory=list, max_length=1)
    legal_basis: Annotated[str, paragraph(500)] | None = None
    disclosed_content: Annotated[str, paragraph(100_000, min_length=1)] | None = None
    title: Annotated[str, line(300, min_length=1)] | None = None
    withheld_parts: list[PartWithheld] = Field(default_factory=list, max_length=50)
    responsible_agency: Annotated[str, line(300)] | None = None
    published_at: Annotated[str, line(500)] | None = None
    note: Annotated[str, paragraph(5000)] | None = None

    @model_validator(mode="after")
    def _fits_outcome(self) -> Draft:
        allowed = reasons_for(self.outcome)
        reason = self.reasons[0] if self.reasons else None
        if self.outcome in (Outcome.withhold, Outcome.not_held, Outcome.not_processed, Outcome.other):
            if reason not in allowed:
                raise ValueError(f"reasons: exactly one of {list(allowed)}")
        elif reason is not None and reason not in allowed:
            raise ValueError(f"reasons: none or one of {list(allowed)}")
        if self.outcome == Outcome.partial:
            if not self.withheld_parts or not self.disclosed_content:
                raise ValueError("partial disclosure needs disclosed_content and withheld_parts")
            withhold = reasons_for(Outcome.withhold)
            bad = [p.reason for p in self.withheld_parts if p.reason not in withhold]
            if bad:
                raise ValueError(f"withheld_parts: reasons {bad} not in {list(withhold)}")
        elif self.withheld_parts:
            raise ValueError("withheld_parts only with outcome partial")
        if self.outcome == Outcome.disclose:
            if reason == "already_published" and not self.published_at:
                raise ValueError("published_at: where the information was proactively published")
            if reason is None and not self.disclosed_content:
                raise ValueError("disclosed_content is required to disclose")
        return self

    @property
    def code(self) -> str:
        return code(self.outcome, self.reasons[0] if self.reasons else None)


class RejectDraft(BaseModel):
    model_config = _model()
    reason: Text


class SignOff(BaseModel):
    model_config = _model()
    major: bool = False


class Extend(BaseModel):
    model_config = _model()
    working_days: int = Field(ge=1, le=60)
    reason: Text


class SendAnswer(BaseModel):
    model_config = _model()


class Withdraw(BaseModel):
    model_config = _model()
    reason: Text


class Archive(BaseModel):
    model_config = _model()


COMMANDS: dict[str, type[BaseModel]] = {
    "register": Register, "assign": Assign, "give_feedback": GiveFeedback,
    "request_clarification": RequestClarification, "receive_clarification": ReceiveClarification,
    "abandon": Abandon, "start_consultation": StartConsultation, "record_reply": RecordReply,
    "override": Override, "review_confidentiality": ReviewConfidentiality, "draft": Draft,
    "reject_draft": RejectDraft, "sign_off": SignOff, "extend": Extend, "send_answer": SendAnswer,
    "withdraw": Withdraw, "archive": Archive,
}  # fmt: skip
COMMAND_NAMES = {cls: name for name, cls in COMMANDS.items()}


@dataclass(frozen=True)
class Context:
    """What a decision may know besides the case: who, when, the calendar, the office."""

    actor: Actor
    now: datetime
    today: date
    calendar: WorkingCalendar
    new_id: str = ""
    default_profile: str = "national-2019"
    office: str = "本机关"
    reconsideration_body: str = "本级人民政府"
    repeats: list[str] = field(default_factory=list)


def _normal(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text).lower()


def reject(message: str) -> CommandRejected:
    return CommandRejected(message)


def decide(state: CaseState | None, cmd: BaseModel, ctx: Context) -> EventBody:
    if state is None:
        raise CaseNotFound("no such case")
    name = COMMAND_NAMES[type(cmd)]
    if state.status not in BY_COMMAND[name].sources:
        raise reject(f"案件状态为 {state.status}，不能执行 {name} (not allowed in state {state.status})")
    return _RULES[name](state, cmd, ctx)


def _profile(state: CaseState, ctx: Context):  # noqa: ANN202
    return profile(state.profile or ctx.default_profile)


def _due(ctx: Context, start: date, days: int) -> date:
    return ctx.calendar.add_working_days(start, days).due


def _register(s: CaseState, c: Register, ctx: Context) -> EventBody:
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


def _assign(s: CaseState, c: Assign, ctx: Context) -> EventBody:
    return DepartmentsAssigned(
        case_id=s.case_id,
        departments=list(dict.fromkeys(c.departments)),
        feedback_days=_profile(s, ctx).department_feedback_days,
    )


def _feedback(s: CaseState, c: GiveFeedback, ctx: Context) -> EventBody:
    if c.department not in s.departments:
        raise reject(f"department {c.department} was not assigned this case")
    if c.department in s.feedback:
        raise reject(f"department {c.department} has already given feedback")
    return DepartmentFeedbackGiven(
        case_id=s.case_id, department=c.department, holds_information=c.holds_information, summary=c.summary
    )


def _clarify(s: CaseState, c: RequestClarification, ctx: Context) -> EventBody:
    p = _profile(s, ctx)
    if s.clarification_requested_on is not None:
        raise reject("补正只能一次性告知 (one consolidated clarification notice per application)")
    if ctx.today > _due(ctx, s.received_on, p.clarification_notice_days):
        raise reject(f"补正告知须在收到申请之日起{p.clarification_notice_days}个工作日内作出")
    period = c.period_days or p.clarification_period_days
    letter = letters.render(
        "clarification",
        s.applicant_name,
        office=ctx.office,
        today=ctx.today,
        received_on=s.received_on.isoformat(),
        items=c.items,
        period_days=period,
    )
    return ClarificationRequested(case_id=s.case_id, items=c.items, period_days=period, letter=letter)


def _clarified(s: CaseState, c: ReceiveClarification, ctx: Context) -> EventBody:
    if c.received_on > ctx.today or c.received_on < (s.clarification_requested_on or c.received_on):
        raise reject("the correction's receipt date must lie between the notice and today")
    return ClarificationReceived(case_id=s.case_id, received_on=c.received_on, summary=c.summary)


def _abandon(s: CaseState, c: Abandon, ctx: Context) -> EventBody:
    due = _due(ctx, s.clarification_requested_on, s.clarification_period_days or 0)
    if ctx.today <= due:
        raise reject(f"the correction period runs until {due}")
    r = BY_CODE["other.no_clarification"]
    return ApplicationAbandoned(
        case_id=s.case_id, outcome_code=r.code, report_row=r.report_row, reason=r.label
    )


def _consult(s: CaseState, c: StartConsultation, ctx: Context) -> EventBody:
    p = _profile(s, ctx)
    days = p.third_party_reply_days if c.party_kind == PartyKind.third_party else p.co_producer_reply_days
    letter = letters.render(
        "consultation",
        c.party,
        office=ctx.office,
        today=ctx.today,
        party=c.party,
        party_kind=c.party_kind.value,
        description=s.description,
        matter=c.matter,
        reply_days=days,
        silent=p.silent_third_party,
    )
    return ConsultationStarted(
        case_id=s.case_id,
        consultation_id=ctx.new_id,
        party_kind=c.party_kind,
        party=c.party,
        matter=c.matter,
        reply_days=days,
        started_on=ctx.today,
        letter=letter,
    )


def _reply(s: CaseState, c: RecordReply, ctx: Context) -> EventBody:
    con = s.consultations.get(c.consultation_id)
    if con is None or con.reply is not None:
        raise reject(f"no open consultation {c.consultation_id}")
    effective = c.reply
    if c.reply == Reply.silent:
        due = _due(ctx, con.started_on, con.reply_days)
        if ctx.today <= due:
            raise reject(f"the party may still reply until {due}")
        p = _profile(s, ctx)
        if con.party_kind == PartyKind.third_party:
            effective = Reply.refuse if p.silent_third_party == "deemed_refusal" else Reply.silent
        else:
            effective = Reply.consent if p.silent_co_producer == "deemed_consent" else Reply.silent
    if c.reply == Reply.refuse and not c.grounds:
        raise reject("a refusal records the party's grounds")
    return ConsultationReplied(
        case_id=s.case_id,
        consultation_id=c.consultation_id,
        reply=c.reply,
        effective=effective,
        grounds=c.grounds,
        replied_on=ctx.today,
    )


def _override(s: CaseState, c: Override, ctx: Context) -> EventBody:
    con = s.consultations.get(c.consultation_id)
    if con is None or con.party_kind != "third_party" or con.effective != "refuse" or con.overridden:
        raise reject("only a third party's refusal can be overridden, once")
    letter = letters.render(
        "override_notice",
        con.party,
        office=ctx.office,
        today=ctx.today,
        party=con.party,
        description=s.description,
        reason=c.reason,
    )
    return PublicInterestOverride(
        case_id=s.case_id, consultation_id=c.consultation_id, reason=c.reason, letter=letter
    )


def _confidentiality(s: CaseState, c: ReviewConfidentiality, ctx: Context) -> EventBody:
    return ConfidentialityReviewed(case_id=s.case_id, passed=c.passed, notes=c.notes)


def _draft(s: CaseState, c: Draft, ctx: Context) -> EventBody:
    if discloses(c.outcome) and not s.confidentiality_passed:
        raise reject("保密审查未通过，不能公开 (no disclosure without a passed confidentiality review)")
    if c.outcome == Outcome.disclose and s.third_party_objects and c.code == "disclose":
        raise reject("第三方不同意公开：应部分公开、不予公开，或以公共利益决定公开")
    for p in c.withheld_parts:
        if _normal(p.part) and _normal(p.part) in _normal(c.disclosed_content or ""):
            raise reject(f"withheld part {p.part!r} appears in the disclosed content")
    r = BY_CODE[c.code]
    return DecisionDrafted(
        case_id=s.case_id,
        draft_id=ctx.new_id,
        outcome=c.outcome,
        outcome_code=r.code,
        legal_basis=c.legal_basis or r.legal_basis,
        title=c.title or " ".join(s.description.split())[:300],  # a title is one line
        disclosed_content=c.disclosed_content,
        withheld_parts=[WithheldPart(part=p.part, reason=p.reason) for p in c.withheld_parts],
        responsible_agency=c.responsible_agency,
        published_at=c.published_at,
        note=c.note,
    )


def _reject_draft(s: CaseState, c: RejectDraft, ctx: Context) -> EventBody:
    return DraftRejected(case_id=s.case_id, draft_id=s.draft.draft_id, reason=c.reason)


def _sign(s: CaseState, c: SignOff, ctx: Context) -> EventBody:
    d = s.draft
    if ctx.actor.id == d.drafted_by:
        raise reject("签发人不能是拟稿人 (the approver must not be the drafter)")
    outcome = Outcome(d.outcome)
    common = dict(
        case_id=s.case_id,
        outcome=outcome,
        legal_basis=d.legal_basis,
        note=d.note,
        outcome_code=d.outcome_code,
        draft_id=d.draft_id,
        drafted_by=d.drafted_by,
        reasons=[BY_CODE[d.outcome_code].reason] if BY_CODE[d.outcome_code].reason else [],
    )
    if discloses(outcome):
        return ReviewApproved(
            **common,
            title=d.title,
            disclosed_content=d.disclosed_content or "",
            withheld_parts=[WithheldPart(**p) for p in d.withheld_parts],
        )
    refused = outcome == Outcome.withhold
    return DecisionRecorded(
        **common, responsible_agency=d.responsible_agency, description=s.description if refused else None
    )


def _extend(s: CaseState, c: Extend, ctx: Context) -> EventBody:
    p = _profile(s, ctx)
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


def _answer(s: CaseState, c: SendAnswer, ctx: Context) -> EventBody:
    d = s.draft
    letter = letters.answer_letter(
        applicant=s.applicant_name,
        description=s.description,
        received_on=s.received_on,
        draft=d,
        office=ctx.office,
        reconsideration_body=ctx.reconsideration_body,
        today=ctx.today,
    )
    return AnswerSent(
        case_id=s.case_id,
        outcome=Outcome(d.outcome),
        outcome_code=d.outcome_code,
        report_row=BY_CODE[d.outcome_code].report_row,
        letter=letter,
        sent_on=ctx.today,
    )


def _withdraw(s: CaseState, c: Withdraw, ctx: Context) -> EventBody:
    return ApplicationWithdrawn(case_id=s.case_id, reason=c.reason)


def _archive(s: CaseState, c: Archive, ctx: Context) -> EventBody:
    return CaseArchived(case_id=s.case_id)


_RULES = {
    "register": _register, "assign": _assign, "give_feedback": _feedback,
    "request_clarification": _clarify, "receive_clarification": _clarified, "abandon": _abandon,
    "start_consultation": _consult, "record_reply": _reply, "override": _override,
    "review_confidentiality": _confidentiality, "draft": _draft, "reject_draft": _reject_draft,
    "sign_off": _sign, "extend": _extend, "send_answer": _answer, "withdraw": _withdraw,
    "archive": _archive,
}  # fmt: skip
