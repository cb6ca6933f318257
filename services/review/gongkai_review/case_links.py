"""The index of a case's correlated events (audit, issue 11): every event of another aggregate
that names a case in its body (``gongkai_shared.trail.cases_named``) is a row of ``case_links``,
written by the cases projection in the transaction that moves its position. The auditor's trail
(``audit_api.py``) reads the case's own events from its first one and these sequences."""

from __future__ import annotations

import asyncpg

from gongkai_shared.eventstore import StoredEvent
from gongkai_shared.trail import cases_named

Link = tuple[str, int, str, str]  # case_id, seq, aggregate_id, event


def links_of(event: StoredEvent) -> list[Link]:
    env = event.envelope
    return [(case_id, event.seq, env.subject, event.name) for case_id in cases_named(env)]


async def write(conn: asyncpg.Connection, links: list[Link]) -> None:
    if links:
        await conn.executemany(
            "INSERT INTO case_links(case_id, seq, aggregate_id, event) VALUES ($1,$2,$3,$4)"
            " ON CONFLICT DO NOTHING",
            links,
        )


async def linked_seqs(pool: asyncpg.Pool, case_id: str, upto: int | None = None) -> list[int]:
    rows = await pool.fetch(
        "SELECT seq FROM case_links WHERE case_id=$1 AND ($2::bigint IS NULL OR seq <= $2) ORDER BY seq",
        case_id,
        upto,
    )
    return [r["seq"] for r in rows]
