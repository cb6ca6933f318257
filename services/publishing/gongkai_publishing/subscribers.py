"""Publishing's reaction to ``review-approved``: a FastStream subscriber with explicit acks.

The ack policy is MANUAL (never FastStream's default, which terminates a message whose
handler raised and so skips it forever): a success acks; a failure is recorded and nak'd with
a growing delay, so the event is retried until it succeeds and is never silently skipped. The
reaction is idempotent: the item id, the index number and the ``published`` event id all
derive from the approval event's id.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from nats.js.api import ConsumerConfig

from gongkai_shared.clock import OFFICE_TZ, Clock
from gongkai_shared.envelope import Envelope
from gongkai_shared.events import ReviewApproved, parse_body
from gongkai_shared.runtime import Runtime

from .domain import Refusal, format_index, item_id_for, publish, refuse, refused_by, should_publish
from .settings import PublishingSettings

log = structlog.get_logger(__name__)
DURABLE = "publishing-on-review-approved"


class ReactionStatus:
    """What operators see of the reaction: the event it is stuck on, if any."""

    def __init__(self) -> None:
        self.failing: dict[str, dict[str, Any]] = {}

    @property
    def healthy(self) -> bool:
        return all(f["attempts"] < 5 for f in self.failing.values())


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


async def run_reactions(
    rt: Runtime, settings: PublishingSettings, clock: Clock, status: ReactionStatus
) -> None:
    broker = NatsBroker(settings.nats_url, logger=None)

    @broker.subscriber(
        "foi.review.*.review-approved",
        stream=JStream(settings.stream, declare=False),
        durable=DURABLE,
        pull_sub=PullSub(batch_size=1, timeout=1.0),
        config=ConsumerConfig(ack_wait=60, max_deliver=-1),
        ack_policy=AckPolicy.MANUAL,
    )
    async def handle(msg: NatsMessage) -> None:
        raw = msg.raw_message
        try:
            event = Envelope.from_bytes(raw.data)
            # the register must include every refusal logged before this approval
            await rt.wait_for(raw.metadata.sequence.stream - 1, timeout=30)
            with structlog.contextvars.bound_contextvars(event_id=event.id, case_id=event.subject):
                await on_review_approved(rt, settings, clock, event)
        except Exception as e:
            attempts = raw.metadata.num_delivered
            status.failing[raw.subject] = {
                "attempts": attempts,
                "error": f"{type(e).__name__}: {e}",
            }
            delay = min(0.5 * 2**attempts, settings.reaction_max_backoff)
            log.error(
                "reaction_failed",
                subject=raw.subject,
                attempts=attempts,
                error=str(e),
                retry_in=delay,
            )
            await msg.nack(delay=delay)
            return
        status.failing.pop(raw.subject, None)
        await msg.ack()

    await broker.start()
    try:
        await asyncio.Event().wait()
    finally:
        await broker.stop()
