"""Reads over review's own tables."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from .domain import Case

_COLUMNS = (
    "case_id, received_on, channel, applicant_name, applicant_type, description, form, delivery,"
    " status, outcome, reasons, legal_basis, decided_by, decided_at, answer_due, overdue, last_seq"
)


def _row(r: asyncpg.Record) -> dict[str, Any]:
    d = dict(r)
    d["reasons"] = json.loads(d["reasons"]) if d["reasons"] else []
    for k in ("received_on", "decided_at", "answer_due"):
        d[k] = d[k].isoformat() if d[k] else None
    return d


async def list_cases(pool: asyncpg.Pool, status: str | None, limit: int, offset: int) -> list[dict]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM cases WHERE ($1::text IS NULL OR status = $1)"
        " ORDER BY received_on, case_id LIMIT $2 OFFSET $3",
        status,
        limit,
        offset,
    )
    return [_row(r) for r in rows]


async def get_case(pool: asyncpg.Pool, case_id: str) -> dict | None:
    r = await pool.fetchrow(f"SELECT {_COLUMNS} FROM cases WHERE case_id = $1", case_id)
    return _row(r) if r else None


async def load_case(pool: asyncpg.Pool, case_id: str) -> tuple[Case | None, int]:
    r = await pool.fetchrow(
        "SELECT case_id, status, description, last_seq FROM cases WHERE case_id = $1", case_id
    )
    if r is None:
        return None, 0
    return Case(r["case_id"], r["status"], r["description"], r["last_seq"]), r["last_seq"]
