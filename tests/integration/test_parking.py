"""An event that can never be applied is parked with its error, never silently skipped; an
operator can pass over the event a stopped projection is stuck on, and the reason is recorded."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from gongkai_shared.db import create_pool
from gongkai_shared.eventstore import EventStore, StoredEvent
from gongkai_shared.projection import ProjectionRunner
from tests.integration.projection_support import (
    SCHEMA,
    Recorder,
    append_many,
    applied_rows,
    create_schema,
    running,
    stored_position,
)
from tests.servers import NatsServer


async def parked_rows(database_url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(f"SELECT * FROM {SCHEMA}.parked_events ORDER BY seq")
    finally:
        await conn.close()


async def setup(nats_server: NatsServer, database_url: str) -> tuple[EventStore, asyncpg.Pool, int]:
    """A store playing the services, the projection's schema, and how many events (the operator's
    key registrations) precede the test's own."""
    store = await nats_server.writer()
    await create_schema(database_url)
    return store, await create_pool(database_url, SCHEMA), await store.last_seq()


async def test_an_event_against_its_own_schema_is_parked_with_its_error(
    nats_server: NatsServer, database_url: str
) -> None:
    store, pool, b = await setup(nats_server, database_url)
    await append_many(store, 0, 3)
    good = json.loads((await store.get(b + 1)).data)
    good["data"].pop("due_on")  # a deadline-set without its due date: it can never be applied
    await store.js.publish("foi.notify.case-x.deadline-set", json.dumps(good).encode())
    await store.js.publish("foi.notify.case-y.deadline-set", b"not json at all")
    last = await append_many(store, 10, 3)
    runner = ProjectionRunner(pool, store, Recorder(), batch_max=50)
    async with running(runner):
        assert await runner.wait_for(last, timeout=10)
    assert [seq for seq, _, _ in await applied_rows(database_url)] == [*range(1, b + 4), b + 6, b + 7, b + 8]
    parked = await parked_rows(database_url)
    assert [(r["seq"], r["parked_by"], r["reason"]) for r in parked] == [
        (b + 4, "system", "cannot be applied"), (b + 5, "system", "cannot be applied"),
    ]  # fmt: skip
    assert "due_on" in parked[0]["error"] and "envelope" in parked[1]["error"]
    assert await stored_position(database_url) == last and runner.healthy
    await pool.close()
    await store.nc.close()


async def test_an_operator_parks_the_event_a_stopped_projection_is_stuck_on(
    nats_server: NatsServer, database_url: str
) -> None:
    store, pool, b = await setup(nats_server, database_url)
    last = await append_many(store, 0, 5)

    async def bug(conn: asyncpg.Connection, event: StoredEvent) -> None:
        if event.seq == b + 3:
            raise RuntimeError("a bug this code cannot get past")

    runner = ProjectionRunner(pool, store, Recorder(hook=bug), fail_after=2, max_backoff=30)
    async with running(runner):
        async with asyncio.timeout(10):
            while runner.healthy:  # noqa: ASYNC110 — polling a plain attribute, bounded
                await asyncio.sleep(0.02)
        assert runner.failed_seq == b + 3 and await stored_position(database_url) == b + 2
        with pytest.raises(ValueError, match=f"not stopped at sequence {b + 4}"):
            await runner.park(b + 4, "wrong event", "运维甲")
        await runner.park(b + 3, "已确认为测试数据，跳过", "运维甲")
        assert await runner.wait_for(last, timeout=5)  # resumes at once, not after the backoff
    assert [seq for seq, _, _ in await applied_rows(database_url)] == [*range(1, b + 3), b + 4, b + 5]
    [row] = await parked_rows(database_url)
    assert (row["seq"], row["parked_by"], row["reason"]) == (b + 3, "运维甲", "已确认为测试数据，跳过")
    assert "a bug this code cannot get past" in row["error"]
    await pool.close()
    await store.nc.close()
