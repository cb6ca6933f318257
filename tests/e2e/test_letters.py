"""Letters as official documents through real NATS and PostgreSQL (issue 9): document numbers
taken when the letter's event is decided, unique per type and year even when letters of one
type are decided at once; every letter of a case listed and served as PDF and text."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, datetime

import pypdf
import pytest

from gongkai_shared.clock import FakeClock
from tests.flow import apply, command, events_named
from tests.harness import System
from tests.servers import NatsServer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Monday 2026-03-02, 10:00 in Beijing


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str, clock: FakeClock):
    s = await System(nats_server, database_url, clock=clock).start("intake", "review")
    yield s
    await s.stop()


async def test_letter_numbers_are_unique_per_type_and_year_under_concurrency(system: System) -> None:
    """Six clarification notices (Art. 30) decided at once get 补正 numbers 1-6 of 2026, each
    once; the extension letter (Art. 33) starts its own counter at 1."""
    cases = [(await apply(system, description=f"2025年度第{i}号文件。"))["case_id"] for i in range(6)]
    for case_id in cases:
        await command(system, case_id, "register", {}, "registrar")
    # the harness creates the reviewer's account on its first request: once, before the race
    await system.clients["review"].get(f"/api/v1/cases/{cases[0]}", headers=System.token("reviewer"))
    await asyncio.gather(
        *(command(system, c, "clarification", {"items": ["请提供文件的文号。"]}, "reviewer") for c in cases)
    )
    sent = await events_named(system, "clarification-requested")
    numbers = sorted(e.envelope.data["letter"]["number"] for e in sent)
    assert numbers == sorted(f"X政信补正〔2026〕{n}号" for n in range(1, 7))
    await command(system, cases[0], "extension", {"working_days": 20, "reason": "需要协调。"}, "approver")
    [extended] = await events_named(system, "extension-approved")
    assert extended.envelope.data["letter"]["number"] == "X政信延期〔2026〕1号"
    taken = await events_named(system, "letter-number-assigned")
    assert sorted((e.envelope.data["counter"], e.envelope.data["number"]) for e in taken) == [
        *(("clarification", n) for n in range(1, 7)),
        ("extension", 1),
    ]


async def test_a_cases_letters_are_listed_and_served_as_pdf_and_text(system: System) -> None:
    case_id = (await apply(system))["case_id"]
    await command(system, case_id, "register", {}, "registrar")
    await command(system, case_id, "clarification", {"items": ["请说明年份"]}, "reviewer")
    await system.settle()
    review = system.clients["review"]
    r = await review.get(f"/api/v1/cases/{case_id}/letters", headers=System.token("auditor"))
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert item["kind"] == "clarification" and item["number"] == "X政信补正〔2026〕1号"
    assert item["issued_on"] == "2026-03-02"

    r = await review.get(item["pdf"], headers=System.token("registrar"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(r.content))
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))
    assert len(reader.pages) == 1
    for needed in (
        "政府信息公开申请补正告知书",
        "某市人民政府办公室",
        "X政信补正〔2026〕1号",
        "二〇二六年三月二日",
    ):
        assert needed in text

    r = await review.get(item["txt"], headers=System.token("reviewer"))
    assert r.status_code == 200 and r.text.startswith("政府信息公开申请补正告知书\n\nX政信补正〔2026〕1号\n")
    assert (await review.get(item["txt"])).status_code == 401
    missing = await review.get(f"/api/v1/cases/{case_id}/letters/nope.pdf", headers=System.token("auditor"))
    assert missing.status_code == 404
    wrong = await review.get(item["pdf"].replace(".pdf", ".doc"), headers=System.token("auditor"))
    assert wrong.status_code == 404
    nocase = await review.get("/api/v1/cases/no-such-case/letters", headers=System.token("auditor"))
    assert nocase.status_code == 404
