"""A fee case end to end (国办函〔2020〕109号), through real NATS and PostgreSQL: intake, review and
notify. Twelve applications by one applicant in March 2026: the 11th and 12th are charged ¥100
each; the 11th is paid and goes on with its answer deadline moved by the unpaid interval; the
12th is not paid and ends in row 三.（六）.2."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from gongkai_shared.clock import FakeClock
from tests.flow import apply, command
from tests.harness import System
from tests.servers import NatsServer

APPLICANT = {
    "name": "王五",
    "type": "natural_person",
    "id_number": "110105199001010011",
    "contact": {"email": "wangwu@example.cn"},
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Monday 2026-03-02, 10:00 in Beijing


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str, clock: FakeClock):
    s = await System(nats_server, database_url, clock=clock, notify={"tick_seconds": 0.1}).start(
        "intake", "review", "notify"
    )
    yield s
    await s.stop()


async def answer_deadline(system: System, case_id: str, min_seq: int) -> dict:
    r = await system.clients["notify"].get(
        "/api/v1/deadlines",
        params={"case_id": case_id, "min_seq": min_seq},
        headers=System.token("reviewer"),
    )
    assert r.status_code == 200, r.text
    return {d["kind"]: d for d in r.json()["deadlines"]}


async def recorded_due(system: System, case_id: str, due_on: str, timeout: float = 15.0) -> None:
    """Wait until notify's dispatcher has recorded ``deadline-set`` for the answer with ``due_on``."""
    store = system.runtime("notify").store
    limit = asyncio.get_running_loop().time() + timeout
    while True:
        found = [
            e.envelope.data
            async for e in store.read(1, f"foi.notify.{case_id}.deadline-set")
            if e.envelope.data.get("kind") == "answer"
        ]
        if found and found[-1]["due_on"] == due_on:
            return
        assert asyncio.get_running_loop().time() < limit, f"answer due {found[-1:]} != {due_on}"
        await asyncio.sleep(0.05)


async def test_109hao_twelve_applications_in_a_month_the_11th_paid_the_12th_abandoned(
    system: System, clock: FakeClock
) -> None:
    cases = []
    for i in range(12):
        received = await apply(system, applicant=APPLICANT, description=f"2025年第{i + 1}号文件")
        cases.append(received["case_id"])
    for case_id in cases:
        await command(system, case_id, "register", {}, "registrar")
    # an application by someone else does not count for 王五
    other = await apply(system, description="另一个申请人的申请")
    await command(system, other["case_id"], "register", {}, "registrar")

    per_application = {"basis": "per_application"}
    # the 10th of the month is free: no notice
    await command(system, cases[9], "fee", per_application, "reviewer", expect=409)
    await command(system, other["case_id"], "fee", per_application, "reviewer", expect=409)

    # 2026-03-09: notices for the 11th and the 12th, ¥100 each, delivered online that day
    clock.set(datetime(2026, 3, 9, 2, 0, tzinfo=UTC))
    notices = {}
    for case_id in cases[10:]:
        done = await command(system, case_id, "fee", per_application, "reviewer")
        r = await system.clients["review"].get(
            f"/api/v1/cases/{case_id}", params={"min_seq": done["sequence"]}, headers=System.token("auditor")
        )
        [notice] = [t["data"] for t in r.json()["trail"] if t["event"] == "fee-notice-issued"]
        notices[case_id] = notice
        assert r.json()["status"] == "fee_due"
    eleventh, twelfth = notices[cases[10]], notices[cases[11]]
    assert (eleventh["ordinal"], twelfth["ordinal"]) == (11, 12)
    assert eleventh["amount_yuan"] == twelfth["amount_yuan"] == 100 and eleventh["month"] == "2026-03"
    assert "第11件" in eleventh["letter"]["body"] and "100元" in eleventh["letter"]["body"]

    # notify: the answer is paused, the payment is due 20 working days after delivery (over 清明)
    deadlines = await answer_deadline(system, cases[10], done["sequence"])
    assert deadlines["answer"]["status"] == "paused" and deadlines["answer"]["due_on"] is None
    assert deadlines["fee_payment"]["due_on"] == "2026-04-07"
    await recorded_due(system, cases[0], "2026-03-30")  # an uncharged case keeps its 20 days

    # 2026-03-12: the 11th is paid; 03-09..03-12 are not counted: due 2026-04-03 instead of 03-30
    clock.set(datetime(2026, 3, 12, 2, 0, tzinfo=UTC))
    paid = await command(
        system, cases[10], "fee/paid", {"amount_yuan": 100, "paid_on": "2026-03-12"}, "registrar"
    )
    deadlines = await answer_deadline(system, cases[10], paid["sequence"])
    assert deadlines["answer"]["status"] == "running" and deadlines["answer"]["due_on"] == "2026-04-03"
    assert deadlines["fee_payment"]["status"] == "met"
    await recorded_due(system, cases[10], "2026-04-03")
    await command(system, cases[10], "confidentiality-review", {"passed": True, "notes": "无"}, "reviewer")

    # the 12th is unpaid: not abandoned on the last day, abandoned the day after
    clock.set(datetime(2026, 4, 7, 2, 0, tzinfo=UTC))
    await command(system, cases[11], "fee/unpaid", {}, "registrar", expect=409)
    clock.set(datetime(2026, 4, 8, 2, 0, tzinfo=UTC))
    late = {"amount_yuan": 100, "paid_on": "2026-04-08"}
    await command(system, cases[11], "fee/paid", late, "registrar", expect=409)
    done = await command(system, cases[11], "fee/unpaid", {}, "registrar")
    r = await system.clients["review"].get(
        f"/api/v1/cases/{cases[11]}", params={"min_seq": done["sequence"]}, headers=System.token("auditor")
    )
    case = r.json()
    [abandoned] = [t["data"] for t in case["trail"] if t["event"] == "application-abandoned"]
    assert case["status"] == "abandoned" and case["outcome"] == "other.fee_unpaid"
    assert abandoned["report_row"] == "三.（六）.2"
    deadlines = await answer_deadline(system, cases[11], done["sequence"])
    assert deadlines["answer"]["status"] == "closed"

    # fees collected, for the annual report: the sum of fee-paid amounts in the log
    store = system.runtime("review").store
    collected = [e.envelope.data["amount_yuan"] async for e in store.read(1, "foi.review.*.fee-paid")]
    assert sum(collected) == 100
