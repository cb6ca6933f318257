"""Benchmark: notify's hot paths with a large caseload and a long case history (issue 12).

- dispatcher tick: the due-work queries with OPEN open cases, then again with 4 x OPEN closed
  cases added (goal: the same; the tables are seeded directly with COPY);
- deadline falling due -> ``deadline-breached`` stored, through a running notify (tick 1 s) on
  that caseload;
- calendar recomputation: cases recomputed per second from the queue, and the longest chunk
  transaction (the projection enqueues only);
- a notice delivered for a case with SMALL and with LARGE earlier events (goal: the same), next to
  the case history read the old delivery made (events published pipelined).

Scale: GONGKAI_BENCH_NOTIFY_OPEN open cases (default 5 x GONGKAI_BENCH_N = 10,000; the issue's
figure is 100,000 open and 400,000 closed), GONGKAI_BENCH_NOTIFY_HISTORY events for the long case
(default 10 x GONGKAI_BENCH_N = 20,000, against GONGKAI_BENCH_N; the issue's is 1,000,000 vs
10,000), GONGKAI_BENCH_NOTIFY_RECOMPUTE queued cases (default 2,000).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
from asgi_lifespan import LifespanManager

from gongkai_notify.app import create_app
from gongkai_notify.delivery import deliver_once
from gongkai_notify.dispatcher import dispatch_once
from gongkai_notify.recompute import recompute_once
from gongkai_notify.settings import NotifySettings
from gongkai_shared.calendar_store import CalendarCache
from gongkai_shared.clock import FakeClock
from gongkai_shared.envelope import Actor
from gongkai_shared.events import DecisionRecorded, make_event, subject_for
from gongkai_shared.eventstore import MSG_ID, EventStore
from gongkai_shared.runtime import run_migrations
from tests.bench.context import Context
from tests.bench.notify_seed import seed
from tests.harness import SECRET, migrations_of
from tests.integration.test_notify_clock import beijing, receive
from tests.servers import new_database
from tests.webhook import Webhook

TOPIC = "notify"
TODAY = date(2026, 6, 1)
REVIEWER = Actor(id="bench", role="reviewer")


async def _tick(rt: Any, clock: FakeClock, runs: int = 7) -> float:
    """Median wall time of a dispatcher pass with nothing due, in ms."""
    calendars = CalendarCache()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        assert await dispatch_once(rt, clock, calendars=calendars) == 0
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


async def _publish_history(store: EventStore, case: str, n: int) -> None:
    """``n`` signed review events on the case, published pipelined (no expected-sequence check)."""
    signer = store.signers["review"]
    subject = subject_for("review", case, "decision-recorded")
    body = DecisionRecorded(
        case_id=case, outcome="withhold", reasons=["state_secret"], legal_basis="第十四条"
    )
    for lo in range(0, n, 2000):
        pending = []
        for _ in range(min(2000, n - lo)):
            e = make_event(body, aggregate_id=case, actor=REVIEWER)
            data = e.to_bytes()
            headers = {MSG_ID: e.id, **signer.headers(subject, data)}
            pending.append(store.js.publish(subject, data, stream=store.stream, headers=headers))
        await asyncio.gather(*pending)


async def bench(ctx: Context) -> None:
    open_n = int(os.environ.get("GONGKAI_BENCH_NOTIFY_OPEN", str(5 * ctx.n)))
    closed_n = 4 * open_n
    small, large = ctx.n, int(os.environ.get("GONGKAI_BENCH_NOTIFY_HISTORY", str(10 * ctx.n)))
    queued = int(os.environ.get("GONGKAI_BENCH_NOTIFY_RECOMPUTE", "2000"))
    _, url = await new_database(ctx.dsn)
    hook = Webhook()
    settings = NotifySettings(
        **ctx.nats_server.service_settings("notify"),
        database_url=url,
        auth_secret=SECRET,
        tick_seconds=1.0,
        webhook_urls=hook.url,
        delivery_tick_seconds=3600,  # the benchmark delivers by hand
        recompute_tick_seconds=3600,  # and recomputes by hand
    )
    await run_migrations(settings, "notify", migrations_of("notify"))
    clock = FakeClock(beijing(TODAY, 9))
    conn = await asyncpg.connect(url, server_settings={"search_path": "notify"})
    pool = await asyncpg.create_pool(url, server_settings={"search_path": "notify"}, min_size=1, max_size=4)
    store = await ctx.nats_server.writer()
    r = ctx.report
    try:
        # --- the dispatcher tick: open cases, then closed ones added -------------------------------
        await seed(conn, "open", open_n, open_=True, today=TODAY)
        rt = SimpleNamespace(pool=pool, store=store)
        without = await _tick(rt, clock)
        await seed(conn, "closed", closed_n, open_=False, today=TODAY)
        with_closed = await _tick(rt, clock)
        r.add(TOPIC, f"dispatcher tick, {open_n} open + 0 closed", without, "ms")
        r.add(
            TOPIC,
            f"dispatcher tick, {open_n} open + {closed_n} closed",
            with_closed,
            "ms",
            baseline="0 closed",
            baseline_value=without,
            goal="ratio ~1 (independent of closed cases)",
        )

        # --- a deadline falling due -> deadline-breached, through a running notify --------------------
        app = create_app(settings, clock=clock)
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
            case = "bench-breach"
            await receive(store, case, TODAY)
            loop = asyncio.get_running_loop()
            end = loop.time() + 60
            while (last := await store.last_event(case)) is None or last.name != "deadline-set":
                assert loop.time() < end, "no deadline-set for the benchmark case"
                await asyncio.sleep(0.01)
            due = date.fromisoformat(last.envelope.data["due_on"])
            clock.set(beijing(due + timedelta(days=1), 0))
            t = time.perf_counter()
            end = loop.time() + 60
            while True:
                last = await store.last_event(case)
                if last is not None and last.name == "deadline-breached":
                    break
                assert loop.time() < end, "no breach within 60 s"
                await asyncio.sleep(0.005)
            breach = time.perf_counter() - t
        r.add(
            TOPIC,
            f"deadline due -> deadline-breached stored ({open_n + closed_n} cases)",
            breach * 1000,
            "ms",
            note="dispatcher tick 1 s (default 5 s): the figure includes waiting for the tick",
        )

        # --- calendar recomputation from the queue --------------------------------------------------
        await conn.execute(
            "INSERT INTO recompute_queue(case_id, calendar_seq, cause_event_id, first_due)"
            " SELECT case_id, 1, 'bench-calendar', NULL FROM cases WHERE open ORDER BY case_id LIMIT $1",
            queued,
        )
        longest, t = 0.0, time.perf_counter()
        calendars = CalendarCache()
        while True:
            c = time.perf_counter()
            if not await recompute_once(pool, settings, calendars):
                break
            longest = max(longest, time.perf_counter() - c)
        rate = queued / (time.perf_counter() - t)
        note = f"chunk {settings.recompute_chunk}; longest transaction {longest * 1000:.0f} ms"
        r.add(TOPIC, f"calendar recompute, {queued} queued cases", rate, "cases/s", note=note)

        # --- a notice delivered: short vs long case history -------------------------------------------
        while await deliver_once(pool, store, settings, clock):  # the breach case's notices first
            pass
        figures = {}
        for case, n in (("bench-short", small), ("bench-long", large)):
            await receive(store, case, TODAY)
            await _publish_history(store, case, n)
            t = time.perf_counter()
            await store.history(case, proven=True)
            old = (time.perf_counter() - t) * 1000
            times = []
            for k in range(5):  # five notices of the case, one delivery each: the median
                await conn.execute(
                    "INSERT INTO notices(notice_id, case_id, kind, audience, title, body, cause_event_id,"
                    " cause_seq, created_at)"
                    " VALUES ($1, $2, 'receipt', 'applicant', '回执', '正文', 'e', 1, now())",
                    f"n-{case}-{k}",
                    case,
                )
                await conn.execute(
                    "INSERT INTO deliveries(delivery_id, notice_id, channel, address)"
                    " VALUES ($1, $2, 'webhook', $3)",
                    f"d-{case}-{k}",
                    f"n-{case}-{k}",
                    hook.url,
                )
                t = time.perf_counter()
                assert await deliver_once(pool, store, settings, clock, limit=1) == 1
                times.append((time.perf_counter() - t) * 1000)
            figures[n] = (statistics.median(times), old)
        (s_ms, s_old), (l_ms, l_old) = figures[small], figures[large]
        r.add(TOPIC, f"notice delivered, case with {small} events", s_ms, "ms",
              baseline="old delivery's history read", baseline_value=s_old)  # fmt: skip
        r.add(TOPIC, f"notice delivered, case with {large} events", l_ms, "ms",
              baseline=f"delivered at {small} events", baseline_value=s_ms, goal="ratio ~1",
              note=f"the old delivery read the history first: {l_old:.0f} ms")  # fmt: skip
    finally:
        await pool.close()
        await conn.close()
        await store.nc.close()
        hook.server.shutdown()
