"""Review's HTTP API: the case queue and the decision command (staff only)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from gongkai_shared.auth import Role
from gongkai_shared.commands import CommandRejected, execute
from gongkai_shared.envelope import Actor
from gongkai_shared.runtime import Runtime
from gongkai_shared.web import staff

from . import queries
from .domain import CaseNotFound, Decide, decide

router = APIRouter(prefix="/api/v1/cases", tags=["cases 案件"])
READERS = staff(Role.registrar, Role.handler, Role.reviewer, Role.approver, Role.auditor)
DECIDERS = staff(Role.reviewer, Role.approver)


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


@router.get("", summary="案件队列")
async def list_cases(
    request: Request,
    _: Actor = Depends(READERS),
    status: Literal["received", "decided"] | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    min_seq: int | None = Query(None, ge=0, description="wait until this sequence is applied"),
) -> dict:
    rt = _rt(request)
    await rt.wait_for(min_seq)
    return {"items": await queries.list_cases(rt.pool, status, limit, offset)}


@router.get("/{case_id}", summary="案件详情")
async def get_case(
    case_id: str,
    request: Request,
    _: Actor = Depends(READERS),
    min_seq: int | None = Query(None, ge=0),
) -> dict:
    rt = _rt(request)
    await rt.wait_for(min_seq)
    found = await queries.get_case(rt.pool, case_id)
    if found is None:
        raise HTTPException(404, "案件不存在 (no such case)")
    return found


@router.post("/{case_id}/decision", status_code=201, summary="作出答复决定")
async def record_decision(
    case_id: str,
    cmd: Decide,
    request: Request,
    actor: Actor = Depends(DECIDERS),
) -> dict:
    rt = _rt(request)
    clock = request.app.state.clock
    try:
        stored = await execute(
            rt,
            case_id,
            lambda: queries.load_case(rt.pool, case_id),
            lambda case: decide(case, cmd, actor=actor, now=clock.now()),
        )
    except CaseNotFound:
        raise HTTPException(404, "案件不存在 (no such case)") from None
    except CommandRejected as e:
        raise HTTPException(409, str(e)) from None
    return {"case_id": case_id, "event": stored.name, "event_id": stored.id, "sequence": stored.seq}
