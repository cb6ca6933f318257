"""The clock's outbox: records computed deadlines and breaches as events, exactly once.

Every tick, due work is claimed with ``FOR UPDATE SKIP LOCKED`` so that several notify
replicas never work on the same deadline at once. The events' ids derive from the deadline,
and each append expects the case's last sequence: a replica that raced another, or a retry
after a crash, finds its event already stored (no duplicate), and a breach can never be
appended after an answer it has not yet seen (the concurrency check rejects it).
"""

from __future__ import annotations

import asyncio

import structlog
from gongkai_shared.clock import Clock
from gongkai_shared.eventstore import ConcurrencyConflict
from gongkai_shared.runtime import Runtime

from .domain import Deadline, deadline_breached, deadline_set

log = structlog.get_logger(__name__)

DUE_WORK = """
SELECT d.*, c.last_seq, c.caused_by FROM deadlines d JOIN cases c USING (case_id)
WHERE d.set_seq IS NULL
   OR (d.breached_seq IS NULL AND NOT c.answered AND d.due_on < $1)
ORDER BY d.due_on
LIMIT 100
FOR UPDATE OF d SKIP LOCKED
"""

_FIELDS = Deadline.__dataclass_fields__


async def dispatch_once(rt: Runtime, clock: Clock) -> int:
    """One pass over due work. Returns how many events it appended."""
    appended = 0
    async with rt.pool.acquire() as conn, conn.transaction():
        for row in await conn.fetch(DUE_WORK, clock.today()):
            d = Deadline(**{k: row[k] for k in _FIELDS})
            if row["set_seq"] is None:
                event = deadline_set(d, now=clock.now(), cause=row["caused_by"])
            else:
                event = deadline_breached(d, now=clock.now())
            with structlog.contextvars.bound_contextvars(case_id=d.case_id, event_id=event.id):
                try:
                    stored = await rt.store.append(event, "notify", row["last_seq"])
                except ConcurrencyConflict:
                    log.info("dispatch_deferred", reason="case moved; projection catching up")
                    continue
                log.info(f"{event.name}_appended", seq=stored.seq, due_on=str(d.due_on))
                appended += 1
    return appended


async def run_dispatcher(rt: Runtime, clock: Clock, tick: float) -> None:
    while True:
        try:
            await dispatch_once(rt, clock)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 — logged, retried next tick; nothing is lost
            log.error("dispatch_failed", error=f"{type(e).__name__}: {e}")
        await asyncio.sleep(tick)
