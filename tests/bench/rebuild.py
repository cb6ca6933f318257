"""Benchmark: a full rebuild of review's projection vs a raw ordered-consumer replay of the same
stream, measured in the same run (issue 12 goal: the rebuild at >= 0.5 of the raw replay).

The stream is N events of whole case workflows (tests/bench/stream.py: intake's receipt,
registration, the answer deadline, departments and feedback, confidentiality review, draft,
sign-off, answer), each properly signed by the service that owns it. N is
``GONGKAI_BENCH_REBUILD_N`` (default 100 000; the issue's figure is 1 000 000).

- raw replay, ``EventStore.read_raw``: the library's ordered consumer read (``next_msg`` per
  message), counting messages;
- raw replay, callback: an ordered consumer whose callback only counts (the fastest way the
  client delivers messages);
- rebuild: ``ProjectionRunner`` + ``CasesProjection`` from sequence 1 into an empty schema:
  every envelope parsed and checked against its schema, every signature verified, every batch
  folded and written with its position in one transaction (``apply_batch``);
- the same runner applying event by event (``apply`` only, the path before batching), over
  the first ``GONGKAI_BENCH_REBUILD_EACH_N`` events (default 20 000).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import asyncpg
from nats.js.api import ConsumerConfig, DeliverPolicy

from gongkai_review.projection import CasesProjection
from gongkai_shared.db import PROJECTION_TABLE, create_pool, migrate
from gongkai_shared.eventstore import EventStore, StoredEvent
from gongkai_shared.projection import ProjectionRunner
from tests.bench import stream
from tests.bench.context import Context
from tests.harness import migrations_of


class EventByEvent:
    """Review's projection without its batch path: ``apply`` for every event."""

    def __init__(self) -> None:
        self.inner = CasesProjection()
        self.name = self.inner.name

    async def apply(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        await self.inner.apply(conn, event)


async def replay_next_msg(store: EventStore, last: int) -> float:
    t = time.perf_counter()
    n = 0
    async for _ in store.read_raw(1, until_seq=last):
        n += 1
    assert n == last
    return n / (time.perf_counter() - t)


async def replay_callback(store: EventStore, last: int) -> float:
    done = asyncio.Event()
    n = 0

    async def count(msg: Any) -> None:
        nonlocal n
        n += 1
        if msg.metadata.sequence.stream >= last:
            done.set()

    t = time.perf_counter()
    sub = await store.js.subscribe(
        "foi.>",
        stream=store.stream,
        ordered_consumer=True,
        cb=count,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=1),
    )
    await asyncio.wait_for(done.wait(), 600)
    rate = n / (time.perf_counter() - t)
    await sub.unsubscribe()
    assert n == last
    return rate


async def project(dsn: str, store: EventStore, schema: str, projection: Any, upto: int, batch: int) -> float:
    await migrate(dsn, schema, migrations_of("review"))
    conn = await asyncpg.connect(dsn)
    await conn.execute(f"SET search_path = {schema}")
    await conn.execute(PROJECTION_TABLE)
    await conn.close()
    pool = await create_pool(dsn, schema)
    runner = ProjectionRunner(pool, store, projection, batch_max=batch)
    runner.stop_at = upto
    t = time.perf_counter()
    task = asyncio.ensure_future(runner.run())
    try:
        if not await runner.wait_for(upto, timeout=1800):
            raise TimeoutError(
                f"{projection.name} reached only {runner.position} of {upto}: {runner.last_error}"
            )
        rate = upto / (time.perf_counter() - t)
    finally:
        runner.stop()
        while not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=0.5)
        await pool.close()
    assert runner.rejected == 0 and runner.failures == 0
    return rate


async def bench(ctx: Context) -> None:
    n = int(os.environ.get("GONGKAI_BENCH_REBUILD_N", "100000"))
    each_n = int(os.environ.get("GONGKAI_BENCH_REBUILD_EACH_N", "20000"))
    batch = int(os.environ.get("GONGKAI_BENCH_REBUILD_BATCH", "2000"))
    store = await ctx.nats_server.writer()  # signs as each service; verifies with the root key's ring
    first, last, secs = await stream.publish(store, n, progress=n >= 200_000)
    events = last - first + 1
    raw_next = await replay_next_msg(store, last)
    raw_cb = await replay_callback(store, last)
    rebuild = await project(ctx.dsn, store, "bench_rebuild", CasesProjection(), last, batch)
    each = await project(ctx.dsn, store, "bench_each", EventByEvent(), min(last, first + each_n - 1), 500)
    await store.nc.close()

    r, topic = ctx.report, "rebuild"
    note = f"{last} events ({events} in {events // stream.PER_CASE} case workflows), batch {batch}"
    r.add(topic, "stream made (pipelined, signed publishes)", events / secs, "ev/s", note=note)
    r.add(topic, "raw ordered replay, EventStore.read_raw (next_msg)", raw_next, "ev/s")
    r.add(topic, "raw ordered replay, callback that counts", raw_cb, "ev/s")
    r.add(
        topic,
        "review projection rebuild (parsed, verified, batched)",
        rebuild,
        "ev/s",
        baseline="raw replay, read_raw",
        baseline_value=raw_next,
        goal=">= 0.5",
    )
    r.add(
        topic,
        "review projection rebuild vs the callback replay",
        rebuild,
        "ev/s",
        baseline="raw replay, callback",
        baseline_value=raw_cb,
        goal=">= 0.5",
    )
    r.add(
        topic,
        "review projection, event by event (apply only)",
        each,
        "ev/s",
        baseline="rebuild, batched",
        baseline_value=rebuild,
        note=f"first {min(each_n, events)} events",
    )
