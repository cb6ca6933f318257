"""Event schemas: the contract between the services, one pydantic model per type and version.

A breaking change is a new version registered beside the old one; readers accept every
version ever written. ``gongkai schemas`` exports these models as JSON Schema.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from .envelope import TYPE_PREFIX, Actor, Envelope, new_id, utcnow
from .outcomes import Outcome

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
    phone: str | None = Field(default=None, min_length=3, max_length=40)
    address: str | None = Field(default=None, min_length=2, max_length=500)


class Applicant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=200)
    type: ApplicantType
    id_number: str | None = Field(default=None, max_length=64)
    contact: Contact


class WithheldPart(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    part: str = Field(min_length=1, max_length=2000)
    reason: str  # a withhold reason of outcomes.WITHHOLD_REASONS


# --- intake ------------------------------------------------------------------------------


@event("request-received", context="intake")
class RequestReceived(EventBody):
    """收到政府信息公开申请. Personal data: stays in the internal log only."""

    case_id: str
    tracking_hash: str  # SHA-256 of the tracking code; the code itself is never stored
    applicant: Applicant
    description: str
    form: Form
    delivery: Delivery
    channel: Channel
    purpose: str | None = None
    received_on: date  # 收到申请之日: the legal receipt date that starts the clock
    entered_at: datetime


@event("withdrawal-requested", context="intake")
class WithdrawalRequested(EventBody):
    """The applicant withdrew the application (by tracking code); review closes the case."""

    case_id: str
    reason: str


# --- review ------------------------------------------------------------------------------


@event("review-approved", context="review")
class ReviewApproved(EventBody):
    """A decision to disclose (fully or partly) was signed off: publishing puts the disclosed
    information in the catalogue. The actor is the approver who signed (签发)."""

    case_id: str
    outcome: Outcome
    reasons: list[str] = []
    legal_basis: str
    title: str
    disclosed_content: str
    note: str | None = None
    outcome_code: str | None = None  # the report row (outcomes.ROWS); absent in skeleton events
    draft_id: str | None = None
    drafted_by: str | None = None  # the signer is the event's actor, never the drafter
    withheld_parts: list[WithheldPart] = []  # partial disclosure: what was not disclosed, and why


@event("decision-recorded", context="review")
class DecisionRecorded(EventBody):
    """A decision that discloses nothing (withhold, not held, not processed …) was signed off."""

    case_id: str
    outcome: Outcome
    reasons: list[str]
    legal_basis: str
    note: str | None = None
    responsible_agency: str | None = None
    outcome_code: str | None = None
    draft_id: str | None = None
    drafted_by: str | None = None
    description: str | None = None  # the information refused: feeds the refusal register


# --- the review workflow (依申请公开办理) -------------------------------------------------------


class PartyKind(StrEnum):
    third_party = "third_party"  # 第三方 (Art. 32)
    agency = "agency"  # 其他行政机关
    co_producer = "co_producer"  # 共同制作机关 (Art. 33)


class Reply(StrEnum):
    consent = "consent"
    refuse = "refuse"
    silent = "silent"


class Letter(BaseModel):
    """A notice rendered in Chinese and kept with the event that sends it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str  # receipt | clarification | extension | consultation | answer | override_notice
    title: str
    body: str
    recipient: str


@event("case-registered", context="review")
class CaseRegistered(EventBody):
    """登记: the registrar confirms the receipt date and the rule profile the case runs under."""

    case_id: str
    received_on: date
    profile: str  # name@version
    possible_repeat_of: list[str] = []


@event("departments-assigned", context="review")
class DepartmentsAssigned(EventBody):
    case_id: str
    departments: list[str]
    feedback_days: int | None = None


@event("department-feedback-given", context="review")
class DepartmentFeedbackGiven(EventBody):
    case_id: str
    department: str
    holds_information: bool
    summary: str


@event("clarification-requested", context="review")
class ClarificationRequested(EventBody):
    """补正告知: one consolidated notice; the answer deadline stops until the correction."""

    case_id: str
    items: list[str]
    period_days: int
    letter: Letter


@event("clarification-received", context="review")
class ClarificationReceived(EventBody):
    """The corrected application arrived: the answer deadline runs anew from ``received_on``."""

    case_id: str
    received_on: date
    summary: str


@event("consultation-started", context="review")
class ConsultationStarted(EventBody):
    """征求意见: the time the party takes is not counted (the clock pauses)."""

    case_id: str
    consultation_id: str
    party_kind: PartyKind
    party: str
    matter: str
    reply_days: int
    started_on: date
    letter: Letter


@event("consultation-replied", context="review")
class ConsultationReplied(EventBody):
    """The party answered, or stayed silent past its period; ``effective`` applies the profile."""

    case_id: str
    consultation_id: str
    reply: Reply
    effective: Reply  # silence read per profile: consent, refuse, or (agency decides) silent
    grounds: str | None = None
    replied_on: date


@event("public-interest-override", context="review")
class PublicInterestOverride(EventBody):
    """Disclosure over a third party's objection (Art. 32): the party gets a written notice."""

    case_id: str
    consultation_id: str
    reason: str
    letter: Letter


@event("confidentiality-reviewed", context="review")
class ConfidentialityReviewed(EventBody):
    """保密审查."""

    case_id: str
    passed: bool
    notes: str


@event("decision-drafted", context="review")
class DecisionDrafted(EventBody):
    case_id: str
    draft_id: str
    outcome: Outcome
    outcome_code: str
    legal_basis: str
    title: str
    disclosed_content: str | None = None
    withheld_parts: list[WithheldPart] = []
    responsible_agency: str | None = None
    published_at: str | None = None  # where, for information already proactively published
    note: str | None = None


@event("draft-rejected", context="review")
class DraftRejected(EventBody):
    case_id: str
    draft_id: str
    reason: str


@event("extension-approved", context="review")
class ExtensionApproved(EventBody):
    """延期答复, approved by the office head; the applicant is told."""

    case_id: str
    working_days: int
    reason: str
    letter: Letter


@event("answer-sent", context="review")
class AnswerSent(EventBody):
    """答复: the answer letter went out. The clock stops here."""

    case_id: str
    outcome: Outcome
    outcome_code: str
    report_row: str
    letter: Letter
    sent_on: date


@event("application-abandoned", context="review")
class ApplicationAbandoned(EventBody):
    """视为放弃: no correction in the period, or a fee not paid."""

    case_id: str
    outcome_code: str
    report_row: str
    reason: str


@event("application-withdrawn", context="review")
class ApplicationWithdrawn(EventBody):
    case_id: str
    reason: str


@event("case-archived", context="review")
class CaseArchived(EventBody):
    """归档."""

    case_id: str


# --- publishing --------------------------------------------------------------------------


@event("published", context="publishing")
class Published(EventBody):
    """An item entered the public catalogue. Carries no personal data: other agencies read it."""

    item_id: str
    index_number: str  # 索引号, never reused
    index_year: int
    index_seq: int
    title: str
    content: str
    agency_code: str
    source_case_id: str | None = None
    approval_event_id: str | None = None
    published_on: date


@event("publication-refused", context="publishing")
class PublicationRefused(EventBody):
    """Publishing refused an approval: the information is in the refusal register (seed Art. 25)."""

    item_id: str
    source_case_id: str | None
    approval_event_id: str
    refused_case_id: str  # the case whose refusal registered the information
    reason: str


# --- notify ------------------------------------------------------------------------------


@event("deadline-set", context="notify")
class DeadlineSet(EventBody):
    """A deadline was computed (or recomputed) for a case."""

    case_id: str
    deadline_id: str
    kind: str  # "answer" for the answer deadline (答复期限)
    start_on: date
    working_days: int
    due_on: date
    profile: str
    calendar_version: str
    provisional: bool


@event("deadline-breached", context="notify")
class DeadlineBreached(EventBody):
    """A deadline passed with the case unanswered. Emitted exactly once per deadline."""

    case_id: str
    deadline_id: str
    kind: str
    due_on: date
    detected_at: datetime


@event("deadline-suspended", context="notify")
class DeadlineSuspended(EventBody):
    """A recorded deadline stopped running: 补正 pending (it will run anew) or 征求意见 open."""

    case_id: str
    deadline_id: str
    kind: str
    reason: str  # "clarification" (suspended, runs anew) | "consultation" (paused, resumes)
    since: date | None = None
    cause_event_id: str | None = None


@event("deadline-warning", context="notify")
class DeadlineWarning(EventBody):
    """A deadline is near: ``working_days_left`` working days after today up to its due day."""

    case_id: str
    deadline_id: str
    kind: str
    due_on: date
    working_days_left: int
    warn_days: int


@event("calendar-loaded", context="notify")
class CalendarLoaded(EventBody):
    """An operator loaded a year's working-day schedule from the published notice.

    Aggregate ``calendar-<year>``; a later load of the same year is a new revision.
    """

    year: int
    holidays: list[date]
    adjusted_working_days: list[date]  # 调休: weekend days that are working days
    source: str  # the notice, e.g. 国务院办公厅关于2027年部分节假日安排的通知
    revision: int = 1


@event("notice-delivery-attempted", context="notify")
class NoticeDeliveryAttempted(EventBody):
    """One attempt to deliver a notice on one channel, and how it went."""

    case_id: str
    notice_id: str
    delivery_id: str
    kind: str  # receipt | clarification | extension | consultation | answer | warning | ...
    channel: str  # email | webhook
    recipient: str  # masked e-mail address or the webhook URL
    attempt: int
    status: str  # sent | retrying | failed
    error: str | None = None
    attempted_at: datetime
