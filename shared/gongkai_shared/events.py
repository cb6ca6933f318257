"""Event schemas: the contract between the services, one pydantic model per type and version.

A breaking change is a new version registered beside the old one; readers accept every
version ever written. ``gongkai schemas`` exports these models as JSON Schema.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .envelope import TYPE_PREFIX, Actor, Envelope, new_id, utcnow
from .filerefs import FileRef
from .information import Attribute, DocumentKind, DocumentRef, WithheldDocument
from .outcomes import Outcome
from .profiles import PROFILES
from .text import LINE, line, paragraph

CONTEXTS = ("intake", "review", "publishing", "notify", "trust")
SERVICE_CONTEXTS = CONTEXTS[:4]  # "trust" is written only with the operator's root key


class EventBody(BaseModel):
    """Base of every event body. ``name``/``context``/``version`` are set by :func:`event`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: ClassVar[str]
    context: ClassVar[str]
    version: ClassVar[int]


REGISTRY: dict[str, type[EventBody]] = {}
B = TypeVar("B", bound=type[EventBody])


def event(name: str, *, context: str, version: int = 1):  # noqa: ANN201
    """Register an event body class under ``name`` and ``version``, written only by ``context``."""
    assert context in CONTEXTS, context

    def register(cls: B) -> B:
        cls.name, cls.context, cls.version = name, context, version
        REGISTRY[type_of(name, version)] = cls
        return cls

    return register


def type_of(name: str, version: int) -> str:
    return f"{TYPE_PREFIX}{name}.v{version}"


class UnknownEventType(ValueError):
    pass


def subject_for(context: str, aggregate_id: str, name: str) -> str:
    """``foi.<context>.<aggregate-id>.<event-type>``; the context is the only writer."""
    return f"foi.{context}.{aggregate_id}.{name}"


def aggregate_filter(aggregate_id: str) -> str:
    """The whole history of one aggregate, whichever service wrote it."""
    return f"foi.*.{aggregate_id}.>"


def make_event(
    body: EventBody,
    *,
    aggregate_id: str,
    actor: Actor,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
) -> Envelope:
    eid = event_id or new_id()
    return Envelope(
        id=eid,
        source=f"/gongkai/{body.context}",
        type=type_of(body.name, body.version),
        subject=aggregate_id,
        time=time or utcnow(),
        dataschema=f"urn:gongkai:schema:{body.name}:v{body.version}",
        actor=actor.id,
        actorrole=actor.role,
        correlationid=correlation_id or eid,
        causationid=causation_id or eid,
        data=body.model_dump(mode="json", exclude_none=True),
    )


def parse_body(env: Envelope) -> EventBody:
    cls = REGISTRY.get(env.type)
    if cls is None:
        raise UnknownEventType(env.type)
    return cls.model_validate(env.data)


def json_schemas() -> dict[str, dict[str, Any]]:
    return {t: cls.model_json_schema() for t, cls in sorted(REGISTRY.items())}


# --- bounded values: every projection can store them and compute with them ---------------
# Text is a Line or a Paragraph (gongkai_shared.text) of a bounded length; dates lie between
# FIRST_DAY and LAST_DAY (the clock adds working days to them); numbers fit PostgreSQL's integer.

FIRST_DAY, LAST_DAY = date(1990, 1, 1), date(2999, 12, 31)


def _day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise PydanticCustomError(
            "date_out_of_range", f"日期须在 {FIRST_DAY} 至 {LAST_DAY} 之间 (date out of range)"
        )
    return value


def _instant(value: datetime) -> datetime:
    _day(value.date())
    return value


Day = Annotated[
    date,
    AfterValidator(_day),
    Field(json_schema_extra={"formatMinimum": FIRST_DAY.isoformat(), "formatMaximum": LAST_DAY.isoformat()}),
]
Instant = Annotated[
    datetime,
    AfterValidator(_instant),
    Field(
        json_schema_extra={
            "formatMinimum": f"{FIRST_DAY.isoformat()}T00:00:00+14:00",
            "formatMaximum": f"{LAST_DAY.isoformat()}T23:59:59-12:00",
        }
    ),
]
Year = Annotated[int, Field(ge=FIRST_DAY.year, le=LAST_DAY.year)]
WorkingDays = Annotated[int, Field(ge=1, le=365)]  # a period the clock counts
Count = Annotated[int, Field(ge=0, le=100_000)]
Id = Annotated[str, line(200, min_length=1)]  # case, draft, consultation, deadline, notice, item, event ids
Code = Annotated[str, line(100, min_length=1)]  # outcome and report codes, kinds, statuses, reasons' codes
Title = Annotated[str, line(300, min_length=1)]
Text = Annotated[str, paragraph(5000)]  # reasons, notes, summaries, grounds
ProfileRef = Annotated[
    str, StringConstraints(max_length=100, pattern=rf"^({'|'.join(PROFILES)})(@[0-9]{{1,6}})?$"), LINE
]  # name@version of a rule profile (profiles.PROFILES)


# --- the vocabulary ---------------------------------------------------------------------


class ApplicantType(StrEnum):
    """申请人类型, the columns of the annual report's table 三."""

    natural_person = "natural_person"  # 自然人
    commercial_enterprise = "commercial_enterprise"  # 商业企业
    research_institution = "research_institution"  # 科研机构
    public_interest_org = "public_interest_org"  # 社会公益组织
    legal_service_org = "legal_service_org"  # 法律服务机构
    other_org = "other_org"  # 其他


class Form(StrEnum):
    """所需信息的提供形式."""

    paper = "paper"
    electronic = "electronic"
    inspection = "inspection"


class Delivery(StrEnum):
    """获取信息的方式."""

    email = "email"
    post = "post"
    pickup = "pickup"
    online = "online"


class Channel(StrEnum):
    """How the application reached the office; it decides what the receipt date is."""

    online = "online"
    letter = "letter"
    fax = "fax"
    in_person = "in_person"


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    email: EmailStr | None = None
    phone: Annotated[str, line(40, min_length=3)] | None = None
    address: Annotated[str, line(500, min_length=2)] | None = None


class Applicant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Annotated[str, line(200, min_length=1)]
    type: ApplicantType
    id_number: Annotated[str, line(64)] | None = None
    contact: Contact


class WithheldPart(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    part: Annotated[str, paragraph(2000, min_length=1)]
    reason: Code  # a withhold reason of outcomes.PART_REASONS
    # why this part, in this case (Art. 36(3), 37); absent in events before issue 9
    explanation: Annotated[str, paragraph(2000)] | None = None


# --- intake ------------------------------------------------------------------------------


@event("request-received", context="intake")
class RequestReceived(EventBody):
    """收到政府信息公开申请. Personal data: stays in the internal log only."""

    case_id: Id
    tracking_hash: Annotated[
        str, line(128, min_length=1)
    ]  # SHA-256 of the tracking code; the code is never stored
    applicant: Applicant
    description: Annotated[str, paragraph(5000, min_length=1)]
    form: Form
    delivery: Delivery
    channel: Channel
    purpose: Annotated[str, paragraph(2000)] | None = None
    received_on: Day  # 收到申请之日: the legal receipt date that starts the clock
    entered_at: Instant
    # 身份证明 (Art. 29): an uploaded proof, encrypted in the object store (files.py), or a
    # registrar's note that it was seen in person; both absent in events before issue 9
    identity_proof: FileRef | None = None
    identity_seen: Text | None = None


@event("withdrawal-requested", context="intake")
class WithdrawalRequested(EventBody):
    """The applicant withdrew the application (by tracking code); review closes the case."""

    case_id: Id
    reason: Text


# --- review ------------------------------------------------------------------------------


@event("review-approved", context="review")
class ReviewApproved(EventBody):
    """A decision to disclose (fully or partly) was signed off: publishing puts the disclosed
    information in the catalogue. The actor is the approver who signed (签发)."""

    case_id: Id
    outcome: Outcome
    reasons: list[Code] = Field(default=[], max_length=10)
    legal_basis: Annotated[str, paragraph(2000)]
    title: Title
    disclosed_content: Annotated[str, paragraph(100_000)]
    note: Text | None = None
    outcome_code: Code | None = None  # the report row (outcomes.ROWS); absent in skeleton events
    draft_id: Id | None = None
    drafted_by: Id | None = None  # the signer is the event's actor, never the drafter
    # partial disclosure: what was not disclosed, and why
    withheld_parts: list[WithheldPart] = Field(default=[], max_length=50)
    # issue 10: the documents (政府信息) it discloses and those it withholds, whole or in part;
    # the withheld ones enter the refusal register (information.register_entries)
    documents: list[DocumentRef] = Field(default=[], max_length=50)
    withheld_documents: list[WithheldDocument] = Field(default=[], max_length=50)


@event("decision-recorded", context="review")
class DecisionRecorded(EventBody):
    """A decision that discloses nothing (withhold, not held, not processed …) was signed off."""

    case_id: Id
    outcome: Outcome
    reasons: list[Code] = Field(max_length=10)
    legal_basis: Annotated[str, paragraph(2000)]
    note: Text | None = None
    responsible_agency: Annotated[str, line(300)] | None = None
    outcome_code: Code | None = None
    draft_id: Id | None = None
    drafted_by: Id | None = None
    description: Annotated[str, paragraph(5000)] | None = (
        None  # the information refused (refusals only, outcomes.is_refusal): the refusal register
    )
    reason_text: Annotated[str, paragraph(5000)] | None = None  # the case's own reasons (Art. 36(3))
    # issue 10: the documents (政府信息) it discloses and those it withholds, whole or in part;
    # the withheld ones enter the refusal register (information.register_entries)
    documents: list[DocumentRef] = Field(default=[], max_length=50)
    withheld_documents: list[WithheldDocument] = Field(default=[], max_length=50)


# --- the review workflow (依申请公开办理) -------------------------------------------------------


class PartyKind(StrEnum):
    third_party = "third_party"  # 第三方 (Art. 32)
    agency = "agency"  # 其他行政机关
    co_producer = "co_producer"  # 共同制作机关 (Art. 33)


class Reply(StrEnum):
    consent = "consent"
    refuse = "refuse"
    silent = "silent"
    # effective only: a third party refused without reasonable grounds; the agency decides (Art. 32)
    grounds_unreasonable = "grounds_unreasonable"


class Letter(BaseModel):
    """A notice rendered in Chinese and kept with the event that sends it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Code  # receipt | clarification | extension | consultation | answer | override_notice
    title: Title
    body: Annotated[str, paragraph(500_000)]
    recipient: Annotated[str, line(300)]
    # issue 9 (official documents): the document number (发文字号) assigned when the letter's event
    # was decided, and the date it bears; letters written before have neither
    number: Annotated[str, line(100)] | None = None
    issued_on: Day | None = None


@event("case-registered", context="review")
class CaseRegistered(EventBody):
    """登记: the registrar confirms the receipt date and the rule profile the case runs under."""

    case_id: Id
    received_on: Day
    profile: ProfileRef  # name@version
    possible_repeat_of: list[Id] = Field(default=[], max_length=100)


@event("departments-assigned", context="review")
class DepartmentsAssigned(EventBody):
    case_id: Id
    departments: list[Annotated[str, line(200, min_length=1)]] = Field(max_length=20)
    feedback_days: WorkingDays | None = None


@event("department-feedback-given", context="review")
class DepartmentFeedbackGiven(EventBody):
    case_id: Id
    department: Annotated[str, line(200, min_length=1)]
    holds_information: bool
    summary: Text
    # issue 10 (review, optional): the documents (政府信息) the department's search found
    documents: list[DocumentRef] = Field(default=[], max_length=50)


@event("clarification-requested", context="review")
class ClarificationRequested(EventBody):
    """补正告知: one consolidated notice; the answer deadline stops until the correction."""

    case_id: Id
    items: list[Annotated[str, paragraph(2000)]] = Field(max_length=30)
    period_days: WorkingDays
    letter: Letter


@event("clarification-received", context="review")
class ClarificationReceived(EventBody):
    """The corrected application arrived: the answer deadline runs anew from ``received_on``."""

    case_id: Id
    received_on: Day
    summary: Text
    # the corrected request, as the applicant wrote it: the answer letter quotes it (absent before issue 9)
    corrected_request: Annotated[str, paragraph(5000)] | None = None


@event("consultation-started", context="review")
class ConsultationStarted(EventBody):
    """征求意见: the time the party takes is not counted (the clock pauses)."""

    case_id: Id
    consultation_id: Id
    party_kind: PartyKind
    party: Annotated[str, line(300, min_length=1)]
    matter: Text
    reply_days: WorkingDays
    started_on: Day
    letter: Letter


@event("consultation-replied", context="review")
class ConsultationReplied(EventBody):
    """The party answered, or stayed silent past its period; ``effective`` applies the profile."""

    case_id: Id
    consultation_id: Id
    reply: Reply
    effective: Reply  # silence read per profile: consent, refuse, or (agency decides) silent
    grounds: Text | None = None
    replied_on: Day
    # Art. 32: a refusal binds only with reasonable grounds; why the office finds them not so
    grounds_reasonable: bool | None = None
    assessment: Text | None = None


class DeliveredNotice(StrEnum):
    """The notices whose day of receipt starts someone else's period."""

    consultation = "consultation"  # 征求意见书: the party's period (Art. 32, 34)
    clarification = "clarification"  # 补正告知书: the applicant's correction period (Art. 30)
    fee = "fee"  # 收费通知书: the applicant's payment period (109号)


@event("notice-delivered", context="review")
class NoticeDelivered(EventBody):
    """送达: the day the recipient received a notice (a registrar enters it from the post's return
    receipt): a consulted party's letter (``consultation_id`` names it; Art. 32, 34), or the
    applicant's clarification notice (Art. 30) or fee notice (109号). The recipient's period runs
    from it; it wins over the presumed delivery time and over an e-mail's record. Events before
    the clarification and fee notices carry no ``notice``: a consultation's."""

    case_id: Id
    consultation_id: Id | None = None
    delivered_on: Day
    notice: DeliveredNotice = DeliveredNotice.consultation

    @model_validator(mode="after")
    def _names_its_letter(self) -> NoticeDelivered:
        if (self.notice == DeliveredNotice.consultation) != (self.consultation_id is not None):
            raise ValueError("consultation_id: names the consultation letter, and only it")
        return self


@event("public-interest-override", context="review")
class PublicInterestOverride(EventBody):
    """Disclosure over a third party's objection (Art. 32): the party gets a written notice of the
    content to be disclosed, the reasons and its remedies. ``basis``: ``public_interest`` (its
    refusal had reasonable grounds) or ``grounds_unreasonable``."""

    case_id: Id
    consultation_id: Id
    reason: Text
    letter: Letter
    content: Annotated[str, paragraph(100_000)] | None = None  # absent before issue 9
    basis: Code = "public_interest"


@event("confidentiality-reviewed", context="review")
class ConfidentialityReviewed(EventBody):
    """保密审查."""

    case_id: Id
    passed: bool
    notes: Text


@event("decision-drafted", context="review")
class DecisionDrafted(EventBody):
    case_id: Id
    draft_id: Id
    outcome: Outcome
    outcome_code: Code
    legal_basis: Annotated[str, paragraph(2000)]
    title: Title
    disclosed_content: Annotated[str, paragraph(100_000)] | None = None
    withheld_parts: list[WithheldPart] = Field(default=[], max_length=50)
    responsible_agency: Annotated[str, line(300)] | None = None
    published_at: Annotated[str, line(500)] | None = (
        None  # where, for information already proactively published
    )
    note: Text | None = None
    # 36(5): how to reach the responsible agency; Art. 36(3): the case's own reasons of a refusal
    responsible_agency_contact: Annotated[str, line(500)] | None = None
    reason_text: Annotated[str, paragraph(5000)] | None = None
    # issue 10: the documents (政府信息) it discloses and those it withholds, whole or in part;
    # the withheld ones enter the refusal register (information.register_entries)
    documents: list[DocumentRef] = Field(default=[], max_length=50)
    withheld_documents: list[WithheldDocument] = Field(default=[], max_length=50)


@event("draft-rejected", context="review")
class DraftRejected(EventBody):
    case_id: Id
    draft_id: Id
    reason: Text


@event("extension-approved", context="review")
class ExtensionApproved(EventBody):
    """延期答复, approved by the office head; the applicant is told."""

    case_id: Id
    working_days: WorkingDays
    reason: Text
    letter: Letter


@event("answer-sent", context="review")
class AnswerSent(EventBody):
    """答复: the answer letter went out. The clock stops here."""

    case_id: Id
    outcome: Outcome
    outcome_code: Code
    report_row: Code
    letter: Letter
    sent_on: Day
    # the disclosed documents sent with the answer (public, in the object store); absent before
    # issue 9
    documents: list[FileRef] | None = Field(default=None, max_length=50)
    # issue 10: the documents (政府信息) this answer discloses, as the signed decision named them
    disclosed_documents: list[DocumentRef] = Field(default=[], max_length=50)


@event("document-attached", context="review")
class DocumentAttached(EventBody):
    """A document to be disclosed with the answer (公开的政府信息), stored in the object store
    and referenced by its hash; sent with the answer that follows."""

    case_id: Id
    document: FileRef
    title: Title


@event("application-abandoned", context="review")
class ApplicationAbandoned(EventBody):
    """视为放弃: no correction in the period, or a fee not paid."""

    case_id: Id
    outcome_code: Code
    report_row: Code
    reason: Text


@event("application-withdrawn", context="review")
class ApplicationWithdrawn(EventBody):
    """撤回: the case ends in its report row (三.（六）.3 其他). Events before issue 9 carry no
    code: readers take ``outcomes.WITHDRAWN``."""

    case_id: Id
    reason: Text
    outcome_code: Code | None = None
    report_row: Code | None = None


@event("case-archived", context="review")
class CaseArchived(EventBody):
    """归档."""

    case_id: Id


# --- fees (国办函〔2020〕109号) and excessive requests (条例 第三十五条) ----------------------------


class FeeBasis(StrEnum):
    """One basis per application (109号): by the applicant's number of applications in a calendar
    month (按件计收), or by the pages of paper or copies of this application (按量计收)."""

    per_application = "per_application"
    per_volume = "per_volume"


class FeeLine(BaseModel):
    """One band of the calculation: how many units (applications or pages) at which rate."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    band: Annotated[str, line(100, min_length=1)]  # e.g. "31—100页"
    units: Annotated[int, Field(ge=0, le=1_000_000)]
    rate_yuan: Annotated[int, Field(ge=0, le=100_000)]
    amount_yuan: Annotated[int, Field(ge=0, le=100_000_000)]


@event("fee-notice-issued", context="review")
class FeeNoticeIssued(EventBody):
    """收费通知书 (109号): the amount and its calculation. From ``notified_on`` until the payment the
    answer period is not counted; the applicant pays within ``payment_days`` working days of
    ``delivered_on`` (the day the notice reached them: presumed until a delivery record says)."""

    case_id: Id
    basis: FeeBasis
    month: Annotated[str, line(7, min_length=7)] | None = None  # per application: "2026-03"
    ordinal: Annotated[int, Field(ge=1, le=100_000)] | None = None  # its number in that month
    pages: Annotated[int, Field(ge=1, le=1_000_000)] | None = None  # per volume
    lines: list[FeeLine] = Field(max_length=20)
    amount_yuan: Annotated[int, Field(ge=1, le=100_000_000)]
    notified_on: Day
    delivered_on: Day
    delivery_presumed: bool = True
    payment_days: WorkingDays
    letter: Letter


@event("fee-paid", context="review")
class FeePaid(EventBody):
    """缴费, recorded by a registrar: the answer period counts again from the next day.
    ``amount_yuan`` is what the annual report sums as fees collected (收费金额)."""

    case_id: Id
    amount_yuan: Annotated[int, Field(ge=1, le=100_000_000)]
    paid_on: Day
    receipt: Annotated[str, line(100)] | None = None


@event("excessive-reasons-requested", context="review")
class ExcessiveReasonsRequested(EventBody):
    """条例 第三十五条: applications clearly beyond a reasonable number or frequency; the applicant
    is asked to give reasons (the letter)."""

    case_id: Id
    matter: Text
    letter: Letter


@event("excessive-reasons-assessed", context="review")
class ExcessiveReasonsAssessed(EventBody):
    """第三十五条: the reasons judged by the office head. Not reasonable: 不予处理 (row 三.（五）.4,
    the answer follows); reasonable but not answerable in time: a later, reasonable answer date
    (``answer_by``) told to the applicant (the letter), which becomes the answer deadline."""

    case_id: Id
    reasonable: bool
    assessment: Text
    answer_by: Day | None = None
    letter: Letter | None = None


# --- form of provision, corrections of records, appeals (Art. 40, 41; 行政复议法, 行政诉讼法) ---


@event("provision-arranged", context="review")
class ProvisionArranged(EventBody):
    """Art. 40: how the information will be provided (提供形式). The applicant's requested form
    unless it would endanger the carrier or cost too much (``reason``); an inspection (查阅) has
    an appointment: a time and a place, stated in the answer letter."""

    case_id: Id
    form: Form
    requested_form: Form
    reason: Text | None = None
    inspection_at: Instant | None = None
    inspection_place: Annotated[str, line(300, min_length=1)] | None = None


class CorrectionOutcome(StrEnum):
    """How a request to correct a record (Art. 41) was answered."""

    corrected = "corrected"  # 予以更正
    refused = "refused"  # 不予更正: not shown to be inaccurate
    referred = "referred"  # 转送或告知有权更正的行政机关


@event("record-correction-requested", context="review")
class RecordCorrectionRequested(EventBody):
    """Art. 41: the applicant asks the agency to correct a record about themselves that it
    provided, with evidence that it is inaccurate."""

    case_id: Id
    correction_id: Id
    record: Annotated[str, paragraph(2000, min_length=1)]  # which record
    inaccuracy: Annotated[str, paragraph(2000, min_length=1)]  # what is wrong, the correction asked
    evidence: Annotated[str, paragraph(2000, min_length=1)]
    received_on: Day


@event("record-corrected", context="review")
class RecordCorrected(EventBody):
    """Art. 41: found inaccurate, corrected; the applicant is told."""

    case_id: Id
    correction_id: Id
    correction: Text
    letter: Letter


@event("record-correction-refused", context="review")
class RecordCorrectionRefused(EventBody):
    """Art. 41: not shown to be inaccurate; the applicant is told why."""

    case_id: Id
    correction_id: Id
    reason: Text
    letter: Letter


@event("record-correction-referred", context="review")
class RecordCorrectionReferred(EventBody):
    """Art. 41: not this agency's to correct: transferred to the agency with the power
    (``transferred``) or the applicant told to ask it; either way the applicant is told."""

    case_id: Id
    correction_id: Id
    agency: Annotated[str, line(300, min_length=1)]
    agency_contact: Annotated[str, line(300)] | None = None
    transferred: bool
    letter: Letter


class AppealKind(StrEnum):
    """The columns of the annual report's table 四."""

    reconsideration = "reconsideration"  # 行政复议
    lawsuit = "lawsuit"  # 未经复议直接起诉
    lawsuit_after_reconsideration = "lawsuit_after_reconsideration"  # 复议后起诉


class AppealResult(StrEnum):
    """A decided appeal's result (table 四); an appeal without one is 尚未审结."""

    upheld = "upheld"  # 结果维持
    corrected = "corrected"  # 结果纠正
    other = "other"  # 其他结果


@event("appeal-filed", context="review")
class AppealFiled(EventBody):
    """Administrative reconsideration or a lawsuit against the answer (or the case's other act),
    recorded by staff: the body or court, and the date it was filed."""

    case_id: Id
    appeal_id: Id
    kind: AppealKind
    body: Annotated[str, line(300, min_length=1)]  # 复议机关 or 人民法院
    filed_on: Day
    after: Id | None = None  # the reconsideration a lawsuit after reconsideration follows


@event("appeal-decided", context="review")
class AppealDecided(EventBody):
    """The reconsideration decision or the judgment (维持, 纠正, 其他结果)."""

    case_id: Id
    appeal_id: Id
    result: AppealResult
    decided_on: Day
    summary: Text | None = None


# --- publishing --------------------------------------------------------------------------


@event("published", context="publishing")
class Published(EventBody):
    """An item entered the public catalogue. Carries no personal data: other agencies read it."""

    item_id: Id
    index_number: Annotated[str, line(200, min_length=1)]  # 索引号, never reused
    index_year: Year
    index_seq: Annotated[int, Field(ge=1, le=2_147_483_647)]
    title: Title
    content: Annotated[str, paragraph(100_000)]
    agency_code: Annotated[str, line(100, min_length=1)]
    source_case_id: Id | None = None
    approval_event_id: Id | None = None
    published_on: Day


@event("publication-refused", context="publishing")
class PublicationRefused(EventBody):
    """Publishing refused an approval: the information is in the refusal register (seed Art. 25)."""

    item_id: Id
    source_case_id: Id | None = None  # None is left out of the stored event: it must default
    approval_event_id: Id
    refused_case_id: Id  # the case whose refusal registered the information
    reason: Text


@event("annual-figures-recorded", context="review")
class AnnualFiguresRecorded(EventBody):
    """The office's own figures for the annual report's table 二 (国办公开办函〔2021〕30号): decisions
    of Art. 20(5) and (6) and the administrative charges of Art. 20(8), which Gongkai does not
    handle. Aggregate ``annual-figures-<year>``; the last one recorded for a year counts."""

    year: Year
    licensing: Count  # 行政许可 本年处理决定数量
    penalties: Count  # 行政处罚
    compulsory_measures: Count  # 行政强制
    charges_yuan: Annotated[int, Field(ge=0, le=10**12)]  # 行政事业性收费 (the report prints 万元)


# --- the refusal register (review; aggregate: the entry id, information.entry_id) ---------


@event("refusal-reviewed", context="review")
class RefusalReviewed(EventBody):
    """Art. 18: a register entry was reviewed and is kept; reviewed again by ``next_review_on``."""

    entry_id: Id
    document_id: Id
    reason: Annotated[str, paragraph(5000, min_length=1)]
    next_review_on: Day


@event("refusal-lifted", context="review")
class RefusalLifted(EventBody):
    """Art. 18: circumstances changed; the entry no longer forbids disclosing the document."""

    entry_id: Id
    document_id: Id
    reason: Annotated[str, paragraph(5000, min_length=1)]
    lifted_on: Day


# --- documents and proactive disclosure (publishing; aggregate: the document id) ----------

Keyword = Annotated[str, line(50, min_length=1)]


class DocumentMetadata(BaseModel):
    """A document's identity and catalogue metadata (DOMAIN §1, §7), one version of it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: Title
    doc_number: Annotated[str, line(100)] | None = None  # 文号
    issuing_body: Annotated[str, line(300, min_length=1)]  # 发布机构
    formed_on: Day  # 成文日期
    attribute: Attribute  # 公开属性
    withheld_reasons: list[Code] = Field(default=[], max_length=10)  # 不予公开: outcomes.PART_REASONS
    withheld_explanation: Text | None = None
    category: Code  # information.CATEGORIES (条例 Art. 20)
    kind: DocumentKind = DocumentKind.document
    summary: Text  # 内容概述
    body: Annotated[str, paragraph(200_000)] = ""  # the text, searchable
    keywords: list[Keyword] = Field(default=[], max_length=20)
    files: list[FileRef] = Field(default=[], max_length=20)
    interprets: Id | None = None  # an interpretation (政策解读): the policy document it explains
    replaces: list[Id] = Field(default=[], max_length=20)  # documents this one replaces
    # Art. 20(1): regulation (规章) | normative (行政规范性文件); the annual report's table 二 counts them
    rule_type: Literal["regulation", "normative"] | None = None


@event("document-registered", context="publishing")
class DocumentRegistered(EventBody):
    """A department registered a document (version 1) with its attribute and category."""

    document_id: Id
    department: Annotated[str, line(200, min_length=1)]
    metadata: DocumentMetadata


@event("document-amended", context="publishing")
class DocumentAmended(EventBody):
    """A new version of a document (history kept); a published one is published again after its
    review and sign-off, as ``amended``. Art. 26: 20 working days from ``changed_on``."""

    document_id: Id
    document_version: Annotated[int, Field(ge=2, le=100_000)]
    metadata: DocumentMetadata
    reason: Annotated[str, paragraph(5000, min_length=1)]
    changed_on: Day


@event("document-reviewed", context="publishing")
class DocumentReviewed(EventBody):
    """保密审查 of one version of a document (Art. 17)."""

    document_id: Id
    document_version: Annotated[int, Field(ge=1, le=100_000)]  # 1 = as registered
    passed: bool
    notes: Text


@event("document-signed", context="publishing")
class DocumentSigned(EventBody):
    """签发: an approver other than the submitter signed one version for publication."""

    document_id: Id
    document_version: Annotated[int, Field(ge=1, le=100_000)]  # 1 = as registered


@event("publication-decided", context="publishing")
class PublicationDecided(EventBody):
    """Art. 44: the office decided to publish information it disclosed on request (several
    applicants asked, or public interest), after the answer was sent. Aggregate: the case, so the
    case's history shows it. The title and summary are the staff's, never the applicant's words."""

    case_id: Id
    document_ids: list[Id] = Field(min_length=1, max_length=50)
    grounds: Code  # several_applicants | public_interest
    explanation: Annotated[str, paragraph(5000, min_length=1)]


class CatalogueLink(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    document_id: Id
    index_number: Annotated[str, line(200, min_length=1)] | None = None  # once published


class CatalogueItem(BaseModel):
    """What the public catalogue and other agencies see of a published document: no personal
    data of any applicant (public events; access.PUBLIC_SUBJECTS)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    document_id: Id
    document_version: Annotated[int, Field(ge=1, le=100_000)]  # 1 = as registered
    index_number: Annotated[str, line(200, min_length=1)]  # 索引号, never reused
    index_year: Year
    index_seq: Annotated[int, Field(ge=1, le=2_147_483_647)]
    agency_code: Annotated[str, line(100, min_length=1)]
    metadata: DocumentMetadata
    published_on: Day  # 发布日期
    source: Code  # proactive | on_request (Art. 44)
    interprets: CatalogueLink | None = None  # an interpretation: its policy document
    interpretations: list[CatalogueLink] = Field(default=[], max_length=20)  # a policy: its 政策解读
    replaces: list[CatalogueLink] = Field(default=[], max_length=20)


# public events (version 2 of ``published``: a document with its metadata)


@event("published", context="publishing", version=2)
class PublishedV2(EventBody, CatalogueItem):
    """A document entered the public catalogue (public event for other agencies)."""


@event("amended", context="publishing")
class Amended(EventBody, CatalogueItem):
    """A published document's new version replaced the old in the catalogue (history kept; the
    index number stays). Public event for other agencies."""

    reason: Annotated[str, paragraph(5000, min_length=1)]
    amended_on: Day


@event("repealed", context="publishing")
class Repealed(EventBody):
    """A document was repealed (废止): its validity ends on ``repealed_on``. Public if it was
    published (``index_number``)."""

    document_id: Id
    index_number: Annotated[str, line(200, min_length=1)] | None = None
    repealed_on: Day  # 废止日期
    reason: Annotated[str, paragraph(5000, min_length=1)]
    replaced_by: CatalogueLink | None = None


@event("publication-refused", context="publishing", version=2)
class PublicationRefusedV2(EventBody):
    """Publishing refused to publish a document: a standing refusal register entry names it."""

    document_id: Id
    entry_ids: list[Id] = Field(min_length=1, max_length=50)
    reason: Text
    case_id: Id | None = None  # an Art. 44 publication: the case whose answer disclosed it


@event("index-number-assigned", context="publishing")
class IndexNumberAssigned(EventBody):
    """A 索引号 taken from the year's counter for one document (issue 10).

    Aggregate ``index-numbers-<year>``: each event takes the next number, appended only if the
    counter's last event is the one read (two publishers never take the same number); the log,
    not a database row, is the counter, so a rebuilt database can never hand out a used number."""

    document_id: Id
    agency_code: Annotated[str, line(100, min_length=1)]
    year: Year
    seq: Annotated[int, Field(ge=1, le=2_147_483_647)]
    index_number: Annotated[str, line(200, min_length=1)]


# --- notify ------------------------------------------------------------------------------


@event("deadline-set", context="notify")
class DeadlineSet(EventBody):
    """A deadline was computed (or recomputed) for a case."""

    case_id: Id
    deadline_id: Id
    kind: Code  # "answer" for the answer deadline (答复期限)
    start_on: Day
    working_days: Count
    due_on: Day
    profile: ProfileRef
    calendar_version: Annotated[str, line(2000, min_length=1)]
    provisional: bool


@event("deadline-breached", context="notify")
class DeadlineBreached(EventBody):
    """A deadline passed with the case unanswered. Emitted exactly once per deadline."""

    case_id: Id
    deadline_id: Id
    kind: Code
    due_on: Day
    detected_at: Instant


@event("deadline-suspended", context="notify")
class DeadlineSuspended(EventBody):
    """A recorded deadline stopped running: 补正 pending (it will run anew) or 征求意见 open."""

    case_id: Id
    deadline_id: Id
    kind: Code
    reason: Code  # "clarification" (suspended, runs anew) | "consultation" (paused, resumes)
    since: Day | None = None
    cause_event_id: Id | None = None


@event("deadline-warning", context="notify")
class DeadlineWarning(EventBody):
    """A deadline is near: ``working_days_left`` working days after today up to its due day."""

    case_id: Id
    deadline_id: Id
    kind: Code
    due_on: Day
    working_days_left: Count
    warn_days: Count


@event("calendar-loaded", context="notify")
class CalendarLoaded(EventBody):
    """An operator loaded a year's working-day schedule from the published notice.

    Aggregate ``calendar-<year>``; a later load of the same year is a new revision.
    """

    year: Year
    # at most 100 days each: a year keeps enough working days for every deadline to fall due
    holidays: list[Day] = Field(max_length=100)
    adjusted_working_days: list[Day] = Field(max_length=100)  # 调休: weekend days that are working days
    source: Annotated[str, line(500)]  # the notice, e.g. 国务院办公厅关于2027年部分节假日安排的通知
    revision: Annotated[int, Field(ge=1, le=100_000)] = 1


@event("notice-delivery-attempted", context="notify")
class NoticeDeliveryAttempted(EventBody):
    """One attempt to deliver a notice on one channel, and how it went."""

    case_id: Id
    notice_id: Id
    delivery_id: Id
    kind: Code  # receipt | clarification | extension | consultation | answer | warning | ...
    channel: Code  # email | webhook
    recipient: Annotated[str, line(2000)]  # masked e-mail address or the webhook URL
    attempt: Annotated[int, Field(ge=1, le=100_000)]
    status: Code  # sent | retrying | failed
    error: Text | None = None
    attempted_at: Instant


@event("letter-number-assigned", context="review")
class LetterNumberAssigned(EventBody):
    """A document number (发文字号) taken from one letter type's yearly counter.

    Aggregate ``letter-numbers-<counter>-<year>``: each event takes the next number, appended only
    if the counter's last event is the one read (so two letters never get the same number); a
    number is never taken twice, and one whose letter was then not sent stays void (a gap)."""

    counter: Code  # the letter type whose format the number fills (or a type sharing it)
    year: Year
    number: Annotated[int, Field(ge=1, le=10_000_000)]
    kind: Code  # the letter type it was taken for
    case_id: Id
