"""Issue 10's Done-means across all four services, through their HTTP APIs only (real NATS and
PostgreSQL, no event appended by hand): a proactive policy and its interpretation from
registration to the catalogue with their Art. 26 deadline met (Art. 17, 19-20, 26); an
on-request disclosure published only by the office's Art. 44 decision, under the document's own
title; a refused document held back by publishing and by another case's answer whatever its
applicant wrote, until the entry is lifted (Art. 18, 25); and no personal data of an applicant in
any public output."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from gongkai_shared.access import PUBLIC_SUBJECTS
from gongkai_shared.clock import FakeClock
from tests.flow import apply, command, events_named, wait_for_count
from tests.harness import HANDLERS_DEPARTMENT, System
from tests.servers import NatsServer

TODAY = "2026-03-02"  # a Monday


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str):
    clock = FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # 10:00 in Beijing
    s = await System(nats_server, database_url, clock=clock).start()
    yield s
    await s.stop()


# --- steps ---------------------------------------------------------------------------------


def metadata(title: str, **changes: Any) -> dict[str, Any]:
    """A document's catalogue metadata as a department registers it (DOMAIN §1, §7)."""
    return {
        "title": title,
        "doc_number": "X教发〔2026〕5号",
        "issuing_body": "X市教育局",
        "formed_on": TODAY,
        "attribute": "proactive",
        "category": "social_policy",
        "summary": f"{title}（内容概述）",
        "body": f"{title}。正文……",
        "keywords": ["教育"],
        **changes,
    }


def as_text(payload: Any) -> str:
    """JSON without \\u escapes, so a Chinese name is found as it was written."""
    return json.dumps(payload, ensure_ascii=False)


async def staff_post(
    system: System, service: str, path: str, body: dict, role: str, who: str | None = None, expect: int = 201
) -> dict:
    r = await system.clients[service].post(path, json=body, headers=System.token(role, who or role))
    assert r.status_code == expect, r.text
    return r.json()


async def staff_get(system: System, service: str, path: str, **params: Any) -> dict:
    await system.settle()
    r = await system.clients[service].get(path, params=params, headers=System.token("auditor"))
    assert r.status_code == 200, r.text
    return r.json()


async def register_document(system: System, m: dict[str, Any], who: str = "丙") -> str:
    """A department's handler registers a document in publishing; its id."""
    body = {"department": HANDLERS_DEPARTMENT, "metadata": m}
    registered = await staff_post(system, "publishing", "/api/v1/information/documents", body, "handler", who)
    await system.settle()  # review learns documents from publishing's events
    return registered["aggregate_id"]


async def review_document(system: System, doc: str, version: int = 1) -> None:
    """保密审查 of a version (a disclosure reviewer)."""
    body = {"document_version": version, "passed": True, "notes": "无涉密内容"}
    await staff_post(system, "publishing", f"/api/v1/information/documents/{doc}/review", body, "reviewer")


async def sign_document(
    system: System, doc: str, version: int = 1, who: str = "乙", expect: int = 201
) -> dict:
    """签发 of a version by an approver."""
    path = f"/api/v1/information/documents/{doc}/sign"
    return await staff_post(
        system, "publishing", path, {"document_version": version}, "approver", who, expect
    )


async def catalogue(system: System, **params: Any) -> dict:
    """The public list (no sign-in), once publishing applied everything on the stream."""
    await system.settle()
    r = await system.clients["publishing"].get("/api/v1/catalog", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def catalogue_item(system: System, index_number: str) -> dict:
    await system.settle()
    r = await system.clients["publishing"].get(f"/api/v1/catalog/{index_number}")
    assert r.status_code == 200, r.text
    return r.json()


async def in_catalogue(system: System, title: str) -> bool:
    return any(i["title"] == title for i in (await catalogue(system, limit=100))["items"])


async def public_events(system: System) -> list:
    """Every event on the subjects other agencies receive (access.PUBLIC_SUBJECTS)."""
    store, found = system.runtime("publishing").store, []
    for subject in PUBLIC_SUBJECTS:
        if await store.last_raw(subject) is not None:  # (an ordered read of no messages waits)
            found += [e async for e in store.read(1, subject)]
    return found


async def read_side_merged(system: System) -> bool:
    """The catalogue's read side (links, versions, validity, the /gongkai pages and the feed) is
    built on a sibling branch; until it is merged the item shows only title and text."""
    return (await system.clients["publishing"].get("/gongkai")).status_code != 404


async def searched_case(system: System, wording: str, found: list[str], **application: Any) -> str:
    """An application worded ``wording`` (intake), registered and assigned in review, the
    department's feedback naming the documents it found, and 保密审查: ready to draft."""
    case_id = (await apply(system, description=wording, **application))["case_id"]
    await command(system, case_id, "register", {}, "registrar")
    await command(system, case_id, "assign", {"departments": [HANDLERS_DEPARTMENT]}, "registrar")
    feedback = {"department": HANDLERS_DEPARTMENT, "holds_information": True, "summary": "已检索到相关文件",
                "documents": found}  # fmt: skip
    await command(system, case_id, "feedback", feedback, "reviewer")
    await command(system, case_id, "confidentiality-review", {"passed": True, "notes": "无涉密"}, "reviewer")
    return case_id


def disclose(*documents: str) -> dict:
    return {"outcome": "disclose", "disclosed_content": "全文见附件", "documents": list(documents)}


def withhold(document: str) -> dict:
    return {
        "outcome": "withhold",
        "reasons": ["state_secret"],
        "reason_text": "该文件已依法定密",
        "withheld_documents": [{"document_id": document, "reason": "state_secret", "explanation": "已定密"}],
    }


async def answered(system: System, case_id: str, draft: dict) -> dict:
    """Draft (reviewer 甲), sign-off (approver 乙) and the answer letter; the answer's result."""
    await command(system, case_id, "draft", draft, "reviewer", "甲")
    await command(system, case_id, "sign-off", {}, "approver", "乙")
    return await command(system, case_id, "answer", {}, "registrar")


async def decide_publication(system: System, case_id: str, docs: list[str], expect: int = 201) -> dict:
    """Art. 44: the office publishes what a case disclosed (several applicants asked)."""
    body = {"case_id": case_id, "document_ids": docs, "grounds": "several_applicants",
            "explanation": "三名申请人先后申请公开同一文件"}  # fmt: skip
    return await staff_post(system, "publishing", "/api/v1/publications", body, "approver", "乙", expect)


# --- 1. proactive disclosure ---------------------------------------------------------------


async def test_a_policy_and_its_interpretation_go_from_the_department_to_the_catalogue_art_17_26(
    system: System,
) -> None:
    """Art. 17: 保密审查, then 签发 by an approver other than the submitter; DOMAIN §5: a policy
    and its 政策解读 are published together with index numbers, linked both ways; Art. 26: the
    publication deadline runs from 成文日期, not from the registration (formed Thursday 2026-02-26,
    registered 2026-03-02: 20 working days, Saturday 2026-02-28 a make-up working day of the Spring
    Festival → due 2026-03-25) and is met by the publication; an amendment keeps the index number
    and is met too; a repeal shows 废止 with its date."""
    formed = "2026-02-26"
    policy = await register_document(
        system, metadata("关于2026年义务教育招生的实施意见", kind="policy", formed_on=formed), "丙"
    )
    interp = await register_document(
        system,
        metadata("《关于2026年义务教育招生的实施意见》政策解读", kind="interpretation", interprets=policy),
    )
    deadlines = await staff_get(system, "notify", "/api/v1/deadlines", case_id=policy)
    [due] = deadlines["deadlines"]
    assert (due["kind"], due["start_on"], due["due_on"], due["status"]) == (
        "publication", formed, "2026-03-25", "running")  # fmt: skip

    await review_document(system, policy)
    refused = await sign_document(system, policy, who="丙", expect=409)  # 丙 submitted it
    assert "提交人" in refused["message"]
    await sign_document(system, policy, who="乙")
    assert (await catalogue(system))["items"] == []  # the policy waits for its interpretation
    await review_document(system, interp)
    await sign_document(system, interp, who="乙")

    published = await wait_for_count(system, "published", 2)
    number = {e.envelope.data["document_id"]: e.envelope.data["index_number"] for e in published}
    p_item, i_item = (
        await catalogue_item(system, number[policy]),
        await catalogue_item(system, number[interp]),
    )
    assert p_item["title"] == "关于2026年义务教育招生的实施意见"
    assert i_item["title"] == "《关于2026年义务教育招生的实施意见》政策解读"
    if await read_side_merged(system):
        assert [x["index_number"] for x in p_item["links"]["interpretations"]] == [number[interp]]
        assert i_item["links"]["interprets"]["index_number"] == number[policy]
    else:  # the links as published (the same CatalogueItem other agencies receive)
        by_doc = {e.envelope.data["document_id"]: e.envelope.data for e in published}
        assert by_doc[policy]["interpretations"] == [{"document_id": interp, "index_number": number[interp]}]
        assert by_doc[interp]["interprets"] == {"document_id": policy, "index_number": number[policy]}
    [met] = (await staff_get(system, "notify", "/api/v1/deadlines", case_id=policy))["deadlines"]
    assert (met["due_on"], met["status"], met["breached"]) == ("2026-03-25", "met", False)

    # an amendment (version 2, with its reason): reviewed and signed again, same index number
    change = {"metadata": metadata("关于2026年义务教育招生的实施意见（修订）", kind="policy"),
              "reason": "调整划片范围", "changed_on": TODAY}  # fmt: skip
    base = f"/api/v1/information/documents/{policy}"
    await staff_post(system, "publishing", f"{base}/amendment", change, "handler", "丁")
    await review_document(system, policy, version=2)
    await sign_document(system, policy, version=2, who="乙")
    [amended] = await wait_for_count(system, "amended", 1)
    assert amended.envelope.data["index_number"] == number[policy]
    shown = await catalogue_item(system, number[policy])
    assert shown["title"] == "关于2026年义务教育招生的实施意见（修订）"
    if await read_side_merged(system):
        assert [(v["document_version"], v["reason"]) for v in shown["versions"]][0] == (2, "调整划片范围")
    versions = (await staff_get(system, "notify", "/api/v1/deadlines", case_id=policy))["deadlines"]
    assert [(d["subject"], d["due_on"], d["status"]) for d in versions] == [
        ("第1版", "2026-03-25", "met"), ("第2版", "2026-03-30", "met")]  # fmt: skip

    # a repeal (废止 with its date) reaches the catalogue
    repeal = {"repealed_on": TODAY, "reason": "已被新文件替代"}
    await staff_post(system, "publishing", f"{base}/repeal", repeal, "approver", "乙")
    [repealed] = await wait_for_count(system, "repealed", 1)
    assert (repealed.envelope.data["index_number"], repealed.envelope.data["repealed_on"]) == (
        number[policy], TODAY)  # fmt: skip
    if await read_side_merged(system):
        gone = await catalogue_item(system, number[policy])
        assert (gone["validity"], gone["repealed_on"]) == ("废止", TODAY)
        assert [i["index_number"] for i in (await catalogue(system, valid="false"))["items"]] == [
            number[policy]
        ]


# --- 2. on request (Art. 44) ---------------------------------------------------------------


async def test_an_on_request_disclosure_reaches_the_catalogue_only_by_the_offices_decision_art_44(
    system: System,
) -> None:
    """Art. 44: a disclosure to one applicant is not public after its sign-off nor after its
    answer; the office's decision (after the answer, with grounds) publishes the document under
    its own registered title, never the applicant's words."""
    title = "某街道2025年房屋征收补偿标准"
    doc = await register_document(system, metadata(title, attribute="on_request", category="construction"))
    wording = "我想知道我们小区拆迁到底每平米赔多少钱"
    case_id = await searched_case(system, wording, [doc])
    await command(system, case_id, "draft", disclose(doc), "reviewer", "甲")
    await command(system, case_id, "sign-off", {}, "approver", "乙")
    assert not await in_catalogue(system, title)
    early = await decide_publication(system, case_id, [doc], expect=409)
    assert "答复" in early["message"]  # not before the answer is sent
    sent = await command(system, case_id, "answer", {}, "registrar")
    assert sent["event"] == "answer-sent"
    assert not await in_catalogue(system, title)
    assert await events_named(system, "published") == []

    decided = await decide_publication(system, case_id, [doc])
    assert (decided["event"], decided["aggregate_id"]) == ("publication-decided", case_id)
    [published] = await wait_for_count(system, "published", 1)
    assert published.envelope.data["source"] == "on_request"
    [item] = (await catalogue(system))["items"]
    assert item["title"] == title
    assert wording not in as_text(await catalogue_item(system, item["index_number"]))
    assert wording not in as_text(json.loads(published.data))
    # the decision is on the case's aggregate: the case's history in review shows it, and the
    # case's answer deadline in notify stays met
    view = await staff_get(system, "review", f"/api/v1/cases/{case_id}")
    trail = [t["event"] for t in view["trail"]]
    assert "publication-decided" in trail[trail.index("answer-sent") :]
    [answer_due] = [d for d in (await staff_get(system, "notify", "/api/v1/deadlines", case_id=case_id))[
        "deadlines"] if d["kind"] == "answer"]  # fmt: skip
    assert answer_due["status"] == "met" and not answer_due["overdue"]


async def test_information_already_published_is_not_published_again_under_a_new_number(
    system: System,
) -> None:
    """What was wrong: information already in the catalogue was published again under a new index
    number when another applicant asked for it. A second case disclosing the same document, and
    a second Art. 44 decision, leave the one item with its one number (索引号, never reused)."""
    title = "2026年区属学校招生简章"
    doc = await register_document(system, metadata(title, attribute="on_request", category="social_policy"))
    first = await searched_case(system, "招生简章", [doc])
    await answered(system, first, disclose(doc))
    await decide_publication(system, first, [doc])
    [published] = await wait_for_count(system, "published", 1)
    number = published.envelope.data["index_number"]

    second = await searched_case(system, "今年学校招多少人", [doc])
    await answered(system, second, disclose(doc))
    again = await decide_publication(system, second, [doc], expect=409)
    assert number in again["message"]  # says where it already is
    await system.settle()
    assert await events_named(system, "published") == [published]
    assert [i["index_number"] for i in (await catalogue(system))["items"]] == [number]


# --- 3. the refusal register by document ---------------------------------------------------


async def test_a_refused_document_is_held_back_whatever_the_wording_until_lifted_art_18_25(
    system: System,
) -> None:
    """Seed Art. 25, 条例 Art. 18: once case A's signed decision withholds document D, publishing
    refuses to publish D and another case's answer may not disclose it (its applicant wrote
    entirely different words), each with the error naming the refusal, until an approver lifts
    the entry with a reason; then both go through."""
    d_title = "本局涉密档案管理台账"
    d = await register_document(system, metadata(d_title, category="other", doc_number="X档发〔2026〕1号"))
    case_a = await searched_case(system, "请公开本局涉密档案管理台账全文", [d])
    case_b = await searched_case(system, "贵单位去年那本记着哪些文件保密的本子能给我看看吗", [d])
    await command(system, case_b, "draft", disclose(d), "reviewer", "甲")  # no refusal yet
    await command(system, case_b, "sign-off", {}, "approver", "乙")
    await command(system, case_a, "draft", withhold(d), "reviewer", "甲")
    recorded = await command(system, case_a, "sign-off", {}, "approver", "乙")
    assert recorded["event"] == "decision-recorded"
    [entry] = (await staff_get(system, "review", "/api/v1/refusals", status="standing"))["items"]
    assert (entry["document_id"], entry["case_id"]) == (d, case_a)
    naming = (entry["entry_id"], "不予公开", f"《{d_title}》")

    # publishing: the proactive sign-off of D is refused, naming the entry
    await review_document(system, d)
    refused = await sign_document(system, d, who="乙", expect=409)
    assert all(n in refused["message"] for n in naming), refused
    # case B (signed before A's refusal): its answer letter is refused, naming the entry
    r = await system.clients["review"].post(
        f"/api/v1/cases/{case_b}/answer", json={}, headers=System.token("registrar")
    )
    assert r.status_code == 409 and all(n in r.json()["message"] for n in naming), r.text
    # case C, worded differently again, cannot even draft the disclosure
    case_c = await searched_case(system, "想看看保密方面的登记材料", [d])
    drafted = await command(system, case_c, "draft", disclose(d), "reviewer", "甲", expect=409)
    assert all(n in drafted["message"] for n in naming), drafted
    assert not await in_catalogue(system, d_title)

    # lifting is the approver's, with a reason; then publishing and B's answer go through
    lift = {"reason": "该台账已于2026年3月解密（解密通知〔2026〕2号）"}
    await staff_post(system, "review", f"/api/v1/refusals/{entry['entry_id']}/lift", lift, "approver", "乙")
    await system.settle()
    await sign_document(system, d, who="乙")
    sent = await command(system, case_b, "answer", {}, "registrar")
    assert sent["event"] == "answer-sent"
    await wait_for_count(system, "published", 1)
    assert await in_catalogue(system, d_title)
    await command(system, case_c, "draft", disclose(d), "reviewer", "甲")


# --- 4. no personal data in any public output ----------------------------------------------

PERSON = {
    "name": "欧阳晓岚",
    "id_number": "110101199003072316",
    "phone": "13912345678",
    "email": "ouyang.xiaolan@example.com",
    "address": "北京市东城区银杏胡同8号",
}
PERSONAL_APPLICATION = {
    "applicant": {
        "name": PERSON["name"],
        "type": "natural_person",
        "id_number": PERSON["id_number"],
        "contact": {"email": PERSON["email"], "phone": PERSON["phone"], "address": PERSON["address"]},
    },
    "purpose": f"本人{PERSON['name']}维护自身合法权益，联系电话{PERSON['phone']}",
}
PERSONAL_WORDING = (
    f"本人{PERSON['name']}（身份证号{PERSON['id_number']}，电话{PERSON['phone']}，邮箱{PERSON['email']}，"
    f"住址{PERSON['address']}）申请公开我家房屋的征收补偿标准"
)


def leaks(text: str) -> list[str]:
    """The personal data ``text`` contains (compared without case, as an e-mail is)."""
    return [k for k, v in PERSON.items() if v.lower() in text.lower()]


async def personal_publication(system: System) -> tuple[str, str]:
    """The application full of personal data, answered with the registered document and then
    published by the office (Art. 44); (case id, the document's title)."""
    title = "某街道2025年房屋征收补偿标准"
    doc = await register_document(system, metadata(title, attribute="on_request", category="construction"))
    case_id = await searched_case(system, PERSONAL_WORDING, [doc], **PERSONAL_APPLICATION)
    await answered(system, case_id, disclose(doc))
    await decide_publication(system, case_id, [doc])
    await wait_for_count(system, "published", 1)
    # the control: the data is in the internal log (the application), so the searches can fail
    [received] = [e async for e in system.runtime("intake").store.read(1, f"foi.intake.{case_id}.>")]
    assert leaks(as_text(json.loads(received.data))) == list(PERSON)
    return case_id, title


async def test_no_personal_data_of_the_applicant_in_any_public_event_catalogue_or_schema(
    system: System,
) -> None:
    """Issue 10, last Done-means line: an application full of personal data (name, ID number,
    phone, e-mail, address, all repeated in its text) goes to an Art. 44 publication; no public
    event, catalogue answer or search, or public schema contains any of it."""
    _, title = await personal_publication(system)
    outputs: dict[str, str] = {}

    events = await public_events(system)
    assert [e.name for e in events] == ["published"]  # the control: the publication is public
    for e in events:
        outputs[e.subject] = as_text({"headers": e.headers, "event": json.loads(e.data)})

    listed = await catalogue(system)
    assert [i["title"] for i in listed["items"]] == [title]
    outputs["/api/v1/catalog"] = as_text(listed)
    for i in listed["items"]:
        outputs[i["index_number"]] = as_text(await catalogue_item(system, i["index_number"]))
    assert (await catalogue(system, q="征收"))["total"] == 1  # the control: search finds the item
    for key, datum in PERSON.items():
        found = await catalogue(system, q=datum)
        assert found["total"] == 0 and found["items"] == [], (key, found)

    client = system.clients["publishing"]
    schemas = (await client.get("/api/v1/events/schemas")).json()["schemas"]
    paths = ["/api/v1/events/asyncapi.json", "/api/v1/events/schemas", "/api/v1/events/keys"]
    for path in [*paths, *(f"/api/v1/events/schemas/{name}" for name in schemas)]:
        r = await client.get(path)
        assert r.status_code == 200, (path, r.text)
        outputs[path] = as_text(r.json())

    assert {where: leaks(text) for where, text in outputs.items() if leaks(text)} == {}


async def test_no_personal_data_of_the_applicant_in_the_public_pages_and_feed(system: System) -> None:
    """The same for the column 政府信息公开 (/gongkai, its search) and the Atom feed."""
    if not await read_side_merged(system):
        pytest.skip("the /gongkai pages and the Atom feed are built on the catalogue branch, not merged here")
    _, title = await personal_publication(system)
    client, outputs = system.clients["publishing"], {}
    items = (await catalogue(system))["items"]
    paths = ["/gongkai", "/gongkai/feed.atom", "/gongkai/search", "/gongkai/search?q=征收",
             *(f"/gongkai/item/{i['index_number']}" for i in items)]  # fmt: skip
    for path in paths:
        r = await client.get(path)
        assert r.status_code == 200, (path, r.text)
        outputs[path] = r.text
    assert title in outputs["/gongkai/feed.atom"]  # the controls: the feed and a search show the item
    assert title in outputs["/gongkai/search?q=征收"]
    assert {where: leaks(text) for where, text in outputs.items() if leaks(text)} == {}
    for key, datum in PERSON.items():  # a search for a datum finds nothing (the page repeats the query)
        r = await client.get("/gongkai/search", params={"q": datum})
        assert r.status_code == 200 and title not in r.text, key
        assert set(leaks(r.text)) <= {key}, (key, leaks(r.text))
