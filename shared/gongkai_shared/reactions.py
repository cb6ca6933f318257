"""Reactions to other services' events: FastStream subscribers with explicit acknowledgement.

The ack policy is MANUAL, never FastStream's default (which terminates a message whose handler
raised, skipping it forever): success acks; a failure is recorded (visible in ``/readyz``) and
nak'd with a growing delay, so the event is retried until it succeeds and is never skipped.
Reactions must be idempotent: their event ids derive from the causing event's id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from nats.js.api import ConsumerConfig

from .envelope import Envelope
from .runtime import Runtime

log = structlog.get_logger(__name__)


@dataclass
class Reaction:
    """One reaction: which events, under which durable consumer, handled how."""

    subject: str
    durable: str
    handle: Callable[[Envelope, int], Awaitable[Any]]  # (event, stream sequence)
    max_backoff: float = 60.0
    failing: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return all(f["attempts"] < 5 for f in self.failing.values())

    def check(self) -> tuple[str, bool, str]:
        return f"reaction:{self.durable}", self.healthy, str(self.failing or "")


async def run_reactions(rt: Runtime, reactions: list[Reaction]) -> None:
    """Run the reactions until cancelled (spawn this in the service's runtime)."""
    broker = NatsBroker(rt.settings.nats_url, logger=None)
    for reaction in reactions:
        rt.extra_checks.append(reaction.check)
        _subscribe(broker, rt, reaction)
    await broker.start()
    try:
        await asyncio.Event().wait()
    finally:
        await broker.stop()


def _subscribe(broker: NatsBroker, rt: Runtime, reaction: Reaction) -> None:
    @broker.subscriber(
        reaction.subject,
        stream=JStream(rt.settings.stream, declare=False),
        durable=reaction.durable,
        pull_sub=PullSub(batch_size=1, timeout=1.0),
        config=ConsumerConfig(ack_wait=60, max_deliver=-1),
        ack_policy=AckPolicy.MANUAL,
    )
    async def handle(msg: NatsMessage) -> None:
        raw = msg.raw_message
        try:
            event = Envelope.from_bytes(raw.data)
            with structlog.contextvars.bound_contextvars(event_id=event.id, case_id=event.subject):
                await reaction.handle(event, raw.metadata.sequence.stream)
        except Exception as e:  # noqa: BLE001 — recorded, retried with backoff, never skipped
            attempts = raw.metadata.num_delivered
            reaction.failing[raw.subject] = {"attempts": attempts, "error": f"{type(e).__name__}: {e}"}
            delay = min(0.5 * 2**attempts, reaction.max_backoff)
            log.error("reaction_failed", subject=raw.subject, attempts=attempts, error=str(e), retry_in=delay)
            await msg.nack(delay=delay)
            return
        reaction.failing.pop(raw.subject, None)
        await msg.ack()
