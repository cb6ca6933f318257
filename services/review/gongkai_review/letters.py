"""Notices rendered in Chinese from templates (DOMAIN.md §9): the answer by outcome (依申请公开
告知书), clarification (补正告知书), extension (延期答复告知书), consultation (征求意见书) and the
written notice to a third party overridden in the public interest. Pure: templates are data.

Every letter is an official document (issue 9): the template writes what the letter says (the
salutation and the paragraphs); this module frames it the same way for every type — the document
number (发文字号, :mod:`gongkai_review.numbering`) above, then the text, the seal's place
(（印章）), the sending agency and the date in Chinese (二〇二六年十一月二十三日), and a note with the
office's address, phone and e-mail and the case number (``gongkai_shared.letterframe``, the frame
notify's own notices use too). ``gongkai_shared.letterpdf`` lays the same letter out as
GB/T 9704 prescribes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from gongkai_shared.events import Letter
from gongkai_shared.letterframe import Letterhead, chinese_date, chinese_month, clause, dated, frame, sentence
from gongkai_shared.outcomes import BY_CODE, Outcome, is_refusal, row

from .case import Draft

UNNUMBERED = "〔待编号〕"  # the number a letter shows while its event is decided (never sent)


_env = Environment(
    loader=PackageLoader("gongkai_review", "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # plain-text letters, not HTML
)
_env.filters["clause"] = clause
_env.filters["sentence"] = sentence
_env.filters["month"] = chinese_month

# What the withheld information is, as the sentence "您申请获取的政府信息……" or a withheld part
# goes on (Art. 14-16, in the regulation's own words): a refusal names its ground in full, not the
# report row's short label ("保护第三方合法权益" is no predicate), then its case-specific reasons.
GROUNDS = {
    "state_secret": "属于国家秘密",
    "prohibited_by_law": "属于法律、行政法规禁止公开的政府信息",
    "security_stability": "公开后可能危及国家安全、公共安全、经济安全、社会稳定",
    "third_party_rights": "涉及商业秘密、个人隐私等，公开会对第三方合法权益造成损害",
    "internal_affairs": "属于人事管理、后勤管理、内部工作流程等方面的内部事务信息",
    "process_information": (
        "属于行政机关在履行行政管理职能过程中形成的讨论记录、过程稿、磋商信函、请示报告等过程性信息"
    ),
    "enforcement_file": "属于行政执法案卷信息",
}

TITLES = {
    "answer": "政府信息公开申请答复告知书",
    "clarification": "政府信息公开申请补正告知书",
    "extension": "政府信息公开申请延期答复告知书",
    "consultation": "政府信息公开征求意见书",
    "override_notice": "政府信息公开第三方告知书",
    "fee": "政府信息公开信息处理费收费通知书",
    "excessive_reasons": "政府信息公开申请说明理由通知书",
    "excessive_deadline": "政府信息公开延迟答复告知书",
    "correction": "政府信息更正申请答复告知书",  # Art. 41 (domain/corrections.py)
}


@dataclass(frozen=True)
class Office(Letterhead):
    """The sending agency as its letters show it (settings, ``Letterhead``), and what one decision
    adds: the case and the letter's document number. ``str(office)`` is the agency's name
    (templates write ``{{ office }}``)."""

    reconsideration_body: str = "本级人民政府"
    case_id: str = ""
    number: str = UNNUMBERED
    numbers: dict[str, str] = field(default_factory=dict)  # letter type -> format (numbering.py)

    def __str__(self) -> str:
        return self.name

    def numbered(self, case_id: str, number: str) -> Office:
        return replace(self, case_id=case_id, number=number)


def render(kind: str, recipient: str, *, office: Office | str, today: date, **context: Any) -> Letter:
    """The letter of ``kind``: its template's text framed as an official document."""
    if isinstance(office, str):  # a caller that knows only the agency's name
        office = Office(name=office)
    context.setdefault("applicant", recipient)
    context = {k: dated(v) for k, v in context.items()}
    text = _env.get_template(f"{kind}.txt.j2").render(office=office, today=chinese_date(today), **context)
    text = re.sub(r"\n{3,}", "\n\n", text.strip())
    body = frame(text, office, today, number=office.number, case_id=office.case_id)
    return Letter(
        kind=kind, title=TITLES[kind], body=body, recipient=recipient, number=office.number, issued_on=today
    )


def remedy(outcome_code: str) -> str:
    """Which remedy wording an answer carries (行政复议法 2023 Art. 23(1)(4), 24): reconsideration
    first for 不予公开 (``first``), for the withheld parts of 部分公开 (``parts_first``); for every
    other answer the applicant chooses (``choice``: 60 days reconsideration or 6 months lawsuit)."""
    if is_refusal(outcome_code):
        return "first"
    if BY_CODE[outcome_code].outcome == Outcome.partial:
        return "parts_first"
    return "choice"


def answer_letter(
    *,
    applicant: str,
    description: str,
    received_on: date,
    draft: Draft,
    office: Office | str,
    reconsideration_body: str,
    today: date,
    provision: dict | None = None,  # Art. 40: the form (domain/provision.py)
    corrected_on: date | None = None,
    corrected_request: str | None = None,
) -> Letter:
    """The answer by outcome. ``received_on`` is the application's own receipt date; after a
    correction (Art. 30) the letter also states the correction's date and quotes the corrected
    request."""
    outcome = Outcome(draft.outcome)
    r = BY_CODE[draft.outcome_code]
    parts = [
        {
            "part": p.part,
            "label": row(Outcome.withhold, p.reason).label,
            "grounds": GROUNDS[p.reason],
            "legal_basis": row(Outcome.withhold, p.reason).legal_basis,
            "explanation": p.explanation or "",
        }
        for p in draft.withheld_parts
    ]
    return render(
        "answer",
        applicant,
        office=office,
        today=today,
        outcome=outcome.value,
        reason=r.reason,
        label=r.label,
        grounds=GROUNDS.get(r.reason or "", ""),
        legal_basis=draft.legal_basis,
        description=description,
        received_on=chinese_date(received_on),
        corrected_on=chinese_date(corrected_on) if corrected_on else "",
        corrected_request=corrected_request or "",
        disclosed_content=draft.disclosed_content or "",
        withheld_parts=parts,
        responsible_agency=draft.responsible_agency,
        responsible_agency_contact=draft.responsible_agency_contact or "",
        reason_text=draft.reason_text or "",
        published_at=draft.published_at or "",
        note=draft.note,
        remedy=remedy(draft.outcome_code),
        reconsideration_body=reconsideration_body,
        provision=provision,
        disclosed_documents=disclosed_documents(draft),  # issue 10: templates/_documents.j2
    )


def disclosed_documents(draft: Draft) -> list[dict]:
    """The documents a disclosing answer releases, as its letter names them (title, 文号)."""
    if BY_CODE[draft.outcome_code].outcome not in (Outcome.disclose, Outcome.partial):
        return []
    return [{"title": d.title, "doc_number": d.doc_number or ""} for d in draft.documents]
