"""Notices rendered in Chinese from templates (DOMAIN.md §9): the answer by outcome (依申请公开
告知书), clarification (补正告知书), extension (延期答复告知书), consultation (征求意见书) and the
written notice to a third party overridden in the public interest. Pure: templates are data."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from gongkai_shared.events import Letter
from gongkai_shared.outcomes import BY_CODE, Outcome, is_refusal, row

from .case import Draft

_env = Environment(
    loader=PackageLoader("gongkai_review", "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # plain-text letters, not HTML
)

TITLES = {
    "answer": "政府信息公开申请答复告知书",
    "clarification": "政府信息公开申请补正告知书",
    "extension": "政府信息公开申请延期答复告知书",
    "consultation": "政府信息公开征求意见书",
    "override_notice": "政府信息公开第三方告知书",
}


def render(kind: str, recipient: str, *, office: str, today: date, **context: Any) -> Letter:
    context.setdefault("applicant", recipient)
    body = _env.get_template(f"{kind}.txt.j2").render(office=office, today=today.isoformat(), **context)
    body = re.sub(r"\n{3,}", "\n\n", body.strip()) + "\n"
    return Letter(kind=kind, title=TITLES[kind], body=body, recipient=recipient)


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
    office: str,
    reconsideration_body: str,
    today: date,
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
        legal_basis=draft.legal_basis,
        description=description,
        received_on=received_on.isoformat(),
        corrected_on=corrected_on.isoformat() if corrected_on else "",
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
    )
