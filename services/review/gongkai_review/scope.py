"""Who sees what of a case (issue 8, roles an office would recognise).

- A department handler (承办部门经办人) sees and acts only on the cases assigned to their own
  department, and sees the applicant's contact and identity details masked: their step (search
  and feedback) does not need them.
- Registrars, reviewers, approvers and auditors see the details; each such read is recorded in
  the log (``personal-data-viewed``) before the data is returned, and auditors list the reads.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import HTTPException, Request

from gongkai_shared.auth import Role
from gongkai_shared.envelope import Actor
from gongkai_shared.events import make_event
from gongkai_shared.eventstore import with_retries
from gongkai_shared.runtime import Runtime
from gongkai_shared.staff import PersonalDataViewed, reads_aggregate

MASK = "***"
PERSONAL = ("contact", "id_number")


def handler_department(request: Request, actor: Actor) -> str | None:
    """The handler's department; None for any other role. A handler without one sees nothing."""
    if actor.role != Role.handler.value:
        return None
    user = getattr(request.state, "staff_user", None)
    department = user.department if user is not None else None
    if not department:
        raise HTTPException(403, "经办人账号未设置所属部门 (the handler's account has no department)")
    return department


def check_department(department: str | None, case_departments: list[str]) -> None:
    if department is not None and department not in case_departments:
        raise HTTPException(403, "该案件未分办给您所在部门 (the case is not assigned to your department)")


def masked(case: dict[str, Any]) -> dict[str, Any]:
    """The case with the applicant's contact and identity details replaced by ``***``."""
    out = copy.deepcopy(case)
    for entry in out.get("trail", []):
        applicant = entry.get("data", {}).get("applicant")
        if isinstance(applicant, dict):
            for field in PERSONAL:
                if applicant.get(field) is not None:
                    applicant[field] = MASK
    state = out.get("state")
    if isinstance(state, dict) and state.get("applicant_key"):
        state["applicant_key"] = MASK
    return out


async def record_read(rt: Runtime, actor: Actor, case_id: str, *, item: str | None = None) -> int:
    """Append ``personal-data-viewed`` (no record, no data); returns its sequence. ``item``: what
    was shown besides the case's details (``identity-proof``)."""
    aggregate = reads_aggregate(case_id)
    body = PersonalDataViewed(case_id=case_id, user_id=actor.id, role=Role(actor.role), item=item)

    async def attempt() -> int:
        last = await rt.store.last_event(aggregate)
        event = make_event(body, aggregate_id=aggregate, actor=actor)
        return (await rt.store.append(event, rt.service, last.seq if last else 0)).seq

    return await with_retries(attempt, tries=8)
