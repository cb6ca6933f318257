"""Staff accounts (issue 8): sign-in, expiry, disabling, ids not names, roles an office knows.

Accounts are added through review's API as an administrator would (here: the operator token the
``gongkai`` command line mints); every service checks tokens against its own staff projection.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from gongkai_review.commands import COMMANDS
from gongkai_shared.auth import Role, TokenKind, issue_token, operator_token
from tests.flow import DISCLOSE, apply
from tests.harness import SECRET, System
from tests.servers import NatsServer

pytestmark = pytest.mark.integration
OPERATOR = {"Authorization": f"Bearer {operator_token(SECRET)}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str):  # noqa: ANN201
    s = await System(nats_server, database_url, review={"session_hours": 2 / 3600}).start(
        "intake", "review", "publishing"
    )
    yield s
    await s.stop()


async def add_user(system: System, login: str, *roles: Role, name: str | None = None, **extra: Any) -> dict:
    body = {"login": login, "display_name": name or login, "roles": [r.value for r in roles], **extra}
    r = await system.clients["review"].post("/api/v1/users", json=body, headers=OPERATOR)
    assert r.status_code == 201, r.text
    await system.settle()  # every service knows the account
    return r.json()


async def api_token(system: System, user: dict) -> dict[str, str]:
    r = await system.clients["review"].post(
        f"/api/v1/users/{user['user_id']}/tokens", json={"days": 1}, headers=OPERATOR
    )
    assert r.status_code == 201, r.text
    return bearer(r.json()["token"])


async def test_sign_in_with_a_password_gives_a_session_that_expires(system: System) -> None:
    await add_user(system, "li.shen", Role.reviewer, name="李审核", password="correct horse battery")
    review = system.clients["review"]
    wrong = await review.post("/api/v1/auth/sign-in", json={"login": "li.shen", "password": "guess"})
    assert wrong.status_code == 401
    nobody = await review.post("/api/v1/auth/sign-in", json={"login": "nobody", "password": "guess"})
    assert nobody.status_code == 401 and nobody.json()["message"] == wrong.json()["message"]
    r = await review.post(
        "/api/v1/auth/sign-in", json={"login": "li.shen", "password": "correct horse battery"}
    )
    assert r.status_code == 200, r.text
    session = bearer(r.json()["token"])
    assert (await review.get("/api/v1/cases", headers=session)).status_code == 200
    await asyncio.sleep(3.1)  # the session lasts 2 s in this system (GONGKAI_REVIEW_SESSION_HOURS)
    expired = await review.get("/api/v1/cases", headers=session)
    assert expired.status_code == 401 and "过期" in expired.json()["message"]


async def test_a_disabled_account_s_tokens_stop_working_everywhere(system: System) -> None:
    user = await add_user(system, "wang.gone", Role.auditor, name="王离职")
    token = await api_token(system, user)
    for service, path in (("review", "/api/v1/cases"), ("intake", "/api/v1/status")):
        assert (await system.clients[service].get(path, headers=token)).status_code != 401
    r = await system.clients["review"].post(
        f"/api/v1/users/{user['user_id']}/disable", json={"reason": "调离"}, headers=OPERATOR
    )
    assert r.status_code == 201, r.text
    await system.settle()
    assert (await system.clients["review"].get("/api/v1/cases", headers=token)).status_code == 401
    listed = (await system.clients["review"].get("/api/v1/users", headers=OPERATOR)).json()["items"]
    assert [u["disabled"] for u in listed if u["login"] == "wang.gone"] == [True]


async def test_a_token_for_an_account_never_added_is_refused(system: System) -> None:
    forged = issue_token(SECRET, "no-such-user", TokenKind.api, timedelta(hours=1))
    r = await system.clients["review"].get("/api/v1/cases", headers=bearer(forged))
    assert r.status_code == 401


async def test_drafter_and_signer_are_compared_by_id_not_by_name(system: System) -> None:
    """Two people called 张三: one drafts, the other may sign. One person holding both roles may
    not sign their own draft, whatever the spelling of their name."""
    drafter = await add_user(system, "zhang.a", Role.reviewer, Role.approver, name="张三")
    namesake = await add_user(system, "zhang.b", Role.approver, name="张三")
    as_drafter, as_namesake = await api_token(system, drafter), await api_token(system, namesake)
    case = await apply(system)
    url = f"/api/v1/cases/{case['case_id']}"
    review = system.clients["review"]
    registrar = System.token("registrar")
    assert (await review.post(f"{url}/register", json={}, headers=registrar)).status_code == 201
    r = await review.post(
        f"{url}/confidentiality-review", json={"passed": True, "notes": "-"}, headers=as_drafter
    )
    assert r.status_code == 201, r.text
    assert (await review.post(f"{url}/draft", json=DISCLOSE, headers=as_drafter)).status_code == 201
    own = await review.post(f"{url}/sign-off", json={}, headers=as_drafter)
    assert own.status_code == 409 and "拟稿人" in own.json()["message"]
    other = await review.post(f"{url}/sign-off", json={}, headers=as_namesake)
    assert other.status_code == 201, other.text


async def test_an_administrator_without_the_approver_role_cannot_sign_off_or_extend(system: System) -> None:
    admin = await api_token(system, await add_user(system, "it.admin", Role.admin))
    case = await apply(system)
    for step in ("sign-off", "extension", "consultations/override"):
        r = await system.clients["review"].post(
            f"/api/v1/cases/{case['case_id']}/{step}", json={}, headers=admin
        )
        assert r.status_code == 403, (step, r.text)
    assert (await system.clients["review"].get("/api/v1/users", headers=admin)).status_code == 200


async def test_every_command_is_open_to_exactly_the_roles_of_the_workflow_table(system: System) -> None:
    """Generated from the table (commands.COMMANDS), every command for every role: a role the
    table names is let through to the rules (no 401/403, whatever the case says next); any other
    role, administrators included, is 403."""
    wrong = []
    for command in COMMANDS:
        for role in Role:
            r = await system.clients["review"].post(
                f"/api/v1/cases/no-such-case/{command.path}",
                json={},
                headers=System.token(role, f"matrix-{role.value}"),
            )
            allowed = role in command.roles
            if (r.status_code in (401, 403)) == allowed or (not allowed and r.status_code != 403):
                wrong.append((command.name, role.value, r.status_code))
    assert wrong == []


async def test_a_handler_sees_and_acts_only_on_their_departments_cases_with_details_masked(
    system: System,
) -> None:
    education = await api_token(system, await add_user(system, "jy", Role.handler, department="教育处"))
    finance = await api_token(system, await add_user(system, "cw", Role.handler, department="财务处"))
    reviewer = await add_user(system, "sh", Role.reviewer)
    case = await apply(system)
    url = f"/api/v1/cases/{case['case_id']}"
    review = system.clients["review"]
    assert (
        await review.post(f"{url}/register", json={}, headers=System.token("registrar"))
    ).status_code == 201
    assigned = await review.post(
        f"{url}/assign", json={"departments": ["教育处"]}, headers=System.token("registrar")
    )
    assert assigned.status_code == 201, assigned.text

    after = {"min_seq": assigned.json()["sequence"]}  # read what was just written
    queue = (await review.get("/api/v1/cases", params=after, headers=education)).json()["items"]
    assert [c["case_id"] for c in queue] == [case["case_id"]]
    seen = (await review.get(url, headers=education)).json()
    received = next(t for t in seen["trail"] if t["event"] == "request-received")
    assert received["data"]["applicant"]["contact"] == "***"
    feedback = {"department": "教育处", "holds_information": True, "summary": "本处保存该信息"}
    assert (await review.post(f"{url}/feedback", json=feedback, headers=education)).status_code == 201
    other = {**feedback, "department": "财务处"}
    assert (await review.post(f"{url}/feedback", json=other, headers=education)).status_code == 403

    assert (await review.get("/api/v1/cases", headers=finance)).json()["items"] == []
    assert (await review.get(url, headers=finance)).status_code == 403
    assert (await review.post(f"{url}/feedback", json=other, headers=finance)).status_code == 403

    # the reviewer sees the details, and that read is recorded for the auditors; handlers' are not
    full = (await review.get(url, headers=await api_token(system, reviewer))).json()
    received = next(t for t in full["trail"] if t["event"] == "request-received")
    assert received["data"]["applicant"]["contact"]["email"] == "lisi@example.edu.cn"
    await system.settle()
    reads = (await review.get(f"{url}/personal-data-reads", headers=System.token("auditor"))).json()["reads"]
    assert [(r["user_id"], r["role"]) for r in reads] == [(reviewer["user_id"], "reviewer")]


async def test_the_sign_in_page_in_chinese(system: System) -> None:
    await add_user(system, "zhao", Role.registrar, name="赵登记", password="a long enough password")
    review = system.clients["review"]
    page = await review.get("/staff/sign-in")
    assert page.status_code == 200 and "工作人员登录" in page.text and 'lang="zh-CN"' in page.text
    wrong = await review.post("/staff/sign-in", data={"login": "zhao", "password": "nope"})
    assert wrong.status_code == 401 and "登录名或密码错误" in wrong.text
    ok = await review.post("/staff/sign-in", data={"login": "zhao", "password": "a long enough password"})
    assert ok.status_code == 200 and "登录成功：赵登记" in ok.text
    token = ok.text.split('class="token">')[1].split("<")[0]
    assert (await review.get("/api/v1/cases", headers=bearer(token))).status_code == 200
