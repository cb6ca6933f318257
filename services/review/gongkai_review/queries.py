"""Reads over review's own tables."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from gongkai_shared.profiles import profile

from .case import LABELS, CaseState
from .machine import allowed
from .projection import description_key

_COLUMNS = (
    "case_id, received_on, channel, applicant_name, applicant_type, description, form, delivery,"
    " status, outcome, reasons, legal_basis, decided_by, decided_at, answer_due, overdue, last_seq,"
    " profile, first_received_on AS original_received_on, corrected_on"
)


def _row(r: asyncpg.Record) -> dict[str, Any]:
    d = dict(r)
    d["reasons"] = json.loads(d["reasons"]) if d["reasons"] else []
    for k in ("received_on", "decided_at", "answer_due", "original_received_on", "corrected_on"):
        d[k] = d[k].isoformat() if d[k] else None
    d["status_label"] = LABELS.get(d["status"], d["status"])
    return d


async def list_cases(
    pool: asyncpg.Pool, status: str | None, limit: int, offset: int, department: str | None = None
) -> list[dict]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM cases WHERE ($1::text IS NULL OR status = $1)"
        " AND ($4::text IS NULL OR $4 = ANY(departments))"
        " ORDER BY received_on, case_id LIMIT $2 OFFSET $3",
        status,
        limit,
        offset,
        department,
    )
    return [_row(r) for r in rows]


async def get_case(pool: asyncpg.Pool, case_id: str) -> dict | None:
    r = await pool.fetchrow(f"SELECT {_COLUMNS}, state FROM cases WHERE case_id = $1", case_id)
    if r is None:
        return None
    d = _row(r)
    state = CaseState.model_validate_json(d.pop("state"))
    trail = await pool.fetch(
        "SELECT seq, at, event, actor, role, data FROM case_trail WHERE case_id=$1 ORDER BY seq", case_id
    )
    d["state"] = state.model_dump(mode="json")
    d["pending_steps"] = allowed(state.status)
    d["rule_profile"] = profile(state.profile).as_dict() if state.profile else None
    d["trail"] = [
        {
            "sequence": t["seq"],
            "at": t["at"].isoformat(),
            "event": t["event"],
            "actor": t["actor"],
            "role": t["role"],
            "data": json.loads(t["data"]),
        }
        for t in trail
    ]
    d["letters"] = [t["data"]["letter"] for t in d["trail"] if "letter" in t["data"]]
    return d


async def load_case(pool: asyncpg.Pool, case_id: str) -> tuple[CaseState | None, int]:
    r = await pool.fetchrow("SELECT state, last_seq FROM cases WHERE case_id = $1", case_id)
    if r is None:
        return None, 0
    return CaseState.model_validate_json(r["state"]), r["last_seq"]


async def answered_repeats(pool: asyncpg.Pool, state: CaseState) -> list[str]:
    """Earlier cases of the same applicant for the same information, already answered."""
    rows = await pool.fetch(
        "SELECT case_id FROM cases WHERE md5(applicant_key)=md5($1) AND md5(description_key)=md5($2)"
        " AND applicant_key=$1 AND description_key=$2 AND case_id<>$3"
        " AND status IN ('answered', 'archived') ORDER BY received_on",
        state.applicant_key,
        description_key(state.description),
        state.case_id,
    )
    return [r["case_id"] for r in rows]


async def month_ordinal(pool: asyncpg.Pool, case_id: str) -> int | None:
    """The case's number among the same applicant's applications (``payer_key``) received in its
    calendar month, by original receipt date and then log order (国办函〔2020〕109号). Every
    application counts, whatever became of it. None for no such case."""
    return await pool.fetchval(
        "SELECT count(*) FROM cases me JOIN cases c ON md5(c.payer_key)=md5(me.payer_key)"
        " AND c.payer_key=me.payer_key"
        " AND c.first_received_on >= date_trunc('month', me.first_received_on)::date"
        " AND c.first_received_on < (date_trunc('month', me.first_received_on) + interval '1 month')::date"
        " AND (c.first_received_on, c.first_seq) <= (me.first_received_on, me.first_seq)"
        " WHERE me.case_id=$1 GROUP BY me.case_id",
        case_id,
    )


async def received_in_year(pool: asyncpg.Pool, year: int) -> dict[str, int]:
    """本年新收 (table 三, row 一) by applicant type: applications whose own receipt date falls in
    ``year``. A correction (Art. 30) moves the answer period, not the receipt: a December
    application corrected in January is still December's year."""
    rows = await pool.fetch(
        "SELECT applicant_type, count(*) AS n FROM cases"
        " WHERE first_received_on >= make_date($1, 1, 1)"
        " AND first_received_on < make_date($1 + 1, 1, 1)"
        " GROUP BY applicant_type",
        year,
    )
    return {r["applicant_type"]: r["n"] for r in rows}
