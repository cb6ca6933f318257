"""Review's decisions (审核决定), pure: ``(case state, command) -> event``.

The closed set of reason codes for a decision not to disclose follows DOMAIN.md §5 and the
2019 regulation (国务院令第711号); each code carries its legal basis, which the answer letter
and the annual report use. The complete workflow (triage, clarification, consultation,
sign-off ...) builds on this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gongkai_shared.decisions import CommandRejected
from gongkai_shared.envelope import Actor, Envelope
from gongkai_shared.events import DecisionRecorded, Outcome, ReviewApproved, make_event
from pydantic import BaseModel, ConfigDict, Field, model_validator

REGULATION = "《中华人民共和国政府信息公开条例》"

#: 不予公开 reasons: code -> (Chinese label, legal basis)
WITHHOLD_REASONS: dict[str, tuple[str, str]] = {
    "state_secret": ("属于国家秘密", f"{REGULATION}第十四条"),
    "prohibited_by_law": ("其他法律行政法规禁止公开", f"{REGULATION}第十四条"),
    "security_stability": ("危及“三安全一稳定”", f"{REGULATION}第十四条"),
    "third_party_rights": ("保护第三方合法权益", f"{REGULATION}第十五条"),
    "internal_affairs": ("属于三类内部事务信息", f"{REGULATION}第十六条第一款"),
    "process_information": ("属于四类过程性信息", f"{REGULATION}第十六条第二款"),
    "enforcement_file": ("属于行政执法案卷", f"{REGULATION}第十六条第二款"),
    "administrative_inquiry": ("属于行政查询事项", f"{REGULATION}第三十六条第（七）项"),
}

#: 无法提供 reasons
NOT_HELD_REASONS: dict[str, tuple[str, str]] = {
    "not_held": ("本机关不掌握相关政府信息", f"{REGULATION}第三十六条第（四）项"),
    "other_agency": ("不属于本机关负责公开", f"{REGULATION}第三十六条第（五）项"),
    "needs_creation": ("没有现成信息需要另行制作", f"{REGULATION}第三十八条"),
    "unclear": ("补正后申请内容仍不明确", f"{REGULATION}第三十条"),
}

DISCLOSE_BASIS = f"{REGULATION}第三十六条第（二）项"


class Decide(BaseModel):
    """The decision on an application (答复决定)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: Outcome
    reasons: list[str] = Field(default_factory=list, max_length=10)
    legal_basis: str | None = Field(default=None, max_length=500)
    disclosed_content: str | None = Field(default=None, min_length=1, max_length=100_000)
    title: str | None = Field(default=None, min_length=1, max_length=300)
    note: str | None = Field(default=None, max_length=5000)
    responsible_agency: str | None = Field(default=None, max_length=300)

    @model_validator(mode="after")
    def _reasons_fit_outcome(self) -> Decide:
        if self.outcome == Outcome.disclose:
            if not self.disclosed_content:
                raise ValueError("disclosed_content is required to disclose")
            return self
        allowed = WITHHOLD_REASONS if self.outcome == Outcome.withhold else NOT_HELD_REASONS
        if not self.reasons:
            raise ValueError(f"reasons: at least one of {sorted(allowed)}")
        unknown = [r for r in self.reasons if r not in allowed]
        if unknown:
            raise ValueError(f"reasons: unknown {unknown}; allowed {sorted(allowed)}")
        return self

    def basis(self) -> str:
        if self.legal_basis:
            return self.legal_basis
        if self.outcome == Outcome.disclose:
            return DISCLOSE_BASIS
        table = WITHHOLD_REASONS if self.outcome == Outcome.withhold else NOT_HELD_REASONS
        return "；".join(dict.fromkeys(table[r][1] for r in self.reasons))


@dataclass(frozen=True)
class Case:
    """What review knows of a case: enough to decide."""

    case_id: str
    status: str  # "received" | "decided"
    description: str
    last_seq: int


class CaseNotFound(LookupError):
    pass


def decide(case: Case | None, cmd: Decide, *, actor: Actor, now: datetime) -> Envelope:
    if case is None:
        raise CaseNotFound("no such case")
    if case.status != "received":
        raise CommandRejected(f"案件已作出决定，不能再次决定 (case is {case.status})")
    if cmd.outcome == Outcome.disclose:
        body: ReviewApproved | DecisionRecorded = ReviewApproved(
            case_id=case.case_id,
            outcome=cmd.outcome,
            reasons=cmd.reasons,
            legal_basis=cmd.basis(),
            title=cmd.title or case.description[:300],
            disclosed_content=cmd.disclosed_content or "",
            note=cmd.note,
        )
    else:
        body = DecisionRecorded(
            case_id=case.case_id,
            outcome=cmd.outcome,
            reasons=cmd.reasons,
            legal_basis=cmd.basis(),
            note=cmd.note,
            responsible_agency=cmd.responsible_agency,
        )
    return make_event(body, aggregate_id=case.case_id, actor=actor, time=now)
