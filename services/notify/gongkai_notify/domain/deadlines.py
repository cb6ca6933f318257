"""A case's deadlines from its events, pure: what the clock computes and can explain day by day.

DOMAIN.md §3. A deadline is a function of (the case's events, the rule profile, the calendar
version) and nothing else, so it can be recomputed whenever the calendar changes and explained
day by day. The law's periods are in ``rules.py``; here, how a case's events move them:

- **answer** (答复期限, 条例 第三十三条): from receipt (``received_on`` of the registration, else of
  the request). 补正 (第三十条): from ``clarification-requested`` the deadline is suspended;
  ``clarification-received`` starts it anew from its ``received_on`` with the full period.
  征求意见 (第三十二条, 第三十三条 第二款, 第三十四条): each day from a consultation's ``started_on``
  to the earlier of its ``replied_on`` and the last day of the party's period (both included) is
  not counted. The party's period runs from the day it received the letter (the delivery record:
  ``notice-delivery-attempted`` sent, or a registrar's ``notice-delivered``; until then the
  profile's presumed delivery time), so the pause always has an end: a late reply does not extend
  it, and while a consultation is open the answer shows the day it falls due if the party stays
  silent. 延期: ``extension-approved`` adds its ``working_days``. ``answer-sent``
  meets it; abandonment, withdrawal and archiving close it. Decisions
  (``review-approved``/``decision-recorded``) are made at sign-off, before the answer goes out,
  so they do **not** stop the clock.
- **clarification_notice** (补正告知, 7 working days from receipt): informational (the latest day
  to ask for a correction), never warned or breached.
- **correction_period** (补正期限, 第三十条): the applicant's ``period_days`` from the day it
  received the notice (the delivery record, else the profile's presumed delivery time for the
  applicant's channel: e-mail when the application gave an address, else post).
- **department_feedback**: per department, ``feedback_days`` of the assignment or the
  profile's ``department_feedback_days`` (none in the national profile).
- **consultation_reply**: per consultation, the party's ``reply_days`` (15) from the day it
  received the letter.
- **fees** (国办函〔2020〕109号): from a ``fee-notice-issued``'s ``notified_on`` to the
  ``fee-paid``'s ``paid_on`` (both included) the answer is not counted (open until paid: paused);
  **fee_payment**: the applicant pays within ``fee_payment_days`` (20) working days of
  the day the notice reached them (``delivered_on``, presumed at issue, until an e-mail's record
  or a registrar's ``notice-delivered`` says; met by ``fee-paid``).
- **excessive requests** (第三十五条): ``excessive-reasons-assessed`` with ``answer_by`` (reasons
  reasonable, a later answer date told to the applicant): that date is the answer's due date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from gongkai_shared.calendar import DayCount, DueDate, Pause, WorkingCalendar
from gongkai_shared.clock import OFFICE_TZ
from gongkai_shared.envelope import derived_id
from gongkai_shared.periods import notice_channel, received_on
from gongkai_shared.profiles import RuleProfile, profile

from .rules import (
    answer_due,
    clarification_notice_due,
    consultation_reply_due,
    correction_period_due,
    department_feedback_due,
    fee_payment_due,
)

# the events of a case the clock folds
CLOCK_EVENTS = frozenset(
    {
        "request-received",
        "case-registered",
        "departments-assigned",
        "department-feedback-given",
        "clarification-requested",
        "clarification-received",
        "consultation-started",
        "consultation-replied",
        "extension-approved",
        "answer-sent",
        "application-abandoned",
        "application-withdrawn",
        "case-archived",
        "fee-notice-issued",
        "fee-paid",
        "excessive-reasons-assessed",
        "notice-delivery-attempted",
        "notice-delivered",
    }
)
# the letters whose delivery day starts someone else's period
DELIVERED_KINDS = frozenset({"consultation", "clarification", "fee"})


# a document's events (publication.py: 主动公开, 条例 第二十六条)
DOCUMENT_EVENTS = frozenset({"document-registered", "document-amended", "published", "amended", "repealed"})


def folds(name: str, data: dict[str, Any]) -> bool:
    """Whether the clock keeps this event: a clock event (of a case or of a document), and of
    the deliveries only a letter that starts someone's period and reached them (not every
    warning's attempt)."""
    if name == "notice-delivery-attempted":
        return data.get("status") == "sent" and data.get("kind") in DELIVERED_KINDS
    return name in CLOCK_EVENTS or name in DOCUMENT_EVENTS


def letter_notice_id(cause_event_id: str, kind: str, audience: str) -> str:
    """The id of the notice a letter-carrying event makes (``notices.notice_id``): how a delivery
    is matched to the consultation whose letter it carried."""
    return derived_id(cause_event_id, f"notice:{kind}:{audience}")


CLOSING = {"answer-sent": "met", "application-abandoned": "closed", "application-withdrawn": "closed",
           "case-archived": "closed"}  # fmt: skip

RUNNING, SUSPENDED, PAUSED, MET, CLOSED = "running", "suspended", "paused", "met", "closed"
OPEN_STATES = (RUNNING, SUSPENDED, PAUSED)


@dataclass(frozen=True)
class ClockEvent:
    """What the clock keeps of one event of a case (no personal data, no letters)."""

    seq: int
    id: str
    name: str
    on: date  # the event's day in Beijing time
    data: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.id,
            "name": self.name,
            "on": self.on.isoformat(),
            "data": self.data,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ClockEvent:
        return cls(d["seq"], d["id"], d["name"], date.fromisoformat(d["on"]), d["data"])


def clock_data(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """The part of an event body the clock needs (request-received: only the receipt date)."""
    if name == "request-received":  # and how letters reach the applicant (e-mail, else post)
        email = (data.get("applicant", {}).get("contact") or {}).get("email") or ""
        return {"received_on": data["received_on"], "channel": notice_channel(email)}
    if name == "notice-delivery-attempted":
        return {k: data[k] for k in ("notice_id", "kind", "channel", "attempted_at")}
    if name in DOCUMENT_EVENTS:
        from .publication import document_data  # publication.py builds on this module

        return document_data(name, data)
    return {k: v for k, v in data.items() if k not in ("letter", "applicant")}


@dataclass(frozen=True)
class Cause:
    id: str
    type: str

    def as_json(self) -> dict[str, str]:
        return {"event_id": self.id, "event_type": self.type}


@dataclass(frozen=True)
class Deadline:
    """One computed deadline of a case, with everything needed to explain it."""

    deadline_id: str
    case_id: str
    kind: str
    subject: str | None  # the department or consultation it belongs to
    start_on: date
    base_days: int
    extension_days: int
    due_on: date | None  # None while suspended or paused
    profile: str
    calendar_version: str
    provisional: bool
    status: str  # running | suspended | paused | met | closed
    enforced: bool  # warned and breached (the clarification notice limit is informational)
    count_start: bool
    cause: Cause  # the event whose arrival last changed this computation
    trace: tuple[DayCount, ...] = field(default=(), repr=False)
    pauses: tuple[Pause, ...] = ()
    extensions: tuple[tuple[Cause, int], ...] = ()
    restarted_by: Cause | None = None
    status_cause: Cause | None = None
    status_since: date | None = None  # when it was suspended or paused

    @property
    def working_days(self) -> int:
        return self.base_days + self.extension_days

    @property
    def counted_days(self) -> int:
        return sum(1 for c in self.trace if c.counted)

    def explain(self) -> dict[str, Any]:
        """Day by day: which days counted, which were skipped and why, each pause and its cause."""
        return {
            "deadline_id": self.deadline_id,
            "case_id": self.case_id,
            "kind": self.kind,
            "subject": self.subject,
            "status": self.status,
            "profile": self.profile,
            "calendar_version": self.calendar_version,
            "provisional": self.provisional,
            "start_on": self.start_on.isoformat(),
            "receipt_day_counted": self.count_start,
            "base_days": self.base_days,
            "extension_days": self.extension_days,
            "working_days": self.working_days,
            "counted_days": self.counted_days,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "days": [
                {
                    "day": c.day.isoformat(),
                    "counted": c.counted,
                    "reason": c.reason,
                    "provisional": c.provisional,
                    **(
                        {"cause_event_id": c.cause_id, "cause_event_type": c.cause_type} if c.cause_id else {}
                    ),
                }
                for c in self.trace
            ],
            "pauses": [
                {
                    "from": p.start.isoformat(),
                    "to": p.end.isoformat() if p.end else None,
                    "cause_event_id": p.cause_id,
                    "cause_event_type": p.cause_type,
                    "ended_by_event_id": p.ended_by,
                }
                for p in self.pauses
            ],
            "extensions": [{**c.as_json(), "working_days": n} for c, n in self.extensions],
            "restarted_by": self.restarted_by.as_json() if self.restarted_by else None,
            "status_cause": self.status_cause.as_json() if self.status_cause else None,
            "cause": self.cause.as_json(),
        }


def deadline_id(case_id: str, kind: str, subject: str | None = None) -> str:
    """Stable per case, kind and subject (the answer's id is the walking skeleton's)."""
    return derived_id(case_id, f"deadline:{kind}" + (f":{subject}" if subject else ""))


# --- a whole case -----------------------------------------------------------------------------


@dataclass
class _Consultation:
    id: str
    started_on: date
    reply_days: int
    cause: Cause
    channel: str
    notice_id: str
    delivered_on: date | None = None
    replied_on: date | None = None
    replied_by: Cause | None = None

    def period(self, p: RuleProfile, calendar: WorkingCalendar) -> tuple[date, DueDate]:
        """(the day the party received the letter, its period from that day)."""
        start = received_on(self.started_on, self.channel, self.delivered_on, p)
        return start, consultation_reply_due(start, self.reply_days, p, calendar)

    def pause(self, p: RuleProfile, calendar: WorkingCalendar) -> Pause:
        """From the letter to the reply or the period's last day, whichever is first."""
        end = self.period(p, calendar)[1].due
        assert end is not None  # no pause is given to the party's own count
        if self.replied_on is not None and self.replied_on < end:
            end = self.replied_on
        ended_by = (
            self.replied_by.id if self.replied_by and self.replied_on and self.replied_on <= end else None
        )
        return Pause(self.started_on, max(end, self.started_on), self.cause.id, self.cause.type, ended_by)


def compute_case(
    case_id: str,
    events: Iterable[ClockEvent],
    default_profile: RuleProfile,
    calendar: WorkingCalendar,
) -> list[Deadline]:
    """Every deadline of the case, as of its events (in log order)."""
    p = default_profile
    received: tuple[date, Cause] | None = None
    restart: tuple[date, Cause] | None = None
    extensions: list[tuple[Cause, int]] = []
    clarification: dict[str, Any] | None = None  # the request: on, period, cause, answered_by
    consultations: dict[str, _Consultation] = {}
    departments: dict[str, dict[str, Any]] = {}
    closed: Cause | None = None
    last: Cause | None = None
    fee: dict[str, Any] | None = None  # the fee notice: notified_on, delivered_on, cause, paid_on, paid_by
    answer_by: tuple[date, Cause] | None = None
    applicant_channel = "post"  # clock events stored before issue 9 carry no channel
    for e in events:
        c = Cause(e.id, e.name)
        d = e.data
        last = c
        if e.name == "request-received":
            received = (date.fromisoformat(d["received_on"]), c)
            applicant_channel = d.get("channel", "post")
        elif e.name == "case-registered":
            p = profile(d["profile"])
            received = (date.fromisoformat(d["received_on"]), c)
        elif e.name == "departments-assigned":
            for dept in d["departments"]:
                departments[dept] = {"on": e.on, "days": d.get("feedback_days"), "cause": c, "met": None}
        elif e.name == "department-feedback-given":
            if d["department"] in departments:
                departments[d["department"]]["met"] = c
        elif e.name == "clarification-requested":
            clarification = {"on": e.on, "days": d["period_days"], "cause": c, "met": None,
                             "delivered_on": None,
                             "notice_id": letter_notice_id(e.id, "clarification", "applicant")}  # fmt: skip
        elif e.name == "clarification-received":
            restart = (date.fromisoformat(d["received_on"]), c)
            if clarification is not None:
                clarification["met"] = c
        elif e.name == "consultation-started":
            consultations[d["consultation_id"]] = _Consultation(
                d["consultation_id"], date.fromisoformat(d["started_on"]), d["reply_days"], c,
                notice_channel(d.get("party", "")), letter_notice_id(e.id, "consultation", "party"),
            )  # fmt: skip
        elif e.name == "notice-delivery-attempted":  # the first attempt that reached the recipient
            on = datetime.fromisoformat(d["attempted_at"]).astimezone(OFFICE_TZ).date()
            k = next((k for k in consultations.values() if k.notice_id == d["notice_id"]), None)
            if k is not None and k.delivered_on is None:
                k.delivered_on = on
            elif clarification and clarification["notice_id"] == d["notice_id"]:
                clarification["delivered_on"] = clarification["delivered_on"] or on
            elif fee and fee["notice_id"] == d["notice_id"] and fee["presumed"]:
                fee["delivered_on"], fee["presumed"] = on, False
        elif e.name == "notice-delivered":  # a registrar's record (post's return receipt) wins
            on, notice = date.fromisoformat(d["delivered_on"]), d.get("notice") or "consultation"
            k = consultations.get(d.get("consultation_id") or "")
            if notice == "consultation" and k is not None:
                k.delivered_on = on
            elif notice == "clarification" and clarification is not None:
                clarification["delivered_on"] = on
            elif notice == "fee" and fee is not None:
                fee["delivered_on"], fee["presumed"] = on, False
        elif e.name == "consultation-replied":
            k = consultations.get(d["consultation_id"])
            if k is not None:
                k.replied_on, k.replied_by = date.fromisoformat(d["replied_on"]), c
        elif e.name == "extension-approved":
            extensions.append((c, int(d["working_days"])))
        elif e.name == "fee-notice-issued":
            fee = {"notified_on": date.fromisoformat(d["notified_on"]),
                   "delivered_on": date.fromisoformat(d["delivered_on"]), "cause": c, "paid_on": None,
                   "paid_by": None, "presumed": d.get("delivery_presumed", True),
                   "notice_id": letter_notice_id(e.id, "fee", "applicant")}  # fmt: skip
        elif e.name == "fee-paid" and fee is not None:
            fee["paid_on"], fee["paid_by"] = date.fromisoformat(d["paid_on"]), c
        elif e.name == "excessive-reasons-assessed" and d.get("answer_by"):
            answer_by = (date.fromisoformat(d["answer_by"]), c)
        elif e.name in CLOSING and closed is None:
            closed = c
    if received is None or last is None:
        return []
    ref = p.ref
    closed_status = CLOSING[closed.type] if closed else None
    out: list[Deadline] = []

    def make(kind: str, subject: str | None, start: date, days: int, due: DueDate, status: str,
             enforced: bool, cause: Cause, **extra: Any) -> Deadline:  # fmt: skip
        return Deadline(
            deadline_id=deadline_id(case_id, kind, subject),
            case_id=case_id,
            kind=kind,
            subject=subject,
            start_on=start,
            base_days=days,
            extension_days=0,
            due_on=due.due,
            profile=ref,
            calendar_version=due.calendar_version,
            provisional=due.provisional,
            status=status,
            enforced=enforced,
            count_start=p.count_receipt_day,
            cause=cause,
            trace=due.trace,
            **extra,
        )

    # the answer deadline
    start, start_cause = restart if restart else received
    pauses = tuple(k.pause(p, calendar) for k in consultations.values())
    if fee is not None:  # 109号: from the notice to the payment, not counted
        paid_by = fee["paid_by"].id if fee["paid_by"] else None
        pauses += (Pause(fee["notified_on"], fee["paid_on"], fee["cause"].id, fee["cause"].type, paid_by),)
    ext = sum(n for _, n in extensions)
    due = answer_due(start, p, calendar, pauses=pauses, extension_days=ext)
    if answer_by is not None and due.due is not None:  # 第三十五条: the later date told to the applicant
        due = replace(due, due=max(due.due, answer_by[0]))
    status_cause, since = None, None
    if closed_status:
        status, status_cause = closed_status, closed
    elif clarification is not None and clarification["met"] is None:
        status, status_cause, since = SUSPENDED, clarification["cause"], clarification["on"]
        due = replace(due, due=None, trace=(), paused_by=None)
    elif due.due is None:
        status = PAUSED
        if due.paused_by:
            status_cause = Cause(due.paused_by.cause_id, due.paused_by.cause_type)
            since = due.paused_by.start
    else:
        status = RUNNING
    answer = make("answer", None, start, p.answer_days, due, status, True, last,
                  pauses=pauses, extensions=tuple(extensions), status_cause=status_cause, status_since=since,
                  restarted_by=restart[1] if restart else None)  # fmt: skip
    out.append(replace(answer, extension_days=ext))

    # the latest day to ask for a correction (informational)
    first_received, first_cause = received
    due = clarification_notice_due(first_received, p, calendar)
    status = MET if clarification else (closed_status or RUNNING)
    out.append(make("clarification_notice", None, first_received, p.clarification_notice_days, due,
                    status, False, first_cause))  # fmt: skip

    if clarification is not None:
        start = received_on(clarification["on"], applicant_channel, clarification["delivered_on"], p)
        due = correction_period_due(start, clarification["days"], p, calendar)
        status = MET if clarification["met"] else (closed_status or RUNNING)
        out.append(make("correction_period", None, start, clarification["days"], due,
                        status, True, clarification["met"] or clarification["cause"]))  # fmt: skip

    for dept, a in departments.items():
        days = a["days"] if a["days"] is not None else p.department_feedback_days
        if days is None:
            continue
        due = department_feedback_due(a["on"], days, p, calendar)
        status = MET if a["met"] else (closed_status or RUNNING)
        out.append(
            make("department_feedback", dept, a["on"], days, due, status, True, a["met"] or a["cause"])
        )

    if fee is not None:
        due = fee_payment_due(fee["delivered_on"], p, calendar)
        status = MET if fee["paid_by"] else (closed_status or RUNNING)
        out.append(make("fee_payment", None, fee["delivered_on"], p.fee_payment_days, due, status, True,
                        fee["paid_by"] or fee["cause"]))  # fmt: skip

    for k in consultations.values():
        start, due = k.period(p, calendar)
        status = MET if k.replied_by else (closed_status or RUNNING)
        out.append(make("consultation_reply", k.id, start, k.reply_days, due, status, True,
                        k.replied_by or k.cause))  # fmt: skip
    return out
