"""The walking skeleton end to end: apply → review → publish, and the clock, on real servers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gongkai_notify.dispatcher import dispatch_once
from gongkai_shared.clock import FakeClock
from tests.flow import DISCLOSE, INDEX_NUMBER, answer, apply, decide, events_named, wait_for_event
from tests.harness import System
from tests.servers import NatsServer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 2, 10, 2, 0, tzinfo=UTC))  # 10:00 in Beijing


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str, clock: FakeClock):
    s = System(nats_server, database_url, clock=clock, notify={"tick_seconds": 0.1})
    await s.start()
    yield s
    await s.stop()


async def test_disclosed_application_is_published_in_the_catalogue(system: System) -> None:
    received = await apply(system)
    case_id = received["case_id"]

    queue = await system.clients["review"].get(
        "/api/v1/cases", params={"min_seq": received["sequence"]}, headers=System.token("reviewer")
    )
    assert case_id in [c["case_id"] for c in queue.json()["items"]]

    decision = await decide(system, case_id, DISCLOSE, received["sequence"])
    assert decision["event"] == "review-approved"

    [published] = await wait_for_event(system, "foi.publishing.*.published", "published")
    number = published.envelope.data["index_number"]
    assert INDEX_NUMBER.match(number), number
    assert published.envelope.causationid == decision["event_id"]
    assert "李四" not in published.data.decode()  # no personal data in what other agencies read

    assert await system.runtime("publishing").wait_for(published.seq)
    catalog = (await system.clients["publishing"].get("/api/v1/catalog")).json()
    assert [i["index_number"] for i in catalog["items"]] == [number]
    item = await system.clients["publishing"].get(f"/api/v1/catalog/{number}")
    assert item.status_code == 200 and item.json()["body"] == DISCLOSE["disclosed_content"]


async def test_answer_deadline_is_20_working_days_and_shown_to_the_applicant(
    system: System,
) -> None:
    received = await apply(system)
    [deadline_set] = await wait_for_event(system, f"foi.notify.{received['case_id']}.>", "deadline-set")
    assert deadline_set.envelope.data["due_on"] == "2026-03-16"  # across Spring Festival 2026

    assert await system.runtime("intake").wait_for(deadline_set.seq)
    tracked = await system.clients["intake"].get(f"/api/v1/applications/{received['tracking_code']}")
    assert tracked.json()["answer_due"] == "2026-03-16"
    r = await system.clients["notify"].get(
        "/api/v1/deadlines",
        params={"case_id": received["case_id"]},
        headers=System.token("auditor"),
    )
    assert r.json()["deadlines"][0]["due_on"] == "2026-03-16"


async def test_unanswered_deadline_is_breached_exactly_once(system: System, clock: FakeClock) -> None:
    late = await apply(system)
    answered = await apply(system)
    await wait_for_event(system, f"foi.notify.{answered['case_id']}.>", "deadline-set")
    await wait_for_event(system, f"foi.notify.{late['case_id']}.>", "deadline-set")
    await answer(system, answered["case_id"], {"outcome": "not_held", "reasons": ["does_not_exist"]})
    await system.settle()

    clock.set(datetime(2026, 3, 16, 15, 0, tzinfo=UTC))  # 23:00 on the due day: not yet late
    await dispatch_once(system.runtime("notify"), clock)  # (warnings may go out)
    await system.settle()
    assert await events_named(system, "deadline-breached") == []

    clock.set(datetime(2026, 3, 17, 1, 0, tzinfo=UTC))  # 09:00 the day after
    [breach] = await wait_for_event(system, "foi.notify.*.deadline-breached", "deadline-breached")
    assert breach.aggregate_id == late["case_id"]
    await system.restart("notify")  # a restart does not fire it again
    await system.settle()
    clock.set(datetime(2026, 4, 1, 1, 0, tzinfo=UTC))
    await system.settle()
    await dispatch_once(system.runtime("notify"), clock)
    await system.settle()
    breaches = await events_named(system, "deadline-breached")
    assert [b.aggregate_id for b in breaches] == [late["case_id"]]  # once, and never the answered case
