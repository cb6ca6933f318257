"""Notify's hot paths on real servers (issue 12): a calendar load recomputes in chunks while the
clock keeps ticking; delivery reads no history and sends each notice once; the due-work query
reads its indexes however many cases are closed; and the calendar file's rules answer 422."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from gongkai_notify.delivery import claim, deliver_once
from gongkai_notify.dispatcher import DUE, UNRECORDED
from gongkai_notify.recompute import recompute_once
from gongkai_notify.settings import NotifySettings
from gongkai_shared.calendar import WorkingCalendar
from gongkai_shared.clock import FakeClock
from gongkai_shared.envelope import Actor
from gongkai_shared.events import DecisionRecorded, ExtensionApproved
from gongkai_shared.eventstore import EventStore
from gongkai_shared.runtime import run_migrations
from tests.bench.notify_seed import seed
from tests.harness import System, migrations_of
from tests.integration.test_notify_clock import (
    CAL,
    REVIEWER,
    Replicas,
    append,
    beijing,
    events_until,
    history,
    letter,
    receive,
    wait_until,
)
from tests.servers import NatsServer
from tests.webhook import Webhook

pytestmark = pytest.mark.integration
ADMIN = System.token("admin")
SCHEDULE_2027 = {
    "year": 2027,
    "source": "国务院办公厅关于2027年部分节假日安排的通知（测试）",
    "holidays": ["2027-01-01", "2027-02-06..2027-02-14", {"from": "2027-10-01", "to": "2027-10-07"}],
    "adjusted_working_days": ["2027-02-20"],
}
HOLIDAYS_2027 = frozenset(
    [date(2027, 1, 1)] + [date(2027, 2, d) for d in range(6, 15)] + [date(2027, 10, d) for d in range(1, 8)]
)
CAL_2027 = WorkingCalendar({2027: (HOLIDAYS_2027, frozenset([date(2027, 2, 20)]))})
unknown_2027 = pytest.mark.skipif(
    2027 in CAL.seeded_years, reason="the chinesecalendar package now knows 2027"
)


# --- the calendar file's rules, at notify's API ---------------------------------------------------


@unknown_2027
async def test_a_schedule_as_written_is_loaded_with_its_ranges_expanded(
    nats_server: NatsServer, database_url: str
) -> None:
    """Rule: the schedule is taken as the operator writes it: single days, "a..b" ranges and
    {from, to} ranges (both ends included); the year's calendar-loaded lists every day once; the
    same schedule again (here as the expanded list of days) is already loaded."""
    notify = await Replicas(nats_server, database_url, FakeClock(beijing(date(2026, 12, 1)))).start(1)
    try:
        r = await notify.clients[0].post("/api/v1/calendar/years", json=SCHEDULE_2027, headers=ADMIN)
        assert r.status_code == 200, r.text
        [loaded] = await history(notify.store, "calendar-2027", "calendar-loaded")
        assert loaded.envelope.data["holidays"] == sorted(d.isoformat() for d in HOLIDAYS_2027)
        assert loaded.envelope.data["adjusted_working_days"] == ["2027-02-20"]
        expanded = {**SCHEDULE_2027, "holidays": sorted(d.isoformat() for d in HOLIDAYS_2027)}
        again = await notify.clients[0].post("/api/v1/calendar/years", json=expanded, headers=ADMIN)
        assert again.status_code == 200 and again.json()["already_loaded"], again.text
    finally:
        await notify.stack.aclose()


@pytest.mark.parametrize(
    ("change", "problems"),
    [
        ({"year": 1999}, {"year"}),
        ({"holidays": ["2026-12-31", "2027-01-01"]}, {"holidays.0"}),  # outside the year
        ({"holidays": ["2027-02-14..2027-02-06"]}, {"holidays.0"}),  # ends before it starts
        ({"holidays": ["2027-13-01", {"from": "2027-01-01"}]}, {"holidays.0", "holidays.1"}),
        ({"adjusted_working_days": ["2027-01-01"]}, {"adjusted_working_days"}),  # both
        ({"source": "   "}, {"source"}),
        ({"holidays": ["2027-03-01..2027-08-31"]}, {"holidays"}),  # more days than a year may lose
        (  # every problem at once, each named
            {
                "year": 2027,
                "holidays": ["2028-01-01", "x"],
                "adjusted_working_days": ["2027-03-01..2027-02-01"],
                "source": "",
            },
            {"holidays.0", "holidays.1", "adjusted_working_days.0", "source"},
        ),  # fmt: skip
    ],
)
async def test_a_schedule_is_refused_with_each_problem_named(
    nats_server: NatsServer, database_url: str, change: dict, problems: set[str]
) -> None:
    """Rule: a year from 2000 to 2200; each entry a day or a range that does not end before it
    starts; every day inside the year; no day both a holiday and a working day; a source; at most
    100 days a list. A refused schedule appends nothing."""
    notify = await Replicas(nats_server, database_url, FakeClock(beijing(date(2026, 12, 1)))).start(1)
    try:
        r = await notify.clients[0].post(
            "/api/v1/calendar/years", json={**SCHEDULE_2027, **change}, headers=ADMIN
        )
        assert r.status_code == 422, r.text
        assert {e["field"] for e in r.json()["errors"]} == problems, r.json()
        assert not await history(notify.store, "calendar-2027")
    finally:
        await notify.stack.aclose()


# --- calendar recomputation from a queue ----------------------------------------------------------


@unknown_2027
async def test_a_calendar_load_recomputes_in_chunks_while_a_deadline_elsewhere_breaches_on_time(
    nats_server: NatsServer, database_url: str
) -> None:
    """Rule: loading a year enqueues the open cases it touches and returns; while they wait, the
    clock keeps working (another case's deadline is breached on its day); a worker recomputes
    them a chunk per transaction, soonest due first, each recorded with the calendar-loaded
    event as its cause; a queued case whose event arrives first is computed on the new year by
    that event and leaves the queue (no second recording)."""
    clock = FakeClock(beijing(date(2026, 12, 1), 9))
    # the worker looks once at start (empty queue) and then not for an hour: the test drives it
    notify = await Replicas(
        nats_server, database_url, clock, recompute_chunk=7, recompute_tick_seconds=3600
    ).start(1)
    store, pool = notify.store, notify.apps[0].state.runtime.pool
    waiting = [f"case-wait-{i:02d}" for i in range(30)]
    try:
        await receive(store, "case-early", date(2026, 11, 16))
        for case in waiting:
            await receive(store, case, date(2026, 12, 20))
        early_due = CAL.add_working_days(date(2026, 11, 16), 20).due
        assert early_due is not None and early_due.year == 2026
        for case in ["case-early", *waiting]:
            await events_until(store, case, "deadline-set", 1)

        r = await notify.clients[0].post("/api/v1/calendar/years", json=SCHEDULE_2027, headers=ADMIN)
        assert r.status_code == 200, r.text
        await notify.settled()
        assert await pool.fetchval("SELECT count(*) FROM recompute_queue") == 30  # not case-early

        # an event of a queued case: computed on 2027 as loaded, and out of the queue
        ext = ExtensionApproved(
            case_id=waiting[0], working_days=20, reason="需要调取档案", letter=letter("延期")
        )
        await append(store, ext, waiting[0], Actor(id="张主任", role="approver"), beijing(date(2026, 12, 21)))
        sets = await events_until(store, waiting[0], "deadline-set", 2)
        answer_sets = [e.envelope.data for e in sets if e.envelope.data["kind"] == "answer"]
        assert answer_sets[-1]["due_on"] == CAL_2027.add_working_days(date(2026, 12, 20), 40).due.isoformat()
        await notify.settled()
        assert await pool.fetchval("SELECT count(*) FROM recompute_queue") == 29

        # the clock keeps ticking: case-early is breached the day after its last day
        clock.set(beijing(early_due + timedelta(days=1), 9))
        await events_until(store, "case-early", "deadline-breached", 1)
        assert await pool.fetchval("SELECT count(*) FROM recompute_queue") == 29
        assert len(await history(store, waiting[1], "deadline-set")) == 1  # not yet recomputed

        # the worker: one chunk per transaction
        assert await recompute_once(pool, notify.settings, _calendars()) == 7
        assert await pool.fetchval("SELECT count(*) FROM recompute_queue") == 22
        while await recompute_once(pool, notify.settings, _calendars()):
            pass
        assert await pool.fetchval("SELECT count(*) FROM recompute_queue") == 0
        calendar_event = (await history(store, "calendar-2027", "calendar-loaded"))[0]
        final = CAL_2027.add_working_days(date(2026, 12, 20), 20).due
        assert final is not None
        for case in waiting[1:]:
            first, second = await events_until(store, case, "deadline-set", 2)
            # provisional, already skipping 2027-01-01 (元旦, 放假办法 2024): the load confirms the date
            assert (first.envelope.data["due_on"], first.envelope.data["provisional"]) == ("2027-01-18", True)
            assert (second.envelope.data["due_on"], second.envelope.data["provisional"]) == (
                final.isoformat(),
                False,
            )
            assert second.envelope.causationid == calendar_event.id
        await notify.settled()
        assert len(await history(store, waiting[0], "deadline-set")) == 2  # nothing more for it
    finally:
        await notify.stack.aclose()


def _calendars() -> Any:
    from gongkai_shared.calendar_store import CalendarCache

    return CalendarCache()


# --- delivery --------------------------------------------------------------------------------------


async def _notify_store(nats: NatsServer) -> EventStore:
    """Notify's own event store on a connection of its own, so its traffic can be counted."""
    nc = await nats.connect("notify")
    return EventStore(nc, "FOI", [nats.signer("notify")])


async def test_delivery_reads_no_history_however_long_the_case(
    nats_server: NatsServer, database_url: str
) -> None:
    """Rule: delivering a notice reads what the outbox stored, never the case's history: the
    messages the sender receives from NATS are as few for a case with 300 earlier events as for
    a fresh one (reading the history would receive each of them)."""
    hook = Webhook()
    clock = FakeClock(beijing(date(2026, 3, 2), 9))
    notify = await Replicas(
        nats_server, database_url, clock, webhook_urls=hook.url, delivery_tick_seconds=3600
    ).start(1)
    store, pool = notify.store, notify.apps[0].state.runtime.pool
    sender = await _notify_store(nats_server)
    try:
        await receive(store, "case-short", date(2026, 3, 2))
        await receive(store, "case-long", date(2026, 3, 2))
        for _ in range(300):
            body = DecisionRecorded(
                case_id="case-long", outcome="withhold", reasons=["state_secret"], legal_basis="第十四条"
            )
            await append(store, body, "case-long", REVIEWER, beijing(date(2026, 3, 3)))
        await notify.settled(timeout=60)
        received: dict[str, int] = {}
        for _ in range(2):
            before = sender.nc.stats["in_msgs"]
            done = await deliver_once(pool, sender, notify.settings, clock, limit=1)
            assert done == 1, f"delivered {done}; hits so far {hook.hits}"
            received[hook.bodies[-1]["case_id"]] = sender.nc.stats["in_msgs"] - before
        assert set(received) == {"case-short", "case-long"}
        # a few replies (the case's last event, the event before the append, the append's ack; a
        # retry after a concurrent append adds as few): never one per earlier event
        assert received["case-long"] <= 10 and received["case-short"] <= 10, received
        attempts = await history(store, "case-long", "notice-delivery-attempted")
        assert [a.envelope.data["status"] for a in attempts] == ["sent"]  # still recorded
    finally:
        await sender.nc.close()
        await notify.stack.aclose()
        hook.server.shutdown()


async def test_a_notice_is_sent_once_by_concurrent_senders_and_a_crashed_senders_notice_is_retried(
    nats_server: NatsServer, database_url: str
) -> None:
    """Rule: two replicas delivering at once send each notice once (no row lock held while
    sending: the first one's lease keeps the other away); a sender that claimed a notice and
    died leaves a lease that runs out, then the notice is sent."""
    hook = Webhook(delay=0.5)
    clock = FakeClock(beijing(date(2026, 3, 2), 9))
    notify = await Replicas(
        nats_server, database_url, clock, webhook_urls=hook.url, delivery_tick_seconds=3600,
        delivery_lease_seconds=30,
    ).start(2)  # fmt: skip
    store = notify.store
    rts = [a.state.runtime for a in notify.apps]
    try:
        await receive(store, "case-once", date(2026, 3, 2))
        await notify.settled()
        done = await asyncio.gather(*(deliver_once(rt.pool, rt.store, notify.settings, clock) for rt in rts))
        assert sorted(done) == [0, 1] and len(hook.hits) == 1
        await notify.settled()
        assert len(await history(store, "case-once", "notice-delivery-attempted")) == 1

        # a sender claims the next notice and dies before sending
        await receive(store, "case-crash", date(2026, 3, 2))
        await notify.settled()
        assert await claim(rts[0].pool, "dead-sender", 0.3) is not None
        assert await deliver_once(rts[1].pool, rts[1].store, notify.settings, clock) == 0  # leased
        await wait_until(
            lambda: deliver_once(rts[1].pool, rts[1].store, notify.settings, clock), "the lease to run out"
        )
        assert [h["case_id"] for h in hook.bodies] == ["case-once", "case-crash"]
    finally:
        await notify.stack.aclose()
        hook.server.shutdown()


# --- the due-work query ------------------------------------------------------------------------------


async def test_the_due_work_queries_read_their_indexes_with_many_closed_cases(database_url: str) -> None:
    """Rule: a dispatcher tick reads open work only: with 30,000 closed cases and 300 open ones,
    both due-work queries scan their partial index, never the deadlines table."""
    settings = NotifySettings(database_url=database_url)
    await run_migrations(settings, "notify", migrations_of("notify"))
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SET search_path = notify")
        today = date(2026, 6, 1)
        await seed(conn, "closed", 30_000, open_=False, today=today)
        await seed(conn, "open", 300, open_=True, today=today)
        for query, args, index in (
            (UNRECORDED, (), "deadlines_unrecorded"),
            (DUE, (today,), "deadlines_running"),
        ):
            plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {query}", *args))
            assert index in plan, plan
            assert "Seq Scan on deadlines" not in plan, plan
    finally:
        await conn.close()
