"""Notify's tables of deadlines: the computation of a case saved, and read back (the calendar
years: ``gongkai_shared.calendar_store``).

``recompute`` is the one place a case's deadlines are computed and stored: the projection calls it
when an event of the case arrives, the recompute worker when a calendar year was loaded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg

from gongkai_shared.calendar import WorkingCalendar
from gongkai_shared.profiles import RuleProfile

from .domain.deadlines import Cause, ClockEvent, Deadline
from .domain.publication import compute
from .domain.rules import warn_on

_UPSERT = """
INSERT INTO deadlines AS d (deadline_id, case_id, kind, subject, start_on, working_days, due_on, warn_on,
    profile, calendar_version, provisional, status, status_since, status_cause_id, enforced,
    cause_id, cause_type, explain)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)
ON CONFLICT (deadline_id) DO UPDATE SET
    start_on=EXCLUDED.start_on, working_days=EXCLUDED.working_days, due_on=EXCLUDED.due_on,
    warn_on=EXCLUDED.warn_on, profile=EXCLUDED.profile, calendar_version=EXCLUDED.calendar_version,
    provisional=EXCLUDED.provisional, status=EXCLUDED.status, status_since=EXCLUDED.status_since,
    status_cause_id=EXCLUDED.status_cause_id, enforced=EXCLUDED.enforced, explain=EXCLUDED.explain,
    cause_id = CASE WHEN (d.due_on, d.status, d.provisional, d.working_days) IS DISTINCT FROM
        (EXCLUDED.due_on, EXCLUDED.status, EXCLUDED.provisional, EXCLUDED.working_days)
        THEN EXCLUDED.cause_id ELSE d.cause_id END,
    cause_type = CASE WHEN (d.due_on, d.status, d.provisional, d.working_days) IS DISTINCT FROM
        (EXCLUDED.due_on, EXCLUDED.status, EXCLUDED.provisional, EXCLUDED.working_days)
        THEN EXCLUDED.cause_type ELSE d.cause_type END
"""


def _row(x: Deadline, warn_days: int, cal: WorkingCalendar, cause: Cause) -> tuple[Any, ...]:
    warn = warn_on(x.due_on, warn_days, cal) if x.due_on and x.enforced else None
    return (
        x.deadline_id, x.case_id, x.kind, x.subject, x.start_on, x.working_days, x.due_on, warn,
        x.profile, x.calendar_version, x.provisional, x.status, x.status_since,
        x.status_cause.id if x.status_cause else None, x.enforced, cause.id, cause.type,
        json.dumps(x.explain(), ensure_ascii=False),
    )  # fmt: skip


async def recompute(
    conn: asyncpg.Connection,
    case_id: str,
    events: Sequence[dict[str, Any]],
    cause: Cause,
    *,
    default_profile: RuleProfile,
    calendar: WorkingCalendar,
    warn_days: int,
) -> list[Deadline]:
    """Compute every deadline of the case or document (its ``events`` as stored in
    ``cases.events``) and save them; ``cause`` becomes the cause of each deadline whose due date
    or status changes."""
    computed = compute(case_id, [ClockEvent.from_json(e) for e in events], default_profile, calendar)
    await conn.executemany(_UPSERT, [_row(x, warn_days, calendar, cause) for x in computed])
    return computed


def deadline_from_row(r: Any) -> Deadline:
    """A computed deadline as stored (no trace): what the dispatcher needs to record it."""
    return Deadline(
        deadline_id=r["deadline_id"],
        case_id=r["case_id"],
        kind=r["kind"],
        subject=r["subject"],
        start_on=r["start_on"],
        base_days=r["working_days"],
        extension_days=0,
        due_on=r["due_on"],
        profile=r["profile"],
        calendar_version=r["calendar_version"],
        provisional=r["provisional"],
        status=r["status"],
        enforced=r["enforced"],
        count_start=False,
        cause=Cause(r["cause_id"], r["cause_type"]),
        status_cause=Cause(r["status_cause_id"], "") if r["status_cause_id"] else None,
        status_since=r["status_since"],
    )
