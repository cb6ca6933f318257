"""Benchmark: RFC 9162 proofs over a long log (gongkai_shared.merkle / tlog, issue 11).

A proof is computed by one streaming pass over the log's first *size* events (no stored tree):
the CLI's pass (an inclusion proof of the middle event, a consistency proof from half the log
to all of it) against one read of the same events (the floor), review's tile cache (its first
fill, then the same proofs with it warm), and the CLI proof's peak Python memory at a tenth of
the log and the whole of it (tracemalloc; the goal is flat: O(log² n), not O(n)).

GONGKAI_BENCH_PROOFS_N events (default 100,000, about a minute here) over 1,000 cases, on a
nats-server of its own (as audit.py's).
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import AsyncIterator

from gongkai_cli.logreader import read_log
from gongkai_shared.eventstore import EventStore
from gongkai_shared.tlog import Read, TileCache, consistency, inclusion
from tests.bench.context import Context
from tests.bulk import BulkNatsServer, fill

CASES = 1000


def _batched(store: EventStore) -> Read:
    async def read(first: int, last: int) -> AsyncIterator[bytes]:
        async for e in read_log(store, first, last):
            yield e.data

    return read


def _ordered(store: EventStore) -> Read:
    async def read(first: int, last: int) -> AsyncIterator[bytes]:
        async for e in store.read_raw(first, "foi.>", until_seq=last):
            yield e.data

    return read


async def bench(ctx: Context) -> None:
    n = int(os.environ.get("GONGKAI_BENCH_PROOFS_N", "100000"))
    server = BulkNatsServer(ctx.tmp / "proofs").start()
    r, topic = ctx.report, "proofs"
    try:
        store = await server.writer("review")
        try:
            size = await fill(store, server.signer("review"), n, CASES)
            t, count = time.perf_counter(), 0
            async for _ in read_log(store, 1, size):
                count += 1
            replay = time.perf_counter() - t

            middle = size // 2
            leaf = (await store.get(middle)).data
            t = time.perf_counter()
            proof = await inclusion(_batched(store), middle, size, leaf)
            cli_s = time.perf_counter() - t
            t = time.perf_counter()
            await consistency(_batched(store), middle, size)
            consistency_s = time.perf_counter() - t

            tiles = TileCache()
            t = time.perf_counter()
            await tiles.extend(_ordered(store), size)
            warm_s = time.perf_counter() - t
            t = time.perf_counter()
            served = await inclusion(_ordered(store), middle, size, leaf, tiles)
            http_ms = (time.perf_counter() - t) * 1000
            assert served == proof
            t = time.perf_counter()
            await consistency(_ordered(store), middle, size, tiles)
            http_consistency_ms = (time.perf_counter() - t) * 1000

            tracemalloc.start()
            await inclusion(_batched(store), size // 20, size // 10, (await store.get(size // 20)).data)
            small_peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.reset_peak()
            await inclusion(_batched(store), middle, size, leaf)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        finally:
            await store.nc.close()
    finally:
        server.stop()
    note = f"{size} events, {len(proof['hashes'])} hashes in the proof"
    r.add(topic, "read the log once (batched direct gets)", replay, "s", note=note)
    r.add(topic, "inclusion proof, CLI (one streaming pass)", cli_s, "s",
          baseline="read the log once", baseline_value=replay, goal="near 1 (reading)")  # fmt: skip
    r.add(topic, "consistency proof, CLI, half the log to all of it", consistency_s, "s",
          baseline="read the log once", baseline_value=replay)  # fmt: skip
    r.add(topic, "review's tile cache, first fill (once per replica start)", warm_s, "s",
          note=f"{len(tiles.tiles)} tiles, {len(tiles.tiles) * 32 / 1024:.0f} KiB of hashes")  # fmt: skip
    r.add(topic, "inclusion proof over HTTP (tile cache warm)", http_ms, "ms",
          baseline="CLI", baseline_value=cli_s * 1000, goal="far below the CLI's pass")  # fmt: skip
    r.add(topic, "consistency proof over HTTP (tile cache warm)", http_consistency_ms, "ms",
          baseline="CLI", baseline_value=consistency_s * 1000)  # fmt: skip
    r.add(topic, f"CLI inclusion proof peak Python memory, {size} events", peak, "MiB",
          baseline=f"{size // 10} events", baseline_value=small_peak, goal="flat (ratio 1.0)",
          note="tracemalloc: the proof's hashes and the reader's one batch")  # fmt: skip
