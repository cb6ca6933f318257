"""Benchmark: the event store's append and the projection runner, next to raw baselines.

- append: EventStore.append (expected-sequence check, prevhash of the previous event, Nats-Msg-Id)
  vs a raw JetStream publish of the same bytes;
- projection: the runner applying events (batched, position in the same transaction)
  vs raw PostgreSQL inserts of the same rows, one transaction for all.
Bounded: N events (GONGKAI_BENCH_N, default 2000).
"""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg

from gongkai_shared.db import PROJECTION_TABLE
from gongkai_shared.envelope import Actor
from gongkai_shared.events import DecisionRecorded, make_event
from gongkai_shared.eventstore import StoredEvent
from gongkai_shared.projection import ProjectionRunner
from tests.bench.context import Context

CASES = 50
ACTOR = Actor(id="bench", role="reviewer")


def body(case: str) -> DecisionRecorded:
    return DecisionRecorded(case_id=case, outcome="withhold", reasons=["state_secret"], legal_basis="x")


class Rows:
    name = "bench.rows"

    async def apply(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        await conn.execute("INSERT INTO rows(seq, id) VALUES ($1, $2)", event.seq, event.id)


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds else float("inf")


async def bench(ctx: Context) -> None:
    nats_server, dsn, N = ctx.nats_server, ctx.dsn, ctx.n
    store = await nats_server.writer()  # admin connection (it may add the RAW stream), signing
    base = await store.last_seq()  # the operator's key registrations
    cases = [str(uuid.uuid4()) for _ in range(CASES)]

    # raw JetStream publish: same bytes, a different subject space, no headers
    payload = make_event(body(cases[0]), aggregate_id=cases[0], actor=ACTOR).to_bytes()
    await store.js.add_stream(name="RAW", subjects=["raw.>"])
    t = time.perf_counter()
    for i in range(N):
        await store.js.publish(f"raw.{i % CASES}", payload, stream="RAW")
    raw_pub = rate(N, time.perf_counter() - t)

    last = dict.fromkeys(cases, 0)
    t = time.perf_counter()
    for i in range(N):
        case = cases[i % CASES]
        stored = await store.append(
            make_event(body(case), aggregate_id=case, actor=ACTOR), "review", last[case]
        )
        last[case] = stored.seq
    append = rate(N, time.perf_counter() - t)

    conn = await asyncpg.connect(dsn)
    await conn.execute("CREATE SCHEMA bench; SET search_path = bench")
    await conn.execute("CREATE TABLE rows (seq bigint, id text); CREATE TABLE raw_rows (seq bigint, id text)")
    await conn.execute(PROJECTION_TABLE)
    t = time.perf_counter()
    async with conn.transaction():
        await conn.executemany(
            "INSERT INTO raw_rows(seq, id) VALUES ($1, $2)", [(i, str(i)) for i in range(N)]
        )
    raw_insert = rate(N, time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(N):
        await conn.execute("INSERT INTO raw_rows(seq, id) VALUES ($1, $2)", i, str(i))
    raw_insert_each = rate(N, time.perf_counter() - t)
    await conn.close()

    pool = await asyncpg.create_pool(dsn, server_settings={"search_path": "bench"})
    runner = ProjectionRunner(pool, store, Rows(), batch_max=500)
    t = time.perf_counter()
    task = asyncio.ensure_future(runner.run())
    assert await runner.wait_for(base + N, timeout=300)
    project = rate(N, time.perf_counter() - t)
    runner.stop()
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=0.5)
    await pool.close()
    await store.nc.close()

    r, topic = ctx.report, "backbone"
    note = f"{N} events over {CASES} cases"
    r.add(topic, "raw JetStream publish (awaited one by one)", raw_pub, "ev/s", note=note)
    r.add(
        topic,
        "EventStore.append (checked, chained, signed)",
        append,
        "ev/s",
        baseline="raw publish",
        baseline_value=raw_pub,
    )
    r.add(topic, "raw PostgreSQL insert, one transaction", raw_insert, "rows/s")
    r.add(topic, "raw PostgreSQL insert, autocommit each", raw_insert_each, "rows/s")
    r.add(
        topic,
        "projection runner (batched, verified, once)",
        project,
        "ev/s",
        baseline="raw insert, one transaction",
        baseline_value=raw_insert,
    )
