"""The clock on real servers: two notify replicas on one database and one stream, an injected
clock, review's events appended as review writes them, a real SMTP server (aiosmtpd) and a real
HTTP receiver on loopback, and the real ``gongkai calendar load`` command."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from asgi_lifespan import LifespanManager

from gongkai_notify.app import create_app
from gongkai_notify.dispatcher import dispatch_once
from gongkai_notify.settings import NotifySettings
from gongkai_shared.calendar import Pause, WorkingCalendar
from gongkai_shared.clock import OFFICE_TZ, FakeClock
from gongkai_shared.envelope import Actor
from gongkai_shared.events import (
    Applicant,
    ApplicantType,
    Channel,
    ClarificationReceived,
    ClarificationRequested,
    ConsultationReplied,
    ConsultationStarted,
    Contact,
    Delivery,
    ExtensionApproved,
    Form,
    Letter,
    PartyKind,
    Reply,
    RequestReceived,
    make_event,
)
from gongkai_shared.eventstore import EventStore, StoredEvent, with_retries
from gongkai_shared.runtime import run_migrations
from tests.harness import SECRET, System, ensure_staff, migrations_of
from tests.servers import NatsServer, free_port
from tests.webhook import Webhook

pytestmark = pytest.mark.integration
CAL = WorkingCalendar()
REVIEWER = Actor(id="王审核", role="reviewer")
APPLICANT_EMAIL = "lisi@example.edu.cn"


# --- real receivers -------------------------------------------------------------------------


class Mailbox:
    """aiosmtpd on loopback: every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if m["To"] == address]


def subject_of(msg: Any) -> str:
    return str(make_header(decode_header(msg["Subject"])))


# --- two notify replicas ----------------------------------------------------------------------


class Replicas:
    def __init__(self, nats: NatsServer, database_url: str, clock: FakeClock, **settings: Any) -> None:
        self.clock = clock
        self.nats = nats
        self.settings = NotifySettings(
            **nats.service_settings("notify"),
            database_url=database_url,
            auth_secret=SECRET,
            **{"tick_seconds": 0.05, "delivery_tick_seconds": 0.05, "retry_base_seconds": 0.05, **settings},
        )
        self.apps: list[Any] = []
        self.staff: dict[str, set[Any]] = {}
        self.clients: list[httpx.AsyncClient] = []
        self.stack = AsyncExitStack()

    async def start(self, n: int = 2) -> Replicas:
        await run_migrations(self.settings, "notify", migrations_of("notify"))
        # the test plays intake and review (and reads): its own connection, each context's key
        self.store = await self.nats.writer()
        self.stack.push_async_callback(self.store.nc.close)
        for _ in range(n):
            app = create_app(self.settings, clock=self.clock)
            await self.stack.enter_async_context(
                LifespanManager(app, startup_timeout=30, shutdown_timeout=30)
            )
            client = await self.stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app),
                    base_url="http://test",
                    event_hooks={"request": [self._ensure_staff]},
                )
            )
            self.apps.append(app)
            self.clients.append(client)
        return self

    async def settled(self, timeout: float = 15.0) -> None:
        """The active projection (one replica holds the lock) applied the stream's last event."""
        last = await self.store.last_seq()
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            positions = [a.state.runtime.runners["notify.clock"].position for a in self.apps]
            if max(positions) >= last:
                return
            assert loop.time() < end, f"projection at {positions}, stream at {last}"
            await asyncio.sleep(0.02)

    async def _ensure_staff(self, request: httpx.Request) -> None:
        await ensure_staff(request, self.nats, self.staff, self.apps)

    async def serve_http(self, replica: int) -> str:
        """Serve one replica on a loopback port (for a real command line client); its URL."""
        import uvicorn

        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                self.apps[replica], host="127.0.0.1", port=port, lifespan="off", log_level="warning"
            )
        )
        task = asyncio.ensure_future(server.serve())

        async def stop() -> None:
            server.should_exit = True
            await task

        self.stack.push_async_callback(stop)
        while not server.started:
            assert not task.done(), "the HTTP server did not start"
            await asyncio.sleep(0.02)
        return f"http://127.0.0.1:{port}"

    def active_client(self) -> httpx.AsyncClient:
        i = max(
            range(len(self.apps)), key=lambda j: self.apps[j].state.runtime.runners["notify.clock"].position
        )
        return self.clients[i]


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox()
    box.controller.start()
    yield box
    box.controller.stop()


async def wait_until(predicate: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        assert loop.time() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def history(store: EventStore, case_id: str, name: str | None = None) -> list[StoredEvent]:
    return [e for e in await store.history(case_id) if name is None or e.name == name]


async def events_until(store: EventStore, case_id: str, name: str, n: int) -> list[StoredEvent]:
    async def enough() -> list[StoredEvent] | None:
        found = await history(store, case_id, name)
        assert len(found) <= n, f"{len(found)} {name} events, expected {n}"
        return found if len(found) == n else None

    return await wait_until(enough, f"{n} {name} on {case_id}")


async def append(store: EventStore, body: Any, case_id: str, actor: Actor, at: datetime) -> StoredEvent:
    """Append as the writing service does: expect the case's last event; retry if notify moved it."""
    context = "intake" if isinstance(body, RequestReceived) else "review"

    async def attempt() -> StoredEvent:
        last = await store.last_event(case_id)
        event = make_event(body, aggregate_id=case_id, actor=actor, time=at)
        return await store.append(event, context, last.seq if last else 0)

    return await with_retries(attempt, tries=8)


def beijing(d: date, hour: int = 10) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=OFFICE_TZ).astimezone(UTC)


def letter(kind: str, recipient: str = "申请人") -> Letter:
    return Letter(kind=kind, title=f"{kind} 告知书", body=f"这是一份{kind}告知书。", recipient=recipient)


async def receive(store: EventStore, case_id: str, on: date) -> StoredEvent:
    body = RequestReceived(
        case_id=case_id,
        tracking_hash="0" * 64,
        applicant=Applicant(
            name="李四", type=ApplicantType.research_institution, contact=Contact(email=APPLICANT_EMAIL)
        ),
        description="本局2025年义务教育学校划片方案",
        form=Form.electronic,
        delivery=Delivery.email,
        channel=Channel.online,
        received_on=on,
        entered_at=beijing(on),
    )
    return await append(store, body, case_id, Actor(id="applicant", role="applicant"), beijing(on))


# --- the tests --------------------------------------------------------------------------------


async def test_pause_restart_extension_then_one_breach_with_two_replicas(
    nats_server: NatsServer, database_url: str, mailbox: Mailbox
) -> None:
    """Rule: the answer deadline is suspended by a request for correction and runs anew from the
    correction, pauses while a third party is consulted (showing meanwhile the date it has if the
    party stays silent, Art. 33 ¶2), grows by an extension; each change is
    recorded; a warning comes before it; once its last day has passed it is breached exactly
    once, though two notify replicas race for it, and the office head is told."""
    clock = FakeClock(beijing(date(2026, 3, 2), 9))
    notify = await Replicas(
        nats_server,
        database_url,
        clock,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.controller.port,
        staff_email="office@gov.example.cn",
        head_email="head@gov.example.cn",
    ).start(2)
    store = notify.store
    case = "case-clock-1"

    async def answer_due() -> str | None:
        found = [e for e in await history(store, case, "deadline-set") if e.envelope.data["kind"] == "answer"]
        return found[-1].envelope.data["due_on"] if found else None

    try:
        await receive(store, case, date(2026, 3, 2))
        [first] = await events_until(store, case, "deadline-set", 1)
        assert first.envelope.data["due_on"] == CAL.add_working_days(date(2026, 3, 2), 20).due.isoformat()

        # 补正: suspended; then the corrected application on 03-05 starts it anew
        req = ClarificationRequested(
            case_id=case, items=["请写明文件名称"], period_days=15, letter=letter("补正")
        )
        await append(store, req, case, REVIEWER, beijing(date(2026, 3, 3)))
        [suspended] = await events_until(store, case, "deadline-suspended", 1)
        assert suspended.envelope.data["reason"] == "clarification"
        got = ClarificationReceived(case_id=case, received_on=date(2026, 3, 5), summary="已补正")
        await append(store, got, case, REVIEWER, beijing(date(2026, 3, 5)))
        restarted = CAL.add_working_days(date(2026, 3, 5), 20).due
        await wait_until(lambda: _eq(answer_due, restarted.isoformat()), f"answer due {restarted}")

        # 征求意见 from 03-09 to 03-13: the letter goes by post (presumed received 03-12, the party's
        # 15 working days end 04-02): at once the answer shows the day it falls due if the party
        # stays silent (Art. 33 ¶2: the pause ends with the period); the reply on 03-13 ends it then
        started = ConsultationStarted(
            case_id=case,
            consultation_id="k1",
            party_kind=PartyKind.third_party,
            party="某公司",
            matter="是否同意公开",
            reply_days=15,
            started_on=date(2026, 3, 9),
            letter=letter("征求意见", "某公司"),
        )
        start_ev = await append(store, started, case, REVIEWER, beijing(date(2026, 3, 9)))
        silent = Pause(date(2026, 3, 9), date(2026, 4, 2), start_ev.id, "consultation-started")
        if_silent = CAL.add_working_days(date(2026, 3, 5), 20, pauses=[silent]).due
        await wait_until(lambda: _eq(answer_due, if_silent.isoformat()), f"answer due {if_silent}")
        replied = ConsultationReplied(
            case_id=case, consultation_id="k1", reply=Reply.consent, effective=Reply.consent,
            replied_on=date(2026, 3, 13),
        )  # fmt: skip
        await append(store, replied, case, REVIEWER, beijing(date(2026, 3, 13)))
        pause = Pause(date(2026, 3, 9), date(2026, 3, 13), start_ev.id, "consultation-started")
        resumed = CAL.add_working_days(date(2026, 3, 5), 20, pauses=[pause]).due
        assert resumed == CAL.add_working_days(restarted, 5).due
        await wait_until(lambda: _eq(answer_due, resumed.isoformat()), f"answer due {resumed}")

        # 延期 20 working days
        ext = ExtensionApproved(case_id=case, working_days=20, reason="需要调取档案", letter=letter("延期"))
        await append(store, ext, case, Actor(id="张主任", role="approver"), beijing(date(2026, 3, 20)))
        final = CAL.add_working_days(date(2026, 3, 5), 40, pauses=[pause]).due

        async def answer_due() -> str | None:
            found = [
                e for e in await history(store, case, "deadline-set") if e.envelope.data["kind"] == "answer"
            ]
            return found[-1].envelope.data["due_on"] if found else None

        await wait_until(lambda: _eq(answer_due, final.isoformat()), f"answer due {final}")
        dues = [e.envelope.data["due_on"] for e in await history(store, case, "deadline-set")
                if e.envelope.data["kind"] == "answer"]  # fmt: skip
        assert dues == [
            CAL.add_working_days(date(2026, 3, 2), 20).due.isoformat(),
            restarted.isoformat(),
            if_silent.isoformat(),
            resumed.isoformat(),
            final.isoformat(),
        ]
        await notify.settled()

        # the explanation: every counted day, the skipped ones, the pause and its cause
        [deadline_id] = {e.envelope.data["deadline_id"] for e in await history(store, case, "deadline-set")
                         if e.envelope.data["kind"] == "answer"}  # fmt: skip
        r = await notify.active_client().get(
            f"/api/v1/deadlines/{deadline_id}/explain", headers=System.token("auditor")
        )
        assert r.status_code == 200, r.text
        x = r.json()
        assert x["due_on"] == final.isoformat() and x["working_days"] == 40 and x["extension_days"] == 20
        assert sum(d["counted"] for d in x["days"]) == 40 == x["counted_days"]
        assert [d["day"] for d in x["days"] if d["reason"] == "paused"] == [
            f"2026-03-{n:02d}" for n in range(9, 14)
        ]
        assert x["pauses"][0]["cause_event_id"] == start_ev.id
        assert x["restarted_by"]["event_type"] == "clarification-received"
        assert {d["reason"] for d in x["days"]} >= {"receipt_day", "working_day", "weekend", "paused"}

        # the last day, 23:00 in Beijing: a warning, no breach
        clock.set(beijing(final, 23))
        [warning] = await events_until(store, case, "deadline-warning", 1)
        assert warning.envelope.data["kind"] == "answer" and warning.envelope.data["working_days_left"] == 0
        await notify.settled()
        assert not await history(store, case, "deadline-breached") or all(
            e.envelope.data["kind"] != "answer" for e in await history(store, case, "deadline-breached")
        )

        # the day after: both replicas race (their own loops, and two explicit passes at once)
        clock.set(beijing(final + timedelta(days=1), 9))
        rts = [a.state.runtime for a in notify.apps]
        await asyncio.gather(*(dispatch_once(rt, clock) for rt in rts))
        breaches = await wait_until(lambda: _answer_breaches(store, case), "the answer's breach")
        await notify.settled()
        for _ in range(3):
            await asyncio.gather(*(dispatch_once(rt, clock) for rt in rts))
        await notify.settled()
        assert len(await _answer_breaches(store, case)) == 1 == len(breaches)

        # escalated to the office head by e-mail, the notice id in the Message-ID
        head = await wait_until(lambda: mailbox.to("head@gov.example.cn"), "the head's e-mail")
        assert len(head) == 1 and "期限已届满" in subject_of(head[0])
        assert (
            head[0]["Message-ID"].startswith("<") and head[0]["X-Gongkai-Notice-Id"] in head[0]["Message-ID"]
        )
    finally:
        await notify.stack.aclose()

    # a restart of both replicas does not fire it again
    clock.set(beijing(final + timedelta(days=30), 9))
    again = await Replicas(nats_server, database_url, clock).start(2)
    try:
        await again.settled()
        for _ in range(3):
            await asyncio.gather(*(dispatch_once(a.state.runtime, clock) for a in again.apps))
        assert len(await _answer_breaches(again.store, case)) == 1
    finally:
        await again.stack.aclose()


async def _eq(f: Callable[[], Any], value: Any) -> bool:
    return await f() == value


async def _answer_breaches(store: EventStore, case: str) -> list[StoredEvent]:
    return [e for e in await history(store, case, "deadline-breached") if e.envelope.data["kind"] == "answer"]


def _cli(nats: NatsServer, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "gongkai"
    env = {**os.environ, **nats.cli_env(), "GONGKAI_URL": url, "GONGKAI_AUTH_SECRET": SECRET}
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.skipif(2027 in CAL.seeded_years, reason="the chinesecalendar package now knows 2027")
async def test_loading_2027_recomputes_the_provisional_deadline(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    """Rule: a receipt on 2026-12-20 gives a provisional deadline in January 2027 and no error;
    it already skips the certain statutory holidays of the 2024 放假办法 (2027-01-01: 01-18, not
    01-15; 春节 除夕 to 初三, 02-05..02-08: a receipt on 2027-01-25 is due 02-24). `gongkai calendar
    load` appends the year; notify recomputes the open deadlines, records the new due dates (both
    are in the case's history) and tells the staff when a date moved (the loaded notice's 02-06..
    02-14 break and 02-20 调休 move the second one to 02-26: 01-26..02-05 are 9 working days, 02-15..
    02-19 14, Saturday 02-20 15, 02-22..02-26 20)."""
    clock = FakeClock(beijing(date(2027, 1, 25), 9))
    hook = Webhook()
    notify = await Replicas(
        nats_server, database_url, clock, webhook_urls=hook.url, staff_email="office@x.cn"
    ).start(1)
    store, case, spring = notify.store, "case-2027", "case-2027-spring"
    try:
        await receive(store, case, date(2026, 12, 20))
        [first] = await events_until(store, case, "deadline-set", 1)
        assert first.envelope.data["due_on"] == "2027-01-18" and first.envelope.data["provisional"] is True
        await receive(store, spring, date(2027, 1, 25))
        [first_spring] = await events_until(store, spring, "deadline-set", 1)
        assert (
            first_spring.envelope.data["due_on"] == "2027-02-24" and first_spring.envelope.data["provisional"]
        )
        r = await notify.clients[0].get(
            "/api/v1/calendar/add-working-days", params={"start": "2026-12-20", "days": 20}
        )
        assert r.json()["provisional"] and r.json()["due"] == "2027-01-18"

        spec = tmp_path / "2027.yaml"
        spec.write_text(
            "year: 2027\n"
            "source: 国务院办公厅关于2027年部分节假日安排的通知（测试）\n"
            "holidays: [2027-01-01, '2027-02-06..2027-02-14']\n"
            "adjusted_working_days: [2027-02-20]\n",
            encoding="utf-8",
        )
        # the command goes through notify's API (notify alone writes notify's events)
        url = await notify.serve_http(0)
        done = await asyncio.to_thread(_cli, nats_server, url, "calendar", "load", str(spec))
        assert done.returncode == 0, done.stderr
        again = await asyncio.to_thread(_cli, nats_server, url, "calendar", "load", str(spec))
        assert again.returncode == 0 and "already loaded" in again.stdout
        # what the file means is notify's rule: the CLI passes notify's refusal on, field by field
        bad = tmp_path / "bad.yaml"
        bad.write_text("year: 2027\nsource: 测试\nholidays: ['2027-02-14..2027-02-06']\n", encoding="utf-8")
        refused = await asyncio.to_thread(_cli, nats_server, url, "calendar", "load", str(bad))
        assert refused.returncode != 0 and "422" in refused.stderr and "holidays" in refused.stderr
        assert "Traceback" not in refused.stderr

        sets = await events_until(store, case, "deadline-set", 2)
        assert [(e.envelope.data["due_on"], e.envelope.data["provisional"]) for e in sets] == [
            ("2027-01-18", True),
            ("2027-01-18", False),
        ]
        sets_spring = await events_until(store, spring, "deadline-set", 2)
        assert [(e.envelope.data["due_on"], e.envelope.data["provisional"]) for e in sets_spring] == [
            ("2027-02-24", True),
            ("2027-02-26", False),
        ]
        assert sets[1].envelope.data["calendar_version"].endswith("+2027")
        assert (
            sets[1].envelope.causationid == (await history(store, "calendar-2027", "calendar-loaded"))[0].id
        )

        await notify.settled()
        r = await notify.clients[0].get(
            "/api/v1/calendar/add-working-days", params={"start": "2026-12-20", "days": 20}
        )
        assert r.json()["due"] == "2027-01-18" and not r.json()["provisional"]
        assert r.json()["calendar_version"].endswith("+2027")

        # the staff are told, old and new date (webhook; no SMTP configured here)
        recomputed = await wait_until(
            lambda: [b for _, b in hook.hits if b["kind"] == "deadline_recomputed"], "the staff notice"
        )
        assert (
            "二〇二七年二月二十四日" in recomputed[0]["body"]
            and "二〇二七年二月二十六日" in recomputed[0]["body"]
        )
    finally:
        await notify.stack.aclose()
        hook.server.shutdown()


async def test_notices_are_delivered_by_email_and_webhook_retried_and_never_twice(
    nats_server: NatsServer, database_url: str, mailbox: Mailbox
) -> None:
    """Rule: the receipt (rendered by notify) and review's letters reach the applicant by e-mail
    and every webhook; a failing webhook is retried with backoff; each attempt is an event on the
    case with its status; with two replicas nothing is sent twice."""
    clock = FakeClock(beijing(date(2026, 2, 10), 9))
    hook = Webhook(fail_first=1)
    notify = await Replicas(
        nats_server,
        database_url,
        clock,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.controller.port,
        webhook_urls=hook.url,
    ).start(2)
    store, case = notify.store, "case-notices"
    try:
        await receive(store, case, date(2026, 2, 10))
        req = ClarificationRequested(
            case_id=case, items=["请写明文号"], period_days=15, letter=letter("补正")
        )
        await append(store, req, case, REVIEWER, beijing(date(2026, 2, 11)))

        mails = await wait_until(
            lambda: len(mailbox.to(APPLICANT_EMAIL)) >= 2 and mailbox.to(APPLICANT_EMAIL), "two e-mails"
        )
        receipt = next(m for m in mails if "登记回执" in subject_of(m))
        text = receipt.get_payload(decode=True).decode()
        assert "二〇二六年三月十六日" in text and "李四" in text
        assert any(subject_of(m) == "补正 告知书" for m in mails)

        async def attempts() -> list[StoredEvent]:
            return await history(store, case, "notice-delivery-attempted")

        # 2 notices x (e-mail + webhook) sent, plus the one webhook attempt that failed first
        evs = await wait_until(
            lambda: _at_least(attempts, lambda xs: sum(e.envelope.data["status"] == "sent" for e in xs) >= 4),
            "four deliveries",
        )
        failed = [e.envelope.data for e in evs if e.envelope.data["status"] == "retrying"]
        assert len(failed) == 1 and failed[0]["channel"] == "webhook" and "500" in failed[0]["error"]
        retried = [e.envelope.data for e in evs if e.envelope.data["delivery_id"] == failed[0]["delivery_id"]]
        assert [(a["attempt"], a["status"]) for a in retried] == [(1, "retrying"), (2, "sent")]
        assert all("lisi@" not in e.data.decode() for e in evs)  # the address is masked in the log

        await notify.settled()
        for _ in range(5):  # more passes of both replicas' workers send nothing more
            from gongkai_notify.delivery import deliver_once

            await asyncio.gather(
                *(
                    deliver_once(a.state.runtime.pool, a.state.runtime.store, notify.settings, clock)
                    for a in notify.apps
                )
            )
        await notify.settled()
        assert len(mailbox.to(APPLICANT_EMAIL)) == 2
        ok_hits = [(h, b) for h, b in hook.hits if not b["_failed"]]
        assert len(ok_hits) == 2 and len({b["notice_id"] for _, b in ok_hits}) == 2
        assert all(h["x-gongkai-notice-id"] == b["notice_id"] == h["idempotency-key"] for h, b in ok_hits)

        r = await notify.active_client().get(
            "/api/v1/notices", params={"case_id": case}, headers=System.token("auditor")
        )
        kinds = {n["kind"]: {d["channel"]: d["status"] for d in n["deliveries"]} for n in r.json()["notices"]}
        assert kinds["receipt"] == {"email": "sent", "webhook": "sent"}
        assert kinds["补正"] == {"email": "sent", "webhook": "sent"}
    finally:
        await notify.stack.aclose()
        hook.server.shutdown()


async def _at_least(f: Callable[[], Any], ok: Callable[[Any], bool]) -> Any:
    xs = await f()
    return xs if ok(xs) else None
