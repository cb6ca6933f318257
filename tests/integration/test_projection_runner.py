"""The projection runner on a real nats-server and PostgreSQL: every event exactly once, in order.

Rules from ARCHITECTURE.md §2: the position lives in Postgres and is committed in the same
transaction as the batch's effects; any error (a crash, a dropped connection, a poison event)
rolls back and resumes from the stored position; a poison event stops the projection visibly
and is never skipped; one runner per projection is active.

The ``applied`` table has no unique constraint, so an event applied twice would show twice.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from gongkai_shared.db import create_pool
from gongkai_shared.eventstore import EventStore, StoredEvent
from gongkai_shared.positions import ProjectionStopped
from gongkai_shared.projection import ProjectionRunner
from tests.integration.projection_support import (
    SCHEMA,
    Recorder,
    append_many,
    applied_rows,
    create_schema,
    running,
    stop_runner,
    stored_position,
)
from tests.servers import NatsServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def store(nats_server: NatsServer) -> AsyncIterator[EventStore]:
    s = await nats_server.writer()
    yield s
    await s.nc.drain()


@pytest.fixture
async def base(store: EventStore) -> int:
    """The events before the test's own: the operator's key registrations (trust events)."""
    return await store.last_seq()


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    await create_schema(database_url)
    p = await create_pool(database_url, SCHEMA)
    yield p
    await p.close()


async def assert_exactly_once_in_order(store: EventStore, database_url: str, n: int) -> None:
    """Rows are the stream's events 1..n (the operator's trust events first), each once, inserted
    in stream order."""
    expected = [(e.seq, e.id) async for e in store.read(1, until_seq=n)]
    assert [s for s, _ in expected] == list(range(1, n + 1))
    rows = await applied_rows(database_url)
    assert [(s, eid) for s, eid, _ in rows] == expected
    assert await stored_position(database_url) == n


async def until(predicate, within: float = 5.0, what: str = "condition") -> None:  # noqa: ANN001
    """Wait for a runner's in-memory state (checked every 20 ms) with a deadline."""
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


# --- the normal case ----------------------------------------------------------------------


async def test_every_event_is_applied_once_in_order_with_batches(
    store: EventStore, pool: asyncpg.Pool, database_url: str, base: int
) -> None:
    """Rule: 300 events, half appended before the runner starts and half while it runs, are
    each applied exactly once, in stream order; the backlog is applied in multi-event batches
    (one transaction each), and the position is stored with them."""
    await append_many(store, 0, 150)
    runner = ProjectionRunner(pool, store, Recorder(), batch_max=100)
    async with running(runner):
        assert await runner.wait_for(base + 150, timeout=5)
        last = await append_many(store, 150, 150)
        assert last == base + 300
        assert await runner.wait_for(base + 300, timeout=5)
        assert runner.state == "running" and runner.healthy and runner.failures == 0
    await assert_exactly_once_in_order(store, database_url, base + 300)
    txs: dict[int, int] = {}
    for _, _, tx in await applied_rows(database_url):
        txs[tx] = txs.get(tx, 0) + 1
    assert max(txs.values()) > 1, "the backlog should be applied in batches"
    assert max(txs.values()) <= 100, "batch_max bounds a batch"
    assert len(txs) < 300


async def test_a_restarted_runner_resumes_from_its_stored_position(
    store: EventStore, pool: asyncpg.Pool, database_url: str, base: int
) -> None:
    """Rule: the position lives in Postgres: a new runner goes on after it, re-applying nothing."""
    await append_many(store, 0, 40)
    first = ProjectionRunner(pool, store, Recorder())
    async with running(first):
        assert await first.wait_for(base + 40, timeout=5)
    await append_many(store, 40, 40)
    second_projection = Recorder()
    second = ProjectionRunner(pool, store, second_projection)
    async with running(second):
        assert await second.wait_for(base + 80, timeout=5)
    assert second_projection.seen == list(range(base + 41, base + 81))
    await assert_exactly_once_in_order(store, database_url, base + 80)


# --- failures -----------------------------------------------------------------------------


async def test_runner_killed_mid_batch_loses_and_doubles_nothing(
    store: EventStore, pool: asyncpg.Pool, database_url: str, nats_server: NatsServer, base: int
) -> None:
    """Rule: a runner process SIGKILLed in the middle of a batch (earlier events of the batch
    already inserted in the open transaction) commits none of that batch; a new runner resumes
    from the stored position and every event ends applied exactly once, in order."""
    n = 300
    await append_many(store, 0, n)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.projection_support",
        str(nats_server.store),
        str(nats_server.port),
        database_url,
        str(base + 120),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=15)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed = json.loads(out.decode().strip().splitlines()[-1])
    assert killed["killed_at"] >= base + 120 and killed["in_batch"] >= 1

    # the killed batch left nothing: committed rows are exactly 1..position, once each
    position = await stored_position(database_url)
    assert position is not None and position < killed["killed_at"]
    assert position <= killed["killed_at"] - killed["in_batch"] - 1
    assert [s for s, _, _ in await applied_rows(database_url)] == list(range(1, position + 1))

    projection = Recorder()
    runner = ProjectionRunner(pool, store, projection)
    async with running(runner):
        assert await runner.wait_for(base + n, timeout=8)  # may stand by ~1 s until the lock is free
    assert projection.seen[0] == position + 1
    await assert_exactly_once_in_order(store, database_url, base + n)


async def test_terminated_database_connection_mid_batch_is_retried_exactly_once(
    store: EventStore, pool: asyncpg.Pool, database_url: str, base: int
) -> None:
    """Rule: a real server-side error mid-batch (the batch's own backend terminated) rolls the
    batch back; the runner resumes from the stored position and applies everything once."""
    k = base + 37
    terminated: list[int] = []

    async def terminate_once(conn: asyncpg.Connection, event: StoredEvent) -> None:
        if event.seq == k and not terminated:
            terminated.append(event.seq)
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    await append_many(store, 0, 100)
    projection = Recorder(hook=terminate_once)
    runner = ProjectionRunner(pool, store, projection, max_backoff=0.1)
    async with running(runner):
        assert await runner.wait_for(base + 100, timeout=5)
        assert runner.healthy and runner.failures == 0  # reset by the successful batch
    assert terminated == [k]
    assert projection.seen.count(k) == 2  # the batch with k was rolled back and retried
    await assert_exactly_once_in_order(store, database_url, base + 100)


async def test_transient_asyncpg_error_is_retried_exactly_once(
    store: EventStore, pool: asyncpg.Pool, database_url: str, base: int
) -> None:
    """Rule: an error raised by the database layer once (after earlier events of the batch were
    inserted) rolls the batch back and is retried; nothing is doubled or skipped."""
    k = base + 23
    raised: list[int] = []

    async def fail_once(conn: asyncpg.Connection, event: StoredEvent) -> None:
        if event.seq == k and not raised:
            raised.append(k)
            raise asyncpg.exceptions.SerializationError("could not serialize access (test)")

    await append_many(store, 0, 60)
    projection = Recorder(hook=fail_once)
    runner = ProjectionRunner(pool, store, projection, max_backoff=0.1)
    async with running(runner):
        assert await runner.wait_for(base + 60, timeout=5)
    assert raised == [k]
    assert projection.seen.count(k) == 2  # seen twice, applied once
    await assert_exactly_once_in_order(store, database_url, base + 60)


async def test_poison_event_stops_the_projection_visibly_and_resumes_when_fixed(
    store: EventStore, pool: asyncpg.Pool, database_url: str, base: int
) -> None:
    """Rule: an event that always fails is never skipped: the projection stops just before it
    (position k-1, nothing after it applied), turns unhealthy after ``fail_after`` failures with
    the error visible; once the projection is fixed it resumes and finishes, exactly once."""
    k, n = base + 25, base + 50
    broken = True

    async def poison(conn: asyncpg.Connection, event: StoredEvent) -> None:
        if event.seq == k and broken:
            raise ValueError(f"cannot project event {event.seq}")

    await append_many(store, 0, n - base)
    runner = ProjectionRunner(pool, store, Recorder(hook=poison), fail_after=3, max_backoff=0.05)
    async with running(runner):
        await until(lambda: not runner.healthy, what="the runner to turn unhealthy")
        assert runner.failures >= 3
        assert runner.state == "stopped"
        assert runner.last_error is not None
        assert "ValueError" in runner.last_error and f"event {k}" in runner.last_error
        assert runner.failed_seq == k  # the operator sees which event is poison
        assert runner.position == k - 1  # the good events of its batch were not held back
        assert await stored_position(database_url) == k - 1
        assert [s for s, _, _ in await applied_rows(database_url)] == list(range(1, k))

        with pytest.raises(ProjectionStopped, match=f"stopped at {k}: ValueError"):
            await runner.wait_for(n, timeout=5)  # at once: a stopped projection does not catch up
        broken = False  # the operator fixes the code
        await until(lambda: runner.position >= n, what="the fixed runner to finish")
        assert runner.healthy and runner.last_error is None and runner.state == "running"
        assert runner.failed_seq is None
    await assert_exactly_once_in_order(store, database_url, n)


# --- one active runner --------------------------------------------------------------------


async def test_two_runners_for_one_projection_one_active_one_standby(
    store: EventStore, database_url: str, pool: asyncpg.Pool, base: int
) -> None:
    """Rule: two runners of the same projection on one database: one is active, the other
    stands by; events are applied once; when the active one stops, the standby takes over."""
    other_pool = await create_pool(database_url, SCHEMA)
    try:
        await append_many(store, 0, 30)
        a = ProjectionRunner(pool, store, Recorder())
        b = ProjectionRunner(other_pool, store, Recorder())
        task_a = asyncio.ensure_future(a.run())
        await until(lambda: a.state == "running", what="a to be running")
        task_b = asyncio.ensure_future(b.run())
        try:
            await until(lambda: b.state == "standby", what="b to stand by")
            assert await a.wait_for(base + 30, timeout=5)
            assert b.state == "standby" and b.position == 0

            await stop_runner(a, task_a)
            last = await append_many(store, 30, 20)
            assert await b.wait_for(last, timeout=5)  # took over (polls the lock every second)
            assert b.state == "running"
        finally:
            await stop_runner(a, task_a)
            await stop_runner(b, task_b)
        await assert_exactly_once_in_order(store, database_url, base + 50)
    finally:
        await other_pool.close()


# --- stopping -----------------------------------------------------------------------------


async def test_stop_ends_a_running_runner_promptly(store: EventStore, pool: asyncpg.Pool, base: int) -> None:
    """Rule: stop() plus cancellation ends an idle running runner within a second, and it
    releases its lock so another runner can become active at once."""
    await append_many(store, 0, 5)
    runner = ProjectionRunner(pool, store, Recorder())
    task = asyncio.ensure_future(runner.run())
    assert await runner.wait_for(base + 5, timeout=5)
    t0 = time.monotonic()
    await stop_runner(runner, task)
    assert task.done()
    assert time.monotonic() - t0 < 1.0

    successor = ProjectionRunner(pool, store, Recorder())
    async with running(successor):
        await until(lambda: successor.state == "running", within=0.9, what="successor active")


async def test_stop_alone_ends_a_running_runner(store: EventStore, pool: asyncpg.Pool, base: int) -> None:
    """Rule: stop() without cancellation ends a running runner after the batch in hand (its
    idle wait is at most a second)."""
    await append_many(store, 0, 3)
    runner = ProjectionRunner(pool, store, Recorder())
    task = asyncio.ensure_future(runner.run())
    try:
        assert await runner.wait_for(base + 3, timeout=5)
        runner.stop()
        await asyncio.wait_for(asyncio.shield(task), timeout=3)
    finally:
        await stop_runner(runner, task)


async def test_stop_ends_a_standby_runner_promptly(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    """Rule: a runner standing by for the lock also stops promptly."""
    other_pool = await create_pool(database_url, SCHEMA)
    a = ProjectionRunner(pool, store, Recorder())
    b = ProjectionRunner(other_pool, store, Recorder())
    try:
        async with running(a):
            await until(lambda: a.state == "running", what="a running")
            task_b = asyncio.ensure_future(b.run())
            await until(lambda: b.state == "standby", what="b standby")
            t0 = time.monotonic()
            await stop_runner(b, task_b)
            assert time.monotonic() - t0 < 1.0
    finally:
        await other_pool.close()
