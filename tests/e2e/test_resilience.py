"""Nothing lost, nothing applied twice: restarts mid-flow and concurrent writers."""

from __future__ import annotations

import asyncio

import pytest

from gongkai_review import queries
from gongkai_review.commands import decide as review_decide
from gongkai_review.domain import Context, Register
from gongkai_shared.calendar import WorkingCalendar
from gongkai_shared.commands import execute
from gongkai_shared.envelope import Actor, sha256_hex
from gongkai_shared.events import make_event
from gongkai_shared.eventstore import ConcurrencyConflict
from tests.events import deadline_set
from tests.flow import DISCLOSE, answer, apply, command, publish_on_request, register_document, wait_for_count
from tests.harness import System
from tests.servers import NatsServer

REGISTRAR = Actor(id="登记员", role="registrar")


async def test_restart_of_every_service_mid_flow_loses_nothing_and_doubles_nothing(
    nats_server: NatsServer, database_url: str
) -> None:
    """Rule: services stopped and restarted mid-flow catch up from the log: publishing, down while
    cases are decided and answered, learns the answers it missed and publishes each document the
    office then decides to publish (Art. 44) exactly once; it is restarted again between the
    decisions and their publication, and its reaction catches up without doubling any."""
    system = await System(nats_server, database_url, notify={"tick_seconds": 0.1}).start()
    try:
        documents = [await register_document(system, f"2025年第{n}批学校划片方案") for n in range(6)]
        first = [await apply(system) for _ in range(3)]
        # publishing and review go down while applications keep arriving
        await system.stop("publishing", "review")
        second = [await apply(system) for _ in range(3)]
        await system.start("review")
        cases = first + second
        for case, doc in zip(cases, documents, strict=True):
            await answer(system, case["case_id"], {**DISCLOSE, "documents": [doc]})
        await system.restart("intake", "notify")
        await system.start("publishing")  # catches up on the answers it missed
        await system.settle()  # (and on the staff accounts added meanwhile)
        for case, doc in zip(cases[:3], documents[:3], strict=True):
            await publish_on_request(system, case["case_id"], [doc])
        await system.restart("publishing")  # its reactions resume where they were
        for case, doc in zip(cases[3:], documents[3:], strict=True):
            await publish_on_request(system, case["case_id"], [doc])

        published = await wait_for_count(system, "published", 6)
        sets = await wait_for_count(system, "deadline-set", 6)
        await system.settle()

        numbers = [p.envelope.data["index_number"] for p in published]
        assert len(numbers) == len(set(numbers)) == 6  # each document published once, numbers unique
        assert sorted(p.envelope.data["document_id"] for p in published) == sorted(documents)
        catalog = (await system.clients["publishing"].get("/api/v1/catalog")).json()
        assert catalog["total"] == 6
        answered = (
            await system.clients["review"].get(
                "/api/v1/cases", params={"status": "answered"}, headers=System.token("auditor")
            )
        ).json()
        assert len(answered["items"]) == 6
        assert sorted(e.aggregate_id for e in sets) == sorted(c["case_id"] for c in cases)
        for case in cases:
            tracked = (
                await system.clients["intake"].get(f"/api/v1/applications/{case['tracking_code']}")
            ).json()
            kinds = [h["event"] for h in tracked["history"]]
            assert kinds.count("request-received") == kinds.count("answer-sent") == 1, kinds
    finally:
        await system.stop()


async def test_concurrent_drafts_one_wins_the_other_is_409(
    nats_server: NatsServer, database_url: str
) -> None:
    system = await System(nats_server, database_url, notify={"tick_seconds": 3600}).start("intake", "review")
    try:
        case = await apply(system)
        await command(system, case["case_id"], "register", {}, "registrar")
        await command(
            system, case["case_id"], "confidentiality-review", {"passed": True, "notes": "-"}, "reviewer"
        )
        url = f"/api/v1/cases/{case['case_id']}/draft"
        results = await asyncio.gather(
            system.clients["review"].post(url, json=DISCLOSE, headers=System.token("reviewer", "甲")),
            system.clients["review"].post(
                url,
                json={"outcome": "withhold", "reasons": ["state_secret"], "reason_text": "已定密"},
                headers=System.token("reviewer", "丙"),
            ),
        )
        assert sorted(r.status_code for r in results) == [201, 409]
        drafts = [
            e
            for e in await system.runtime("review").store.history(case["case_id"])
            if e.name == "decision-drafted"
        ]
        assert len(drafts) == 1
    finally:
        await system.stop()


async def test_stale_write_is_rejected_then_retried_on_fresh_state(
    nats_server: NatsServer, database_url: str
) -> None:
    """Another service appends to the case after review loaded its state: review's append is
    rejected by the concurrency check (err 10071), it reloads and decides again, and succeeds."""
    system = await System(nats_server, database_url).start("intake", "review")
    try:
        case = await apply(system)
        rt = system.runtime("review")
        assert await rt.wait_for(case["sequence"])
        loaded = await queries.load_case(rt.pool, case["case_id"])
        other = deadline_set(case["case_id"])
        notify = await nats_server.writer("notify")  # the other writer, as notify
        loads: list[int] = []

        async def load():  # the first load races the other writer: its state is stale
            state = loaded if not loads else await queries.load_case(rt.pool, case["case_id"])
            loads.append(state[1])
            if len(loads) == 1:
                await notify.append(other, "notify", case["sequence"])
            return state

        def register(state):  # noqa: ANN001, ANN202
            body = review_decide(state, Register(), ctx())
            return make_event(body, aggregate_id=case["case_id"], actor=REGISTRAR)

        def ctx() -> Context:
            return Context(
                actor=REGISTRAR,
                now=system.clock.now(),
                today=system.clock.today(),
                calendar=WorkingCalendar(),
            )

        stored = await execute(rt, case["case_id"], load, register)
        await notify.nc.close()
        assert len(loads) == 2 and loads[1] > loads[0]  # rejected once, retried on fresh state
        history = await rt.store.history(case["case_id"])
        assert [e.name for e in history] == ["request-received", "deadline-set", "case-registered"]
        assert stored.seq == history[-1].seq
        assert history[2].envelope.prevhash == sha256_hex(history[1].data)

        stale = register(loaded[0])
        with pytest.raises(ConcurrencyConflict):  # a stale writer never lands
            await rt.store.append(stale, "review", loaded[1])
    finally:
        await system.stop()


async def test_operators_see_projections_and_only_an_admin_parks(
    nats_server: NatsServer, database_url: str
) -> None:
    system = await System(nats_server, database_url).start("review")
    try:
        client = system.clients["review"]
        status = (await client.get("/api/v1/status")).json()
        assert status["projections"]["review.cases"]["state"] in ("running", "starting")
        assert status["parked"] == []
        url = "/api/v1/status/projections/review.cases/park"
        body = {"seq": 1, "reason": "已确认为测试数据"}
        assert (await client.post(url, json=body, headers=System.token("reviewer"))).status_code == 403
        assert (
            await client.post(url, json=body, headers=System.token("admin"))
        ).status_code == 409  # not stuck
        missing = "/api/v1/status/projections/nope/park"
        assert (await client.post(missing, json=body, headers=System.token("admin"))).status_code == 404
    finally:
        await system.stop()
