"""Publishing's projection: ``published`` events into the catalogue (and the number counters)."""

from __future__ import annotations

import asyncpg

from gongkai_shared.events import Published
from gongkai_shared.eventstore import StoredEvent

from .domain import refusal_key, refusals_of


class CatalogProjection:
    name = "publishing.catalog"

    async def apply(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        for kind, text, reason in refusals_of(event.name, event.envelope.data):
            await conn.execute(
                "INSERT INTO refusal_register(case_id, kind, text, key, reason, seq)"
                " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
                event.envelope.subject,
                kind,
                text,
                refusal_key(text),
                reason,
                event.seq,
            )
        if event.name != "published":
            return
        p: Published = event.body()
        await conn.execute(
            "INSERT INTO catalog_items(index_number, item_id, title, body, agency_code,"
            " published_on, source_case_id, event_id, seq) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
            p.index_number,
            p.item_id,
            p.title,
            p.content,
            p.agency_code,
            p.published_on,
            p.source_case_id,
            event.id,
            event.seq,
        )
        # a rebuilt database must never hand out a number the log has already used
        await conn.execute(
            "INSERT INTO index_allocations(item_id, index_number, year, seq) VALUES ($1,$2,$3,$4)"
            " ON CONFLICT (item_id) DO NOTHING",
            p.item_id,
            p.index_number,
            p.index_year,
            p.index_seq,
        )
        await conn.execute(
            "INSERT INTO index_counters(agency_code, year, last_seq) VALUES ($1,$2,$3)"
            " ON CONFLICT (agency_code, year)"
            " DO UPDATE SET last_seq = GREATEST(index_counters.last_seq, EXCLUDED.last_seq)",
            p.agency_code,
            p.index_year,
            p.index_seq,
        )
