"""The notice outbox: a notice and its deliveries, written in the transaction of the event that
causes them, holding everything a delivery needs (title, body, case, address), so that
delivering never reads the case's history."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from gongkai_shared.clock import Clock
from gongkai_shared.eventstore import StoredEvent

from . import notices
from .settings import NotifySettings


async def write_notice(
    conn: asyncpg.Connection, settings: NotifySettings, clock: Clock, event: StoredEvent, n: notices.Notice
) -> None:
    """The notice (once: its id derives from the event) and one delivery per channel."""
    age = settings.notice_max_age_hours
    if age and event.envelope.time < clock.now() - timedelta(hours=age):
        return  # a rebuild replaying old history: those notices were due long ago
    created = await conn.fetchval(
        "INSERT INTO notices(notice_id, case_id, kind, audience, title, body, cause_event_id, cause_seq,"
        " created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING RETURNING true",
        n.notice_id,
        event.aggregate_id,
        n.kind,
        n.audience,
        n.title,
        n.body,
        event.id,
        event.seq,
        event.envelope.time,
    )
    if not created:
        return
    targets: list[tuple[str, str]] = []
    if n.email and settings.smtp_host:
        targets.append(("email", n.email))
    targets += [("webhook", url) for url in settings.webhooks()]
    await conn.executemany(
        "INSERT INTO deliveries(delivery_id, notice_id, channel, address) VALUES ($1,$2,$3,$4)"
        " ON CONFLICT DO NOTHING",
        [(notices.delivery_id(n.notice_id, ch, addr), n.notice_id, ch, addr) for ch, addr in targets],
    )


async def delivery_attempted(conn: asyncpg.Connection, event: StoredEvent) -> None:
    """``notice-delivery-attempted``: the log is the record of what was sent (a rebuilt projection,
    or a sender that crashed after appending, finds the delivery sent here)."""
    d = event.envelope.data
    await conn.execute(
        "UPDATE deliveries SET attempts=GREATEST(attempts, $2),"
        " status = CASE WHEN status='sent' THEN 'sent' WHEN $3='sent' THEN 'sent'"
        "  WHEN $3='failed' THEN 'failed' ELSE status END,"
        " sent_at = CASE WHEN $3='sent' THEN coalesce(sent_at, $4) ELSE sent_at END,"
        " last_error = $5 WHERE delivery_id=$1",
        d["delivery_id"],
        d["attempt"],
        d["status"],
        event.envelope.time,
        d.get("error"),
    )
