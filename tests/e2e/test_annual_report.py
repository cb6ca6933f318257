"""The annual report (条例 Art. 49-50, 国办公开办函〔2021〕30号) of a year built through the HTTP API.

A year of varied cases: every outcome row, every applicant type, cases carried over into 2026 and
carried forward out of it, a correction across the year boundary, a withdrawal, a fee abandonment,
a fee paid, appeals with each result. The test keeps its own ledger of what each case is (type,
year of receipt, day and row of its end) and derives every cell of tables 三 and 四 from it, then
compares every cell of the report the office downloads and the one an auditor computes with the
CLI, at the same log position.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from gongkai_shared.annual_report import COLUMNS, TABLE3
from gongkai_shared.clock import FakeClock
from gongkai_shared.outcomes import ROWS, Outcome
from tests.flow import apply, command, decide
from tests.harness import System
from tests.servers import NatsServer

TYPES = [c for c, _ in COLUMNS[:-1]]


@dataclass
class Entry:
    case_id: str
    kind: str
    received: date
    ended: date | None = None
    row: str | None = None


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 12, 15, 2, 0, tzinfo=UTC))  # Monday 10:00 Beijing


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str, clock: FakeClock):
    s = await System(nats_server, database_url, clock=clock, intake={"rate_applications": "off"}).start(
        "intake", "review", "publishing"
    )
    yield s
    await s.stop()


def on(clock: FakeClock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))


def draft_for(code: str) -> dict[str, Any]:
    """A draft of each answer code, with what its article requires."""
    r = next(r for r in ROWS if r.code == code)
    body: dict[str, Any] = {"outcome": r.outcome.value, "reasons": [r.reason] if r.reason else []}
    if r.outcome in (Outcome.disclose, Outcome.partial) and r.reason is None:
        body["disclosed_content"] = "2026年度部门预算公开表。"
    if r.outcome == Outcome.partial:
        body["withheld_parts"] = [
            {"part": "经办人手机号码。", "reason": "third_party_rights", "explanation": "属于个人隐私。"}
        ]
    if r.reason == "already_published":
        body["published_at"] = "本机关门户网站政府信息公开专栏。"
    if r.outcome == Outcome.withhold or code == "other.other":
        body["reason_text"] = "该信息的具体情况说明。"
    if code == "not_held.not_this_agency":
        body["responsible_agency"] = "市自然资源局"
        body["responsible_agency_contact"] = "0000-12345678"
    return body


class Year:
    def __init__(self, system: System, clock: FakeClock) -> None:
        self.system, self.clock = system, clock
        self.ledger: list[Entry] = []
        self.types = iter(TYPES * 20)

    async def receive(self, day: date, kind: str | None = None) -> tuple[Entry, dict]:
        on(self.clock, day)
        kind = kind or next(self.types)
        received = await apply(
            self.system,
            applicant={
                "name": f"申请人{len(self.ledger)}",
                "type": kind,
                "contact": {"email": f"a{len(self.ledger)}@example.cn"},
            },
            description=f"第{len(self.ledger)}号申请：2026年度部门预算",
        )
        entry = Entry(received["case_id"], kind, day)
        self.ledger.append(entry)
        return entry, received

    async def answer(self, entry: Entry, code: str, day: date, *, registered: bool = False) -> None:
        on(self.clock, day)
        if registered:
            case_id = entry.case_id
            await command(
                self.system, case_id, "confidentiality-review", {"passed": True, "notes": "无"}, "reviewer"
            )
            await command(self.system, case_id, "draft", draft_for(code), "reviewer", "甲")
            await command(self.system, case_id, "sign-off", {}, "approver", "乙")
        else:
            await decide(self.system, entry.case_id, draft_for(code))
        await command(self.system, entry.case_id, "answer", {}, "registrar")
        entry.ended, entry.row = day, next(r.report_row for r in ROWS if r.code == code)


def expected_table3(ledger: list[Entry], year: int) -> dict[str, dict[str, int]]:
    """Each cell from the ledger: 一 received in the year, 二 received before and open at its
    start, 三 ended in it by row, 四 received by its end and open at it."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    cells: dict[str, dict[str, int]] = {line.key: defaultdict(int) for line in TABLE3}
    for e in ledger:
        if e.received > end or (e.ended and e.ended < start):
            continue
        counted = ["一" if e.received >= start else "二"]
        if e.ended and e.ended <= end:
            assert e.row is not None
            counted += [e.row, "三.（七）"]
        else:
            counted.append("四")
        for key in counted:
            cells[key][e.kind] += 1
            cells[key]["total"] += 1
    return cells


def gongkai(nats: NatsServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **nats.cli_env()}
    return subprocess.run(
        [sys.executable, "-m", "gongkai_cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


async def test_a_year_of_cases_gives_every_cell_of_the_national_format(
    system: System, clock: FakeClock, nats_server: NatsServer
) -> None:
    year = Year(system, clock)

    # carried over into 2026: received 2025-12-15, answered 2026-01-12
    carried, _ = await year.receive(date(2025, 12, 15), "natural_person")
    # a correction across the boundary: received 2025-12-29, corrected 2026-01-05, still unclear
    corrected, _ = await year.receive(date(2025, 12, 29), "commercial_enterprise")
    await command(system, corrected.case_id, "register", {}, "registrar")
    await command(
        system,
        corrected.case_id,
        "clarification",
        {"items": ["请说明所需信息的名称、文号或者便于查询的其他特征性描述。"]},
        "registrar",
    )
    # ended in 2025, never in the 2026 report
    early, _ = await year.receive(date(2025, 12, 16), "research_institution")
    await year.answer(early, "disclose", date(2025, 12, 22))

    on(clock, date(2026, 1, 5))
    await command(
        system,
        corrected.case_id,
        "clarification/received",
        {"received_on": "2026-01-05", "summary": "所需信息为2026年度部门预算总表。"},
        "registrar",
    )
    await year.answer(carried, "disclose", date(2026, 1, 12))
    on(clock, date(2026, 1, 20))
    await command(
        system, corrected.case_id, "confidentiality-review", {"passed": True, "notes": "无"}, "reviewer"
    )
    await command(system, corrected.case_id, "draft", draft_for("not_held.unclear"), "reviewer", "甲")
    await command(system, corrected.case_id, "sign-off", {}, "approver", "乙")
    await command(system, corrected.case_id, "answer", {}, "registrar")
    corrected.ended, corrected.row = date(2026, 1, 20), "三.（四）.3"

    # every answer row through the draft, in 2026, every applicant type in turn
    day = date(2026, 2, 2)
    answered = [
        r.code for r in ROWS if r.current and r.outcome != Outcome.other and r.code != "not_held.unclear"
    ]
    answered.append("other.other")
    for code in answered:
        entry, _ = await year.receive(day)
        await year.answer(entry, code, day + timedelta(days=7))
        day += timedelta(days=7)

    # a withdrawal by the applicant (三.（六）.3)
    withdrawn, received = await year.receive(date(2026, 7, 6))
    await command(system, withdrawn.case_id, "register", {}, "registrar")
    on(clock, date(2026, 7, 8))
    r = await system.clients["intake"].post(
        f"/api/v1/applications/{received['tracking_code']}/withdrawal", json={"reason": "不再需要"}
    )
    assert r.status_code in (200, 201, 202), r.text
    withdrawn.ended, withdrawn.row = date(2026, 7, 8), "三.（六）.3"

    # no correction in the period (三.（六）.1)
    silent, _ = await year.receive(date(2026, 8, 3))
    await command(system, silent.case_id, "register", {}, "registrar")
    await command(system, silent.case_id, "clarification", {"items": ["请说明所需信息的名称。"]}, "registrar")
    on(clock, date(2026, 9, 1))
    await command(system, silent.case_id, "abandon", {}, "registrar")
    silent.ended, silent.row = date(2026, 9, 1), "三.（六）.1"

    # a fee by volume: one paid, one unpaid and abandoned (三.（六）.2)
    paid, _ = await year.receive(date(2026, 9, 7))
    unpaid, _ = await year.receive(date(2026, 9, 7))
    for e in (paid, unpaid):
        await command(system, e.case_id, "register", {}, "registrar")
        await command(system, e.case_id, "fee", {"basis": "per_volume", "pages": 40}, "reviewer")
    on(clock, date(2026, 9, 10))
    await command(
        system, paid.case_id, "fee/paid", {"amount_yuan": 100, "paid_on": "2026-09-10"}, "registrar"
    )
    await year.answer(paid, "disclose", date(2026, 9, 14), registered=True)
    on(clock, date(2026, 11, 2))
    await command(system, unpaid.case_id, "fee/unpaid", {}, "registrar")
    unpaid.ended, unpaid.row = date(2026, 11, 2), "三.（六）.2"

    # carried forward out of 2026: received 2026-12-21, answered 2027-01-11
    forward, _ = await year.receive(date(2026, 12, 21), "legal_service_org")
    await year.answer(forward, "disclose", date(2027, 1, 11))

    # appeals against answers: each result of each kind, and undecided ones (尚未审结)
    refused = next(e for e in year.ledger if e.row == "三.（三）.1")
    appeals = [
        ("reconsideration", "2026-03-02", "upheld", "2026-04-20"),
        ("reconsideration", "2026-03-03", "corrected", "2026-04-21"),
        ("reconsideration", "2026-03-04", "other", "2026-04-22"),
        ("reconsideration", "2026-12-01", None, None),
        ("lawsuit", "2026-05-06", "upheld", "2026-08-03"),
        ("lawsuit", "2026-05-07", None, None),
    ]
    expected4: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    on(clock, date(2026, 12, 2))
    for kind, filed, result, decided in appeals:
        await command(
            system,
            refused.case_id,
            "appeals",
            {
                "kind": kind,
                "body": "市人民政府" if kind == "reconsideration" else "区人民法院",
                "filed_on": filed,
            },
            "registrar",
        )
        if result:
            appeal_id = await appeal_id_of(system, kind, filed)
            await command(
                system,
                refused.case_id,
                "appeals/result",
                {"appeal_id": appeal_id, "result": result, "decided_on": decided},
                "reviewer",
            )
        expected4[kind][result or "pending"] += 1
        expected4[kind]["total"] += 1
    after = {
        "kind": "lawsuit_after_reconsideration",
        "body": "市中级人民法院",
        "filed_on": "2026-12-02",
        "after": await appeal_id_of(system, "reconsideration", "2026-03-02"),
    }
    await command(system, refused.case_id, "appeals", after, "registrar")
    on(clock, date(2026, 12, 3))
    await command(
        system,
        refused.case_id,
        "appeals/result",
        {
            "appeal_id": await appeal_id_of(system, "lawsuit_after_reconsideration", "2026-12-02"),
            "result": "corrected",
            "decided_on": "2026-12-03",
        },
        "reviewer",
    )
    expected4["lawsuit_after_reconsideration"]["corrected"] += 1
    expected4["lawsuit_after_reconsideration"]["total"] += 1

    # every applicant type and every row of the format's results are in the year
    assert {e.kind for e in year.ledger} == set(TYPES)
    rows_2026 = {e.row for e in year.ledger if e.ended and e.ended.year == 2026}
    assert rows_2026 == {
        line.key for line in TABLE3 if line.key.startswith("三.") and line.key != "三.（七）"
    }

    # the office's report
    await system.settle()
    auditor = System.token("auditor")
    r = await system.clients["review"].get("/api/v1/reports/annual/2026", headers=auditor)
    assert r.status_code == 200, r.text
    report = r.json()
    expected = expected_table3(year.ledger, 2026)
    for line in report["table3"]["lines"]:
        for key, label in COLUMNS:
            assert line["cells"][key] == expected[line["key"]][key], (line["label"], label)
    assert report["check"]["holds"], report["check"]
    for kind, results in report["table4"]["cells"].items():
        for result, n in results.items():
            assert n == expected4[kind][result], (kind, result)
    assert report["fees_collected_yuan"] == 100
    position = report["log_position"]

    # the same position gives the same numbers, after more events; and the auditor's CLI agrees
    await year.receive(date(2026, 12, 28))
    again = await system.clients["review"].get(
        "/api/v1/reports/annual/2026", params={"at": position}, headers=auditor
    )
    assert again.json() == report
    newer = (await system.clients["review"].get("/api/v1/reports/annual/2026", headers=auditor)).json()
    assert newer["log_position"] > position
    assert newer["table3"]["lines"][0]["cells"]["total"] == report["table3"]["lines"][0]["cells"]["total"] + 1
    cli = gongkai(
        nats_server, "report", "annual", "--agency", report["agency"], "--year", "2026", "--at", str(position)
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == report

    # the other formats carry the same cells; only staff of the office and auditors read it
    xlsx = await system.clients["review"].get(
        "/api/v1/reports/annual/2026", params={"format": "xlsx", "at": position}, headers=auditor
    )
    sheet = load_workbook(io.BytesIO(xlsx.content))["三、申请情况"]
    totals = {row[1]: row[-1] for row in sheet.iter_rows(values_only=True) if len(row) > 2 and row[1]}
    assert totals["（七）总计"] == expected["三.（七）"]["total"]
    html = await system.clients["review"].get(
        "/api/v1/reports/annual/2026", params={"format": "html"}, headers=auditor
    )
    assert "三、收到和处理政府信息公开申请情况" in html.text and "四、结转下年度继续办理" in html.text
    denied = await system.clients["review"].get(
        "/api/v1/reports/annual/2026", headers=System.token("handler")
    )
    assert denied.status_code == 403


async def appeal_id_of(system: System, kind: str, filed_on: str) -> str:
    await system.settle()
    r = await system.clients["review"].get(
        "/api/v1/appeals", params={"year": 2026, "limit": 100}, headers=System.token("auditor")
    )
    assert r.status_code == 200, r.text
    [found] = [a for a in r.json()["items"] if a["kind"] == kind and a["filed_on"] == filed_on]
    return found["appeal_id"]


async def register_rule(system: System, title: str, rule_type: str, formed_on: str) -> str:
    """A rule of Art. 20(1) registered by a department in publishing (issue 10)."""
    metadata = {
        "title": title,
        "doc_number": f"X教规〔{formed_on[:4]}〕{len(title)}号",
        "issuing_body": "X市教育局",
        "formed_on": formed_on,
        "attribute": "proactive",
        "category": "rules",
        "rule_type": rule_type,
        "summary": f"{title}的内容概述",
    }
    r = await system.clients["publishing"].post(
        "/api/v1/information/documents",
        json={"department": "政策法规科", "metadata": metadata},
        headers=System.token("handler", "丙"),
    )
    assert r.status_code == 201, r.text
    return r.json()["aggregate_id"]


async def test_table_two_counts_rules_issued_repealed_and_in_force_from_documents(
    system: System, clock: FakeClock
) -> None:
    """Table 二, 第二十条第（一）项: 规章 and 行政规范性文件 by 成文日期 (issued in the year), 废止日期
    (repealed in it) and in force at its end, from the documents registered in publishing."""
    on(clock, date(2026, 7, 1))
    old = await register_rule(system, "学校安全管理办法", "normative", "2025-03-01")
    await register_rule(system, "校外培训监管办法", "normative", "2026-04-01")
    await register_rule(system, "民办学校管理规定", "regulation", "2026-05-01")
    await register_rule(system, "2027年招生办法", "normative", "2027-01-05")  # next year's
    r = await system.clients["publishing"].post(
        f"/api/v1/information/documents/{old}/repeal",
        json={"repealed_on": "2026-06-30", "reason": "已被新办法替代"},
        headers=System.token("approver", "乙"),
    )
    assert r.status_code == 201, r.text
    await system.settle()
    auditor = System.token("auditor")
    report = (await system.clients["review"].get("/api/v1/reports/annual/2026", headers=auditor)).json()
    assert report["table2"]["rules"]["normative"] == {"issued": 1, "repealed": 1, "in_force": 1}
    assert report["table2"]["rules"]["regulation"] == {"issued": 1, "repealed": 0, "in_force": 1}
    last_year = (await system.clients["review"].get("/api/v1/reports/annual/2025", headers=auditor)).json()
    assert last_year["table2"]["rules"]["normative"] == {"issued": 1, "repealed": 0, "in_force": 1}


async def test_the_office_figures_of_table_two_are_recorded_as_events(
    system: System, clock: FakeClock
) -> None:
    """Licensing and enforcement decisions and charges are the office's inputs: recorded by an
    approver as an event, so the report still comes from the log alone; the last one counts."""
    approver = System.token("approver")
    figures = {"licensing": 120, "penalties": 7, "compulsory_measures": 1, "charges_yuan": 25_000}
    r = await system.clients["review"].put(
        "/api/v1/reports/annual/2026/figures", json=figures, headers=approver
    )
    assert r.status_code == 200, r.text
    r = await system.clients["review"].put(
        "/api/v1/reports/annual/2026/figures", json={**figures, "penalties": 8}, headers=approver
    )
    assert r.status_code == 200, r.text
    bad = await system.clients["review"].put(
        "/api/v1/reports/annual/2026/figures", json={**figures, "licensing": -1}, headers=approver
    )
    assert bad.status_code == 422 and "licensing" in bad.text
    handler = await system.clients["review"].put(
        "/api/v1/reports/annual/2026/figures", json=figures, headers=System.token("reviewer")
    )
    assert handler.status_code == 403
    report = (
        await system.clients["review"].get("/api/v1/reports/annual/2026", headers=System.token("auditor"))
    ).json()
    assert report["table2"]["figures"] == {"licensing": 120, "penalties": 8, "compulsory_measures": 1}
    assert report["table2"]["charges_yuan"] == 25_000
    html = (
        await system.clients["review"].get(
            "/api/v1/reports/annual/2026", params={"format": "html"}, headers=System.token("auditor")
        )
    ).text
    assert "2.5000" in html  # 万元
