"""Notify's HTTP API: deadlines of a case (staff) and the public working-day calculator."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from gongkai_shared.auth import Role
from gongkai_shared.envelope import Actor
from gongkai_shared.runtime import Runtime
from gongkai_shared.web import staff

from .domain import PROFILES

router = APIRouter(prefix="/api/v1", tags=["deadlines 期限"])
READERS = staff(Role.registrar, Role.handler, Role.reviewer, Role.approver, Role.auditor)


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


@router.get("/deadlines", summary="案件的期限")
async def deadlines(
    request: Request,
    case_id: str = Query(..., min_length=1, max_length=100),
    min_seq: int | None = Query(None, ge=0),
    _: Actor = Depends(READERS),
) -> dict:
    rt = _rt(request)
    await rt.wait_for(min_seq)
    case = await rt.pool.fetchrow("SELECT answered FROM cases WHERE case_id=$1", case_id)
    if case is None:
        raise HTTPException(404, "案件不存在 (no such case)")
    rows = await rt.pool.fetch(
        "SELECT deadline_id, kind, start_on, working_days, due_on, profile, calendar_version,"
        " provisional, set_seq, breached_seq FROM deadlines WHERE case_id=$1 ORDER BY due_on",
        case_id,
    )
    today = request.app.state.clock.today()
    items = []
    for r in rows:
        d = dict(r)
        for k in ("start_on", "due_on"):
            d[k] = d[k].isoformat()
        d["recorded"] = d.pop("set_seq") is not None
        d["breached"] = d.pop("breached_seq") is not None
        d["overdue"] = not case["answered"] and today > r["due_on"]
        items.append(d)
    return {"case_id": case_id, "answered": case["answered"], "deadlines": items}


@router.get("/calendar/add-working-days", tags=["calendar 工作日"], summary="工作日计算器")
async def add_working_days(
    request: Request,
    start: date,
    days: int = Query(..., ge=0, le=1000),
    profile: str = Query("national-2019"),
) -> dict:
    if profile not in PROFILES:
        raise HTTPException(422, f"unknown profile {profile!r}; known: {sorted(PROFILES)}")
    p = PROFILES[profile]
    due = request.app.state.calendar.add_working_days(start, days, count_start=p.count_receipt_day)
    return {
        "start": start.isoformat(),
        "days": days,
        "profile": profile,
        "due": due.due.isoformat(),
        "provisional": due.provisional,
        "calendar_version": due.calendar_version,
    }
