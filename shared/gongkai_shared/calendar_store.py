"""The loaded calendar years as a service keeps them: one table, the same in every service that
counts days (notify's clock and review's rules), so both count on the same calendar.

Each such service folds ``calendar-loaded`` into its own ``calendar_years`` table
(:func:`store_year`, in its projection's transaction) and reads the calendar through a
:class:`CalendarCache`, which re-reads the table only when it changed (one small query per use).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from .calendar import LoadedYear, WorkingCalendar

_UPSERT_YEAR = (
    "INSERT INTO calendar_years(year, holidays, adjusted, source, revision, seq, event_id)"
    " VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (year) DO UPDATE SET holidays=EXCLUDED.holidays,"
    " adjusted=EXCLUDED.adjusted, source=EXCLUDED.source, revision=EXCLUDED.revision,"
    " seq=EXCLUDED.seq, event_id=EXCLUDED.event_id WHERE calendar_years.seq < EXCLUDED.seq"
)


async def store_year(conn: asyncpg.Connection, body: Any, seq: int, event_id: str) -> None:
    """A ``calendar-loaded`` event's year; a later load of the year replaces it."""
    await conn.execute(
        _UPSERT_YEAR,
        body.year,
        list(body.holidays),
        list(body.adjusted_working_days),
        body.source,
        body.revision,
        seq,
        event_id,
    )


class CalendarCache:
    """The working calendar with every loaded year, re-read when the table changes."""

    def __init__(self) -> None:
        self._key: tuple[int, int] | None = None
        self._cal = WorkingCalendar()

    async def get(self, conn: asyncpg.Connection | asyncpg.Pool) -> WorkingCalendar:
        n, seq = await conn.fetchrow("SELECT count(*), coalesce(max(seq), 0) FROM calendar_years")
        if (n, seq) != self._key:
            rows = await conn.fetch("SELECT year, holidays, adjusted, source, revision FROM calendar_years")
            self._cal = WorkingCalendar(
                {
                    r["year"]: LoadedYear(
                        frozenset(r["holidays"]), frozenset(r["adjusted"]), r["source"], r["revision"]
                    )
                    for r in rows
                }
            )
            self._key = (n, seq)
        return self._cal
