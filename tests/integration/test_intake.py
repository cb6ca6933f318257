"""Intake: an application becomes one ``request-received`` event, or a 422 and nothing."""

from __future__ import annotations

import pytest

from tests.harness import System

APPLICATION = {
    "applicant": {
        "name": "张三",
        "type": "natural_person",
        "contact": {"email": "zhangsan@example.cn", "phone": "13800000000"},
    },
    "description": "2025年度本市义务教育阶段学校招生计划（文号：教发〔2025〕12号）",
    "form": "electronic",
    "delivery": "email",
    "channel": "online",
    "purpose": "了解招生政策",
}


async def test_valid_application_is_received_and_trackable(intake: System) -> None:
    client = intake.clients["intake"]
    r = await client.post("/api/v1/applications", json=APPLICATION)
    assert r.status_code == 201, r.text
    body = r.json()
    assert len(body["tracking_code"]) >= 16  # 120 random bits in base32
    history = await intake.runtime("intake").store.history(body["case_id"])
    assert [e.name for e in history] == ["request-received"]
    assert history[0].seq == body["sequence"]
    assert history[0].envelope.data["applicant"]["name"] == "张三"
    assert body["tracking_code"] not in history[0].data.decode()  # only its hash is stored

    r = await client.get(
        f"/api/v1/applications/{body['tracking_code']}", params={"min_seq": body["sequence"]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "received"
    assert r.json()["history"][0]["event"] == "request-received"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"form": "carrier-pigeon"}, "form"),
        ({"applicant": {**APPLICATION["applicant"], "type": "alien"}}, "applicant.type"),
        ({"description": ""}, "description"),
        ({"channel": None}, "channel"),
        (
            {"applicant": {**APPLICATION["applicant"], "contact": {"email": "not-an-email"}}},
            "applicant.contact.email",
        ),
    ],
)
async def test_invalid_application_is_422_naming_the_field_and_appends_nothing(
    intake: System, change: dict, field: str
) -> None:
    store = intake.runtime("intake").store
    before = await store.last_seq()
    r = await intake.clients["intake"].post("/api/v1/applications", json={**APPLICATION, **change})
    assert r.status_code == 422
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert await store.last_seq() == before


async def test_retried_submission_with_idempotency_key_is_one_case(intake: System) -> None:
    client = intake.clients["intake"]
    headers = {"Idempotency-Key": "letter-2026-0042"}
    before = await intake.runtime("intake").store.last_seq()
    first = await client.post("/api/v1/applications", json=APPLICATION, headers=headers)
    second = await client.post("/api/v1/applications", json=APPLICATION, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert await intake.runtime("intake").store.last_seq() == before + 1


async def test_unknown_tracking_code_is_404(intake: System) -> None:
    r = await intake.clients["intake"].get("/api/v1/applications/AAAAAAAAAAAAAAAAAAAAAAAA")
    assert r.status_code == 404
