"""Delivering notices (e-mail, webhooks), each attempt an event on the case.

Everything a delivery needs was stored with it when the projection applied the event that caused
the notice (outbox.py): sending reads two rows, never the case's history. A sender **claims** one
due delivery at a time in a short transaction (``FOR UPDATE SKIP LOCKED``, then a lease of
``delivery_lease_seconds``), sends with no transaction open, appends ``notice-delivery-attempted``
and marks the delivery in a second short statement. Replicas never send the same delivery at
once (the lease); a sender that crashed leaves a lease that runs out, and the notice is retried.

The log stays the record of what was sent: the projection applies each attempt to the delivery
(outbox.delivery_attempted), so a rebuilt projection, or a sender that crashed after appending,
finds the delivery sent. The attempt number comes from that row, so an attempt event's id
(derived from the delivery and the number) is never reused. Failures are retried with exponential
backoff up to ``max_attempts``.

The notice id travels as the e-mail's ``Message-ID`` and as the webhook's ``Idempotency-Key``
and ``X-Gongkai-Notice-Id`` headers, so a receiver can drop the one duplicate a crash between
sending and recording can cause.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import structlog

from gongkai_shared.clock import Clock
from gongkai_shared.envelope import derived_id
from gongkai_shared.events import NoticeDeliveryAttempted, make_event
from gongkai_shared.eventstore import EventStore, StoredEvent, with_retries
from gongkai_shared.text import as_paragraph

from .channels import post_webhook, send_email
from .domain.recording import CLOCK
from .notices import mask
from .settings import NotifySettings

log = structlog.get_logger(__name__)

CLAIM = """
UPDATE deliveries dl SET lease_until = now() + make_interval(secs => $2), lease_owner = $1
FROM notices n
WHERE n.notice_id = dl.notice_id AND dl.delivery_id = (
    SELECT delivery_id FROM deliveries
    WHERE status = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
    ORDER BY next_attempt_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED)
RETURNING dl.delivery_id, dl.notice_id, dl.channel, dl.address, dl.attempts,
    n.case_id, n.kind, n.audience, n.title, n.body
"""

# only the holder of the lease marks it; a delivery the log already shows sent stays sent
MARK = """
UPDATE deliveries SET attempts = GREATEST(attempts, $2),
    status = CASE WHEN status = 'sent' THEN 'sent' ELSE $3 END, last_error = $4,
    next_attempt_at = now() + make_interval(secs => $5),
    sent_at = CASE WHEN $3 = 'sent' THEN coalesce(sent_at, now()) ELSE sent_at END,
    lease_until = NULL, lease_owner = NULL
WHERE delivery_id = $1 AND lease_owner = $6
"""


async def claim(pool: asyncpg.Pool, owner: str, lease_seconds: float) -> asyncpg.Record | None:
    """One due delivery, leased to ``owner`` (None: nothing due)."""
    return await pool.fetchrow(CLAIM, owner, lease_seconds)


async def _append_fact(store: EventStore, event: Any) -> StoredEvent:
    """Append a fact (not a decision) to the case: expect whatever its last event is now."""

    async def attempt() -> StoredEvent:
        last = await store.last_event(event.subject)
        return await store.append(event, "notify", last.seq if last else 0)

    return await with_retries(attempt, tries=8)


async def _send(settings: NotifySettings, row: asyncpg.Record) -> None:
    if row["channel"] == "email":
        await asyncio.to_thread(
            send_email, settings, row["address"], row["title"], row["body"], row["notice_id"]
        )
        return
    payload = {
        "notice_id": row["notice_id"],
        "delivery_id": row["delivery_id"],
        "case_id": row["case_id"],
        "kind": row["kind"],
        "audience": row["audience"],
        "title": row["title"],
        "body": row["body"],
    }
    await asyncio.to_thread(post_webhook, settings, row["address"], payload, row["notice_id"])


async def deliver(
    pool: asyncpg.Pool,
    store: EventStore,
    settings: NotifySettings,
    clock: Clock,
    row: asyncpg.Record,
    owner: str,
) -> str:
    """Send one claimed delivery, record the attempt, mark it. Returns the attempt's status."""
    did, attempt = row["delivery_id"], row["attempts"] + 1
    error: str | None = None
    try:
        await _send(settings, row)
        status = "sent"
    except Exception as e:  # noqa: BLE001 — any failure of the channel is an attempt that failed
        error = as_paragraph(f"{type(e).__name__}: {e}")[:500]  # a server's words may hold NUL
        status = "failed" if attempt >= settings.max_attempts else "retrying"
    body = NoticeDeliveryAttempted(
        case_id=row["case_id"],
        notice_id=row["notice_id"],
        delivery_id=did,
        kind=row["kind"],
        channel=row["channel"],
        recipient=mask(row["address"]),
        attempt=attempt,
        status=status,
        error=error,
        attempted_at=clock.now(),
    )
    event = make_event(
        body,
        aggregate_id=row["case_id"],
        actor=CLOCK,
        event_id=derived_id(did, f"attempt:{attempt}"),
        time=clock.now(),
    )
    await _append_fact(store, event)
    backoff = min(settings.retry_base_seconds * 2 ** (attempt - 1), settings.retry_max_seconds)
    await pool.execute(
        MARK, did, attempt, "pending" if status == "retrying" else status, error, backoff, owner
    )
    log.info("notice_delivery", delivery_id=did, channel=row["channel"], status=status, attempt=attempt)
    return status


async def deliver_once(
    pool: asyncpg.Pool, store: EventStore, settings: NotifySettings, clock: Clock, *, limit: int = 20
) -> int:
    """Deliver up to ``limit`` due deliveries, one claim at a time. Returns how many attempts were made."""
    owner = uuid.uuid4().hex
    done = 0
    for _ in range(limit):
        row = await claim(pool, owner, settings.delivery_lease_seconds)
        if row is None:
            break
        await deliver(pool, store, settings, clock, row, owner)
        done += 1
    return done


async def run_delivery(pool: asyncpg.Pool, store: EventStore, settings: NotifySettings, clock: Clock) -> None:
    """Every ``delivery_tick_seconds``. A failure ends the loop: the runtime's supervisor counts
    it, shows it and starts the loop again with backoff; a claimed delivery's lease runs out, so
    another pass retries it."""
    while True:
        await deliver_once(pool, store, settings, clock)
        await asyncio.sleep(settings.delivery_tick_seconds)
