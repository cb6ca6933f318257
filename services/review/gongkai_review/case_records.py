"""What a case records besides its workflow, folded from its events: the form of provision
(Art. 40), requests to correct records (Art. 41) and appeals (行政复议、行政诉讼). None of these
moves the case's status: an answered or archived case stays so while a correction or an appeal
runs. Pure, like ``case.evolve``, which hands these events here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from gongkai_shared.envelope import Envelope

if TYPE_CHECKING:
    from .case import CaseState

CORRECTION_ANSWERS = {
    "record-corrected": "corrected",
    "record-correction-refused": "refused",
    "record-correction-referred": "referred",
}
RECORD_EVENTS = frozenset(
    {
        "provision-arranged",
        "record-correction-requested",
        "appeal-filed",
        "appeal-decided",
        *CORRECTION_ANSWERS,
    }
)


class Provision(BaseModel):
    """提供形式 (Art. 40): paper, electronic, or inspection at a time and place."""

    model_config = ConfigDict(frozen=True)
    form: str
    reason: str | None = None
    inspection_at: datetime | None = None
    inspection_place: str | None = None


class Correction(BaseModel):
    """A request to correct a record (Art. 41) and, once answered, how."""

    model_config = ConfigDict(frozen=True)
    correction_id: str
    record: str
    received_on: date
    outcome: str | None = None  # corrected | refused | referred


class Appeal(BaseModel):
    """A reconsideration or lawsuit (table 四); ``result`` None while 尚未审结."""

    model_config = ConfigDict(frozen=True)
    appeal_id: str
    kind: str
    body: str
    filed_on: date
    after: str | None = None
    result: str | None = None
    decided_on: date | None = None


def record_update(state: CaseState, env: Envelope) -> dict[str, Any]:
    """The fields of ``state`` that ``env`` (one of ``RECORD_EVENTS``) changes."""
    name, d = env.name, env.data
    if name == "provision-arranged":
        return {"provision": Provision.model_validate({k: d.get(k) for k in Provision.model_fields})}
    if name == "record-correction-requested":
        c = Correction(
            correction_id=d["correction_id"],
            record=d["record"],
            received_on=date.fromisoformat(d["received_on"]),
        )
        return {"corrections": {**state.corrections, c.correction_id: c}}
    if name in CORRECTION_ANSWERS:
        known = state.corrections.get(d["correction_id"])
        if known is None:
            return {}
        c = known.model_copy(update={"outcome": CORRECTION_ANSWERS[name]})
        return {"corrections": {**state.corrections, c.correction_id: c}}
    if name == "appeal-filed":
        a = Appeal(
            appeal_id=d["appeal_id"],
            kind=d["kind"],
            body=d["body"],
            filed_on=date.fromisoformat(d["filed_on"]),
            after=d.get("after"),
        )
        return {"appeals": {**state.appeals, a.appeal_id: a}}
    if name == "appeal-decided":
        found = state.appeals.get(d["appeal_id"])
        if found is None:
            return {}
        a = found.model_copy(
            update={"result": d["result"], "decided_on": date.fromisoformat(d["decided_on"])}
        )
        return {"appeals": {**state.appeals, a.appeal_id: a}}
    return {}
