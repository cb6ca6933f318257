"""The case state machine (依申请公开办理流程) as a table: the single source of truth.

``decide`` rejects any command not allowed in the case's state; the diagram in
``docs/review-workflow.md`` is generated from this table (and a test keeps it so).
"""

from __future__ import annotations

from dataclasses import dataclass

from gongkai_shared.auth import Role

OPEN = (
    "received", "registered", "assigned", "searched", "clarifying", "consulting", "reviewed",
    "drafted", "signed",
)  # fmt: skip
CLOSED = ("answered", "abandoned", "withdrawn", "archived")
STATES = OPEN + CLOSED

LABELS = {
    "received": "已收到", "registered": "已登记", "assigned": "已分办", "searched": "已检索反馈",
    "clarifying": "补正中", "consulting": "征求意见中", "reviewed": "已保密审查", "drafted": "已拟定答复",
    "signed": "已签发", "answered": "已答复", "abandoned": "视为放弃", "withdrawn": "已撤回",
    "archived": "已归档",
}  # fmt: skip


@dataclass(frozen=True)
class Transition:
    command: str
    sources: tuple[str, ...]
    target: str  # "=" stays in the same state; "<resume>" returns to the state before consulting
    roles: tuple[Role, ...]
    label: str


R, H, V, A = Role.registrar, Role.handler, Role.reviewer, Role.approver
WORKING = ("registered", "assigned", "searched", "reviewed")

TRANSITIONS: tuple[Transition, ...] = (
    Transition("register", ("received",), "registered", (R,), "登记"),
    Transition("assign", ("registered",), "assigned", (R, V), "分办"),
    Transition("give_feedback", ("assigned",), "searched", (H, V), "部门反馈（全部反馈后）"),
    Transition("request_clarification", ("registered", "assigned"), "clarifying", (R, V), "补正告知"),
    Transition("receive_clarification", ("clarifying",), "registered", (R,), "收到补正"),
    Transition("abandon", ("clarifying",), "abandoned", (R, V), "逾期未补正"),
    Transition("start_consultation", (*WORKING, "consulting"), "consulting", (V,), "征求意见"),
    Transition("record_reply", ("consulting",), "<resume>", (R, V), "记录意见"),
    Transition("override", WORKING, "=", (A,), "公共利益决定公开"),
    Transition("review_confidentiality", ("registered", "searched"), "reviewed", (V,), "保密审查"),
    Transition("draft", ("reviewed",), "drafted", (H, V), "拟定答复"),
    Transition("reject_draft", ("drafted",), "reviewed", (A,), "退回"),
    Transition("sign_off", ("drafted",), "signed", (A,), "签发"),
    Transition(
        "extend",
        ("registered", "assigned", "searched", "clarifying", "consulting", "reviewed", "drafted"),
        "=",
        (A,),
        "延期答复",
    ),
    Transition("send_answer", ("signed",), "answered", (R, V), "答复"),
    Transition("withdraw", OPEN, "withdrawn", (R,), "申请人撤回"),
    Transition("archive", ("answered", "abandoned", "withdrawn"), "archived", (R,), "归档"),
)

BY_COMMAND = {t.command: t for t in TRANSITIONS}


def allowed(status: str) -> list[str]:
    """The commands the state machine allows in ``status``."""
    return [t.command for t in TRANSITIONS if status in t.sources]


def mermaid() -> str:
    lines = ["stateDiagram-v2", "    [*] --> received: request-received"]
    for t in TRANSITIONS:
        for s in t.sources:
            if t.target == "=":
                target = s
            elif t.target == "<resume>":
                target = "consulting" if s != "consulting" else None
                if target is None:
                    for back in WORKING:
                        lines.append(f"    consulting --> {back}: {t.command} (last reply)")
                    continue
            else:
                target = t.target
            lines.append(f"    {s} --> {target}: {t.command}")
    lines.append("    archived --> [*]")
    return "\n".join(lines) + "\n"


def document() -> str:
    """``docs/review-workflow.md``: the diagram, the command table and the outcome rows."""
    from gongkai_shared.outcomes import ROWS

    commands = "\n".join(
        f"| `{t.command}` | {t.label} | {', '.join(t.sources)} | {t.target} | "
        f"{', '.join(r.value for r in t.roles)} |"
        for t in TRANSITIONS
    )
    outcomes = "\n".join(f"| `{r.code}` | {r.report_row} | {r.label} | {r.legal_basis} |" for r in ROWS)
    return f"""# The review workflow (依申请公开办理)

Generated from `services/review/gongkai_review/machine.py`
(`.venv/bin/python -m gongkai_review.machine > docs/review-workflow.md`);
`tests/unit/test_review_workflow.py` fails if this page and the code disagree.

```mermaid
{mermaid()}```

## Commands

`=` stays in the same state; `<resume>` returns to the state the case was in when the first open
consultation started, once the last one is answered. Every command is
`POST /api/v1/cases/{{case_id}}/<path>` (see the review service's OpenAPI); a command the state
does not allow answers `409`, a wrong role `403`.

| command | step | allowed in | leads to | roles (no role is implied: an administrator needs the role too) |
|---|---|---|---|---|
{commands}

## Outcomes and the annual report (table 三)

| code | report row | label | legal basis |
|---|---|---|---|
{outcomes}
"""


if __name__ == "__main__":
    print(document(), end="")
