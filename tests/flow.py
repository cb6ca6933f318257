"""Steps of the disclosure flow shared by the end-to-end tests."""

from __future__ import annotations

import asyncio
import copy
import re
from typing import Any

from tests.harness import System

APPLICATION: dict[str, Any] = {
    "applicant": {
        "name": "李四",
        "type": "research_institution",
        "contact": {"email": "lisi@example.edu.cn", "address": "北京市海淀区某路1号"},
    },
    "description": "本局2025年义务教育学校划片方案",
    "form": "electronic",
    "delivery": "email",
    "channel": "online",
}

INDEX_NUMBER = re.compile(r"^\d{9}/\d{4}-\d{5}$")


def application(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(APPLICATION)
    body.update(changes)
    return body


async def apply(system: System, **changes: Any) -> dict[str, Any]:
    r = await system.clients["intake"].post("/api/v1/applications", json=application(**changes))
    assert r.status_code == 201, r.text
    return r.json()


async def command(
    system: System,
    case_id: str,
    path: str,
    body: dict[str, Any],
    role: str,
    who: str | None = None,
    expect: int = 201,
) -> dict[str, Any]:
    r = await system.clients["review"].post(
        f"/api/v1/cases/{case_id}/{path}", json=body, headers=System.token(role, who or role)
    )
    assert r.status_code == expect, r.text
    return r.json()


async def decide(system: System, case_id: str, body: dict[str, Any], min_seq: int = 0) -> dict[str, Any]:
    """Register, review confidentiality, draft (reviewer 甲) and sign off (approver 乙).

    Returns the sign-off's result: ``review-approved`` or ``decision-recorded``.
    """
    await command(system, case_id, "register", {}, "registrar")
    await command(
        system, case_id, "confidentiality-review", {"passed": True, "notes": "无涉密内容"}, "reviewer"
    )
    await command(system, case_id, "draft", body, "reviewer", "甲")
    return await command(system, case_id, "sign-off", {}, "approver", "乙")


async def answer(system: System, case_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The whole way to the answer letter (答复)."""
    await decide(system, case_id, body)
    return await command(system, case_id, "answer", {}, "registrar")


async def wait_for_event(system: System, aggregate_filter: str, name: str, timeout: float = 15.0):
    """Wait (without sleeping blindly) until an event named ``name`` is on the stream."""
    store = next(iter(system.apps.values())).state.runtime.store
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        events = [e async for e in store.read(1, aggregate_filter)] if await store.last_seq() else []
        found = [e for e in events if e.name == name]
        if found:
            return found
        assert asyncio.get_running_loop().time() < deadline, f"no {name} on {aggregate_filter}"
        await asyncio.sleep(0.05)


async def events_named(system: System, name: str, subject: str = "foi.>") -> list:
    store = next(iter(system.apps.values())).state.runtime.store
    if not await store.last_seq():
        return []
    return [e async for e in store.read(1, subject) if e.name == name]


DISCLOSE = {
    "outcome": "disclose",
    "reasons": [],
    "disclosed_content": "2025年义务教育学校划片方案全文……",
}


async def wait_for_count(system: System, name: str, count: int, timeout: float = 20.0) -> list:
    """Wait until exactly ``count`` events named ``name`` are on the stream (fail on more)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await events_named(system, name)
        assert len(found) <= count, f"{len(found)} {name} events, expected {count}"
        if len(found) == count:
            return found
        assert asyncio.get_running_loop().time() < deadline, f"{len(found)}/{count} {name}"
        await asyncio.sleep(0.05)


def document_metadata(title: str, **changes: Any) -> dict[str, Any]:
    """A document's metadata as a department registers it (DOMAIN §1): 依申请公开 unless told."""
    m = {
        "title": title,
        "doc_number": None,
        "issuing_body": "某市教育局",
        "formed_on": "2026-02-20",
        "attribute": "on_request",
        "category": "social_policy",
        "summary": f"{title}的内容概述",
        "body": f"{title}全文……",
        "keywords": [],
    }
    return {**m, **changes}


async def publishing_command(
    system: System, path: str, body: dict[str, Any], role: str, who: str | None = None, expect: int = 201
) -> dict[str, Any]:
    r = await system.clients["publishing"].post(path, json=body, headers=System.token(role, who or role))
    assert r.status_code == expect, r.text
    return r.json()


async def register_document(system: System, title: str, **metadata: Any) -> str:
    """A department (handler 丙) registers a document through publishing's HTTP API; every
    running service has applied it when this returns (review names it in decisions). Its id."""
    body = {"department": "教育局", "metadata": document_metadata(title, **metadata)}
    r = await publishing_command(system, "/api/v1/information/documents", body, "handler", "丙")
    await system.settle()
    return r["aggregate_id"]


async def sign_document(system: System, document_id: str, version: int = 1, expect: int = 201) -> dict:
    """保密审查 (reviewer) and 签发 by an approver (乙) other than the submitter (Art. 17)."""
    base = f"/api/v1/information/documents/{document_id}"
    review = {"document_version": version, "passed": True, "notes": "无涉密内容"}
    await publishing_command(system, f"{base}/review", review, "reviewer")
    return await publishing_command(
        system, f"{base}/sign", {"document_version": version}, "approver", "乙", expect=expect
    )


async def publish_proactive(system: System, title: str, **metadata: Any) -> str:
    """A 主动公开 document registered, reviewed and signed: publishing then publishes it. Its id."""
    document_id = await register_document(system, title, attribute="proactive", **metadata)
    await sign_document(system, document_id)
    return document_id


async def publish_on_request(
    system: System,
    case_id: str,
    document_ids: list[str],
    grounds: str = "several_applicants",
    expect: int = 201,
) -> dict[str, Any]:
    """Art. 44: after the answer, the office (approver 乙) decides to publish documents it disclosed."""
    body = {
        "case_id": case_id,
        "document_ids": document_ids,
        "grounds": grounds,
        "explanation": "多名申请人申请公开同一信息",
    }
    return await publishing_command(system, "/api/v1/publications", body, "approver", "乙", expect=expect)
