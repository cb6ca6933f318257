"""Notify's HTTP API: deadlines of a case and their explanation (staff), notices (staff), and the
public working-day calculator on the loaded calendar."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gongkai_shared.auth import Role
from gongkai_shared.envelope import Actor, derived_id, sha256_hex
from gongkai_shared.events import CalendarLoaded, Day, make_event
from gongkai_shared.eventstore import ConcurrencyConflict, with_retries
from gongkai_shared.profiles import PROFILES, profile
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


@router.get("/calendar", tags=["calendar 工作日"], summary="工作日历版本及已载入年度")
async def calendar_info(request: Request) -> dict:
    rt = _rt(request)
    async with rt.pool.acquire() as conn:
        cal = await request.app.state.calendars.get(conn)
    return {
        "calendar_version": cal.version,
        "seeded_years": [cal.seeded_years[0], cal.seeded_years[-1]],
        "loaded_years": {
            str(y): {
                "revision": v.revision,
                "source": v.source,
                "holidays": len(v.holidays),
                "adjusted_working_days": len(v.adjusted_working_days),
            }  # fmt: skip
            for y, v in sorted(cal.loaded.items())
        },
    }


@router.get(
    "/calendar/add-working-days",
    tags=["calendar 工作日"],
    summary="工作日计算器",
    responses=error_responses(422),
)
async def add_working_days(
    request: Request,
    start: Day,
    days: int = Query(..., ge=0, le=1000),
    profile_ref: Annotated[Annotated[str, line(100)], Query(alias="profile")] = "national-2019",
) -> dict:
    try:
        p = profile(profile_ref)
    except KeyError:
        raise HTTPException(422, f"unknown profile {profile_ref!r}; known: {sorted(PROFILES)}") from None
    rt = _rt(request)
    async with rt.pool.acquire() as conn:
        cal = await request.app.state.calendars.get(conn)
    due = cal.add_working_days(start, days, count_start=p.count_receipt_day)
    return {
        "start": start.isoformat(),
        "days": days,
        "profile": p.ref,
        "receipt_day_counted": p.count_receipt_day,
        "due": _iso(due.due),
        "provisional": due.provisional,
        "calendar_version": due.calendar_version,
    }


class CalendarYear(BaseModel):
    """A year's schedule from the State Council's notice (国务院办公厅关于YYYY年部分节假日安排的通知)."""

    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2200)
    holidays: list[date] = Field(max_length=100)  # as calendar-loaded: a year keeps its working days
    adjusted_working_days: list[date] = Field(default=[], max_length=100)
    source: Annotated[str, line(500, min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> CalendarYear:
        for field in ("holidays", "adjusted_working_days"):
            outside = [d for d in getattr(self, field) if d.year != self.year]
            if outside:
                raise ValueError(f"{field}: {outside[0]} is not in {self.year}")
        both = set(self.holidays) & set(self.adjusted_working_days)
        if both:
            raise ValueError(f"both a holiday and a working day: {', '.join(map(str, sorted(both)))}")
        if not self.source.strip():
            raise ValueError("source (the notice the schedule comes from) must not be empty")
        return self


@router.post(
    "/calendar/years",
    tags=["calendar 工作日"],
    summary="载入某年节假日安排（管理员）; open deadlines are recomputed",
    responses=error_responses(401, 403, 409, 422),
)
async def load_calendar_year(
    body: CalendarYear, request: Request, actor: Actor = Depends(staff(Role.admin))
) -> dict:
    """Appends ``calendar-loaded`` to ``calendar-<year>`` unless the same schedule is loaded."""
    rt = _rt(request)
    aggregate = f"calendar-{body.year}"
    spec = {
        "year": body.year,
        "holidays": sorted(set(body.holidays)),
        "adjusted_working_days": sorted(set(body.adjusted_working_days)),
        "source": body.source.strip(),
    }

    async def attempt() -> dict:
        history = [e for e in await rt.store.history(aggregate) if e.name == "calendar-loaded"]
        if history:
            last = history[-1]
            same = last.envelope.data["holidays"] == [d.isoformat() for d in spec["holidays"]] and (
                last.envelope.data["adjusted_working_days"]
                == [d.isoformat() for d in spec["adjusted_working_days"]]
            ) and last.envelope.data["source"] == spec["source"]  # fmt: skip
            if same:
                revision = last.envelope.data.get("revision", 1)
                return {"year": body.year, "revision": revision, "sequence": last.seq, "already_loaded": True}
        revision = len(history) + 1
        loaded = CalendarLoaded(revision=revision, **spec)
        event = make_event(
            loaded,
            aggregate_id=aggregate,
            actor=actor,
            event_id=derived_id(
                aggregate, f"revision:{revision}:{sha256_hex(loaded.model_dump_json().encode())}"
            ),  # noqa: E501
        )
        last_event = await rt.store.last_event(aggregate)
        stored = await rt.store.append(event, rt.service, last_event.seq if last_event else 0)
        return {"year": body.year, "revision": revision, "sequence": stored.seq, "already_loaded": False}

    try:
        return await with_retries(attempt)
    except ConcurrencyConflict:
        raise HTTPException(409, "日历正被他人修改，请重试 (the calendar changed concurrently)") from None
