"""The calendar's HTTP routes: the public working-day calculator on the loaded calendar, and
loading a year's holiday schedule (admin; ``gongkai calendar load`` posts the file's mapping here).

What a schedule file means and when it is refused is notify's rule (domain/calendar_year.py):
this route takes the mapping as written (days, ``"a..b"`` ranges, ``{from, to}`` ranges) and
answers 422 naming each problem.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from gongkai_shared.auth import Role
from gongkai_shared.envelope import Actor, derived_id, sha256_hex
from gongkai_shared.events import CalendarLoaded, Day, make_event
from gongkai_shared.eventstore import ConcurrencyConflict, with_retries
from gongkai_shared.profiles import PROFILES, profile
from gongkai_shared.runtime import Runtime
from gongkai_shared.text import line
from gongkai_shared.web import error_body, error_responses, staff

from .domain.calendar_year import MAX_DAYS, YearSchedule, read_schedule

router = APIRouter(prefix="/api/v1", tags=["calendar 工作日"])


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


@router.get("/calendar", summary="工作日历版本及已载入年度")
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


@router.get("/calendar/add-working-days", summary="工作日计算器", responses=error_responses(422))
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
        "due": due.due.isoformat() if due.due else None,
        "provisional": due.provisional,
        "calendar_version": due.calendar_version,
    }


# one entry of a list: a day "2027-01-01", a range "2027-02-06..2027-02-14", or {from, to}
Entry = Annotated[str, line(40, min_length=1)] | dict[str, Annotated[str, line(40, min_length=1)]]


class CalendarYear(BaseModel):
    """A year's schedule from the State Council's notice (国务院办公厅关于YYYY年部分节假日安排的通知),
    as the operator's file writes it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "year": 2027,
                    "source": "国务院办公厅关于2027年部分节假日安排的通知",
                    "holidays": [
                        "2027-01-01",
                        "2027-02-06..2027-02-14",
                        {"from": "2027-10-01", "to": "2027-10-07"},
                    ],
                    "adjusted_working_days": ["2027-02-20"],
                }
            ]
        },
    )
    year: int
    holidays: list[Entry] = Field(max_length=MAX_DAYS)
    adjusted_working_days: list[Entry] = Field(default=[], max_length=MAX_DAYS)
    source: Annotated[str, line(500)]


@router.post(
    "/calendar/years",
    summary="载入某年节假日安排（管理员）; the open deadlines it touches are recomputed",
    responses=error_responses(401, 403, 409, 422),
)
async def load_calendar_year(
    body: CalendarYear, request: Request, actor: Actor = Depends(staff(Role.admin))
) -> Any:
    """Appends ``calendar-loaded`` to ``calendar-<year>`` unless the same schedule is loaded."""
    lists = {"holidays": body.holidays, "adjusted_working_days": body.adjusted_working_days}
    schedule = read_schedule(body.year, lists, body.source)
    if not isinstance(schedule, YearSchedule):
        errors = [{"field": p.field, "message": p.message} for p in schedule]
        return JSONResponse(error_body(422, "节假日安排不符合要求 (the schedule is refused)", errors), 422)
    try:
        return await with_retries(lambda: _append(_rt(request), schedule, actor))
    except ConcurrencyConflict:
        raise HTTPException(409, "日历正被他人修改，请重试 (the calendar changed concurrently)") from None


async def _append(rt: Runtime, s: YearSchedule, actor: Actor) -> dict:
    aggregate = f"calendar-{s.year}"
    history = [e for e in await rt.store.history(aggregate) if e.name == "calendar-loaded"]
    if history:
        last = history[-1].envelope.data
        same = (
            last["holidays"] == [d.isoformat() for d in s.holidays]
            and last["adjusted_working_days"] == [d.isoformat() for d in s.adjusted_working_days]
            and last["source"] == s.source
        )
        if same:
            revision = last.get("revision", 1)
            return {**_counts(s), "revision": revision, "sequence": history[-1].seq, "already_loaded": True}
    revision = len(history) + 1
    loaded = CalendarLoaded(
        year=s.year,
        holidays=list(s.holidays),
        adjusted_working_days=list(s.adjusted_working_days),
        source=s.source,
        revision=revision,
    )
    digest = sha256_hex(loaded.model_dump_json().encode())
    event = make_event(
        loaded,
        aggregate_id=aggregate,
        actor=actor,
        event_id=derived_id(aggregate, f"revision:{revision}:{digest}"),
    )
    last_event = await rt.store.last_event(aggregate)
    stored = await rt.store.append(event, rt.service, last_event.seq if last_event else 0)
    return {**_counts(s), "revision": revision, "sequence": stored.seq, "already_loaded": False}


def _counts(s: YearSchedule) -> dict:
    return {
        "year": s.year,
        "holidays": len(s.holidays),
        "adjusted_working_days": len(s.adjusted_working_days),
    }
