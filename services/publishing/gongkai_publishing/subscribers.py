"""Publishing's reaction to ``review-approved`` (a shared FastStream reaction, explicit acks).

The ack policy is MANUAL (never FastStream's default, which terminates a message whose
handler raised and so skips it forever): a success acks; a failure is recorded and nak'd with
a growing delay, so the event is retried until it succeeds and is never silently skipped. The
reaction is idempotent: the item id, the index number and the ``published`` event id all
derive from the approval event's id.
"""

from __future__ import annotations

import structlog

from gongkai_shared.clock import OFFICE_TZ, Clock
from gongkai_shared.envelope import Envelope
from gongkai_shared.events import ReviewApproved, parse_body
from gongkai_shared.reactions import Reaction
from gongkai_shared.runtime import Runtime

from .domain import Refusal, format_index, item_id_for, publish, refuse, refused_by, should_publish
from .settings import PublishingSettings

log = structlog.get_logger(__name__)
DURABLE = "publishing-on-review-approved"


async def allocate_index(
    rt: Runtime, settings: PublishingSettings, item_id: str, year: int
) -> tuple[str, int]:
    """The item's index number: allocated once, in a transaction, from a per-year counter."""
    async with rt.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT index_number, seq FROM index_allocations WHERE item_id=$1", item_id)
        if row:
            return row["index_number"], row["seq"]
        seq = await conn.fetchval(
            "INSERT INTO index_counters(agency_code, year, last_seq) VALUES ($1,$2,1)"
            " ON CONFLICT (agency_code, year) DO UPDATE SET last_seq = index_counters.last_seq + 1"
            " RETURNING last_seq",
            settings.agency_code,
            year,
        )
        number = format_index(settings.index_format, settings.agency_code, year, seq)
        await conn.execute(
            "INSERT INTO index_allocations(item_id, index_number, year, seq) VALUES ($1,$2,$3,$4)",
            item_id,
            number,
            year,
            seq,
        )
        return number, seq


async def load_register(rt: Runtime) -> list[Refusal]:
    rows = await rt.pool.fetch("SELECT case_id, key, reason FROM refusal_register ORDER BY id")
    return [Refusal(r["case_id"], r["key"], r["reason"]) for r in rows]


async def on_review_approved(
    rt: Runtime, settings: PublishingSettings, clock: Clock, event: Envelope
) -> int | None:
    approval = parse_body(event)
    assert isinstance(approval, ReviewApproved)
    if not should_publish(approval):
        return None
    refusal = refused_by(await load_register(rt), approval)
    if refusal is not None:
        refused = refuse(approval, approval_event=event, refusal=refusal, now=clock.now())
        stored = await rt.store.append(refused, "publishing", expected_seq=0)
        log.warning("publication_refused", case_id=approval.case_id, refused_case=refusal.case_id)
        return stored.seq
    year = event.time.astimezone(OFFICE_TZ).year
    number, seq = await allocate_index(rt, settings, item_id_for(event.id), year)
    published = publish(
        approval,
        approval_event=event,
        index_number=number,
        year=year,
        seq=seq,
        agency_code=settings.agency_code,
        today=clock.today(),
        now=clock.now(),
    )
    stored = await rt.store.append(published, "publishing", expected_seq=0)
    log.info("published", index_number=number, case_id=approval.case_id, seq=stored.seq)
    return stored.seq


def approvals(rt: Runtime, settings: PublishingSettings, clock: Clock) -> Reaction:
    async def handle(event: Envelope, seq: int) -> None:
        # the refusal register must include every refusal logged before this approval: if it
        # does not yet, wait_for raises and the reaction retries later (never a partial view)
        await rt.wait_for(seq - 1)
        await on_review_approved(rt, settings, clock, event)

    return Reaction("foi.review.*.review-approved", DURABLE, handle, settings.reaction_max_backoff)
