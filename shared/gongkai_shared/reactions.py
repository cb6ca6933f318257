"""Reactions to other services' events: FastStream subscribers with explicit acknowledgement.

The ack policy is MANUAL, never FastStream's default (which terminates a message whose handler
raised, skipping it forever): success acks; a failure is recorded (counted in
``gongkai_reaction_failures_total``, shown in ``/readyz``'s detail and the status page, stuck
after five attempts) and nak'd with a growing delay, so the event is retried until it succeeds
and is never skipped. A reaction whose inputs have not caught up (its handler's
``Runtime.wait_for`` raised ``ProjectionBehind``) is nak'd the same way, with a short delay: it
acts later on the whole view, never now on a partial one.
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
from faststream.security import SASLPlaintext
from nats.js.api import ConsumerConfig
from prometheus_client import Counter, Gauge

from .access import DURABLES, inbox_prefix
from .envelope import Envelope
from .positions import ProjectionBehind
from .projection import REFUSED
from .runtime import Runtime
from .trust import Untrusted

log = structlog.get_logger(__name__)

REACTION_FAILURES = Counter(
    "gongkai_reaction_failures_total", "Reaction attempts that failed (retried)", ["reaction", "cause"]
)
REACTION_STUCK = Gauge(
    "gongkai_reaction_stuck", "Events a reaction failed on five times or more", ["reaction"]
)
STUCK_AFTER = 5


@dataclass
class Reaction:
    """One reaction: which events, under which durable consumer, handled how."""

    subject: str
    durable: str
    handle: Callable[[Envelope, int], Awaitable[Any]]  # (event, stream sequence)
    max_backoff: float = 60.0
    failing: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)  # events whose writer could not be proven

    @property
    def healthy(self) -> bool:
        return all(f["attempts"] < STUCK_AFTER for f in self.failing.values())

    def healthy_count(self) -> int:
        return sum(f["attempts"] < STUCK_AFTER for f in self.failing.values())

    def check(self) -> tuple[str, bool, str]:
        detail = str(self.failing or "")
        if self.refused:
            detail += f" {len(self.refused)} event(s) refused, last: {self.refused[-1]}"
        return f"reaction:{self.durable}", self.healthy, detail.strip()


async def run_reactions(rt: Runtime, reactions: list[Reaction]) -> None:
    """Run the reactions until cancelled (spawn this in the service's runtime)."""
    user = rt.settings.nats_user or rt.service
    if any(r.durable not in DURABLES[rt.service] for r in reactions):
        raise ValueError(f"{rt.service}: a reaction's durable is not in gongkai_shared.access.DURABLES")
    broker = NatsBroker(
        rt.settings.nats_url,
        security=SASLPlaintext(username=user, password=rt.settings.nats_password),
        inbox_prefix=inbox_prefix(user),
        logger=None,
    )
    for reaction in reactions:
        if reaction.check not in rt.extra_checks:  # started again by the supervisor: once
            rt.extra_checks.append(reaction.check)
        _subscribe(broker, rt, reaction)
    await broker.start()
    for reaction in reactions:  # watched from now on: recreated if someone deletes it
        info = await rt.store.js.consumer_info(rt.settings.stream, reaction.durable)
        rt.durables[reaction.durable] = info.config
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
        # pull requests' replies come to the service's own inbox, the only one it may read
        inbox_prefix=f"{inbox_prefix(rt.settings.nats_user or rt.service)}.".encode(),
    )
    async def handle(msg: NatsMessage) -> None:
        raw = msg.raw_message
        if not await _trusted(rt, reaction, raw):
            await msg.ack()  # parked with its reason above: never acted on, never retried
            return
        try:
            event = Envelope.from_bytes(raw.data)
            with structlog.contextvars.bound_contextvars(event_id=event.id, case_id=event.subject):
                await reaction.handle(event, raw.metadata.sequence.stream)
        except Exception as e:  # noqa: BLE001 — recorded, retried with backoff, never skipped
            attempts = raw.metadata.num_delivered
            behind = isinstance(e, ProjectionBehind)
            reaction.failing[raw.subject] = {"attempts": attempts, "error": f"{type(e).__name__}: {e}"}
            # inputs behind: retry soon (they catch up); a failure: back off further each time
            delay = min(0.5 * 2**attempts, reaction.max_backoff, 5.0 if behind else reaction.max_backoff)
            REACTION_FAILURES.labels(reaction.durable, "behind" if behind else "error").inc()
            REACTION_STUCK.labels(reaction.durable).set(len(reaction.failing) - reaction.healthy_count())
            log.error("reaction_failed", subject=raw.subject, attempts=attempts, error=str(e), retry_in=delay)
            await msg.nack(delay=delay)
            return
        reaction.failing.pop(raw.subject, None)
        REACTION_STUCK.labels(reaction.durable).set(len(reaction.failing) - reaction.healthy_count())
        await msg.ack()


async def _trusted(rt: Runtime, reaction: Reaction, raw: Any) -> bool:
    """Check the writer's signature; an event that fails is parked with its reason and alerted."""
    seq = raw.metadata.sequence.stream
    headers = dict(raw.headers or {})
    try:
        await rt.keyring.ensure(rt.store, seq)
        rt.keyring.check(seq, raw.subject, headers, raw.data, Envelope.from_bytes(raw.data))
        return True
    except Untrusted as e:
        problem = str(e)
    except ValueError as e:  # not even an envelope: no writer to prove
        problem = f"not a valid event envelope: {e}"
    name = f"reaction:{reaction.durable}"
    await rt.pool.execute(
        "INSERT INTO parked_events(projection, seq, subject, error, reason, parked_by)"
        " VALUES ($1,$2,$3,$4,'writer not proven','system') ON CONFLICT DO NOTHING",
        name, seq, raw.subject, problem[:4000],
    )  # fmt: skip
    REFUSED.labels(name).inc()
    reaction.refused.append(f"seq {seq}: {problem}")
    log.error("event_refused", reader=name, seq=seq, subject=raw.subject, error=problem)
    return False
