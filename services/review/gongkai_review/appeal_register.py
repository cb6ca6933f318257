"""The register of appeals (行政复议、行政诉讼) over all cases, for the office: review's
projection writes a row per ``appeal-filed`` and its result per ``appeal-decided``; the office
lists them by the year filed and the result (``list_appeals``). Table 四 of the annual report is
computed from the same events (a later issue)."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from gongkai_shared.envelope import Envelope

APPEAL_EVENTS = frozenset({"appeal-filed", "appeal-decided"})
RESULTS = ("upheld", "corrected", "other", "pending")  # pending: 尚未审结
RESULT_LABELS = {"upheld": "结果维持", "corrected": "结果纠正", "other": "其他结果", "pending": "尚未审结"}
KIND_LABELS = {"reconsideration": "行政复议", "lawsuit": "未经复议直接起诉",
               "lawsuit_after_reconsideration": "复议后起诉"}  # fmt: skip

_FILED = (
    "INSERT INTO appeals(appeal_id, case_id, kind, body, filed_on, after, filed_seq)"
    " VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING"
)
_DECIDED = "UPDATE appeals SET result=$2, decided_on=$3 WHERE appeal_id=$1 AND result IS NULL"


def filed_row(env: Envelope, seq: int) -> tuple[Any, ...]:
    d = env.data
    return (
        d["appeal_id"],
        d["case_id"],
        d["kind"],
        d["body"],
        date.fromisoformat(d["filed_on"]),
        d.get("after"),
        seq,
    )


def decided_row(env: Envelope) -> tuple[Any, ...]:
    d = env.data
    return (d["appeal_id"], d["result"], date.fromisoformat(d["decided_on"]))


async def apply(conn: asyncpg.Connection, env: Envelope, seq: int) -> None:
    """One appeal event's row (the projection's per-event path)."""
    if env.name == "appeal-filed":
        await conn.execute(_FILED, *filed_row(env, seq))
    else:
        await conn.execute(_DECIDED, *decided_row(env))


async def write(
    conn: asyncpg.Connection, filed: list[tuple[Any, ...]], decided: list[tuple[Any, ...]]
) -> None:
    """A batch's rows: every filing first, then the results (a result always follows its filing
    in the log, so the order within the batch is kept)."""
    if filed:
        await conn.executemany(_FILED, filed)
    if decided:
        await conn.executemany(_DECIDED, decided)


async def list_appeals(
    pool: asyncpg.Pool, year: int, result: str | None, kind: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """The appeals filed in ``year`` (by result, ``pending`` = 尚未审结; by kind) and the year's
    counts by kind and result (the shape of table 四)."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    rows = await pool.fetch(
        "SELECT appeal_id, case_id, kind, body, filed_on, after, result, decided_on FROM appeals"
        " WHERE filed_on >= $1 AND filed_on < $2"
        " AND ($3::text IS NULL OR COALESCE(result, 'pending') = $3) AND ($4::text IS NULL OR kind = $4)"
        " ORDER BY filed_on, appeal_id LIMIT $5 OFFSET $6",
        start, end, result, kind, limit, offset,
    )  # fmt: skip
    counts = await pool.fetch(
        "SELECT kind, COALESCE(result, 'pending') AS result, count(*) AS n FROM appeals"
        " WHERE filed_on >= $1 AND filed_on < $2 GROUP BY 1, 2",
        start, end,
    )  # fmt: skip
    totals = {k: {r: 0 for r in (*RESULTS, "total")} for k in KIND_LABELS}
    for c in counts:
        totals[c["kind"]][c["result"]] += c["n"]
        totals[c["kind"]]["total"] += c["n"]
    items = [
        {
            **dict(r),
            "filed_on": r["filed_on"].isoformat(),
            "decided_on": r["decided_on"].isoformat() if r["decided_on"] else None,
            "result": r["result"] or "pending",
            "result_label": RESULT_LABELS[r["result"] or "pending"],
            "kind_label": KIND_LABELS[r["kind"]],
        }
        for r in rows
    ]
    return {"year": year, "items": items, "totals": totals}
