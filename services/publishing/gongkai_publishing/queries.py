"""Reads over the public catalogue."""

from __future__ import annotations

from typing import Any

import asyncpg

_COLUMNS = "index_number, title, body AS content, agency_code, published_on, source_case_id"


def _item(r: asyncpg.Record) -> dict[str, Any]:
    d = dict(r)
    d["published_on"] = d["published_on"].isoformat()
    d.pop("source_case_id", None)  # internal: the public needs no case reference
    return d


async def list_items(pool: asyncpg.Pool, q: str | None, limit: int, offset: int) -> dict[str, Any]:
    where = "WHERE ($1::text IS NULL OR title ILIKE '%' || $1 || '%')"
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM catalog_items {where}"
        " ORDER BY published_on DESC, index_number DESC LIMIT $2 OFFSET $3",
        q,
        limit,
        offset,
    )
    total = await pool.fetchval(f"SELECT count(*) FROM catalog_items {where}", q)
    return {"total": total, "items": [_item(r) for r in rows]}


async def get_item(pool: asyncpg.Pool, index_number: str) -> dict[str, Any] | None:
    r = await pool.fetchrow(f"SELECT {_COLUMNS} FROM catalog_items WHERE index_number=$1", index_number)
    return _item(r) if r else None


async def item_for_case(pool: asyncpg.Pool, case_id: str) -> dict[str, Any] | None:
    r = await pool.fetchrow(f"SELECT {_COLUMNS} FROM catalog_items WHERE source_case_id=$1", case_id)
    return _item(r) if r else None
