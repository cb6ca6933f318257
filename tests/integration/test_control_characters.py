"""No single event can stop a projection: control characters are refused at the edge (422).

An application with NUL in its description used to be accepted (201) and then stopped the review
and notify projections for everyone: PostgreSQL refuses NUL in ``text`` and ``jsonb``. Every
text a service accepts is now a Line (no control characters) or a Paragraph (tab and line breaks
allowed), in the JSON API, in query and path parameters, and on the applicant's pages.
"""

from __future__ import annotations

import json

import pytest

from gongkai_shared.auth import Role
from tests.harness import System
from tests.servers import NatsServer

APPLICATION = {
    "applicant": {"name": "张三", "type": "natural_person", "contact": {"email": "zs@example.cn"}},
    "description": "2025年本市义务教育招生计划",
    "form": "electronic",
    "delivery": "email",
    "channel": "online",
}
FORM = {
    "name": "赵六",
    "type": "natural_person",
    "email": "zhao@example.org",
    "description": "2025年度本区养老机构监督检查结果",
    "form": "electronic",
    "delivery": "email",
}


async def test_an_application_with_nul_in_its_description_is_422_and_appends_nothing(intake: System) -> None:
    store = intake.runtime("intake").store
    before = await store.last_seq()
    r = await intake.clients["intake"].post(
        "/api/v1/applications", json={**APPLICATION, "description": "招生计划\u0000全文"}
    )
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["status"] == 422
    assert [e["field"] for e in body["errors"]] == ["description"]
    assert "控制字符" in body["errors"][0]["message"]
    assert await store.last_seq() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"description": "招生计划\u001b[2J"}, "description"),
        ({"description": "招生计划\u007f"}, "description"),
        ({"description": "招生计划\ud800"}, "description"),  # a lone surrogate: no UTF-8 for it
        ({"purpose": "了解\u0000政策"}, "purpose"),
        ({"applicant": {**APPLICATION["applicant"], "name": "张\n三"}}, "applicant.name"),
        ({"applicant": {**APPLICATION["applicant"], "name": "张\t三"}}, "applicant.name"),
        ({"applicant": {**APPLICATION["applicant"], "id_number": "1101\u0000"}}, "applicant.id_number"),
        (
            {"applicant": {**APPLICATION["applicant"], "contact": {"phone": "138\r\n0000"}}},
            "applicant.contact.phone",
        ),
        (
            {
                "applicant": {
                    **APPLICATION["applicant"],
                    "contact": {"email": "a@b.cn", "address": "北京\u0000"},
                }
            },
            "applicant.contact.address",
        ),
    ],
)
async def test_control_characters_in_any_text_of_an_application_are_422_naming_the_field(
    intake: System, change: dict, field: str
) -> None:
    before = await intake.runtime("intake").store.last_seq()
    # sent as JSON text: a lone surrogate is written as its escape, which no UTF-8 encoder takes
    r = await intake.clients["intake"].post(
        "/api/v1/applications",
        content=json.dumps({**APPLICATION, **change}),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await intake.runtime("intake").store.last_seq() == before


async def test_a_description_may_run_over_several_lines(intake: System) -> None:
    description = "一、2025年招生计划；\r\n二、\t划片范围。\n"
    r = await intake.clients["intake"].post(
        "/api/v1/applications", json={**APPLICATION, "description": description}
    )
    assert r.status_code == 201, r.text
    [event] = await intake.runtime("intake").store.history(r.json()["case_id"])
    assert event.envelope.data["description"] == description.strip()


async def test_a_withdrawal_reason_with_nul_is_422(intake: System) -> None:
    client = intake.clients["intake"]
    code = (await client.post("/api/v1/applications", json=APPLICATION)).json()["tracking_code"]
    before = await intake.runtime("intake").store.last_seq()
    r = await client.post(f"/api/v1/applications/{code}/withdrawal", json={"reason": "不再\u0000需要"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    assert await intake.runtime("intake").store.last_seq() == before


async def test_the_application_form_explains_control_characters_in_chinese(intake: System) -> None:
    before = await intake.runtime("intake").store.last_seq()
    r = await intake.clients["intake"].post(
        "/apply", data={**FORM, "name": "赵\u0001六", "description": "监督检查结果\u0000"}
    )
    assert r.status_code == 422
    assert "申请人姓名或名称：只能填写一行" in r.text
    assert "所需信息描述：不得包含控制字符" in r.text
    assert await intake.runtime("intake").store.last_seq() == before


async def test_the_application_form_says_every_error_in_chinese(intake: System) -> None:
    r = await intake.clients["intake"].post(
        "/apply", data={**FORM, "name": "", "email": "不是邮箱", "description": "x" * 5001}
    )
    assert r.status_code == 422
    assert "申请人姓名或名称：必须填写" in r.text
    assert "电子邮箱：电子邮箱格式不正确" in r.text
    assert "所需信息描述：不得超过 5000 个字" in r.text
    assert "String should" not in r.text and "value is not" not in r.text


@pytest.fixture
async def services(nats_server: NatsServer, database_url: str):
    system = await System(nats_server, database_url).start("review", "publishing", "notify")
    yield system
    await system.stop()


STAFF_COMMANDS = [
    ("assign", {"departments": ["教育局\u0000"]}, "departments.0"),
    ("assign", {"departments": ["教育局\n办公室"]}, "departments.0"),
    ("feedback", {"department": "教育局", "holds_information": True, "summary": "\u0000"}, "summary"),
    ("clarification", {"items": ["请说明\u0000文号"]}, "items.0"),
    ("consultations", {"party_kind": "third_party", "party": "某\t公司", "matter": "是否同意"}, "party"),
    ("consultations/override", {"consultation_id": "x\u0000", "reason": "公共利益"}, "consultation_id"),
    ("confidentiality-review", {"passed": True, "notes": "已审查\u0000"}, "notes"),
    ("draft", {"outcome": "disclose", "disclosed_content": "全文", "title": "标题\n第二行"}, "title"),
    ("draft", {"outcome": "disclose", "disclosed_content": "全文\u0000"}, "disclosed_content"),
    ("draft/reject", {"reason": "\u0008"}, "reason"),
    ("extension", {"working_days": 10, "reason": "需要\u0000时间"}, "reason"),
    ("withdrawal", {"reason": "撤回\u0000"}, "reason"),
]


@pytest.mark.parametrize(("path", "body", "field"), STAFF_COMMANDS)
async def test_review_commands_refuse_control_characters_naming_the_field(
    services: System, path: str, body: dict, field: str
) -> None:
    from gongkai_review.commands import COMMANDS

    command = next(c for c in COMMANDS if path in (c.path, *c.aliases))
    role = command.roles[0]  # someone allowed to give the command: only the text is wrong
    r = await services.clients["review"].post(
        f"/api/v1/cases/some-case/{path}", json=body, headers=System.token(role)
    )
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


@pytest.mark.parametrize(
    ("service", "url", "field"),
    [
        ("review", "/api/v1/cases/case%00", "case_id"),
        ("review", "/api/v1/cases/case%00/archive", "case_id"),
        ("publishing", "/api/v1/catalog?q=%E6%8B%9B%E7%94%9F%00", "q"),
        ("publishing", "/api/v1/catalog/000014349%2F2025-%00", "index_number"),
        ("notify", "/api/v1/deadlines?case_id=case%00", "case_id"),
        ("notify", "/api/v1/notices?case_id=case%00", "case_id"),
        ("notify", "/api/v1/deadlines/d%00/explain", "deadline_id"),
        ("notify", "/api/v1/calendar/add-working-days?start=2026-01-05&days=3&profile=x%00", "profile"),
        ("notify", "/api/v1/calendar/add-working-days?start=9999-12-31&days=3", "start"),
    ],
)
async def test_free_text_in_queries_and_paths_is_422_not_500(
    services: System, service: str, url: str, field: str
) -> None:
    client = services.clients[service]
    headers = System.token(Role.registrar if url.endswith("/archive") else Role.auditor)
    r = await (
        client.post(url, json={}, headers=headers)
        if url.endswith("/archive")
        else client.get(url, headers=headers)
    )
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"year": 2027, "holidays": ["2027-01-01"], "source": "国务院办公厅\u0000通知"}, "source"),
        ({"year": 2027, "holidays": ["2027-01-01"], "source": "通知\n第二行"}, "source"),
        (
            {"year": 2027, "holidays": [f"2027-01-{d:02d}" for d in range(1, 32)] * 4, "source": "通知"},
            "holidays",
        ),
    ],
)
async def test_loading_a_calendar_year_refuses_what_calendar_loaded_would_refuse(
    services: System, body: dict, field: str
) -> None:
    r = await services.clients["notify"].post(
        "/api/v1/calendar/years", json=body, headers=System.token(Role.admin)
    )
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_parking_refuses_a_reason_with_nul(services: System) -> None:
    r = await services.clients["review"].post(
        "/api/v1/status/projections/review.cases/park",
        json={"seq": 1, "reason": "坏事件\u0000"},
        headers=System.token(Role.admin),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
