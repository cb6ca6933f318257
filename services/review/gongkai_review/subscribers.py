"""Review's reactions: an applicant's withdrawal (asked through intake) closes the case."""

from __future__ import annotations

import structlog

from gongkai_shared.calendar import WorkingCalendar
from gongkai_shared.calendar_store import CalendarCache
from gongkai_shared.clock import Clock
from gongkai_shared.commands import CommandRejected, execute
from gongkai_shared.envelope import Actor, Envelope, derived_id
from gongkai_shared.events import make_event
from gongkai_shared.reactions import Reaction
from gongkai_shared.runtime import Runtime

from . import queries
from .case import CaseState
from .commands import decide
from .domain import Context, Withdraw

log = structlog.get_logger(__name__)


def withdrawals(rt: Runtime, clock: Clock, calendars: CalendarCache) -> Reaction:
    async def handle(event: Envelope, seq: int) -> None:
        case_id = event.subject
        actor = Actor(id=event.actor, role=event.actorrole)
        cmd = Withdraw(reason=event.data["reason"])

        async def load() -> tuple[tuple[CaseState | None, WorkingCalendar], int]:
            state, seq = await queries.load_case(rt.pool, case_id)
            return (state, await calendars.get(rt.pool)), seq

        def withdraw(loaded: tuple[CaseState | None, WorkingCalendar]) -> Envelope:
            state, calendar = loaded
            ctx = Context(actor=actor, now=clock.now(), today=clock.today(), calendar=calendar)
            body = decide(state, cmd, ctx)
            return make_event(
                body,
                aggregate_id=case_id,
                actor=actor,
                time=ctx.now,
                event_id=derived_id(event.id, "application-withdrawn"),
                causation_id=event.id,
                correlation_id=event.correlationid,
            )

        try:
            await execute(rt, case_id, load, withdraw)
        except CommandRejected as e:  # answered meanwhile: nothing to close
            log.info("withdrawal_not_applied", case_id=case_id, reason=str(e))

    return Reaction("foi.intake.*.withdrawal-requested", "review-on-withdrawal-requested", handle)
