"""The clock's outbox: records computed deadlines, warnings and breaches as events, exactly once.

Every tick, due work is claimed with ``FOR UPDATE SKIP LOCKED`` so that several notify
replicas never work on the same deadline at once. The events' ids derive from the deadline
(and, for a recomputation, how many times it was recorded), and each append expects the case's
last sequence: a replica that raced another, or a retry after a crash, finds its event already
stored (no duplicate), and a breach can never be appended after an answer notify has not yet
seen (the concurrency check rejects it; the work is retried once the projection caught up).

Due work is two queries, each on its partial index (migrations/0003), so a tick reads open work
only, however many cases are closed: computations not yet recorded (``deadlines_unrecorded``),
and recorded running deadlines from their warning day on (``deadlines_running``). A case queued
for recomputation after a calendar load is left alone until it is recomputed (recompute.py).

Only enforced deadlines are recorded; the informational limit for asking a correction (补正告知,
7 working days) is computed and explained but never recorded, warned or breached.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from gongkai_shared.calendar_store import CalendarCache
from gongkai_shared.clock import Clock
from gongkai_shared.envelope import Envelope
from gongkai_shared.eventstore import ConcurrencyConflict
from gongkai_shared.positions import ProjectionBehind, ProjectionStopped
from gongkai_shared.runtime import Runtime

from .deadline_store import deadline_from_row
from .domain.recording import Recorded, deadline_breached, deadline_warning, needs_warning, next_record
from .projection import ClockProjection

log = structlog.get_logger(__name__)

_NOT_QUEUED = "NOT EXISTS (SELECT 1 FROM recompute_queue q WHERE q.case_id = d.case_id)"

# the predicate of index deadlines_unrecorded, spelled the same so the planner uses it
UNRECORDED = f"""
SELECT d.*, c.last_seq FROM deadlines d JOIN cases c USING (case_id)
WHERE d.enforced AND (
        (d.status = 'running' AND d.due_on IS NOT NULL AND (d.rec_status <> 'running'
            OR d.rec_due_on IS DISTINCT FROM d.due_on OR d.rec_provisional IS DISTINCT FROM d.provisional))
        OR (d.status IN ('suspended', 'paused') AND d.rec_status = 'running'))
  AND {_NOT_QUEUED}
ORDER BY d.due_on NULLS FIRST, d.deadline_id
LIMIT 200
FOR UPDATE OF d SKIP LOCKED
"""

# index deadlines_running: from the warning day on (a breach is past the due date, so past warn_on)
DUE = f"""
SELECT d.*, c.last_seq FROM deadlines d JOIN cases c USING (case_id)
WHERE d.enforced AND d.status = 'running' AND d.breached_seq IS NULL AND d.warn_on <= $1
  AND d.rec_status = 'running' AND d.rec_due_on = d.due_on
  AND (d.due_on < $1 OR d.warned_for IS DISTINCT FROM d.due_on)
  AND {_NOT_QUEUED}
ORDER BY d.warn_on, d.deadline_id
LIMIT 200
FOR UPDATE OF d SKIP LOCKED
"""


def _recorded(row: Any) -> Recorded:
    return Recorded(
        status=row["rec_status"],
        due_on=row["rec_due_on"],
        provisional=row["rec_provisional"],
        set_count=row["set_count"],
        set_seq=row["set_seq"],
        warned_for=row["warned_for"],
        breached=row["breached_seq"] is not None,
    )


async def dispatch_once(
    rt: Runtime, clock: Clock, *, warn_days: int = 3, calendars: CalendarCache | None = None
) -> int:
    """One pass over due work. Returns how many events it appended."""
    calendars = calendars or CalendarCache()
    appended = 0
    today, now = clock.today(), clock.now()
    async with rt.pool.acquire() as conn, conn.transaction():
        cal = await calendars.get(conn)
        rows = {r["deadline_id"]: r for r in await conn.fetch(UNRECORDED)}
        rows.update(
            (r["deadline_id"], r) for r in await conn.fetch(DUE, today) if r["deadline_id"] not in rows
        )
        last_seqs: dict[str, int] = {}
        for row in rows.values():
            d, r = deadline_from_row(row), _recorded(row)
            event: Envelope | None = next_record(d, r, now=now)
            if event is None and d.due_on is not None:
                if d.due_on < today:
                    event = deadline_breached(d, now=now)
                elif needs_warning(d, r, today, warn_days, cal):
                    event = deadline_warning(d, today=today, warn_days=warn_days, calendar=cal, now=now)
            if event is None or event.id == row["pending_event_id"]:
                continue  # nothing to do, or already appended and the projection is catching up
            expected = last_seqs.get(d.case_id, row["last_seq"])
            with structlog.contextvars.bound_contextvars(case_id=d.case_id, event_id=event.id):
                try:
                    stored = await rt.store.append(event, "notify", expected)
                except ConcurrencyConflict:
                    log.info("dispatch_deferred", reason="case moved; projection catching up")
                    continue
                last_seqs[d.case_id] = stored.seq
                await conn.execute(
                    "UPDATE deadlines SET pending_event_id=$2 WHERE deadline_id=$1", d.deadline_id, event.id
                )
                log.info(f"{event.name}_appended", seq=stored.seq, due_on=str(d.due_on), kind=d.kind)
                appended += 1
    return appended


async def run_dispatcher(
    rt: Runtime, clock: Clock, tick: float, *, warn_days: int, calendars: CalendarCache
) -> None:
    """Every ``tick`` seconds, and at once again while a pass found work (a backlog drains at the
    speed of appends, not 200 per tick). A failure ends the loop: the runtime's supervisor counts
    it, shows it and starts the loop again with backoff (nothing is lost: the work stays due)."""
    while True:
        if not await dispatch_once(rt, clock, warn_days=warn_days, calendars=calendars):
            await _next_change(rt, tick)


async def _next_change(rt: Runtime, tick: float) -> None:
    """Until the clock's projection applies more events (new deadlines to record at once, not
    up to a tick later) or ``tick`` passes (due dates arrive with time, not with events)."""
    runner = rt.runners.get(ClockProjection.name)
    if runner is None:
        await asyncio.sleep(tick)
        return
    try:
        await runner.wait_for(runner.position + 1, timeout=tick)
    except ProjectionStopped:
        await asyncio.sleep(tick)  # its failure is shown by the runtime; the clock goes on
    except ProjectionBehind:
        pass
