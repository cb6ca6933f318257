"""Benchmark: applications through the public edge, next to raw JetStream publishes.

- HTTP: ``POST /api/v1/applications`` through the real Caddy (tests/edge.py) in front of the
  four services (tests/harness.py System, in this process, their own nats-server), at 1, 4, 16
  and 64 concurrent clients, ``max(N/10, 64)`` applications per level: throughput, p50, p99;
- baseline: a raw JetStream publish of the same bytes to a stream of its own, awaited one by
  one and pipelined (``publish_async``), N messages: throughput, p50, p99;
- flow: a steady 50 applications/s for ``GONGKAI_BENCH_STEADY_SECONDS`` (default 10) seconds,
  each followed until it is in the review queue (review's projection applied it), its answer
  deadline is in the log (notify's ``deadline-set``) and the applicant sees it (intake's
  ``answer_due``): p99 of each, next to the raw publish p99. Notify runs with its default
  5 s tick, as deployed.
Everything but Caddy shares one Python process (and 2 cores) with the load generator.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from gongkai_intake.domain import Apply, case_for_key, code_for_key, new_key, receive, tracking_hash
from gongkai_shared.envelope import Actor, Envelope
from tests.bench.context import Context
from tests.edge import open_site
from tests.flow import application
from tests.servers import NatsServer, new_database

LEVELS = (1, 4, 16, 64)
RATE = 50.0  # applications per second in the flow measurement
APPLICANT = Actor(id="applicant", role="applicant")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def spread(lat: list[float], digits: int = 1) -> str:
    return f"p50 {pct(lat, 0.5) * 1e3:.{digits}f} ms, p99 {pct(lat, 0.99) * 1e3:.{digits}f} ms"


def body(i: int) -> dict[str, Any]:
    return application(description=f"压力测试第{i}号申请：本区2025年道路养护合同及验收报告")


def payload() -> bytes:
    """The bytes of one request-received, as intake appends it."""
    key = new_key()
    case_id, event_id = case_for_key(key)
    at = datetime.now(UTC)
    event = receive(Apply.model_validate(body(0)), case_id=case_id, event_id=event_id,
                    tracking_hash=tracking_hash(code_for_key("x" * 40, key)), today=at.date(), now=at,
                    actor=APPLICANT)  # fmt: skip
    return event.to_bytes()


async def http_level(
    public: httpx.AsyncClient, clients: int, count: int, start: int
) -> tuple[float, list[float]]:
    """``count`` applications by ``clients`` concurrent clients: (seconds, latencies)."""
    latencies: list[float] = []
    next_i = iter(range(start, start + count))

    async def client() -> None:
        for i in next_i:
            t = time.perf_counter()
            r = await public.post("/api/v1/applications", json=body(i))
            latencies.append(time.perf_counter() - t)
            assert r.status_code == 201, r.text

    t = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - t, latencies


async def raw_publish(nats_server: NatsServer, n: int) -> dict[str, tuple[float, list[float]]]:
    store = await nats_server.writer()
    data = payload()
    out = {}
    try:
        await store.js.add_stream(name="RAWINTAKE", subjects=["rawintake.>"])
        latencies = []
        t = time.perf_counter()
        for i in range(n):
            s = time.perf_counter()
            await store.js.publish(f"rawintake.{i % 50}", data, stream="RAWINTAKE")
            latencies.append(time.perf_counter() - s)
        out["one by one"] = (time.perf_counter() - t, latencies)

        sent: list[float] = []
        acked: list[float] = [0.0] * n
        futures = []
        t = time.perf_counter()
        for i in range(n):
            sent.append(time.perf_counter())
            fut = await store.js.publish_async(f"rawintake.{i % 50}", data, stream="RAWINTAKE")
            fut.add_done_callback(lambda _, i=i: acked.__setitem__(i, time.perf_counter()))
            futures.append(fut)
        await asyncio.wait_for(asyncio.gather(*futures), 60)
        out["pipelined"] = (time.perf_counter() - t, [a - s for a, s in zip(acked, sent, strict=True)])
    finally:
        await store.nc.close()
    return out


async def deadlines_recorded(site: Any, count: int, within: float) -> None:
    """Until ``count`` answer deadlines are in the log (a timeout is an error, not a figure)."""
    store = await site.system.nats.writer()
    try:
        deadline = time.monotonic() + within
        while True:
            info = await store.js.stream_info(store.stream, subjects_filter="foi.notify.*.deadline-set")
            if sum((info.state.subjects or {}).values()) >= count:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"notify has not recorded {count} deadlines within {within} s")
            await asyncio.sleep(0.2)
    finally:
        await store.nc.close()


async def flow(site: Any, seconds: float) -> dict[str, list[float]]:
    """A steady RATE/s for ``seconds``; each application followed to the review queue and to
    its answer deadline (in the log, then seen by intake). Bounded waits: a timeout is an error."""
    system = site.system
    review = system.runtime("review").runners["review.cases"]
    intake = system.runtime("intake").runners["intake.applications"]
    watcher_store = await system.nats.writer()  # the operator's connection: it may read every subject
    js = watcher_store.js
    count = int(RATE * seconds)
    started: dict[str, float] = {}
    posted: list[float] = []
    queued: dict[str, float] = {}
    waiting_review: dict[str, int] = {}  # case -> its sequence
    deadline_seq: dict[str, int] = {}
    logged: dict[str, float] = {}
    seen: dict[str, float] = {}

    async def on_deadline(msg: Any) -> None:
        case = msg.subject.split(".")[2]
        if (
            case in started
            and case not in logged
            and Envelope.from_bytes(msg.data).data.get("kind") == "answer"
        ):
            logged[case] = time.perf_counter()
            deadline_seq[case] = msg.metadata.sequence.stream

    from nats.js.api import DeliverPolicy

    sub = await js.subscribe(
        "foi.notify.*.deadline-set",
        stream="FOI",
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.NEW,
        cb=on_deadline,
    )

    async def one(i: int) -> None:
        t = time.perf_counter()
        r = await site.public.post("/api/v1/applications", json=body(100_000 + i), timeout=30)
        assert r.status_code == 201, r.text
        posted.append(time.perf_counter() - t)
        case = r.json()["case_id"]
        started[case] = t
        waiting_review[case] = r.json()["sequence"]

    async def watch() -> None:
        while True:
            now = time.perf_counter()
            for case, seq in list(waiting_review.items()):
                if review.position >= seq:
                    queued[case] = now
                    del waiting_review[case]
            for case, seq in list(deadline_seq.items()):
                if case not in seen and intake.position >= seq:
                    seen[case] = now
            await asyncio.sleep(0.005)

    watcher = asyncio.ensure_future(watch())
    try:
        t0 = time.perf_counter()
        tasks = []
        for i in range(count):
            await asyncio.sleep(max(0.0, t0 + i / RATE - time.perf_counter()))
            tasks.append(asyncio.ensure_future(one(i)))
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
        async with asyncio.timeout(120):
            while len(seen) < count or len(queued) < count:  # noqa: ASYNC110 — bounded
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(
            f"flow: of {count} applications, {len(queued)} reached the review queue and"
            f" {len(seen)} showed their deadline within the bound"
        ) from None
    finally:
        watcher.cancel()
        await sub.unsubscribe()
        await watcher_store.nc.close()
    return {
        "201": posted,
        "queue": [queued[c] - started[c] for c in started],
        "deadline": [logged[c] - started[c] for c in started],
        "answer_due": [seen[c] - started[c] for c in started],
    }


async def bench(ctx: Context) -> None:
    r, topic = ctx.report, "intake"
    per_level = max(ctx.n // 10, 64)
    seconds = float(os.environ.get("GONGKAI_BENCH_STEADY_SECONDS", "10"))
    nats_server = NatsServer(ctx.tmp / "nats-intake").start()
    try:
        raw = await raw_publish(nats_server, ctx.n)
        one_rate = ctx.n / raw["one by one"][0]
        one_p99 = pct(raw["one by one"][1], 0.99)
        for name, (secs, lat) in raw.items():
            r.add(topic, f"raw JetStream publish, {name}", ctx.n / secs, "msg/s",
                  note=f"{ctx.n} msgs; {spread(lat, 2)}")  # fmt: skip

        _, url = await new_database(ctx.dsn)
        extra = {"intake": {"rate_applications": "off", "rate_lookups": "off"}}
        async with open_site(nats_server, url, ctx.tmp / "intake-site", **extra) as site:
            done = 0
            for clients in LEVELS:
                secs, lat = await http_level(site.public, clients, per_level, done)
                done += per_level
                r.add(topic, f"POST /api/v1/applications via Caddy, {clients} clients", per_level / secs,
                      "app/s", baseline="raw publish one by one", baseline_value=one_rate,
                      note=f"{per_level} apps; {spread(lat)}")  # fmt: skip
            await site.system.settle(60)
            await deadlines_recorded(site, done, 120)  # the steady flow starts on no backlog
            lat_by = await flow(site, seconds)
        for name, label in (
            ("201", "flow at 50/s: POST answered 201, p99"),
            ("queue", "flow at 50/s: application -> in the review queue, p99"),
            ("deadline", "flow at 50/s: application -> deadline-set in the log, p99"),
            ("answer_due", "flow at 50/s: application -> answer_due shown by intake, p99"),
        ):
            lat = lat_by[name]
            r.add(topic, label, pct(lat, 0.99) * 1e3, "ms", baseline="raw publish p99",
                  baseline_value=one_p99 * 1e3,
                  note=f"{len(lat)} apps over {seconds:.0f} s; p50 {pct(lat, .5) * 1e3:.0f} ms")  # fmt: skip
    finally:
        nats_server.stop()
