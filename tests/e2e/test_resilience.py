"""Nothing lost, nothing applied twice: restarts mid-flow and concurrent writers."""

from __future__ import annotations

import asyncio

from gongkai_review import queries
from gongkai_review.domain import Decide
from gongkai_review.domain import decide as review_decide
from gongkai_shared.commands import execute
from gongkai_shared.envelope import Actor, sha256_hex
from gongkai_shared.eventstore import ConcurrencyConflict

from tests.events import deadline_set
from tests.flow import DISCLOSE, apply, decide, wait_for_count
from tests.harness import System


async def test_restart_of_every_service_mid_flow_loses_nothing_and_doubles_nothing(
    nats_url: str, database_url: str
) -> None:
    system = await System(nats_url, database_url, notify={"tick_seconds": 0.1}).start()
    try:
        first = [await apply(system) for _ in range(3)]
        # publishing and review go down while applications keep arriving
        await system.stop("publishing", "review")
        second = [await apply(system) for _ in range(3)]
        await system.start("review")
        for case in first + second:
            await decide(system, case["case_id"], DISCLOSE, case["sequence"])
        await system.restart("intake", "notify")
        await system.start("publishing")  # catches up on the approvals it missed

        published = await wait_for_count(system, "published", 6)
        sets = await wait_for_count(system, "deadline-set", 6)
        await system.settle()

        numbers = [p.envelope.data["index_number"] for p in published]
        assert len(numbers) == len(set(numbers)) == 6  # each approval published once, numbers unique
        catalog = (await system.clients["publishing"].get("/api/v1/catalog")).json()
        assert catalog["total"] == 6
        cases = (
            await system.clients["review"].get(
                "/api/v1/cases", params={"status": "decided"}, headers=System.token("auditor")
            )
        ).json()
        assert len(cases["items"]) == 6
        assert sorted(e.aggregate_id for e in sets) == sorted(c["case_id"] for c in first + second)
        for case in first + second:
            tracked = (
                await system.clients["intake"].get(f"/api/v1/applications/{case['tracking_code']}")
            ).json()
            kinds = [h["event"] for h in tracked["history"]]
            assert kinds.count("request-received") == kinds.count("review-approved") == 1
            assert kinds.count("published") == 1 and tracked["status"] == "answered"
    finally:
        await system.stop()


async def test_concurrent_decisions_one_wins_the_other_is_409(nats_url: str, database_url: str) -> None:
    system = await System(nats_url, database_url, notify={"tick_seconds": 3600}).start("intake", "review")
    try:
        case = await apply(system)
        assert await system.runtime("review").wait_for(case["sequence"])
        url = f"/api/v1/cases/{case['case_id']}/decision"
        results = await asyncio.gather(
            system.clients["review"].post(url, json=DISCLOSE, headers=System.token("reviewer", "甲")),
            system.clients["review"].post(
                url,
                json={"outcome": "withhold", "reasons": ["state_secret"]},
                headers=System.token("approver", "乙"),
            ),
        )
        assert sorted(r.status_code for r in results) == [201, 409]
        decisions = [
            e
            for e in await system.runtime("review").store.history(case["case_id"])
            if e.name in ("review-approved", "decision-recorded")
        ]
        assert len(decisions) == 1
    finally:
        await system.stop()


async def test_stale_write_is_rejected_then_retried_on_fresh_state(nats_url: str, database_url: str) -> None:
    """Another service appends to the case after review loaded its state: review's append is
    rejected by the concurrency check (err 10071), it reloads and decides again, and succeeds."""
    system = await System(nats_url, database_url).start("intake", "review")
    try:
        case = await apply(system)
        rt = system.runtime("review")
        assert await rt.wait_for(case["sequence"])
        loaded = await queries.load_case(rt.pool, case["case_id"])
        other = deadline_set(case["case_id"])
        loads: list[int] = []

        async def load():  # the first load races the other writer: its state is stale
            state = loaded if not loads else await queries.load_case(rt.pool, case["case_id"])
            loads.append(state[1])
            if len(loads) == 1:
                await rt.store.append(other, "notify", case["sequence"])
            return state

        cmd = Decide.model_validate(DISCLOSE)
        stored = await execute(
            rt,
            case["case_id"],
            load,
            lambda c: review_decide(c, cmd, actor=Actor(id="甲", role="reviewer"), now=system.clock.now()),
        )
        assert len(loads) == 2 and loads[1] > loads[0]  # rejected once, retried on fresh state
        history = await rt.store.history(case["case_id"])
        assert [e.name for e in history] == ["request-received", "deadline-set", "review-approved"]
        assert stored.seq == history[-1].seq
        assert history[2].envelope.prevhash == sha256_hex(history[1].data)

        stale_again = await asyncio.gather(
            *[
                rt.store.append(
                    review_decide(
                        loaded[0],
                        cmd,
                        actor=Actor(id="乙", role="reviewer"),
                        now=system.clock.now(),
                    ),
                    "review",
                    loaded[1],
                )
            ],
            return_exceptions=True,
        )
        assert isinstance(stale_again[0], ConcurrencyConflict)  # a stale writer never lands
    finally:
        await system.stop()
