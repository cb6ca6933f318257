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


# a case's event whose consequences on other aggregates name no case: followed by causation
CAUSES = frozenset({"publication-decided"})
CAUSED = frozenset({"published", "amended", "publication-refused"})


async def follow(conn: asyncpg.Connection, event: StoredEvent) -> None:
    """An Art. 44 decision's publications (or their refusal) join the case's trail: they carry no
    case id, but their causation is the decision, an event of the case. Call in log order."""
    env = event.envelope
    if event.name in CAUSES:
        await conn.execute(
            "INSERT INTO case_causes(event_id, case_id) VALUES ($1,$2) ON CONFLICT DO NOTHING",
            env.id,
            env.subject,
        )
    elif event.name in CAUSED and env.causationid != env.id:
        await conn.execute(
            "INSERT INTO case_links(case_id, seq, aggregate_id, event)"
            " SELECT case_id, $2, $3, $4 FROM case_causes WHERE event_id=$1 AND case_id <> $3"
            " ON CONFLICT DO NOTHING",
            env.causationid,
            event.seq,
            env.subject,
            event.name,
        )


async def linked_seqs(pool: asyncpg.Pool, case_id: str, upto: int | None = None) -> list[int]:
    rows = await pool.fetch(
        "SELECT seq FROM case_links WHERE case_id=$1 AND ($2::bigint IS NULL OR seq <= $2) ORDER BY seq",
        case_id,
        upto,
    )
    return [r["seq"] for r in rows]
