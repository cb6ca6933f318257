"""Delivering notices: e-mail (SMTP) and webhooks (HTTP POST JSON), each attempt an event.

A worker claims one pending delivery at a time with ``FOR UPDATE SKIP LOCKED`` (replicas never
send the same delivery at once) and holds the row lock while sending. Before sending it reads
the case's history: a delivery the log already shows as sent is never sent again (this also
covers a rebuilt projection and a crash between the append and the commit). The attempt number
comes from the log too, so an attempt event's id (derived from the delivery and the number) is
never reused. Failures are retried with exponential backoff up to ``max_attempts``.

The notice id travels as the e-mail's ``Message-ID`` and as the webhook's ``Idempotency-Key``
and ``X-Gongkai-Notice-Id`` headers, so a receiver can drop the one duplicate a crash between
sending and recording can cause.
"""

from __future__ import annotations

import asyncio
import json
import smtplib
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import structlog

from gongkai_shared.clock import Clock
from gongkai_shared.envelope import derived_id
from gongkai_shared.events import NoticeDeliveryAttempted, make_event
from gongkai_shared.eventstore import EventStore, with_retries
from gongkai_shared.runtime import Runtime
from gongkai_shared.text import as_paragraph

from .domain import CLOCK
from .notices import mask
from .settings import NotifySettings

log = structlog.get_logger(__name__)

CLAIM = """
SELECT dl.*, n.case_id, n.kind, n.audience, n.title, n.body
FROM deliveries dl JOIN notices n USING (notice_id)
WHERE dl.status = 'pending' AND dl.next_attempt_at <= now()
ORDER BY dl.next_attempt_at
LIMIT 1
FOR UPDATE OF dl SKIP LOCKED
"""


def send_email(settings: NotifySettings, to: str, title: str, body: str, notice_id: str) -> None:
    msg = EmailMessage()
    msg["Subject"] = title
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{notice_id}@gongkai>"
    msg["X-Gongkai-Notice-Id"] = notice_id
    msg.set_content(body, charset="utf-8")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(msg)


def post_webhook(settings: NotifySettings, url: str, payload: dict[str, Any], notice_id: str) -> None:
    req = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Gongkai-Notice-Id": notice_id,
            "Idempotency-Key": notice_id,
        },
    )
    with urllib.request.urlopen(req, timeout=settings.webhook_timeout) as resp:  # noqa: S310 — configured URLs
        if not 200 <= resp.status < 300:
            raise RuntimeError(f"HTTP {resp.status}")


async def _logged_attempts(store: EventStore, case_id: str, delivery_id: str) -> list[dict[str, Any]]:
    return [
        e.envelope.data
        for e in await store.history(case_id, proven=True)  # a forged attempt must not stop a notice
        if e.name == "notice-delivery-attempted" and e.envelope.data.get("delivery_id") == delivery_id
    ]


async def _append_fact(store: EventStore, event: Any) -> None:
    """Append a fact (not a decision) to the case: expect whatever its last event is now."""

    async def attempt() -> Any:
        last = await store.last_event(event.subject)
        return await store.append(event, "notify", last.seq if last else 0)

    await with_retries(attempt, tries=8)


async def deliver_once(rt: Runtime, settings: NotifySettings, clock: Clock, *, limit: int = 20) -> int:
    """Deliver up to ``limit`` due deliveries. Returns how many attempts were made."""
    done = 0
    for _ in range(limit):
        async with rt.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(CLAIM)
            if row is None:
                break
            did = row["delivery_id"]
            logged = await _logged_attempts(rt.store, row["case_id"], did)
            if any(a["status"] == "sent" for a in logged):
                await conn.execute("UPDATE deliveries SET status='sent' WHERE delivery_id=$1", did)
                continue
            attempt = max([a["attempt"] for a in logged] + [row["attempts"]]) + 1
            error: str | None = None
            try:
                if row["channel"] == "email":
                    await asyncio.to_thread(
                        send_email, settings, row["address"], row["title"], row["body"], row["notice_id"]
                    )
                else:
                    payload = {
                        "notice_id": row["notice_id"],
                        "delivery_id": did,
                        "case_id": row["case_id"],
                        "kind": row["kind"],
                        "audience": row["audience"],
                        "title": row["title"],
                        "body": row["body"],
                    }
                    await asyncio.to_thread(post_webhook, settings, row["address"], payload, row["notice_id"])
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
            await _append_fact(rt.store, event)
            backoff = min(settings.retry_base_seconds * 2 ** (attempt - 1), settings.retry_max_seconds)
            await conn.execute(
                "UPDATE deliveries SET attempts=$2, status=$3, last_error=$4,"
                " next_attempt_at = now() + make_interval(secs => $5),"
                " sent_at = CASE WHEN $3='sent' THEN now() ELSE sent_at END WHERE delivery_id=$1",
                did,
                attempt,
                "pending" if status == "retrying" else status,
                error,
                backoff,
            )
            log.info(
                "notice_delivery", delivery_id=did, channel=row["channel"], status=status, attempt=attempt
            )
            done += 1
    return done


async def run_delivery(rt: Runtime, settings: NotifySettings, clock: Clock) -> None:
    """Deliver due notices every tick; a failure ends the loop: the runtime's supervisor counts
    it, shows it and starts the loop again with backoff."""
    while True:
        await deliver_once(rt, settings, clock)
        await asyncio.sleep(settings.delivery_tick_seconds)
