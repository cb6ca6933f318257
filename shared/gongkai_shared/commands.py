"""Running a command: load state, decide (pure), append with the concurrency check, retry.

A handler that loses the race reloads fresh state (after its projection has caught up with
the aggregate's real last event) and decides again, a few times, then answers 409.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from .decisions import CommandRejected
from .envelope import Envelope
from .eventstore import ConcurrencyConflict, StoredEvent
from .runtime import Runtime

log = structlog.get_logger(__name__)
S = TypeVar("S")


async def execute(
    runtime: Runtime,
    aggregate_id: str,
    load: Callable[[], Awaitable[tuple[S, int]]],
    decide: Callable[[S], Envelope],
    *,
    tries: int = 4,
) -> StoredEvent:
    """Load ``(state, last_seq)``, decide one event, append it expecting ``last_seq``."""
    for attempt in range(tries):
        # decide on the case as the log has it: let the projection catch up with its last event
        last = await runtime.store.last_event(aggregate_id)
        if last is not None:  # behind: 503 naming the projection (at once when it is stopped)
            await runtime.wait_for(last.seq)
        state, last_seq = await load()
        event = decide(state)
        try:
            return await runtime.store.append(event, runtime.service, last_seq)
        except ConcurrencyConflict:
            log.info("command_conflict_retry", aggregate_id=aggregate_id, attempt=attempt)
    raise CommandRejected("案件正被他人修改，请稍后重试 (the case changed concurrently; retry)")
