"""``make bench``: the backbone's throughput next to raw baselines measured in the same run.

- append: EventStore.append (expected-sequence check, prevhash of the previous event, Nats-Msg-Id)
  vs a raw JetStream publish of the same bytes;
- projection: the runner applying events (batched, position in the same transaction)
  vs raw PostgreSQL inserts of the same rows, one transaction for all.
Bounded: N events (GONGKAI_BENCH_N, default 2000) on loopback servers it starts and stops.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from gongkai_shared.db import PROJECTION_TABLE
from gongkai_shared.envelope import Actor
from gongkai_shared.events import DecisionRecorded, make_event
from gongkai_shared.eventstore import StoredEvent
from gongkai_shared.projection import ProjectionRunner
from tests.servers import NatsServer, postgres

N = int(os.environ.get("GONGKAI_BENCH_N", "2000"))
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


async def bench(nats_server: NatsServer, dsn: str) -> None:
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

    print(f"events: {N} over {CASES} cases (one process, loopback, 2 cores)")
    print(f"{'raw JetStream publish':<44}{raw_pub:>10.0f} /s")
    print(
        f"{'EventStore.append (checked, chained, signed)':<44}{append:>10.0f} /s"
        f"   ratio {append / raw_pub:.2f}"
    )
    print(f"{'raw PostgreSQL insert, one transaction':<44}{raw_insert:>10.0f} /s")
    print(f"{'raw PostgreSQL insert, autocommit each':<44}{raw_insert_each:>10.0f} /s")
    print(
        f"{'projection runner (batched, verified, once)':<44}{project:>10.0f} /s   "
        f"ratio {project / raw_insert:.2f} vs one transaction, {project / raw_insert_each:.2f} vs each"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        nats_server = NatsServer(Path(tmp) / "nats").start()
        try:
            with postgres(Path(tmp) / "pg") as dsn:
                asyncio.run(bench(nats_server, dsn))
        finally:
            nats_server.stop()


if __name__ == "__main__":
    main()
