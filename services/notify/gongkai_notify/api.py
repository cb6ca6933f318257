"""Notify's HTTP API for staff: the deadlines of a case, each one's explanation, the notices.

The calendar's routes (the public working-day calculator, loading a year) are in calendar_api.py.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from gongkai_shared.auth import Role
from gongkai_shared.envelope import Actor
from gongkai_shared.runtime import Runtime
from gongkai_shared.text import line
from gongkai_shared.web import error_responses, staff

router = APIRouter(prefix="/api/v1", tags=["deadlines 期限"])
READERS = staff(Role.registrar, Role.handler, Role.reviewer, Role.approver, Role.auditor)
CaseId = Annotated[str, line(100, min_length=1)]
STAFF_READ_ERRORS = error_responses(401, 403, 404, 422)  # issue 8: every code is declared


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


def _iso(v: date | None) -> str | None:
    return v.isoformat() if v else None


@router.get("/deadlines", summary="案件的期限", responses=STAFF_READ_ERRORS)
async def deadlines(
    request: Request,
    case_id: Annotated[CaseId, Query()],
    min_seq: int | None = Query(None, ge=0),
    _: Actor = Depends(READERS),
) -> dict:
    rt = _rt(request)
    await rt.wait_for(min_seq)
    case = await rt.pool.fetchrow("SELECT open FROM cases WHERE case_id=$1", case_id)
    if case is None:
        raise HTTPException(404, "案件不存在 (no such case)")
    rows = await rt.pool.fetch(
        "SELECT * FROM deadlines WHERE case_id=$1"
        " ORDER BY kind = 'answer' DESC, due_on NULLS LAST, deadline_id",
        case_id,
    )
    today = request.app.state.clock.today()
    items = []
    for r in rows:
        items.append(
            {
                "deadline_id": r["deadline_id"],
                "kind": r["kind"],
                "subject": r["subject"],
                "status": r["status"],
                "start_on": _iso(r["start_on"]),
                "working_days": r["working_days"],
                "due_on": _iso(r["due_on"]),
                "warn_on": _iso(r["warn_on"]),
                "profile": r["profile"],
                "calendar_version": r["calendar_version"],
                "provisional": r["provisional"],
                "enforced": r["enforced"],
                "recorded": r["rec_status"] != "none",
                "recorded_due_on": _iso(r["rec_due_on"]),
                "warned": r["warned_for"] is not None,
                "breached": r["breached_seq"] is not None,
                "overdue": r["status"] == "running"
                and r["enforced"]
                and r["due_on"] is not None
                and today > r["due_on"],
            }
        )
    answered = not case["open"]
    return {"case_id": case_id, "answered": answered, "open": case["open"], "deadlines": items}


@router.get(
    "/deadlines/{deadline_id}/explain",
    summary="期限计算说明：逐日列出计入、跳过和暂停的日期",
    responses=STAFF_READ_ERRORS,
)
async def explain(
    request: Request,
    deadline_id: Annotated[str, line(200, min_length=1)],
    min_seq: int | None = Query(None, ge=0),
    _: Actor = Depends(READERS),
) -> dict:
    rt = _rt(request)
    await rt.wait_for(min_seq)
    row = await rt.pool.fetchrow(
        "SELECT explain, cause_id, cause_type, rec_due_on, set_count FROM deadlines WHERE deadline_id=$1",
        deadline_id,
    )
    if row is None:
        raise HTTPException(404, "期限不存在 (no such deadline)")
    body = json.loads(row["explain"])
    body["cause"] = {"event_id": row["cause_id"], "event_type": row["cause_type"]}
    body["recorded_due_on"] = _iso(row["rec_due_on"])
    body["times_recorded"] = row["set_count"]
    return body


@router.get("/notices", summary="案件的通知及送达状态", responses=STAFF_READ_ERRORS)
async def case_notices(
    request: Request,
    case_id: Annotated[CaseId, Query()],
    min_seq: int | None = Query(None, ge=0),
    _: Actor = Depends(READERS),
) -> dict:
    rt = _rt(request)
    await rt.wait_for(min_seq)
    rows = await rt.pool.fetch(
        "SELECT n.notice_id, n.kind, n.audience, n.title, n.cause_event_id, n.created_at,"
        " coalesce(json_agg(json_build_object('channel', d.channel, 'status', d.status,"
        " 'attempts', d.attempts,"
        " 'sent_at', d.sent_at, 'last_error', d.last_error)) FILTER (WHERE d.delivery_id IS NOT NULL), '[]')"
        " AS deliveries FROM notices n LEFT JOIN deliveries d USING (notice_id) WHERE n.case_id=$1"
        " GROUP BY n.notice_id ORDER BY n.cause_seq, n.notice_id",
        case_id,
    )
    return {
        "case_id": case_id,
        "notices": [
            {
                **{k: r[k] for k in ("notice_id", "kind", "audience", "title", "cause_event_id")},
                "created_at": r["created_at"].isoformat(),
                "deliveries": json.loads(r["deliveries"]),
            }  # fmt: skip
            for r in rows
        ],
    }
