"""A case's state is only ever a fold of its events: ``evolve(state, event) -> state``. Pure.

The projection stores the folded state (JSON) with the sequence of the case's last event, so a
command handler loads it in one read; replaying the log rebuilds exactly the same states.
``STATES`` are the values of ``CaseState.status``; which command leads from one to another is
the command table's (``commands.py``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import overload

from pydantic import BaseModel, ConfigDict

from gongkai_shared.clock import OFFICE_TZ
from gongkai_shared.envelope import Envelope, derived_id
from gongkai_shared.events import WithheldPart
from gongkai_shared.information import DocumentRef, WithheldDocument
from gongkai_shared.outcomes import WITHDRAWN
from gongkai_shared.periods import notice_channel

from .case_records import RECORD_EVENTS, Appeal, Correction, Provision, record_update

OPEN = (
    "received", "registered", "assigned", "searched", "clarifying", "consulting", "reviewed",
    "drafted", "signed", "fee_due",
)  # fmt: skip
CLOSED = ("answered", "abandoned", "withdrawn", "archived")
STATES = OPEN + CLOSED
# where work on the case goes on: a consultation returns to one of them once its replies are in
WORKING = ("registered", "assigned", "searched", "reviewed")

LABELS = {
    "received": "已收到", "registered": "已登记", "assigned": "已分办", "searched": "已检索反馈",
    "clarifying": "补正中", "consulting": "征求意见中", "reviewed": "已保密审查", "drafted": "已拟定答复",
    "signed": "已签发", "answered": "已答复", "abandoned": "视为放弃", "withdrawn": "已撤回",
    "archived": "已归档", "fee_due": "待缴费",
}  # fmt: skip


class Consultation(BaseModel):
    model_config = ConfigDict(frozen=True)
    consultation_id: str
    party_kind: str
    party: str
    started_on: date
    reply_days: int
    reply: str | None = None  # consent | refuse | silent
    effective: str | None = None  # also grounds_unreasonable (Art. 32: the agency decides)
    grounds: str | None = None
    overridden: bool = False  # the party was told in writing of the disclosure over its objection
    notice_id: str = ""  # the notice notify made of the letter: its delivery record names it
    delivered_on: date | None = None  # 送达: the party's period runs from it (Art. 32, 34)


class Fee(BaseModel):
    """The fee notice (109号) and its payment."""

    model_config = ConfigDict(frozen=True)
    basis: str
    amount_yuan: int
    notified_on: date
    delivered_on: date
    payment_days: int
    resume_status: str  # where the case goes on once paid
    paid_on: date | None = None
    notice_id: str = ""  # the notice notify made of the letter: its delivery record names it
    delivery_presumed: bool = True  # an e-mail's record or a registrar's replaces the presumed day


class Draft(BaseModel):
    model_config = ConfigDict(frozen=True)
    draft_id: str
    drafted_by: str
    outcome: str
    outcome_code: str
    legal_basis: str
    title: str
    disclosed_content: str | None = None
    withheld_parts: list[WithheldPart] = []
    responsible_agency: str | None = None
    published_at: str | None = None
    note: str | None = None
    responsible_agency_contact: str | None = None
    reason_text: str | None = None
    # issue 10: the documents it discloses and those it withholds (whole or a part, Art. 37)
    documents: list[DocumentRef] = []
    withheld_documents: list[WithheldDocument] = []

    @property
    def withheld_parts_of(self) -> dict[str, set[str]]:
        """For each document, the parts this draft withholds (Art. 37)."""
        out: dict[str, set[str]] = {}
        for w in self.withheld_documents:
            if w.part is not None:
                out.setdefault(w.document.document_id, set()).add(w.part)
        return out


class CaseState(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: str
    status: str = "received"
    channel: str = ""
    applicant_name: str = ""
    applicant_key: str = ""  # who applied, for repeat detection (name + id number)
    description: str = ""
    received_on: date  # 收到申请之日 (Art. 31): set by request-received, moved by registration
    # and by a correction (Art. 30: the answer period runs anew from the corrected application)
    first_received_on: date | None = None  # the application's own receipt date: 本年新收 and the fee month
    payer_key: str = ""  # "the same applicant" of the fee bands (109号): see payer_key()
    corrected_on: date | None = None  # the corrected application's receipt date (Art. 30)
    corrected_request: str | None = None
    profile: str | None = None
    possible_repeat_of: list[str] = []
    departments: list[str] = []
    feedback: dict[str, bool] = {}
    found_documents: list[DocumentRef] = []  # issue 10: the documents the departments' search found
    clarification_requested_on: date | None = None
    clarification_period_days: int | None = None
    clarification_notice_id: str = ""  # notify's notice of the 补正告知书: its delivery names it
    clarification_delivered_on: date | None = None  # 送达: the correction period runs from it (Art. 30)
    # how notices reach the applicant (an e-mail address given: e-mail, else post): the presumed
    # day of receipt until a delivery record says (Art. 30, 109号)
    applicant_channel: str = "post"
    consultations: dict[str, Consultation] = {}
    resume_status: str | None = None
    confidentiality_passed: bool | None = None
    draft: Draft | None = None
    signed_by: str | None = None
    outcome_code: str | None = None
    extension_days: int = 0
    answered_on: date | None = None
    fee: Fee | None = None
    excessive: str | None = None  # Art. 35: asked | reasonable | unreasonable
    answer_by: date | None = None  # Art. 35: the later answer date set for reasonable reasons
    # issue 9: the applicant's identity proof (a FileRef, encrypted) and the documents to disclose
    identity_proof: dict | None = None
    documents: list[dict] = []
    # Art. 40, 41 and appeals (case_records.py): they never move the status
    requested_form: str | None = None  # the form the applicant asked for (intake's ``form``)
    provision: Provision | None = None
    corrections: dict[str, Correction] = {}
    appeals: dict[str, Appeal] = {}
    # the answer's due date as notify last recorded it (deadline-set); None while suspended
    answer_due: date | None = None

    @property
    def original_received_on(self) -> date:
        """The receipt date of the application, never moved by a correction."""
        return self.first_received_on or self.received_on

    @property
    def open_consultations(self) -> list[Consultation]:
        return [c for c in self.consultations.values() if c.reply is None]

    @property
    def third_party_objects(self) -> bool:
        """A third party refused (or is deemed to) and no public-interest decision overrides it."""
        return any(
            c.party_kind == "third_party" and c.effective == "refuse" and not c.overridden
            for c in self.consultations.values()
        )

    @property
    def third_party_untold(self) -> bool:
        """A third party's objection was found unreasonable (Art. 32) and it has not yet been told
        in writing what will be disclosed."""
        return any(
            c.party_kind == "third_party" and c.effective == "grounds_unreasonable" and not c.overridden
            for c in self.consultations.values()
        )


def payer_key(applicant: dict) -> str:
    """Who "the same applicant" is for the per-application fee bands (109号): the ID number
    (证件号码) when the application gives one; else the name with the first contact given (phone,
    e-mail, address), normalised. Two applications with the same key count in the same month."""
    number = "".join((applicant.get("id_number") or "").split()).upper()
    if number:
        return f"id:{number}"
    contact = applicant.get("contact") or {}
    phone = "".join(ch for ch in (contact.get("phone") or "") if ch.isdigit())
    email = (contact.get("email") or "").strip().lower()
    address = "".join((contact.get("address") or "").split())
    name = "".join(applicant["name"].split())
    return f"name:{name}|{phone or email or address}"


def opened(env: Envelope) -> CaseState:
    """The case a ``request-received`` event opens."""
    d = env.data
    a = d["applicant"]
    return CaseState(
        case_id=d["case_id"],
        channel=d["channel"],
        applicant_name=a["name"],
        applicant_key=f"{a['name'].strip()}|{(a.get('id_number') or '').strip().upper()}",
        description=d["description"],
        received_on=date.fromisoformat(d["received_on"]),
        first_received_on=date.fromisoformat(d["received_on"]),
        payer_key=payer_key(a),
        applicant_channel=notice_channel((a.get("contact") or {}).get("email") or ""),
        identity_proof=d.get("identity_proof"),
        requested_form=d.get("form"),
    )


@overload
def evolve(state: CaseState, env: Envelope) -> CaseState: ...
@overload
def evolve(state: CaseState | None, env: Envelope) -> CaseState | None: ...
def evolve(state: CaseState | None, env: Envelope) -> CaseState | None:
    """The state after ``env``. Events this service does not fold leave the state as it is."""
    name, d = env.name, env.data
    if name == "request-received":
        return opened(env)
    if state is None:
        return None
    if name in RECORD_EVENTS:  # form of provision, corrections, appeals: case_records.py
        return state.model_copy(update=record_update(state, env))
    day = env.time.astimezone(OFFICE_TZ).date()  # a Beijing date (Art. 30-34 count Beijing days)
    u: dict = {}
    if name == "case-registered":
        u = {
            "status": "registered",
            "received_on": date.fromisoformat(d["received_on"]),
            "first_received_on": date.fromisoformat(d["received_on"]),
            "profile": d["profile"],
            "possible_repeat_of": d.get("possible_repeat_of", []),
        }
    elif name == "departments-assigned":
        u = {"status": "assigned", "departments": d["departments"], "feedback": {}}
    elif name == "department-feedback-given":
        feedback = {**state.feedback, d["department"]: d["holds_information"]}
        done = set(feedback) >= set(state.departments)
        known = {x.document_id for x in state.found_documents}
        found = [DocumentRef.model_validate(x) for x in d.get("documents") or []]
        found = [*state.found_documents, *(x for x in found if x.document_id not in known)]
        u = {"feedback": feedback, "status": "searched" if done else state.status, "found_documents": found}
    elif name == "clarification-requested":
        u = {
            "status": "clarifying",
            "clarification_requested_on": day,
            "clarification_period_days": d["period_days"],
            "clarification_notice_id": derived_id(env.id, "notice:clarification:applicant"),
            "clarification_delivered_on": None,
        }
    elif name == "clarification-received":
        corrected = date.fromisoformat(d["received_on"])
        u = {
            "status": "registered",
            "received_on": corrected,
            "first_received_on": state.original_received_on,
            "corrected_on": corrected,
            "corrected_request": d.get("corrected_request") or d["summary"],
        }
    elif name == "consultation-started":
        c = Consultation(
            consultation_id=d["consultation_id"],
            party_kind=d["party_kind"],
            party=d["party"],
            started_on=date.fromisoformat(d["started_on"]),
            reply_days=d["reply_days"],
            notice_id=derived_id(env.id, "notice:consultation:party"),  # notify's notice_id
        )
        u = {
            "consultations": {**state.consultations, c.consultation_id: c},
            "status": "consulting",
            "resume_status": state.resume_status if state.status == "consulting" else state.status,
        }
    elif name in ("consultation-replied", "public-interest-override") and (
        d["consultation_id"] not in state.consultations
    ):
        pass  # a reply to, or an override of, a consultation this case never started: nothing
    elif name == "consultation-replied":
        c = state.consultations[d["consultation_id"]].model_copy(
            update={"reply": d["reply"], "effective": d["effective"], "grounds": d.get("grounds")}
        )
        consultations = {**state.consultations, c.consultation_id: c}
        still_open = any(x.reply is None for x in consultations.values())
        u = {
            "consultations": consultations,
            "status": "consulting" if still_open else (state.resume_status or "registered"),
            "resume_status": state.resume_status if still_open else None,
        }
    elif name == "public-interest-override":
        c = state.consultations[d["consultation_id"]].model_copy(update={"overridden": True})
        u = {"consultations": {**state.consultations, c.consultation_id: c}}
    elif name == "notice-delivered":
        u = _delivered(state, d.get("notice") or "consultation", d.get("consultation_id"),
                       date.fromisoformat(d["delivered_on"]))  # fmt: skip
    elif name == "notice-delivery-attempted" and d.get("status") == "sent":
        # the first e-mail that reached the recipient is its day of receipt (Beijing day)
        u = _emailed(
            state, d["notice_id"], datetime.fromisoformat(d["attempted_at"]).astimezone(OFFICE_TZ).date()
        )
    elif name == "deadline-set" and d.get("kind") == "answer":
        u = {"answer_due": date.fromisoformat(d["due_on"])}
    elif name == "deadline-suspended" and d.get("kind") == "answer":
        u = {"answer_due": None}
    elif name == "confidentiality-reviewed":
        u = {"status": "reviewed", "confidentiality_passed": d["passed"]}
    elif name == "decision-drafted":
        # a field an older event lacks takes its default (documents: issue 10)
        fields = {
            k: d.get(k) for k in Draft.model_fields if k != "drafted_by" and (k in d or k not in _LISTS)
        }
        u = {"status": "drafted", "draft": Draft(**fields, drafted_by=env.actor)}
    elif name == "draft-rejected":
        u = {"status": "reviewed", "draft": None}
    elif name in ("review-approved", "decision-recorded") and d.get("draft_id"):
        u = {"status": "signed", "signed_by": env.actor, "outcome_code": d.get("outcome_code")}
    elif name in ("review-approved", "decision-recorded"):  # skeleton: decided without sign-off
        u = {"status": "answered", "outcome_code": d.get("outcome_code") or d["outcome"]}
    elif name == "extension-approved":
        u = {"extension_days": state.extension_days + d["working_days"]}
    elif name == "answer-sent":
        u = {
            "status": "answered",
            "answered_on": date.fromisoformat(d["sent_on"]),
            "outcome_code": d["outcome_code"],
        }
    elif name == "application-abandoned":
        u = {"status": "abandoned", "outcome_code": d["outcome_code"]}
    elif name == "application-withdrawn":
        u = {"status": "withdrawn", "outcome_code": d.get("outcome_code") or WITHDRAWN.code}
    elif name == "fee-notice-issued":
        fee = Fee(
            basis=d["basis"],
            amount_yuan=d["amount_yuan"],
            notified_on=date.fromisoformat(d["notified_on"]),
            delivered_on=date.fromisoformat(d["delivered_on"]),
            payment_days=d["payment_days"],
            resume_status=state.status,
            notice_id=derived_id(env.id, "notice:fee:applicant"),
            delivery_presumed=d.get("delivery_presumed", True),
        )
        u = {"fee": fee, "status": "fee_due"}
    elif name == "fee-paid" and state.fee is not None:
        paid = state.fee.model_copy(update={"paid_on": date.fromisoformat(d["paid_on"])})
        u = {"fee": paid, "status": state.fee.resume_status if state.status == "fee_due" else state.status}
    elif name == "excessive-reasons-requested":
        u = {"excessive": "asked"}
    elif name == "excessive-reasons-assessed":
        answer_by = d.get("answer_by")
        u = {
            "excessive": "reasonable" if d["reasonable"] else "unreasonable",
            "answer_by": date.fromisoformat(answer_by) if answer_by else None,
        }
    elif name == "case-archived":
        u = {"status": "archived"}
    elif name == "document-attached":
        u = {"documents": [*state.documents, {**d["document"], "title": d["title"]}]}
    return state.model_copy(update=u) if u else state


_LISTS = ("documents", "withheld_documents")


def _delivered(state: CaseState, notice: str, consultation_id: str | None, on: date) -> dict:
    """A registrar's record of the day a notice was received (Art. 30, 32, 34; 109号): it wins."""
    if notice == "consultation" and consultation_id in state.consultations:
        c = state.consultations[consultation_id].model_copy(update={"delivered_on": on})
        return {"consultations": {**state.consultations, c.consultation_id: c}}
    if notice == "clarification" and state.clarification_requested_on is not None:
        return {"clarification_delivered_on": on}
    if notice == "fee" and state.fee is not None:
        return {"fee": state.fee.model_copy(update={"delivered_on": on, "delivery_presumed": False})}
    return {}


def _emailed(state: CaseState, notice_id: str, on: date) -> dict:
    """The first e-mail of a letter that reached its recipient: the day of receipt, unless a
    registrar already recorded one."""
    for c in state.consultations.values():
        if c.notice_id == notice_id and c.delivered_on is None:
            c = c.model_copy(update={"delivered_on": on})
            return {"consultations": {**state.consultations, c.consultation_id: c}}
    if notice_id == state.clarification_notice_id and state.clarification_delivered_on is None:
        return {"clarification_delivered_on": on}
    fee = state.fee
    if fee is not None and notice_id == fee.notice_id and fee.delivery_presumed:
        return {"fee": fee.model_copy(update={"delivered_on": on, "delivery_presumed": False})}
    return {}


def fold(events: list[Envelope]) -> CaseState | None:
    state: CaseState | None = None
    for e in events:
        state = evolve(state, e)
    return state
