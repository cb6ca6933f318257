"""Documents through publishing (issue 10) on real NATS and PostgreSQL: proactive publication
(Art. 19-20, 26) with 保密审查 and sign-off (Art. 17), a policy and its interpretation linked both
ways, amendment and repeal, index numbers from the log (concurrent, kept across a rebuild), Art.
44 publication of on-request disclosures, and the refusal register by document (Art. 18)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest

from gongkai_publishing.projection import CatalogProjection
from gongkai_shared.clock import FakeClock
from gongkai_shared.envelope import Actor, new_id
from gongkai_shared.events import (
    AnswerSent,
    DecisionRecorded,
    EventBody,
    Letter,
    RefusalLifted,
    ReviewApproved,
    make_event,
)
from gongkai_shared.information import DocumentRef, WithheldDocument, entry_id
from gongkai_shared.rebuild import rebuild_and_compare
from gongkai_shared.staff import StaffProjection
from tests.flow import wait_for_count, wait_for_event
from tests.harness import System, migrations_of
from tests.servers import NatsServer

TODAY = date(2026, 3, 2)


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str):
    clock = FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Monday, 10:00 in Beijing
    s = await System(nats_server, database_url, clock=clock).start("publishing")
    yield s
    await s.stop()


def metadata(title: str, **changes: Any) -> dict[str, Any]:
    m = {
        "title": title,
        "doc_number": "X府办发〔2026〕3号",
        "issuing_body": "X市人民政府办公室",
        "formed_on": "2026-02-20",
        "attribute": "proactive",
        "category": "social_policy",
        "summary": f"{title}的内容概述",
        "body": f"{title}全文……",
        "keywords": ["教育"],
    }
    return {**m, **changes}


async def post(
    system: System, path: str, body: dict, role: str, who: str | None = None, expect: int = 201
) -> dict:
    r = await system.clients["publishing"].post(path, json=body, headers=System.token(role, who or role))
    assert r.status_code == expect, r.text
    return r.json()


async def register(system: System, m: dict, who: str = "丙") -> str:
    r = await post(
        system, "/api/v1/information/documents", {"department": "教育局", "metadata": m}, "handler", who
    )
    return r["aggregate_id"]


async def review_and_sign(system: System, doc: str, version: int = 1, signer: str = "乙") -> dict:
    base = f"/api/v1/information/documents/{doc}"
    await post(
        system, f"{base}/review", {"document_version": version, "passed": True, "notes": "无涉密"}, "reviewer"
    )
    return await post(system, f"{base}/sign", {"document_version": version}, "approver", signer)


async def item(system: System, number: str) -> dict:
    rt = system.runtime("publishing")
    await rt.wait_for(await rt.store.last_seq())
    r = await system.clients["publishing"].get(f"/api/v1/catalog/{number}")
    assert r.status_code == 200, r.text
    return r.json()


async def catalogue_rows(system: System) -> list[dict]:
    rt = system.runtime("publishing")
    await rt.wait_for(await rt.store.last_seq())
    return [dict(r) for r in await rt.pool.fetch("SELECT * FROM catalog_items ORDER BY index_seq")]


async def as_review(system: System, body: EventBody, aggregate: str) -> int:
    """Review's decision events, written with review's key (the review side builds them)."""
    store = await system.nats.writer("review")
    try:
        last = await store.last_event(aggregate)
        event = make_event(body, aggregate_id=aggregate, actor=Actor(id="乙", role="approver"))
        return (await store.append(event, "review", last.seq if last else 0)).seq
    finally:
        await store.nc.close()


async def test_a_policy_and_its_interpretation_are_signed_by_another_and_published_together(
    system: System,
) -> None:
    """Art. 17: 保密审查 then 签发 by an approver who did not submit the version; DOMAIN §5: a policy
    and its 政策解读 are released together, linked both ways; amended (same 索引号, history kept);
    repealed (废止 with its date)."""
    policy = await register(system, metadata("关于义务教育招生的实施意见", kind="policy"), who="丙")
    interp = await register(
        system, metadata("《关于义务教育招生的实施意见》政策解读", kind="interpretation", interprets=policy)
    )
    base = f"/api/v1/information/documents/{policy}"
    await post(system, f"{base}/review", {"document_version": 1, "passed": True, "notes": ""}, "reviewer")
    # the submitter (丙, also an approver) cannot sign their own version
    refused = await post(system, f"{base}/sign", {"document_version": 1}, "approver", "丙", expect=409)
    assert "提交人" in refused["message"]
    await post(system, f"{base}/sign", {"document_version": 1}, "approver", "乙")
    assert await catalogue_rows(system) == []  # the policy waits for its interpretation
    await review_and_sign(system, interp)
    published = await wait_for_count(system, "published", 2)
    by_doc = {e.envelope.data["document_id"]: e.envelope.data for e in published}
    p, i = by_doc[policy], by_doc[interp]
    assert p["interpretations"] == [{"document_id": interp, "index_number": i["index_number"]}]
    assert i["interprets"] == {"document_id": policy, "index_number": p["index_number"]}
    assert {p["index_seq"], i["index_seq"]} == {1, 2} and p["source"] == "proactive"
    rows = await catalogue_rows(system)
    assert [r["title"] for r in rows if r["document_id"] == policy] == ["关于义务教育招生的实施意见"]
    links = await system.runtime("publishing").pool.fetch(
        "SELECT from_document, to_document, kind FROM catalog_links"
    )
    assert {tuple(r) for r in links} == {(interp, policy, "interprets")}

    # an amendment: a new version, reviewed and signed again; same index number, history kept
    amended = metadata("关于义务教育招生的实施意见（修订）", kind="policy")
    change = {"metadata": amended, "reason": "调整划片", "changed_on": "2026-03-01"}
    await post(system, f"{base}/amendment", change, "handler", "丁")
    await review_and_sign(system, policy, version=2, signer="乙")
    [event] = await wait_for_count(system, "amended", 1)
    assert event.envelope.data["index_number"] == p["index_number"]
    assert event.envelope.data["document_version"] == 2 and event.envelope.data["reason"] == "调整划片"
    shown = await item(system, p["index_number"])
    assert shown["title"] == "关于义务教育招生的实施意见（修订）"
    versions = await system.runtime("publishing").pool.fetch(
        "SELECT document_version, metadata->>'title' AS title FROM catalog_versions WHERE document_id=$1"
        " ORDER BY document_version",
        policy,
    )
    assert [(v["document_version"], v["title"]) for v in versions] == [
        (1, "关于义务教育招生的实施意见"), (2, "关于义务教育招生的实施意见（修订）"),
    ]  # fmt: skip

    # a repeal: public, with the index number; the item shows 废止 and its date
    await post(
        system, f"{base}/repeal", {"repealed_on": "2026-03-02", "reason": "已被新文件替代"}, "approver", "乙"
    )
    [repealed] = await wait_for_count(system, "repealed", 1)
    assert repealed.envelope.data["index_number"] == p["index_number"]
    row = next(r for r in await catalogue_rows(system) if r["document_id"] == policy)
    assert row["valid"] is False and row["repealed_on"] == date(2026, 3, 2)
    doc = (await system.clients["publishing"].get(base, headers=System.token("auditor"))).json()
    assert [v["version"] for v in doc["versions"]] == [1, 2]
    assert [h["event"] for h in doc["history"]][:2] == ["document-registered", "document-reviewed"]
    assert "repealed" in [h["event"] for h in doc["history"]]


async def test_metadata_is_checked_and_a_retried_command_is_one_event(system: System) -> None:
    """DOMAIN §1: a category of Art. 20, 不予公开 with its reasons, an interpretation naming a
    policy; a command retried with the same Idempotency-Key appends once."""
    for bad, field in [
        (metadata("甲", category="nope"), "metadata.category"),
        (metadata("乙", attribute="withheld"), "metadata.withheld_reasons"),
        (metadata("丙", kind="interpretation", interprets="no-such-policy"), "metadata.interprets"),
    ]:
        r = await post(system, "/api/v1/information/documents", {"department": "教育局", "metadata": bad},
                       "handler", expect=422)  # fmt: skip
        assert field in [e["field"] for e in r["errors"]], r
    client, key = system.clients["publishing"], {"Idempotency-Key": "k-1", **System.token("handler")}
    body = {"department": "教育局", "metadata": metadata("财政预算公开", category="budget")}
    first = await client.post("/api/v1/information/documents", json=body, headers=key)
    again = await client.post("/api/v1/information/documents", json=body, headers=key)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    other = await client.post(
        "/api/v1/information/documents", json={**body, "department": "财政局"}, headers=key
    )
    assert other.status_code == 409


async def test_fifty_concurrent_publications_get_consecutive_numbers_kept_by_a_rebuild(
    system: System,
) -> None:
    """索引号: unique, never reused, consecutive under concurrent publication, and taken from the
    log, so a rebuilt database keeps them and the next publication continues the sequence."""
    for role, who in [("handler", "丙"), ("reviewer", "reviewer"), ("approver", "乙")]:  # accounts first
        await system.clients["publishing"].get(
            "/api/v1/information/documents/none", headers=System.token(role, who)
        )
    docs = await asyncio.gather(*[register(system, metadata(f"统计公报第{n}号", category="statistics"))
                                  for n in range(50)])  # fmt: skip
    await asyncio.gather(*[review_and_sign(system, d) for d in docs])
    published = await wait_for_count(system, "published", 50, timeout=120)
    seqs = sorted(e.envelope.data["index_seq"] for e in published)
    assert seqs == list(range(1, 51))
    assert len({e.envelope.data["index_number"] for e in published}) == 50
    assert all(e.envelope.data["index_number"].endswith(f"2026-{e.envelope.data['index_seq']:05d}")
               for e in published)  # fmt: skip

    rt = system.runtime("publishing")
    await rt.wait_for(await rt.store.last_seq())
    comparison = await rebuild_and_compare(
        system.database_url, rt.store, [CatalogProjection(), StaffProjection("publishing")],
        migrations_of("publishing"), live_schema="publishing",
    )  # fmt: skip
    assert comparison.equal, comparison.report()
    assert comparison.rows["catalog_items"] == 50 and comparison.rows["index_allocations"] == 50
    late = await register(system, metadata("统计公报第51号", category="statistics"))
    await review_and_sign(system, late)
    [*_, last] = await wait_for_count(system, "published", 51)
    assert {e.envelope.data["index_seq"] for e in await wait_for_count(system, "published", 51)} == set(
        range(1, 52)
    )
    assert last.envelope.data["document_id"] in (late, *docs)


async def test_an_on_request_disclosure_is_published_only_when_the_office_decides(system: System) -> None:
    """Art. 44: not at sign-off, not at the answer; only after the answer, by the office's
    decision, with the title and summary staff registered (never the applicant's wording)."""
    doc = await register(
        system, metadata("某街道拆迁补偿标准", attribute="on_request", category="construction")
    )
    ref = DocumentRef(document_id=doc, title="某街道拆迁补偿标准", issuing_body="X市人民政府办公室")
    case = new_id()
    decision = {"case_id": case, "document_ids": [doc], "grounds": "several_applicants",
                "explanation": "多名申请人申请公开同一信息"}  # fmt: skip
    await as_review(system, ReviewApproved(
        case_id=case, title="请公开张三（身份证110101199001011234）家的拆迁补偿", disclosed_content="全文",
        legal_basis="第三十六条第（二）项",
        outcome="disclose", documents=[ref],
    ), case)  # fmt: skip
    refused = await post(system, "/api/v1/publications", decision, "reviewer", expect=409)
    assert "答复" in refused["message"]  # not before the answer was sent
    assert await catalogue_rows(system) == []  # nor at sign-off
    letter = Letter(kind="answer", title="答复书", body="……", recipient="张三")
    await as_review(system, AnswerSent(
        case_id=case, outcome="disclose", outcome_code="disclose", report_row="三.（一）", letter=letter,
        sent_on=TODAY, disclosed_documents=[ref],
    ), case)  # fmt: skip
    assert await catalogue_rows(system) == []  # nor at the answer
    other = await register(system, metadata("无关文件", attribute="on_request"))
    bad = await post(
        system, "/api/v1/publications", {**decision, "document_ids": [other]}, "approver", expect=422
    )
    assert bad["errors"][0]["field"] == "document_ids"  # only what that answer disclosed
    await post(system, "/api/v1/publications", decision, "registrar", expect=403)
    decided = await post(system, "/api/v1/publications", decision, "approver")
    assert decided["event"] == "publication-decided" and decided["aggregate_id"] == case
    [published] = await wait_for_count(system, "published", 1)
    data = published.envelope.data
    assert data["source"] == "on_request" and data["metadata"]["title"] == "某街道拆迁补偿标准"
    assert "张三" not in published.data.decode() and "110101199001011234" not in published.data.decode()


async def test_a_refused_document_is_not_published_until_the_entry_is_lifted(system: System) -> None:
    """Seed Art. 25, 条例 Art. 18: a document a signed decision withheld is refused by publishing,
    whatever its title, with the error naming the refusal; lifted with a reason, it publishes."""
    doc = await register(system, metadata("本局涉密档案管理台账", category="other"))
    ref = DocumentRef(document_id=doc, title="涉密档案台账", issuing_body="X市档案局")
    case = new_id()
    withheld = WithheldDocument(document=ref, reason="state_secret", explanation="已定密为秘密级")
    seq = await as_review(system, DecisionRecorded(
        case_id=case, outcome="withhold", reasons=["state_secret"], legal_basis="第十四条",
        outcome_code="withhold.state_secret", withheld_documents=[withheld],
    ), case)  # fmt: skip
    rt = system.runtime("publishing")
    await rt.wait_for(seq)
    decision_id = (await rt.store.get(seq)).id
    entry = entry_id(decision_id, doc, None)
    base = f"/api/v1/information/documents/{doc}"
    await post(system, f"{base}/review", {"document_version": 1, "passed": True, "notes": ""}, "reviewer")
    refused = await post(system, f"{base}/sign", {"document_version": 1}, "approver", "乙", expect=409)
    assert entry in refused["message"] and "不予公开" in refused["message"] and case in refused["message"]
    await as_review(system, RefusalLifted(
        entry_id=entry, document_id=doc, reason="已解密（解密通知书〔2026〕1号）", lifted_on=TODAY,
    ), entry)  # fmt: skip
    await post(system, f"{base}/sign", {"document_version": 1}, "approver", "乙")
    [published] = await wait_for_count(system, "published", 1)
    assert published.envelope.data["document_id"] == doc


async def test_a_document_notify_has_set_a_deadline_on_is_reviewed_signed_and_published(
    nats_server: NatsServer, database_url: str
) -> None:
    """Art. 26 with all four services: notify writes the publication deadline (``deadline-set``)
    on the document's own aggregate right after its registration; publishing's next commands on
    the document (保密审查, 签发) expect the aggregate's real last event, not only its own, and the
    document is published, meeting the deadline."""
    clock = FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    s = await System(nats_server, database_url, clock=clock).start("intake", "review", "publishing", "notify")
    try:
        doc = await register(s, metadata("2026年部门预算", category="budget", formed_on="2026-03-02"))
        [deadline] = await wait_for_event(s, f"foi.notify.{doc}.>", "deadline-set")
        assert deadline.envelope.data["due_on"] == "2026-03-30"
        await review_and_sign(s, doc)
        [published] = await wait_for_count(s, "published", 1)
        assert published.envelope.data["document_id"] == doc
    finally:
        await s.stop()
