"""Every projection's stored position and health, as PostgreSQL holds them, on every replica.

One runner per projection is active (an advisory lock); on the other replicas it stands by.
Their readers still need the position: a trigger on ``projection_position`` (db.py) announces
every change of a projection's row with ``NOTIFY gongkai_projection``, sent when the batch
commits; the board listens and hands each row to the replica's runner (``observe``), and reads
the rows again every ``poll_seconds`` in case a notification was lost with its connection.

A wait that cannot be satisfied is an error, never a stale answer: ``ProjectionBehind`` names
the projections behind (HTTP 503 with Retry-After, web.py); ``ProjectionStopped`` says a
projection stopped on an event and will not catch up by itself (at once, with its error);
``BeyondLog`` says the sequence asked for is not in the log at all (HTTP 422 on ``min_seq``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg
import structlog

if TYPE_CHECKING:
    from .projection import ProjectionRunner

log = structlog.get_logger(__name__)

CHANNEL = "gongkai_projection"
STOPPED, PARKED = "stopped", "parked"


@dataclass(frozen=True)
class StoredPosition:
    """A projection's row in ``projection_position``: written by whichever replica is active."""

    name: str
    position: int
    state: str  # running | failing | stopped | parked (an operator parked the failed event)
    failures: int = 0
    failed_seq: int | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class Lag:
    """One projection that has not applied the sequence asked for."""

    name: str
    position: int
    stopped: bool
    error: str | None


class ProjectionBehind(Exception):
    """The projections named have not applied ``seq`` within the time allowed."""

    retry_after = 2

    def __init__(self, seq: int, lags: list[Lag]) -> None:
        self.seq, self.lags = seq, lags
        super().__init__(self.message)

    @property
    def message(self) -> str:
        names = "、".join(f"{lag.name}（处理到 {lag.position}）" for lag in self.lags)
        english = ", ".join(f"{lag.name} at {lag.position}" for lag in self.lags)
        zh = f"数据尚未更新到序号 {self.seq}：{names}，请稍后重试"
        return f"{zh} (not yet applied up to {self.seq}: {english})"


class ProjectionStopped(ProjectionBehind):
    """A projection needed stopped on an event it cannot apply: it will not catch up by itself
    (an operator fixes the code or parks the event, docs/operations.md)."""

    retry_after = 30

    @property
    def message(self) -> str:
        stopped = [lag for lag in self.lags if lag.stopped]
        names = "、".join(f"{lag.name}（停在 {lag.position + 1}）" for lag in stopped)
        english = "; ".join(f"{lag.name} stopped at {lag.position + 1}: {lag.error}" for lag in stopped)
        return f"投影已停止，需运维处理：{names} (projection stopped: {english})"


class BeyondLog(Exception):
    """The sequence asked for is past the log's last one: no command returned it."""

    def __init__(self, seq: int, last: int) -> None:
        self.seq, self.last = seq, last
        super().__init__(
            f"超过日志的最后一个序号 (min_seq {seq} is beyond the last sequence of the log, {last})"
        )


class PositionBoard:
    """Feeds the stored rows of one schema's projections to this replica's runners."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        runners: Mapping[str, ProjectionRunner],
        poll_seconds: float = 1.0,
    ) -> None:
        self.pool, self.schema, self.runners = pool, schema, runners
        self.poll_seconds = poll_seconds

    async def run(self) -> None:
        """Listen and poll until cancelled; a lost connection raises (the supervisor restarts)."""
        async with self.pool.acquire() as conn:
            await conn.add_listener(CHANNEL, self._notified)
            try:
                while True:
                    await self.refresh(conn)
                    await asyncio.sleep(self.poll_seconds)
            finally:
                if not conn.is_closed():
                    await conn.remove_listener(CHANNEL, self._notified)

    async def refresh(self, conn: asyncpg.Connection | asyncpg.Pool | None = None) -> None:
        """Read every runner's row now (a waiter calls this before waiting on notifications)."""
        rows = await (conn or self.pool).fetch(
            "SELECT name, position, state, failures, failed_seq, last_error FROM projection_position"
            " WHERE name = ANY($1::text[])",
            list(self.runners),
        )
        for row in rows:
            self.runners[row["name"]].observe(StoredPosition(**dict(row)))

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        row = json.loads(payload)
        if row.pop("schema", None) != self.schema or row["name"] not in self.runners:
            return
        self.runners[row["name"]].observe(StoredPosition(**row))
