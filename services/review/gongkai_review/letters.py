"""Notices rendered in Chinese from templates (DOMAIN.md §9): the answer by outcome (依申请公开
告知书), clarification (补正告知书), extension (延期答复告知书), consultation (征求意见书) and the
written notice to a third party overridden in the public interest. Pure: templates are data."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from gongkai_shared.events import Letter
from gongkai_shared.outcomes import BY_CODE, Outcome, row

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
    "correction": "政府信息更正申请答复告知书",  # Art. 41 (domain/corrections.py)
}


def render(kind: str, recipient: str, *, office: str, today: date, **context: Any) -> Letter:
    context.setdefault("applicant", recipient)
    body = _env.get_template(f"{kind}.txt.j2").render(office=office, today=today.isoformat(), **context)
    body = re.sub(r"\n{3,}", "\n\n", body.strip()) + "\n"
    return Letter(kind=kind, title=TITLES[kind], body=body, recipient=recipient)


def answer_letter(
    *,
    applicant: str,
    description: str,
    received_on: date,
    draft: Draft,
    office: str,
    reconsideration_body: str,
    today: date,
    provision: dict | None = None,  # Art. 40: the form (domain/provision.py)
) -> Letter:
    outcome = Outcome(draft.outcome)
    r = BY_CODE[draft.outcome_code]
    parts = [
        {
            "part": p.part,
            "label": row(Outcome.withhold, p.reason).label,
            "legal_basis": row(Outcome.withhold, p.reason).legal_basis,
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
        disclosed_content=draft.disclosed_content or "",
        withheld_parts=parts,
        responsible_agency=draft.responsible_agency,
        published_at=draft.published_at or "",
        note=draft.note,
        reconsideration_first=outcome != Outcome.disclose,
        reconsideration_body=reconsideration_body,
        provision=provision,
    )
