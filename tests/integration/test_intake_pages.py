"""Applicants' pages in Simplified Chinese: the form appends what the API appends, or explains."""

from __future__ import annotations

import asyncio
import re

from tests.harness import System

FORM = {
    "name": "赵六",
    "type": "public_interest_org",
    "email": "zhao@example.org",
    "description": "2025年度本区养老机构监督检查结果",
    "form": "electronic",
    "delivery": "email",
}


async def test_the_form_is_in_chinese_and_a_submission_is_received(intake: System) -> None:
    client = intake.clients["intake"]
    page = await client.get("/apply")
    assert page.status_code == 200 and "政府信息公开申请表" in page.text and 'lang="zh-CN"' in page.text

    r = await client.post("/apply", data=FORM)
    assert r.status_code == 201 and "申请已提交" in r.text
    code = re.search(r'class="code">([A-Z2-7]{24})<', r.text).group(1)
    [event] = await intake.runtime("intake").store.history(
        (await client.get(f"/api/v1/applications/{code}", params={"min_seq": 1})).json()["case_id"]
    )
    assert (
        event.name == "request-received" and event.envelope.data["applicant"]["type"] == "public_interest_org"
    )

    tracked = await client.get(f"/track/{code}")
    assert tracked.status_code == 200 and "办理过程" in tracked.text and "收到申请" in tracked.text
    assert (await client.get("/track", params={"code": code.lower()})).headers["location"] == f"/track/{code}"


async def test_a_bad_form_explains_each_field_and_appends_nothing(intake: System) -> None:
    before = await intake.runtime("intake").store.last_seq()
    r = await intake.clients["intake"].post("/apply", data={**FORM, "name": "", "email": "不是邮箱"})
    assert r.status_code == 422
    assert "申请人姓名或名称" in r.text and "电子邮箱" in r.text
    assert "2025年度本区养老机构监督检查结果" in r.text  # what was typed is kept
    assert await intake.runtime("intake").store.last_seq() == before


async def test_an_unknown_code_is_a_polite_404(intake: System) -> None:
    r = await intake.clients["intake"].get("/track/AAAAAAAAAAAAAAAAAAAAAAAA")
    assert r.status_code == 404 and "未找到" in r.text and "<script" not in r.text


def token_of(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


async def test_a_double_submitted_form_is_one_case_and_both_answers_show_the_same_code(
    intake: System,
) -> None:
    client, store = intake.clients["intake"], intake.runtime("intake").store
    page = await client.get("/apply")
    assert page.headers["cache-control"] == "no-store"  # each rendering its own token
    token = token_of(page.text)
    assert token != token_of((await client.get("/apply")).text)
    before = await store.last_seq()

    # a double click: the same form, twice at once, then once more (a reload)
    first, second = await asyncio.gather(
        client.post("/apply", data={**FORM, "token": token}),
        client.post("/apply", data={**FORM, "token": token}),
    )
    third = await client.post("/apply", data={**FORM, "token": token})
    codes = {re.search(r'class="code">([A-Z2-7]{24})<', r.text).group(1) for r in (first, second, third)}
    assert [r.status_code for r in (first, second, third)] == [201, 201, 201] and len(codes) == 1
    assert await store.last_seq() == before + 1  # one case

    # the same form with other content: no second case under that token, a fresh one to submit with
    other = await client.post("/apply", data={**FORM, "token": token, "description": "另一份申请的内容"})
    assert other.status_code == 409 and "已提交过" in other.text
    assert token_of(other.text) != token and "另一份申请的内容" in other.text
    assert await store.last_seq() == before + 1


async def test_a_form_whose_token_was_tampered_with_is_refused_with_a_fresh_form(intake: System) -> None:
    store = intake.runtime("intake").store
    before = await store.last_seq()
    r = await intake.clients["intake"].post("/apply", data={**FORM, "token": "<script>"})
    assert r.status_code == 422 and "表单已失效" in r.text and "<script>" not in r.text
    assert len(token_of(r.text)) == 32
    assert await store.last_seq() == before
