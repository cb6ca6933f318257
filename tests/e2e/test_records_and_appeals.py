"""Art. 40 (form of provision), Art. 41 (corrections) and appeals (table 四) through real NATS and
PostgreSQL: intake receives, review decides and answers, staff record what follows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gongkai_shared.clock import FakeClock
from tests.flow import DISCLOSE, answer, apply, command, decide
from tests.harness import System
from tests.servers import NatsServer

REFUSE = {
    "outcome": "withhold",
    "reasons": ["process_information"],
    "reason_text": "该信息为内部讨论记录，尚未形成正式决定",
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Monday, 10:00 in Beijing


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str, clock: FakeClock):
    s = await System(nats_server, database_url, clock=clock).start("intake", "review")
    yield s
    await s.stop()


async def appeals(system: System, **query: object) -> dict:
    await system.settle()
    r = await system.clients["review"].get("/api/v1/appeals", params=query, headers=System.token("auditor"))
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_refused_case_reconsidered_corrected_then_sued_after_reconsideration(
    system: System, clock: FakeClock
) -> None:
    """行政复议法 Art. 23: a refusal goes to reconsideration first; 行政诉讼法 Art. 45: the lawsuit
    after it. The case stays archived; the office's list shows each by year and result."""
    case_id = (await apply(system))["case_id"]
    await answer(system, case_id, REFUSE)
    await command(system, case_id, "archive", {}, "registrar")

    clock.set(datetime(2026, 3, 20, 2, 0, tzinfo=UTC))
    filed = {"kind": "reconsideration", "body": "市人民政府", "filed_on": "2026-03-20"}
    await command(system, case_id, "appeals", filed, "registrar")
    [recon] = (await appeals(system, year=2026))["items"]
    assert (
        recon["result"] == "pending" and recon["result_label"] == "尚未审结" and recon["case_id"] == case_id
    )
    rid = recon["appeal_id"]

    # a lawsuit "after reconsideration" while it is open and within its 60 days: refused
    clock.set(datetime(2026, 5, 11, 2, 0, tzinfo=UTC))
    early = {
        "kind": "lawsuit_after_reconsideration",
        "body": "市中级人民法院",
        "filed_on": "2026-05-11",
        "after": rid,
    }
    await command(system, case_id, "appeals", early, "registrar", expect=409)
    decided = {"appeal_id": rid, "result": "corrected", "decided_on": "2026-05-08", "summary": "责令重新答复"}
    await command(system, case_id, "appeals/result", decided, "reviewer")
    await command(system, case_id, "appeals/result", {**decided, "result": "upheld"}, "reviewer", expect=409)
    await command(system, case_id, "appeals", early, "registrar")

    listed = await appeals(system, year=2026)
    by_kind = {a["kind"]: a for a in listed["items"]}
    assert by_kind["reconsideration"]["result"] == "corrected"
    assert by_kind["reconsideration"]["decided_on"] == "2026-05-08"
    assert by_kind["lawsuit_after_reconsideration"]["result"] == "pending"
    assert by_kind["lawsuit_after_reconsideration"]["after"] == rid
    assert listed["totals"]["reconsideration"] == {
        "upheld": 0,
        "corrected": 1,
        "other": 0,
        "pending": 0,
        "total": 1,
    }
    assert listed["totals"]["lawsuit_after_reconsideration"]["pending"] == 1
    assert [a["kind"] for a in (await appeals(system, year=2026, result="pending"))["items"]] == [
        "lawsuit_after_reconsideration"
    ]
    assert (await appeals(system, year=2025))["items"] == []

    r = await system.clients["review"].get(f"/api/v1/cases/{case_id}", headers=System.token("auditor"))
    assert r.json()["status"] == "archived"  # the workflow is not reopened
    r = await system.clients["review"].get(
        "/api/v1/appeals", params={"year": 2026, "result": "lost"}, headers=System.token("auditor")
    )
    assert r.status_code == 422 and "result" in r.text
    r = await system.clients["review"].get(
        "/api/v1/appeals", params={"year": 2026}, headers=System.token("handler")
    )
    assert r.status_code == 403


async def test_art_40_inspection_appointment_in_the_letter_and_art_41_correction_tracked(
    system: System, clock: FakeClock
) -> None:
    received = await apply(system, form="inspection")
    case_id = received["case_id"]
    await decide(system, case_id, DISCLOSE)
    await command(system, case_id, "answer", {}, "registrar", expect=409)  # no appointment yet
    bad = {"form": "inspection", "inspection_place": "市教育局政务服务大厅"}
    r = await system.clients["review"].post(
        f"/api/v1/cases/{case_id}/provision", json=bad, headers=System.token("registrar")
    )
    assert r.status_code == 422 and "inspection_at" in r.text
    appointment = {**bad, "inspection_at": "2026-03-10T09:30:00+08:00"}
    await command(system, case_id, "provision", appointment, "registrar")
    await command(system, case_id, "answer", {}, "registrar")

    await system.settle()
    view = (await system.clients["intake"].get(f"/api/v1/applications/{received['tracking_code']}")).json()
    [sent] = [h["detail"] for h in view["history"] if h["event"] == "answer-sent"]
    assert "请于二〇二六年三月十日9时30分到市教育局政务服务大厅查阅" in sent["letter"]["body"]

    # Art. 41: the applicant asks to correct a record the answer provided; the agency corrects it
    clock.set(datetime(2026, 3, 12, 2, 0, tzinfo=UTC))
    ask = {
        "record": "划片方案附表中本人住址",
        "inaccuracy": "门牌号应为12号",
        "evidence": "房产证复印件",
        "received_on": "2026-03-12",
    }
    await command(system, case_id, "corrections", ask, "registrar")
    await system.settle()
    r = await system.clients["review"].get(f"/api/v1/cases/{case_id}", headers=System.token("auditor"))
    [cid] = r.json()["state"]["corrections"]
    await command(
        system,
        case_id,
        "corrections/corrected",
        {"correction_id": cid, "correction": "门牌号已更正为12号。"},
        "approver",
    )
    await system.settle()
    view = (await system.clients["intake"].get(f"/api/v1/applications/{received['tracking_code']}")).json()
    [told] = [h["detail"] for h in view["history"] if h["event"] == "record-corrected"]
    assert "第四十一条" in told["letter"]["body"] and "门牌号已更正为12号" in told["letter"]["body"]
    assert view["status"] == "answered"
