"""The case state machine (依申请公开办理流程), derived from the command table (``commands.py``):
the steps a state allows, and ``docs/review-workflow.md`` (diagram, commands, outcomes), which
``tests/unit/test_review_workflow.py`` keeps equal to ``document()``.
"""

from __future__ import annotations

from gongkai_shared.outcomes import ROWS

from .case import WORKING
from .commands import COMMANDS, REGISTER_COMMANDS


def allowed(status: str) -> list[str]:
    """The commands the table allows in ``status`` (a case's pending steps)."""
    return [c.name for c in COMMANDS if status in c.allowed_in]


def mermaid() -> str:
    lines = ["stateDiagram-v2", "    [*] --> received: request-received"]
    for c in COMMANDS:
        for s in c.allowed_in:
            if c.leads_to == "=":
                lines.append(f"    {s} --> {s}: {c.name}")
            elif c.leads_to != "<resume>":
                lines.append(f"    {s} --> {c.leads_to}: {c.name}")
            else:  # the last reply (the payment) returns the case to where it was before
                lines.extend(f"    {s} --> {back}: {c.name} (resumes)" for back in WORKING)
    lines.append("    archived --> [*]")
    return "\n".join(lines) + "\n"


def document() -> str:
    """``docs/review-workflow.md``: the diagram, the command table and the outcome rows."""
    commands = "\n".join(
        f"| `{c.name}` | {c.label} | {', '.join(c.allowed_in)} | {c.leads_to} | "
        f"{', '.join(r.value for r in c.roles)} | `{'`, `'.join((c.path, *c.aliases))}` | "
        f"`{c.rule.__module__.rsplit('.', 1)[-1]}.{c.rule.__name__}` |"
        for c in COMMANDS
    )
    register = "\n".join(
        f"| `{c.name}` | {c.label} | {', '.join(r.value for r in c.roles)} | `{c.path}` | "
        f"`{c.rule.__module__.rsplit('.', 1)[-1]}.{c.rule.__name__}` |"
        for c in REGISTER_COMMANDS
    )
    outcomes = "\n".join(f"| `{r.code}` | {r.report_row} | {r.label} | {r.legal_basis} |" for r in ROWS)
    return f"""# The review workflow (依申请公开办理)

Generated from the command table `services/review/gongkai_review/commands.py`
(`.venv/bin/python -m gongkai_review.machine > docs/review-workflow.md`);
`tests/unit/test_review_workflow.py` fails if this page and the code disagree. Each command's
rule is a pure function in `services/review/gongkai_review/domain/<module>.py`, whose docstring
names the articles of the 条例 (2019) it applies.

```mermaid
{mermaid()}```

## Commands

`=` stays in the same state; `<resume>` returns to the state the case was in when the first open
consultation started, once the last one is answered (or, for a fee, when the notice was issued,
once paid). Every command is
`POST /api/v1/cases/{{case_id}}/<path>` (see the review service's OpenAPI); a command the state
does not allow answers `409`, a wrong role `403`.

Roles: no role is implied, an administrator needs the role too. Path: the `<path>` above.
Rule: the function in `domain/<module>.py`.

| command | step | allowed in | leads to | roles | path | rule |
|---|---|---|---|---|---|---|
{commands}

## The refusal register (不予公开登记, Art. 18)

Each entry is a document (or a part of one) that a signed decision withheld; an entry is its own
aggregate (`foi.review.<entry-id>.*`). Every command is `POST /api/v1/refusals/{{entry_id}}/<path>`;
given again, it changes nothing. A standing entry stops every draft, sign-off and answer that
would disclose its document (a part withheld again is allowed, Art. 37).

| command | step | roles | path | rule |
|---|---|---|---|---|
{register}

## Outcomes and the annual report (table 三)

| code | report row | label | legal basis |
|---|---|---|---|
{outcomes}
"""


if __name__ == "__main__":
    print(document(), end="")
