"""The complete review workflow through real NATS and PostgreSQL: intake, review, publishing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from gongkai_review import queries
from gongkai_shared.clock import FakeClock
from tests.flow import (
    DISCLOSE,
    apply,
    command,
    document_metadata,
    events_named,
    publish_on_request,
    publishing_command,
    register_document,
    sign_document,
    wait_for_count,
    wait_for_event,
)
from tests.harness import System
from tests.servers import NatsServer

REASON = "名单公开后评标委员可能受到干扰，危及评标公正"
THIRD_PARTY = {"party_kind": "third_party", "party": "某科技有限公司", "matter": "涉及其投标文件"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Monday, 10:00 in Beijing


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str, clock: FakeClock):
    s = await System(nats_server, database_url, clock=clock).start("intake", "review", "publishing")
    yield s
    await s.stop()


async def case_view(system: System, case_id: str) -> dict:
    await system.settle()
    r = await system.clients["review"].get(f"/api/v1/cases/{case_id}", headers=System.token("auditor"))
    assert r.status_code == 200, r.text
    return r.json()


async def tracked(system: System, received: dict, min_seq: int | None = None) -> dict:
    await system.settle()
    r = await system.clients["intake"].get(f"/api/v1/applications/{received['tracking_code']}")
    return r.json()


async def sign_and_answer(system: System, case_id: str, draft: dict) -> dict:
    await command(system, case_id, "confidentiality-review", {"passed": True, "notes": "无涉密"}, "reviewer")
    await command(system, case_id, "draft", draft, "reviewer", "甲")
    await command(system, case_id, "sign-off", {}, "approver", "乙")
    return await command(system, case_id, "answer", {}, "registrar")


async def test_clarification_then_answer_the_applicant_sees_each_notice(
    system: System, clock: FakeClock
) -> None:
    received = await apply(system)
    case_id = received["case_id"]
    await command(system, case_id, "register", {}, "registrar")
    await command(system, case_id, "clarification", {"items": ["请提供文件的文号", "请说明年份"]}, "reviewer")
    view = await tracked(system, received)
    assert view["status"] == "clarification_requested"
    [notice] = [h["detail"] for h in view["history"] if h["event"] == "clarification-requested"]
    assert notice["items"] == ["请提供文件的文号", "请说明年份"] and "补正" in notice["letter"]["title"]

    clock.set(datetime(2026, 3, 9, 2, 0, tzinfo=UTC))
    corrected = {
        "received_on": "2026-03-09",
        "summary": "已补正",
        "corrected_request": "2025年本市小学招生计划",
    }
    await command(system, case_id, "clarification/received", corrected, "registrar")
    case = await case_view(system, case_id)
    assert case["state"]["received_on"] == "2026-03-09" and case["status"] == "registered"
    # Art. 30: the period runs from the correction; the application's own receipt date stays
    # (本年新收 counts by it), in its own column of each projection
    assert case["state"]["first_received_on"] == "2026-03-02"
    assert (case["original_received_on"], case["corrected_on"]) == ("2026-03-02", "2026-03-09")
    view = await tracked(system, received)
    assert view["received_on"] == "2026-03-02" and view["corrected_on"] == "2026-03-09"

    await sign_and_answer(system, case_id, DISCLOSE)
    view = await tracked(system, received)
    assert view["status"] == "answered" and view["outcome"] == "disclose"
    [answered] = [h for h in view["history"] if h["event"] == "answer-sent"]
    letter = answered["detail"]["letter"]["body"]
    assert (
        "予以公开" in letter
        and "二〇二六年三月二日收到" in letter
        and "于二〇二六年三月九日提交了补正后的申请" in letter
    )
    assert "“2025年本市小学招生计划”" in letter
    assert await events_named(system, "published") == []  # Art. 44: only when the office decides


async def test_a_december_application_corrected_in_january_is_new_in_december(
    system: System, clock: FakeClock
) -> None:
    """Table 三 row 一 (本年新收) counts by the application's own receipt date (Art. 30: a
    correction restarts the answer period, not the receipt): received 2026-12-28, corrected
    2027-01-05, it is one of 2026's new applications and none of 2027's."""
    clock.set(datetime(2026, 12, 28, 2, 0, tzinfo=UTC))
    received = await apply(system)
    case_id = received["case_id"]
    await command(system, case_id, "register", {}, "registrar")
    await command(system, case_id, "clarification", {"items": ["请提供文号"]}, "reviewer")
    clock.set(datetime(2027, 1, 5, 2, 0, tzinfo=UTC))
    corrected = {"received_on": "2027-01-05", "summary": "已补正"}
    await command(system, case_id, "clarification/received", corrected, "registrar")
    await system.settle()
    pool = system.apps["review"].state.runtime.pool
    assert sum((await queries.received_in_year(pool, 2026)).values()) == 1
    assert await queries.received_in_year(pool, 2027) == {}
    view = await tracked(system, received)
    assert (view["received_on"], view["corrected_on"]) == ("2026-12-28", "2027-01-05")


@pytest.mark.parametrize(
    ("profile", "deemed", "full_disclosure"),
    [
        ("national-2019", "silent", 201),
        ("local-2008", "silent", 201),  # Art. 32: a local measure cannot make silence a refusal
    ],
)
async def test_silent_third_party_under_each_profile(
    system: System, clock: FakeClock, profile: str, deemed: str, full_disclosure: int
) -> None:
    """Art. 32: a silent third party leaves the decision to the agency, under every profile."""
    received = await apply(system)
    case_id = received["case_id"]
    await command(system, case_id, "register", {"profile": profile}, "registrar")
    await command(system, case_id, "consultations", THIRD_PARTY, "reviewer")
    case = await case_view(system, case_id)
    assert case["status"] == "consulting" and case["rule_profile"]["name"] == profile
    [cid] = case["state"]["consultations"]
    letter = case["letters"][-1]
    assert letter["recipient"] == "某科技有限公司" and "15个工作日" in letter["body"]

    early = {"consultation_id": cid, "reply": "silent"}
    await command(system, case_id, "consultations/reply", early, "reviewer", expect=409)
    # Art. 32: 15 working days from receipt of the letter: by post, presumed received 03-05 (the
    # profile's 3 days), so the period runs 03-06..03-26 and silence is recorded from 03-27
    clock.set(datetime(2026, 3, 26, 2, 0, tzinfo=UTC))
    await command(system, case_id, "consultations/reply", early, "reviewer", expect=409)
    clock.set(datetime(2026, 3, 27, 2, 0, tzinfo=UTC))
    await command(system, case_id, "consultations/reply", early, "reviewer")
    case = await case_view(system, case_id)
    assert case["state"]["consultations"][cid]["effective"] == deemed

    await command(system, case_id, "confidentiality-review", {"passed": True, "notes": "无涉密"}, "reviewer")
    await command(system, case_id, "draft", DISCLOSE, "reviewer", "甲", expect=full_disclosure)
    if full_disclosure == 409:  # a deemed refusal: withhold the third party's part
        partial = {
            "outcome": "partial",
            "disclosed_content": "招生计划总表",
            "withheld_parts": [
                {"part": "某科技有限公司投标报价", "reason": "third_party_rights", "explanation": "商业秘密"}
            ],
        }
        await command(system, case_id, "draft", partial, "reviewer", "甲")


async def test_extension_by_the_office_head_within_the_profile_limit(system: System) -> None:
    received = await apply(system)
    case_id = received["case_id"]
    await command(system, case_id, "register", {}, "registrar")
    body = {"working_days": 20, "reason": "需要多个部门协调"}
    await command(system, case_id, "extension", body, "reviewer", expect=403)  # not the office head
    await command(system, case_id, "extension", {**body, "working_days": 21}, "approver", expect=409)
    await command(system, case_id, "extension", body, "approver")
    await command(system, case_id, "extension", body, "approver", expect=409)  # only once
    view = await tracked(system, received)
    [extended] = [h for h in view["history"] if h["event"] == "extension-approved"]
    assert "延长20个工作日" in extended["detail"]["letter"]["body"]


async def test_a_partially_disclosed_document_is_never_published_nor_disclosed_whole_later(
    system: System,
) -> None:
    """Art. 37, Art. 44, seed Art. 25: a partial disclosure registers the withheld part of the
    document; publishing refuses an Art. 44 decision to publish that document (it would release
    the part), naming the refusal, and a later case cannot disclose it whole, however worded."""
    plan = await register_document(system, "2025年招生划片方案")
    first = await apply(system)
    withheld = "某小学学生家庭住址名单"
    part = {"part": withheld, "reason": "third_party_rights", "explanation": "学生个人信息"}
    partial = {
        "outcome": "partial",
        "disclosed_content": "2025年招生划片范围",
        "withheld_parts": [part],
        "documents": [plan],
        "withheld_documents": [{"document_id": plan, **part}],
    }
    await command(system, first["case_id"], "register", {}, "registrar")
    await sign_and_answer(system, first["case_id"], partial)
    await system.settle()
    refused = await publish_on_request(system, first["case_id"], [plan], expect=409)
    assert withheld in refused["message"] and first["case_id"] in refused["message"]

    # a later case tries to disclose the whole document: refused at the draft, in any wording
    second = await apply(system, description="学生家庭住址名单")
    await command(system, second["case_id"], "register", {}, "registrar")
    await command(
        system, second["case_id"], "confidentiality-review", {"passed": True, "notes": "-"}, "reviewer"
    )
    leak = {**DISCLOSE, "disclosed_content": f"附件：{withheld}（全文）", "documents": [plan]}
    rejected = await command(system, second["case_id"], "draft", leak, "reviewer", "甲", expect=409)
    assert withheld in rejected["message"] and "不予公开" in rejected["message"]
    await system.settle()
    assert await events_named(system, "published") == []
    catalog = (await system.clients["publishing"].get("/api/v1/catalog")).json()
    assert catalog["total"] == 0


async def test_withheld_information_is_never_published_later(system: System) -> None:
    """Seed Art. 25, Art. 14: a document refused in one case is not disclosed by a later case
    (the draft is refused, naming the refusal) nor published proactively (签发 is refused)."""
    ledger = await register_document(system, "2026年市重点工程招标评标委员会名单")
    refused = await apply(system, description="2026年市重点工程招标评标委员会名单")
    await command(system, refused["case_id"], "register", {}, "registrar")
    secret = {"document_id": ledger, "reason": "security_stability", "explanation": REASON}
    await sign_and_answer(
        system,
        refused["case_id"],
        {"outcome": "withhold", "reasons": ["security_stability"], "reason_text": REASON,
         "withheld_documents": [secret]},
    )  # fmt: skip
    again = await apply(system, description="评标专家都有谁")
    await command(system, again["case_id"], "register", {}, "registrar")
    await command(
        system, again["case_id"], "confidentiality-review", {"passed": True, "notes": "-"}, "reviewer"
    )
    disclose = {**DISCLOSE, "documents": [ledger]}
    rejected = await command(system, again["case_id"], "draft", disclose, "reviewer", "甲", expect=409)
    assert refused["case_id"] in rejected["message"]
    await system.settle()
    base = f"/api/v1/information/documents/{ledger}/amendment"
    amended = {"metadata": document_metadata("2026年市重点工程招标评标委员会名单", attribute="proactive"),
               "reason": "拟主动公开", "changed_on": "2026-03-02"}  # fmt: skip
    await publishing_command(system, base, amended, "handler", "丙")
    signed = await sign_document(system, ledger, version=2, expect=409)
    assert refused["case_id"] in signed["message"]
    assert await events_named(system, "published") == []


async def test_not_held_referral_names_the_responsible_agency(system: System) -> None:
    """Art. 36(5), Art. 10: information this agency does not hold and another must disclose: the
    letter names the responsible agency and how to reach it; row 三.（四）.1."""
    received = await apply(system)
    await command(system, received["case_id"], "register", {}, "registrar")
    draft = {
        "outcome": "not_held",
        "reasons": ["not_this_agency"],
        "responsible_agency": "市自然资源和规划局",
    }
    await command(
        system, received["case_id"], "confidentiality-review", {"passed": True, "notes": "无"}, "reviewer"
    )
    await command(system, received["case_id"], "draft", draft, "reviewer", "甲", expect=422)  # no contact
    draft["responsible_agency_contact"] = "电话 010-66668888，某市政务中心三楼"
    await command(system, received["case_id"], "draft", draft, "reviewer", "甲")
    await command(system, received["case_id"], "sign-off", {}, "approver", "乙")
    await command(system, received["case_id"], "answer", {}, "registrar")
    view = await tracked(system, received)
    assert view["status"] == "answered" and view["outcome"] == "not_held"
    [answered] = [h for h in view["history"] if h["event"] == "answer-sent"]
    assert answered["detail"]["outcome_code"] == "not_held.not_this_agency"
    letter = answered["detail"]["letter"]["body"]
    assert "由市自然资源和规划局负责公开" in letter and "010-66668888" in letter
    assert "第三十六条第（五）项" in letter and "第（四）项" not in letter
    [sent] = await events_named(system, "answer-sent")
    assert sent.envelope.data["report_row"] == "三.（四）.1"


async def test_an_art36_7_referral_never_enters_the_refusal_register(system: System) -> None:
    """Art. 36(7): 不动产登记 records are obtained by their own procedure: the answer refers the
    applicant there; it is no refusal, so publishing registers nothing and a later disclosure of
    the same information is published."""
    asked = "某小区2025年不动产登记簿"
    referred = await apply(system, description=asked)
    await command(system, referred["case_id"], "register", {}, "registrar")
    referral = {
        "outcome": "withhold",
        "reasons": ["administrative_inquiry"],
        "responsible_agency": "市不动产登记中心",
    }
    await sign_and_answer(system, referred["case_id"], referral)
    [recorded] = await events_named(system, "decision-recorded")
    assert recorded.envelope.data.get("description") is None
    await system.settle()
    publishing_db = system.apps["publishing"].state.runtime.pool
    assert await publishing_db.fetchval("SELECT count(*) FROM refusal_register") == 0
    [sent] = await events_named(system, "answer-sent")
    letter = sent.envelope.data["letter"]["body"]
    assert "依照有关法律、行政法规的规定办理" in letter and "应当先申请行政复议" not in letter

    assert await publishing_db.fetchval("SELECT count(*) FROM refusal_entries") == 0

    record = await register_document(system, asked)
    later = await apply(system, description=asked)
    await command(system, later["case_id"], "register", {}, "registrar")
    await sign_and_answer(
        system,
        later["case_id"],
        {"outcome": "disclose", "disclosed_content": f"{asked}摘要", "documents": [record]},
    )
    await publish_on_request(system, later["case_id"], [record])  # Art. 44, after the answer
    await wait_for_count(system, "published", 1)
    assert await events_named(system, "publication-refused") == []


async def test_a_repeat_application_is_proposed_to_the_reviewer(system: System) -> None:
    first = await apply(system)
    await command(system, first["case_id"], "register", {}, "registrar")
    await sign_and_answer(system, first["case_id"], DISCLOSE)
    repeat = await apply(system)  # same applicant, same information
    other = await apply(
        system, applicant={"name": "王五", "type": "natural_person", "contact": {"email": "w@example.cn"}}
    )
    await command(system, repeat["case_id"], "register", {}, "registrar")
    await command(system, other["case_id"], "register", {}, "registrar")
    assert (await case_view(system, repeat["case_id"]))["state"]["possible_repeat_of"] == [first["case_id"]]
    assert (await case_view(system, other["case_id"]))["state"]["possible_repeat_of"] == []


async def test_sign_off_rules_and_state_errors(system: System) -> None:
    received = await apply(system)
    case_id = received["case_id"]
    await command(system, case_id, "sign-off", {}, "approver", expect=409)  # nothing drafted
    await command(system, case_id, "register", {}, "registrar")
    await command(
        system, case_id, "draft", {"outcome": "withhold", "reasons": ["nope"]}, "reviewer", expect=422
    )
    await command(system, case_id, "confidentiality-review", {"passed": True, "notes": "-"}, "reviewer")
    await command(system, case_id, "draft", DISCLOSE, "approver", "乙", expect=403)  # approvers don't draft
    await command(system, case_id, "draft", DISCLOSE, "reviewer", "乙")
    r = await system.clients["review"].post(
        f"/api/v1/cases/{case_id}/sign-off", json={}, headers=System.token("approver", "乙")
    )
    assert r.status_code == 409 and "拟稿人" in r.json()["message"]
    case = await case_view(system, case_id)
    assert case["status"] == "drafted" and set(case["pending_steps"]) == {
        "reject_draft",
        "sign_off",
        "extend",
        "withdraw",
        "arrange_provision",
    }
    assert [t["event"] for t in case["trail"]][:2] == ["request-received", "case-registered"]


async def test_the_applicant_withdraws_with_the_tracking_code(system: System) -> None:
    received = await apply(system)
    await command(system, received["case_id"], "register", {}, "registrar")
    url = f"/api/v1/applications/{received['tracking_code']}/withdrawal"
    r = await system.clients["intake"].post(url, json={"reason": "已通过其他途径获得"})
    assert r.status_code == 202, r.text
    [withdrawn] = await wait_for_event(system, f"foi.review.{received['case_id']}.>", "application-withdrawn")
    assert withdrawn.envelope.causationid == r.json()["event_id"]
    assert withdrawn.envelope.actorrole == "applicant"
    # table 三: a withdrawal ends in 三.（六）.3 其他, so that 一 + 二 = 三（总计） + 四
    assert withdrawn.envelope.data["outcome_code"] == "other.withdrawn"
    assert withdrawn.envelope.data["report_row"] == "三.（六）.3"
    view = await tracked(system, received)
    assert view["status"] == "withdrawn"
    assert (await case_view(system, received["case_id"]))["outcome"] == "other.withdrawn"
    again = await system.clients["intake"].post(url, json={"reason": "再次撤回"})
    assert again.status_code == 409
    assert (await case_view(system, received["case_id"]))["status"] == "withdrawn"


async def test_clarification_restarts_the_answer_clock_and_a_consultation_pauses_it(
    nats_server: NatsServer, database_url: str, clock: FakeClock
) -> None:
    """Through the review API, with notify running: the answer deadline stops while the applicant
    corrects, runs 20 working days anew from the corrected application, and a consultation's days
    are not counted."""
    system = await System(nats_server, database_url, clock=clock, notify={"tick_seconds": 0.1}).start()
    try:
        received = await apply(system)  # 2026-03-02: due 2026-03-30
        case_id = received["case_id"]

        async def answer_due() -> str | None:
            await system.settle()
            r = await system.clients["notify"].get(
                "/api/v1/deadlines", params={"case_id": case_id}, headers=System.token("auditor")
            )
            [answer] = [d for d in r.json()["deadlines"] if d["kind"] == "answer"]
            return answer["due_on"]

        async def due_becomes(day: str, timeout: float = 20.0) -> None:
            """Wait until notify's answer deadline is ``day`` (fails with the last value seen)."""
            until = asyncio.get_running_loop().time() + timeout
            while (seen := await answer_due()) != day:
                assert asyncio.get_running_loop().time() < until, f"answer due {seen}, expected {day}"
                await asyncio.sleep(0.05)

        [first] = await wait_for_event(system, f"foi.notify.{case_id}.>", "deadline-set")
        assert first.envelope.data["due_on"] == "2026-03-30"
        await command(system, case_id, "register", {}, "registrar")
        await command(system, case_id, "clarification", {"items": ["请提供文号"]}, "reviewer")
        clock.set(datetime(2026, 3, 9, 2, 0, tzinfo=UTC))
        corrected = {"received_on": "2026-03-09", "summary": "已补正"}
        await command(system, case_id, "clarification/received", corrected, "registrar")
        await wait_for_count(system, "deadline-set", 2)
        assert await answer_due() == "2026-04-07"  # 20 working days from 03-09 (清明 04-06 off)

        await command(system, case_id, "consultations", THIRD_PARTY, "reviewer")
        # while the consultation is open the answer shows the day it falls due if the party stays
        # silent (Art. 33 ¶2): the posted letter is presumed received 03-12, its 15 working days end
        # 04-02; paused 03-09..04-02, then 04-03 (1), 04-07..04-30 (19), 05-06 (20; 05-01..05 off)
        await due_becomes("2026-05-06")
        clock.set(datetime(2026, 3, 12, 2, 0, tzinfo=UTC))
        [cid] = (await case_view(system, case_id))["state"]["consultations"]
        reply = {"consultation_id": cid, "reply": "consent"}
        await command(system, case_id, "consultations/reply", reply, "reviewer")
        await due_becomes("2026-04-10")  # 03-10, 03-11, 03-12 (paused) not counted: three working days later
    finally:
        await system.stop()


@pytest.mark.parametrize("case_id", ["a b", "case.1", "*", "case>"])
async def test_a_command_on_an_id_that_cannot_name_a_case_is_404(system: System, case_id: str) -> None:
    """A case id is one token of its events' subjects: white space, a dot or a wildcard names no
    case (found by the schema fuzzing: a space made the event store's filter a 500)."""
    r = await system.clients["review"].post(
        f"/api/v1/cases/{case_id}/consultations", json=THIRD_PARTY, headers=System.token("reviewer")
    )
    assert r.status_code == 404, r.text


async def test_a_silent_third_party_consulted_by_email_and_a_late_extension(
    nats_server: NatsServer, database_url: str, clock: FakeClock
) -> None:
    """Art. 32, 33 (issue 9): received Monday 2026-03-02; a third party consulted by e-mail on
    Monday 03-09, which notify delivers that day (its delivery record is the day of receipt, in
    review and in notify alike). The party's 15 working days: 03-10..03-13 (4), 03-16..03-20 (9),
    03-23..03-27 (14), 03-30 (15). The answer's 20 working days: 03-03..03-06 (4); 03-09..03-30
    paused; 03-31 (5), 04-01..04-03 (8), 04-04..04-06 清明, 04-07..04-10 (12), 04-13..04-17 (17),
    04-20..04-22 (20): due 2026-04-22 while nothing is recorded, and still after a silence
    recorded late on 04-15. Silence on 03-30 is refused (the party may still reply). On 04-23 the
    period has passed: an extension is refused."""
    from tests.integration.test_notify_clock import Mailbox

    box = Mailbox()
    box.controller.start()
    notify = {"tick_seconds": 0.1, "smtp_host": "127.0.0.1", "smtp_port": box.controller.port}
    system = await System(nats_server, database_url, clock=clock, notify=notify).start()
    try:
        case_id = (await apply(system))["case_id"]

        async def answer_due() -> str | None:
            await system.settle()
            r = await system.clients["notify"].get(
                "/api/v1/deadlines", params={"case_id": case_id}, headers=System.token("auditor")
            )
            [answer] = [d for d in r.json()["deadlines"] if d["kind"] == "answer"]
            return answer["due_on"]

        async def until(check: Any, what: str, timeout: float = 20.0) -> Any:
            end = asyncio.get_running_loop().time() + timeout
            while not (found := await check()):
                assert asyncio.get_running_loop().time() < end, f"timed out waiting for {what}"
                await asyncio.sleep(0.05)
            return found

        await command(system, case_id, "register", {}, "registrar")
        clock.set(datetime(2026, 3, 9, 2, 0, tzinfo=UTC))  # 10:00 in Beijing
        party = {"party_kind": "third_party", "party": "legal@bidder.example.cn", "matter": "涉及其投标文件"}
        await command(system, case_id, "consultations", party, "reviewer")
        [cid] = (await case_view(system, case_id))["state"]["consultations"]

        async def delivered() -> str | None:
            await system.settle()
            return (await case_view(system, case_id))["state"]["consultations"][cid]["delivered_on"]

        assert await until(delivered, "the letter's delivery") == "2026-03-09"
        assert box.to("legal@bidder.example.cn")
        await until(lambda: _is(answer_due, "2026-04-22"), "the answer due if silent")

        silent = {"consultation_id": cid, "reply": "silent"}
        clock.set(datetime(2026, 3, 30, 2, 0, tzinfo=UTC))
        await command(system, case_id, "consultations/reply", silent, "registrar", expect=409)
        clock.set(datetime(2026, 4, 15, 2, 0, tzinfo=UTC))
        await command(system, case_id, "consultations/reply", silent, "registrar")
        await system.settle()
        assert await answer_due() == "2026-04-22"
        assert (await case_view(system, case_id))["state"]["answer_due"] == "2026-04-22"

        clock.set(datetime(2026, 4, 23, 2, 0, tzinfo=UTC))
        extend = {"working_days": 10, "reason": "需要协调多个部门"}
        r = await command(system, case_id, "extension", extend, "approver", expect=409)
        assert "2026-04-22" in r["message"]
    finally:
        await system.stop()
        box.controller.stop()


async def _is(f: Any, value: Any) -> bool:
    return await f() == value
