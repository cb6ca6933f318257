"""The auditor's views of one case (issue 11), for the auditor role only, read from the log:

- ``GET /api/v1/audit/cases/{case_id}/trail``: the case's own events and every event of another
  aggregate that names it (``case_links``), in log order, each with actor, role, time, its
  writer's signature status and its hash link (``gongkai_shared.trail``);
- ``GET /api/v1/audit/cases/{case_id}/replay?as_of=…|seq=…``: the case as it stood, folded from
  its events by review's own code (``replay.py``), never read from the database.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError

from gongkai_shared.auth import Role
from gongkai_shared.clock import OFFICE_TZ
from gongkai_shared.envelope import Actor
from gongkai_shared.runtime import Runtime
from gongkai_shared.trail import read_trail
from gongkai_shared.web import error_responses, staff

from . import case_links
from .api import NOT_A_SUBJECT_TOKEN, CaseId
from .replay import BeforeTheCase, NotACase, replay
from .scope import record_read

router = APIRouter(prefix="/api/v1/audit/cases", tags=["audit 审计"])
AUDITOR = staff(Role.auditor)
ERRORS = error_responses(401, 403, 404, 422)
NO_CASE = "案件不存在 (no such case)"


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


def _case(case_id: str) -> str:
    if NOT_A_SUBJECT_TOKEN.search(case_id):  # names no aggregate: never a subject filter
        raise HTTPException(404, NO_CASE)
    return case_id


@router.get(
    "/{case_id}/trail", summary="案件全程记录：本案事件及关联事件（签名、哈希链校验）", responses=ERRORS
)
async def trail(
    case_id: CaseId,
    request: Request,
    _: Actor = Depends(AUDITOR),
    min_seq: int | None = Query(None, ge=0, description="wait until this sequence is indexed"),
) -> dict:
    rt = _rt(request)
    await rt.wait_for(min_seq)
    first = await rt.store.first_seq(_case(case_id))
    linked = await case_links.linked_seqs(rt.pool, case_id)
    if first is None:
        raise HTTPException(404, NO_CASE)
    entries = await read_trail(rt.store, case_id, linked, rt.keyring, first_seq=first)
    if not entries:
        raise HTTPException(404, NO_CASE)
    return {
        "case_id": case_id,
        "events": [e.as_dict() for e in entries],
        "ok": all(e.signature == "ok" and e.hash_link == "ok" for e in entries),
    }


@router.get("/{case_id}/replay", summary="案件在某一时刻的状态（由事件重演）", responses=ERRORS)
async def replay_case(
    case_id: CaseId,
    request: Request,
    actor: Actor = Depends(AUDITOR),
    as_of: datetime | None = Query(
        None, description="ISO 8601 time; without an offset it is Beijing time (UTC+8)"
    ),
    seq: int | None = Query(None, ge=1, description="log position: the case's events up to this sequence"),
) -> dict:
    rt = _rt(request)
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=OFFICE_TZ)
    first = await rt.store.first_seq(_case(case_id))
    if first is None:
        raise HTTPException(404, NO_CASE)
    # only events whose writer is proven, as the live projection applies them
    history = await rt.store.history(case_id, since=first, proven=True)
    try:
        view = replay(case_id, history, as_of=as_of, upto=seq)
    except NotACase:
        raise HTTPException(404, NO_CASE) from None
    except BeforeTheCase as e:
        field = "as_of" if as_of is not None and as_of < e.first.envelope.time else "seq"
        raise RequestValidationError(
            [{"loc": ("query", field), "msg": str(e), "type": "before_case"}]
        ) from None
    await record_read(rt, actor, case_id)  # the applicant's details are shown: the read is logged
    return view
