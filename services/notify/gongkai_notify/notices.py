"""Notices (DOMAIN.md §9): what notify sends, to whom, rendered in Chinese from Jinja2 templates.

Review writes its letters (补正告知书, 延期答复告知书, 征求意见书, 答复, 公开告知) and carries them in its
events: they are delivered as they are. Notify renders its own: the receipt (登记回执), deadline
warnings, breach escalation to the office head, and the staff notice of a recomputed deadline.
Each is framed as review's letters are (``gongkai_shared.letterframe``: the office's name, the
date in Chinese, the office's contacts and the case number); the receipt, which goes to the
applicant, also carries the seal's place; the staff reminders are internal and carry none. Dates
in a notice are written in Chinese.

A notice's id derives from the event that caused it, its kind and audience, so however often the
event is seen the notice is one; deliveries derive from the notice, channel and address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from gongkai_shared.envelope import derived_id
from gongkai_shared.letterframe import Letterhead, dated, frame

from .domain.deadlines import letter_notice_id

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=StrictUndefined,
    autoescape=False,  # plain text notices
    keep_trailing_newline=True,
)

KIND_LABELS = {
    "answer": "答复期限",
    "clarification_notice": "补正告知期限",
    "correction_period": "申请人补正期限",
    "department_feedback": "部门反馈期限",
    "consultation_reply": "征求意见答复期限",
    "fee_payment": "缴费期限",
    "publication": "主动公开期限",  # 条例 第二十六条: a document's, not a case's
}

# review's events that carry a letter, and who the letter is for
LETTER_EVENTS = {
    "clarification-requested": "applicant",
    "extension-approved": "applicant",
    "answer-sent": "applicant",
    "consultation-started": "party",
    "public-interest-override": "party",
    "fee-notice-issued": "applicant",  # 收费通知书 (109号)
    "excessive-reasons-requested": "applicant",  # 第三十五条
    "excessive-reasons-assessed": "applicant",  # the later answer date (none when not reasonable)
    "record-corrected": "applicant",  # Art. 41: the answers to a request to correct a record
    "record-correction-refused": "applicant",
    "record-correction-referred": "applicant",
}


@dataclass(frozen=True)
class Notice:
    notice_id: str
    kind: str
    audience: str  # applicant | party | staff | head
    email: str | None
    title: str
    body: str


# notices to people outside the office: signed with the seal's place
SEALED = frozenset({"receipt"})


def render(template: str, office: Letterhead, issued_on: date, **values: Any) -> tuple[str, str]:
    """(title, body): the first line of the rendered template is the title; the rest is framed as
    an official document (dates given as dates or ISO text are written in Chinese)."""
    values = {k: dated(v) for k, v in values.items()}
    text = _ENV.get_template(f"{template}.txt.j2").render(**values)
    title, _, body = text.partition("\n\n")
    framed = frame(
        body,
        office,
        issued_on,
        case_id=values.get("case_id", ""),
        seal=template in SEALED,
        holder=values.get("holder") or "案件",
    )
    return title.strip(), framed


def notice_id(cause_event_id: str, kind: str, audience: str) -> str:
    return letter_notice_id(cause_event_id, kind, audience)  # the clock matches deliveries by it


def delivery_id(nid: str, channel: str, address: str) -> str:
    return derived_id(nid, f"delivery:{channel}:{address}")


def make(cause_event_id: str, kind: str, audience: str, email: str | None, template: str,
         office: Letterhead, issued_on: date, **values: Any) -> Notice:  # fmt: skip
    title, body = render(template, office, issued_on, **values)
    return Notice(notice_id(cause_event_id, kind, audience), kind, audience, email or None, title, body)


def letter_notice(
    cause_event_id: str, event_name: str, letter: dict[str, Any], applicant_email: str | None
) -> Notice:
    audience = LETTER_EVENTS[event_name]
    if audience == "applicant":
        email = applicant_email
    else:  # a party: its address is the letter's recipient when that is an e-mail address
        email = letter["recipient"] if "@" in letter.get("recipient", "") else None
    nid = notice_id(cause_event_id, letter["kind"], audience)  # the letter is framed by review
    return Notice(
        nid, letter["kind"], audience, email or None, letter["title"], letter["body"].strip() + "\n"
    )


def mask(address: str) -> str:
    """An e-mail address as events show it: enough to recognise, not to harvest."""
    if "@" not in address:
        return address
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"
