"""Notify's tables seeded directly (COPY): open and closed cases with their deadlines, as the
projection leaves them once every deadline is recorded. For the benchmark and the index test."""

from __future__ import annotations

import json
from datetime import date, timedelta

import asyncpg

CASE_COLUMNS = ("case_id", "events", "last_seq", "open")
DEADLINE_COLUMNS = (
    "deadline_id", "case_id", "kind", "start_on", "working_days", "due_on", "warn_on", "profile",
    "calendar_version", "provisional", "status", "enforced", "cause_id", "cause_type", "explain",
    "rec_status", "rec_due_on", "rec_provisional", "set_count",
)  # fmt: skip


async def seed(conn: asyncpg.Connection, prefix: str, n: int, *, open_: bool, today: date) -> None:
    """``n`` cases named ``<prefix>-<i>``, each with its recorded answer deadline: open ones due
    in 40 days (nothing to do), closed ones met long ago."""
    events = json.dumps([{"seq": 1, "id": "e", "name": "request-received", "on": "2026-01-05",
                          "data": {"received_on": "2026-01-05"}}])  # fmt: skip
    start = today - timedelta(days=100 if not open_ else 5)
    due = today + timedelta(days=40) if open_ else today - timedelta(days=60)
    status = "running" if open_ else "met"
    chunk = 50_000
    for lo in range(0, n, chunk):
        ids = [f"{prefix}-{i}" for i in range(lo, min(n, lo + chunk))]
        await conn.copy_records_to_table(
            "cases", records=[(c, events, 1, open_) for c in ids], columns=CASE_COLUMNS
        )
        await conn.copy_records_to_table(
            "deadlines",
            records=[
                (
                    f"{c}:answer",
                    c,
                    "answer",
                    start,
                    20,
                    due,
                    due - timedelta(days=5),
                    "national-2019@1",
                    "seed",
                    False,
                    status,
                    True,
                    "e",
                    "request-received",
                    "{}",
                    "running",
                    due,
                    False,
                    1,
                )
                for c in ids
            ],  # fmt: skip
            columns=DEADLINE_COLUMNS,
        )
    await conn.execute("ANALYZE cases; ANALYZE deadlines")
