"""The refusal register through review's HTTP API, on real NATS and PostgreSQL (issue 10).

Documents are registered as publishing registers them: its signed ``document-registered``
events, appended here with publishing's key (review only ever learns documents from the log).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from gongkai_shared.clock import FakeClock
from gongkai_shared.envelope import Actor
from gongkai_shared.events import DocumentMetadata, DocumentRegistered, make_event
from gongkai_shared.information import REVIEW_EVERY_DAYS
from tests.flow import apply, command
from tests.harness import System
from tests.servers import NatsServer

LEDGER = {"document_id": "doc-ledger", "title": "本局涉密档案管理台账", "doc_number": "某教〔2025〕3号"}
PLAN = {"document_id": "doc-plan", "title": "2026年学校招生计划", "doc_number": None}
BODY = "某市教育局"
PART = "附件二：招生名额分配明细"
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday, 10:00 in Beijing


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str, clock: FakeClock):
    s = await System(nats_server, database_url, clock=clock).start("intake", "review")
    store = await nats_server.writer("publishing")
    try:
        for doc in (LEDGER, PLAN):
            metadata = DocumentMetadata(
                title=doc["title"],
                doc_number=doc["doc_number"],
                issuing_body=BODY,
                formed_on=date(2026, 1, 5),
                attribute="on_request",
                category="social_policy",
                summary="本局文件",
            )
            body = DocumentRegistered(document_id=doc["document_id"], department="办公室", metadata=metadata)
            event = make_event(
                body, aggregate_id=doc["document_id"], actor=Actor(id="handler", role="handler")
            )
            await store.append(event, "publishing", 0)
    finally:
        await store.nc.close()
    await s.settle()
    yield s
    await s.stop()


async def reviewed(system: System, wording: str, found: list[str] | None = None) -> str:
    """An application in ``wording``, registered, searched (the documents found) and reviewed."""
    case_id = (await apply(system, description=wording))["case_id"]
    await command(system, case_id, "register", {}, "registrar")
    await command(system, case_id, "assign", {"departments": ["办公室"]}, "registrar")
    feedback = {
        "department": "办公室",
        "holds_information": True,
        "summary": "已检索",
        "documents": found or [],
    }
    await command(system, case_id, "feedback", feedback, "reviewer")
    await command(system, case_id, "confidentiality-review", {"passed": True, "notes": "无涉密"}, "reviewer")
    return case_id


def disclose(*ids: str) -> dict:
    return {"outcome": "disclose", "disclosed_content": "全文见附件", "documents": list(ids)}


def partial(part: str) -> dict:
    withheld = {"part": part, "reason": "third_party_rights", "explanation": "涉及学校商业秘密"}
    return {
        "outcome": "partial",
        "disclosed_content": "招生计划正文",
        "withheld_parts": [withheld],
        "documents": ["doc-plan"],
        "withheld_documents": [{"document_id": "doc-plan", **withheld}],
    }


REFUSE_LEDGER = {
    "outcome": "withhold",
    "reasons": ["state_secret"],
    "reason_text": "该台账已依法定密",
    "withheld_documents": [{"document_id": "doc-ledger", "reason": "state_secret", "explanation": "已定密"}],
}


async def refusals(system: System, query: str = "") -> list[dict]:
    await system.settle()
    r = await system.clients["review"].get(f"/api/v1/refusals{query}", headers=System.token("auditor"))
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def case_view(system: System, case_id: str) -> dict:
    await system.settle()
    r = await system.clients["review"].get(f"/api/v1/cases/{case_id}", headers=System.token("auditor"))
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_refused_document_never_goes_out_whatever_the_wording_until_lifted_art25_art18(
    system: System, clock: FakeClock
) -> None:
    # case B, worded nothing like the document's title, signs a disclosure of the ledger first
    case_b = await reviewed(system, "请提供贵单位去年安全检查的全部记录", ["doc-ledger"])
    await command(system, case_b, "draft", disclose("doc-ledger"), "reviewer", "甲")
    await command(system, case_b, "sign-off", {}, "approver", "乙")
    assert (await case_view(system, case_b))["refusal_warnings"] == []

    # case A refuses the ledger (whatever its applicant wrote): the register holds the document
    case_a = await reviewed(system, "请公开本局涉密档案管理台账全文", ["doc-ledger"])
    await command(system, case_a, "draft", REFUSE_LEDGER, "reviewer", "甲")
    await command(system, case_a, "sign-off", {}, "approver", "乙")
    [entry] = await refusals(system, "?status=standing")
    assert (entry["document_id"], entry["case_id"], entry["part"]) == ("doc-ledger", case_a, None)
    assert entry["registered_on"] == "2026-03-02" and entry["review_due_on"] == "2027-03-02"

    # B's answer letter would release it: refused, naming the entry; nothing changes
    r = await system.clients["review"].post(
        f"/api/v1/cases/{case_b}/answer", json={}, headers=System.token("registrar")
    )
    assert r.status_code == 409 and entry["entry_id"] in r.json()["message"], r.text
    assert "《本局涉密档案管理台账》（某教〔2025〕3号）" in r.json()["message"]
    assert (await case_view(system, case_b))["status"] == "signed"

    # case C, worded exactly as A, is warned before drafting and cannot draft the disclosure
    case_c = await reviewed(system, "请公开本局涉密档案管理台账全文", ["doc-ledger"])
    [warning] = (await case_view(system, case_c))["refusal_warnings"]
    assert warning["entry_id"] == entry["entry_id"] and entry["entry_id"] in warning["message"]
    await command(system, case_c, "draft", disclose("doc-ledger"), "reviewer", "甲", expect=409)
    found = await system.clients["review"].get(
        f"/api/v1/cases/{case_c}/information", params={"q": "台账"}, headers=System.token("reviewer")
    )
    [doc] = found.json()["items"]
    assert doc["document_id"] == "doc-ledger" and doc["refusals"][0]["entry_id"] == entry["entry_id"]

    # Art. 18: a year on, the entry is due for review; the reviewer keeps it with a next date
    assert await refusals(system, "?due=true") == []
    clock.set(START + timedelta(days=REVIEW_EVERY_DAYS))
    [due] = await refusals(system, "?due=true")
    assert due["entry_id"] == entry["entry_id"] and due["due_for_review"]
    keep = {"reason": "仍属国家秘密，保密期限未满", "next_review_on": "2028-03-01"}
    path = f"/api/v1/refusals/{entry['entry_id']}"
    r = await system.clients["review"].post(f"{path}/review", json=keep, headers=System.token("reviewer"))
    assert r.status_code == 201 and r.json()["changed"], r.text
    again = await system.clients["review"].post(f"{path}/review", json=keep, headers=System.token("reviewer"))
    assert again.status_code == 200 and not again.json()["changed"]  # the same review: nothing appended
    assert await refusals(system, "?due=true") == []
    [kept] = await refusals(system)
    assert kept["review_due_on"] == "2028-03-01" and kept["standing"]

    # lifting is the approver's, with a reason (Art. 18); afterwards B's answer goes out
    r = await system.clients["review"].post(
        f"{path}/lift", json={"reason": "已解密"}, headers=System.token("reviewer")
    )
    assert r.status_code == 403
    r = await system.clients["review"].post(f"{path}/lift", json={}, headers=System.token("approver"))
    assert r.status_code == 422 and "reason" in r.text
    lift = {"reason": "该台账已于2027年2月解密"}
    r = await system.clients["review"].post(f"{path}/lift", json=lift, headers=System.token("approver"))
    assert r.status_code == 201, r.text
    r = await system.clients["review"].post(f"{path}/lift", json=lift, headers=System.token("approver"))
    assert r.status_code == 200 and not r.json()["changed"]
    await system.settle()
    sent = await command(system, case_b, "answer", {}, "registrar")
    assert sent["event"] == "answer-sent"
    [answered] = [t for t in (await case_view(system, case_b))["trail"] if t["event"] == "answer-sent"]
    assert [d["document_id"] for d in answered["data"]["disclosed_documents"]] == ["doc-ledger"]
    assert "《本局涉密档案管理台账》（某教〔2025〕3号）" in answered["data"]["letter"]["body"]

    r = await system.clients["review"].get(path, headers=System.token("auditor"))
    history = r.json()
    assert [h["event"] for h in history["history"]] == [
        "decision-recorded",
        "refusal-reviewed",
        "refusal-lifted",
    ]
    assert history["lifted_reason"] == lift["reason"] and not history["standing"]
    assert await refusals(system, "?status=standing") == []


async def test_art37_a_withheld_part_blocks_a_full_disclosure_but_not_one_withholding_it(
    system: System,
) -> None:
    case_e = await reviewed(system, "2026年招生计划", ["doc-plan"])
    await command(system, case_e, "draft", partial(PART), "reviewer", "甲")
    await command(system, case_e, "sign-off", {}, "approver", "乙")
    await command(system, case_e, "answer", {}, "registrar")
    [entry] = await refusals(system)
    assert (entry["document_id"], entry["part"]) == ("doc-plan", PART)

    case_f = await reviewed(system, "招生名额怎么分的", ["doc-plan"])
    r = await system.clients["review"].post(
        f"/api/v1/cases/{case_f}/draft", json=disclose("doc-plan"), headers=System.token("reviewer", "甲")
    )
    assert r.status_code == 409 and f"“{PART}”部分已决定不予公开" in r.json()["message"]
    await command(system, case_f, "draft", partial(PART), "reviewer", "甲")
    await command(system, case_f, "sign-off", {}, "approver", "乙")
    await command(system, case_f, "answer", {}, "registrar")


async def test_a_decision_names_only_registered_documents(system: System) -> None:
    case_id = await reviewed(system, "招生计划")
    body = {
        **REFUSE_LEDGER,
        "withheld_documents": [{**REFUSE_LEDGER["withheld_documents"][0], "document_id": "x"}],
    }
    r = await system.clients["review"].post(
        f"/api/v1/cases/{case_id}/draft", json=body, headers=System.token("reviewer", "甲")
    )
    assert r.status_code == 422 and "withheld_documents" in r.text and "未登记" in r.text
    # the office registers its documents: a disclosure names what it discloses
    r = await system.clients["review"].post(
        f"/api/v1/cases/{case_id}/draft", json=disclose(), headers=System.token("reviewer", "甲")
    )
    assert r.status_code == 409 and "documents" in r.json()["message"]
