"""A rebuild equals the live projection (issue 12): review's projection replayed from sequence 1
into a fresh schema holds exactly the live tables, row by row, after a realistic workflow (the
batched path rebuilds what the live runner applied batch by batch as events arrived)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from gongkai_review.projection import CasesProjection
from gongkai_shared.clock import FakeClock
from gongkai_shared.rebuild import rebuild_and_compare
from gongkai_shared.staff import StaffProjection
from tests.e2e.test_review_workflow import THIRD_PARTY, sign_and_answer
from tests.flow import (
    DISCLOSE,
    apply,
    command,
    publish_on_request,
    publish_proactive,
    register_document,
    wait_for_count,
)
from tests.harness import System, migrations_of
from tests.servers import NatsServer

PART = {"part": "某小学学生家庭住址名单", "reason": "third_party_rights", "explanation": "学生个人信息"}


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str):
    clock = FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Monday, 10:00 in Beijing
    s = await System(nats_server, database_url, clock=clock).start("intake", "review", "publishing")
    s.clock = clock
    yield s
    await s.stop()


async def workflow(system: System) -> None:
    """A proactive document published (with notify running: its Art. 26 deadline); cases along
    different paths: answered and published (Art. 44), refused, consulted, partly
    withheld, withdrawn, left half-way, each naming the documents it discloses or withholds;
    personal data read by staff."""
    plan = await register_document(system, "2025年义务教育学校划片方案")
    panel = await register_document(system, "2026年市重点工程招标评标委员会名单")
    zoning = await register_document(system, "2025年招生划片范围及学生名单")
    await publish_proactive(system, "2026年部门预算", category="budget", formed_on="2026-03-02")
    disclosed = await apply(system)
    await command(system, disclosed["case_id"], "register", {}, "registrar")
    await command(system, disclosed["case_id"], "assign", {"departments": ["教育科"]}, "registrar")
    feedback = {"department": "教育科", "holds_information": True, "summary": "有", "documents": [plan]}
    await command(system, disclosed["case_id"], "feedback", feedback, "reviewer")
    await sign_and_answer(system, disclosed["case_id"], {**DISCLOSE, "documents": [plan]})
    await publish_on_request(system, disclosed["case_id"], [plan])

    withheld = await apply(system, description="2026年市重点工程招标评标委员会名单")
    await command(system, withheld["case_id"], "register", {}, "registrar")
    refusal = {"document_id": panel, "reason": "security_stability", "explanation": "公开后危及评标公正"}
    await sign_and_answer(
        system,
        withheld["case_id"],
        {"outcome": "withhold", "reasons": ["security_stability"], "reason_text": "公开后危及评标公正",
         "withheld_documents": [refusal]},
    )  # fmt: skip

    consulted = await apply(system, description="某科技有限公司投标文件")
    await command(system, consulted["case_id"], "register", {"profile": "national-2019"}, "registrar")
    await command(system, consulted["case_id"], "consultations", THIRD_PARTY, "reviewer")

    partial = await apply(system, description="2025年招生划片范围及学生名单")
    await command(system, partial["case_id"], "register", {}, "registrar")
    await sign_and_answer(
        system,
        partial["case_id"],
        {
            "outcome": "partial",
            "disclosed_content": "2025年招生划片范围",
            "withheld_parts": [PART],
            "documents": [zoning],
            "withheld_documents": [{"document_id": zoning, **PART}],
        },
    )
    withdrawn = await apply(system, description="本局2024年财政预算")
    await system.settle()
    r = await system.clients["intake"].post(
        f"/api/v1/applications/{withdrawn['tracking_code']}/withdrawal", json={"reason": "不再需要"}
    )
    assert r.status_code == 202, r.text
    received_only = await apply(system, description="本局2023年度报告")
    await system.settle()
    r = await system.clients["review"].get(
        f"/api/v1/cases/{received_only['case_id']}", headers=System.token("auditor")
    )
    assert r.status_code == 200, r.text  # a read of personal data: in the log, then in the table
    # the proactive one and the Art. 44 one; the partly withheld document is not published
    await wait_for_count(system, "published", 2)
    await wait_for_count(system, "application-withdrawn", 1)
    await system.settle()


async def test_rebuilding_review_gives_exactly_the_live_tables(system: System) -> None:
    await workflow(system)
    rt = system.runtime("review")
    projections = [CasesProjection(), StaffProjection("review")]
    comparison = await rebuild_and_compare(
        system.database_url, rt.store, projections, migrations_of("review"), live_schema="review"
    )
    assert comparison.equal, comparison.report()
    assert comparison.rows["cases"] == 6 and comparison.rows["case_trail"] > 20
    assert comparison.rows["personal_data_reads"] >= 1
    assert comparison.positions["review.cases"][0] == rt.runners["review.cases"].position


async def test_a_live_row_that_the_log_does_not_say_is_reported_by_column(system: System) -> None:
    """The comparison can fail: a row changed behind the projection's back is named, with the
    columns that differ and both values."""
    await workflow(system)
    conn = await asyncpg.connect(system.database_url)
    try:
        case_id = await conn.fetchval("SELECT case_id FROM review.cases WHERE status = 'answered' LIMIT 1")
        await conn.execute("UPDATE review.cases SET status = 'archived' WHERE case_id = $1", case_id)
        await conn.execute(
            "DELETE FROM review.case_trail WHERE case_id = $1 AND event = 'answer-sent'", case_id
        )
    finally:
        await conn.close()
    rt = system.runtime("review")
    projections = [CasesProjection(), StaffProjection("review")]
    comparison = await rebuild_and_compare(
        system.database_url, rt.store, projections, migrations_of("review"), live_schema="review"
    )
    assert not comparison.equal
    assert comparison.counts == {"cases": 1, "case_trail": 1}
    [changed] = comparison.differences["cases"]
    assert changed.key == {"case_id": case_id} and changed.columns == ["status"]
    assert changed.live is not None and changed.live["status"] == "archived"
    assert changed.rebuilt is not None and changed.rebuilt["status"] == "answered"
    [missing] = comparison.differences["case_trail"]
    assert missing.live is None and missing.rebuilt is not None and missing.rebuilt["event"] == "answer-sent"
    assert "only in the rebuild" in comparison.report()
