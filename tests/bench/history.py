"""Benchmark: a case's history read at 10 000 events and at N events (issue 12 goal: the same).

N is ``GONGKAI_BENCH_HISTORY_N`` (default 100 000; the issue's figure is 1 000 000). At each
size the latest case (10 events) is read 20 times and the median is reported:

- ``EventStore.history(case)``: the first event found from the subject index, then read;
- ``EventStore.history(case, since=first_seq)``: as a caller that stored the first sequence;
- baseline: the old way, an ordered consumer from sequence 1 filtered on the case.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from gongkai_shared.events import aggregate_filter
from gongkai_shared.eventstore import EventStore
from tests.bench import stream
from tests.bench.context import Context

SMALL = 10_000


async def median_ms(read: Callable[[], Awaitable[Any]], times: int = 20) -> float:
    took = []
    for _ in range(times):
        t = time.perf_counter()
        await read()
        took.append((time.perf_counter() - t) * 1000)
    return statistics.median(took)


async def measure(store: EventStore) -> tuple[int, float, float, float]:
    last_receipt = await store.last_raw("foi.intake.*.request-received")
    assert last_receipt is not None
    case = last_receipt.subject.split(".")[2]
    first = await store.first_seq(case)
    assert first == last_receipt.seq
    last = await store.last_event(case)
    assert last is not None

    async def from_start() -> None:
        events = [e async for e in store.read(1, aggregate_filter(case), until_seq=last.seq)]
        assert len(events) == stream.PER_CASE

    async def looked_up() -> None:
        assert len(await store.history(case)) == stream.PER_CASE

    async def known() -> None:
        assert len(await store.history(case, since=first)) == stream.PER_CASE

    return (
        await store.last_seq(),
        await median_ms(from_start),
        await median_ms(looked_up),
        await median_ms(known),
    )


async def bench(ctx: Context) -> None:
    big = int(os.environ.get("GONGKAI_BENCH_HISTORY_N", "100000"))
    store = await ctx.nats_server.writer()
    await stream.publish(store, max(stream.PER_CASE, SMALL - await store.last_seq()))
    small_at, small_old, small_lookup, small_known = await measure(store)
    await stream.publish(store, max(stream.PER_CASE, big - await store.last_seq()), progress=big >= 200_000)
    big_at, big_old, big_lookup, big_known = await measure(store)
    await store.nc.close()

    r, topic = ctx.report, "history"
    note = f"the latest case's {stream.PER_CASE} events, median of 20"
    r.add(topic, f"history from sequence 1 (old), {small_at} events", small_old, "ms", note=note)
    r.add(topic, f"history from sequence 1 (old), {big_at} events", big_old, "ms",
          baseline=f"at {small_at}", baseline_value=small_old)  # fmt: skip
    r.add(topic, f"history(case), first event looked up, {small_at} events", small_lookup, "ms")
    r.add(topic, f"history(case), first event looked up, {big_at} events", big_lookup, "ms",
          baseline=f"at {small_at}", baseline_value=small_lookup, goal="1 (the same)")  # fmt: skip
    r.add(topic, f"history(case, since=first_seq), {small_at} events", small_known, "ms")
    r.add(topic, f"history(case, since=first_seq), {big_at} events", big_known, "ms",
          baseline=f"at {small_at}", baseline_value=small_known, goal="1 (the same)")  # fmt: skip
