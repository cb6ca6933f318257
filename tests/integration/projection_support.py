"""Helpers for the projection runner tests: a recording projection, its schema, and a worker.

Run as ``python -m tests.integration.projection_support SERVER_DIR PORT DATABASE_URL KILL_FROM`` it
runs a runner whose projection SIGKILLs its own process on the first event at or after
``KILL_FROM`` that is *not* the first of its batch (so earlier events of the same batch were
already inserted in the open transaction). Before dying it prints one JSON line saying where.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from gongkai_shared.db import PROJECTION_TABLE, create_pool
from gongkai_shared.eventstore import EventStore, StoredEvent
from gongkai_shared.projection import ProjectionRunner
from tests.events import deadline_set
from tests.servers import NatsServer

SCHEMA = "t"
Hook = Callable[[asyncpg.Connection, StoredEvent], Awaitable[None]]


async def create_schema(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        await conn.execute(f"SET search_path = {SCHEMA}")
        await conn.execute(PROJECTION_TABLE)
        # no unique constraint on purpose: an event applied twice shows as two rows
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS applied ("
            " n bigserial, seq bigint NOT NULL, event_id text NOT NULL,"
            " tx bigint NOT NULL DEFAULT txid_current())"
        )
    finally:
        await conn.close()


class Recorder:
    """Inserts (seq, event_id) for every event; an optional hook runs first."""

    def __init__(self, name: str = "recorder", hook: Hook | None = None) -> None:
        self.name = name
        self.hook = hook
        self.seen: list[int] = []

    async def apply(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        self.seen.append(event.seq)
        if self.hook is not None:
            await self.hook(conn, event)
        await conn.execute("INSERT INTO applied(seq, event_id) VALUES ($1, $2)", event.seq, event.id)


def an_event(i: int):  # noqa: ANN201
    return deadline_set(f"case-{i}")


async def append_many(store: EventStore, start: int, count: int) -> int:
    """Append ``count`` events (one new case each, concurrently); return the stream's last seq."""
    sem = asyncio.Semaphore(64)

    async def one(i: int) -> None:
        async with sem:
            await store.append(an_event(i), "notify", 0)

    await asyncio.gather(*(one(i) for i in range(start, start + count)))
    return await store.last_seq()


@asynccontextmanager
async def running(runner: ProjectionRunner) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.ensure_future(runner.run())
    try:
        yield task
    finally:
        await stop_runner(runner, task)


async def stop_runner(runner: ProjectionRunner, task: asyncio.Task[None]) -> None:
    """As Runtime.stop: ask it to stop, and cancel until done (a cancel can be lost in nats-py)."""
    runner.stop()
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=0.5)
    await asyncio.gather(task, return_exceptions=True)


async def applied_rows(database_url: str) -> list[tuple[int, str, int]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(f"SELECT seq, event_id, tx FROM {SCHEMA}.applied ORDER BY n")
        return [(r["seq"], r["event_id"], r["tx"]) for r in rows]
    finally:
        await conn.close()


async def stored_position(database_url: str, name: str = "recorder") -> int | None:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(f"SELECT position FROM {SCHEMA}.projection_position WHERE name = $1", name)
    finally:
        await conn.close()


async def _worker(server_dir: str, port: int, database_url: str, kill_from: int) -> None:
    async def kill_mid_batch(conn: asyncpg.Connection, event: StoredEvent) -> None:
        if event.seq < kill_from:
            return
        in_batch = await conn.fetchval("SELECT count(*) FROM applied WHERE tx = txid_current()")
        if in_batch == 0:
            return  # first event of its batch: wait for one in the middle of a batch
        print(json.dumps({"killed_at": event.seq, "in_batch": in_batch}), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    store = await NatsServer(Path(server_dir), port).writer()  # the test's running server
    pool = await create_pool(database_url, SCHEMA)
    runner = ProjectionRunner(pool, store, Recorder(hook=kill_mid_batch), batch_max=50)
    await runner.run()  # never returns: the projection kills the process


if __name__ == "__main__":
    asyncio.run(_worker(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])))
