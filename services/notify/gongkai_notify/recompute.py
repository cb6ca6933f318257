"""Recomputing the cases a loaded calendar year touches: from a queue, in chunks, while the clock
keeps ticking.

``calendar-loaded`` only enqueues (``recompute_queue``, projection.py). This worker takes
``recompute_chunk`` cases at a time, soonest due first, in a short transaction: it locks their
queue rows **and** their ``cases`` rows (``FOR UPDATE ... SKIP LOCKED``), reads the calendar
after taking the locks, recomputes, and deletes the rows it did. So a case's deadlines are right
whichever runs first:

- an event of the case applied first: the projection recomputes it on every year loaded so far
  and deletes its queue row (waiting, if a worker holds it, for that chunk to commit);
- the worker first: the projection waits for the case's row, then recomputes on top of it;
- a later year loaded while a chunk runs: its enqueue waits for the chunk and re-queues the case.

Meanwhile the dispatcher leaves a queued case alone (its due date is about to change), and every
other case is warned and breached on time. The recomputed deadlines are recorded by the
dispatcher as before (``deadline-set``, caused by the ``calendar-loaded`` event), and the staff
are told of each moved due date.
"""

from __future__ import annotations

import asyncio
import json

import asyncpg
import structlog

from gongkai_shared.calendar_store import CalendarCache
from gongkai_shared.profiles import profile

from .deadline_store import recompute
from .domain.deadlines import Cause
from .settings import NotifySettings

log = structlog.get_logger(__name__)

CLAIM = """
SELECT q.case_id, q.cause_event_id, c.events
FROM recompute_queue q JOIN cases c USING (case_id)
ORDER BY q.first_due NULLS FIRST, q.case_id
LIMIT $1
FOR UPDATE OF q, c SKIP LOCKED
"""


async def recompute_once(pool: asyncpg.Pool, settings: NotifySettings, calendars: CalendarCache) -> int:
    """Recompute one chunk of queued cases in one transaction. Returns how many."""
    default_profile = profile(settings.profile)
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(CLAIM, settings.recompute_chunk)
        if not rows:
            return 0
        calendar = await calendars.get(conn)  # after the locks: at least the queued year
        for r in rows:
            cause = Cause(r["cause_event_id"], "calendar-loaded")
            await recompute(
                conn,
                r["case_id"],
                json.loads(r["events"]),
                cause,
                default_profile=default_profile,
                calendar=calendar,
                warn_days=settings.warn_days,
            )
        await conn.execute(
            "DELETE FROM recompute_queue WHERE case_id = ANY($1::text[])", [r["case_id"] for r in rows]
        )
    log.info("cases_recomputed", cases=len(rows), calendar_version=calendar.version)
    return len(rows)


async def run_recompute(pool: asyncpg.Pool, settings: NotifySettings) -> None:
    """The worker: chunk after chunk while there is work, then a look every ``recompute_tick_seconds``.
    Errors propagate (the runtime sees the task stop); the queue keeps the work."""
    calendars = CalendarCache()
    while True:
        if await recompute_once(pool, settings, calendars) < settings.recompute_chunk:
            await asyncio.sleep(settings.recompute_tick_seconds)
