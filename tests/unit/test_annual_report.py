"""The annual report (国办公开办函〔2021〕30号) from events: its rows, its check, its counts."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from gongkai_shared.annual_report import COLUMNS, RESULT_ROWS, TABLE3, TYPES, AnnualReport
from gongkai_shared.annual_report_render import render
from gongkai_shared.outcomes import ROWS

NOON = timedelta(hours=4)  # 12:00 Beijing


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + NOON


def test_every_outcome_ends_in_a_row_of_the_format() -> None:
    """Each answer code's report row is one of table 三's rows (else a case could fall outside)."""
    assert {r.report_row for r in ROWS} <= set(RESULT_ROWS)


def test_table_three_is_labelled_and_ordered_as_the_format_prints_it() -> None:
    labels = [line.label for line in TABLE3]
    assert labels[0] == "一、本年新收政府信息公开申请数量"
    assert labels[1] == "二、上年结转政府信息公开申请数量"
    assert labels[2:4] == ["（一）予以公开", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"]
    assert labels[4] == "1.属于国家秘密" and labels[11] == "8.属于行政查询事项"
    assert labels[12:15] == [
        "1.本机关不掌握相关政府信息",
        "2.没有现成信息需要另行制作",
        "3.补正后申请内容仍不明确",
    ]
    assert labels[-2:] == ["（七）总计", "四、结转下年度继续办理"]
    assert len(TABLE3) == 2 + 2 + 8 + 3 + 5 + 3 + 1 + 1
    assert [label for _, label in COLUMNS] == [
        "自然人",
        "商业企业",
        "科研机构",
        "社会公益组织",
        "法律服务机构",
        "其他",
        "总计",
    ]


day_st = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))
case_st = st.tuples(
    st.sampled_from(TYPES),
    day_st,
    st.one_of(st.none(), st.integers(min_value=0, max_value=500)),  # days to its end, or open
    st.sampled_from([r.report_row for r in ROWS]),
    st.sampled_from(["answer-sent", "application-abandoned", "application-withdrawn"]),
    st.booleans(),  # a registrar entered a receipt date (a week earlier than the event's)
)


@settings(max_examples=150, deadline=None)
@given(cases=st.lists(case_st, max_size=40), year=st.integers(min_value=2024, max_value=2027))
def test_every_cell_counts_the_cases_it_names_and_the_check_holds(cases: list, year: int) -> None:
    """一 new, 二 carried over, 三 by row, 四 carried forward: each cell against a count made here
    from the cases themselves; 一 + 二 = 三（七）+ 四 in every column."""
    report = AnnualReport()
    expected: dict[str, dict[str, int]] = {line.key: {c: 0 for c, _ in COLUMNS} for line in TABLE3}
    start, end = date(year, 1, 1), date(year, 12, 31)
    seq = 0
    for i, (kind, received, days, row, ending, registered) in enumerate(cases):
        case = f"c{i}"
        seq += 1
        report.add(
            seq,
            "request-received",
            {"case_id": case, "applicant": {"type": kind}, "received_on": received.isoformat()},
            at(received),
        )
        receipt = received
        if registered:
            receipt = received - timedelta(days=7)
            seq += 1
            report.add(
                seq, "case-registered", {"case_id": case, "received_on": receipt.isoformat()}, at(received)
            )
        ended = None if days is None else receipt + timedelta(days=days)
        if ended is not None:
            seq += 1
            if ending == "answer-sent":
                data = {"case_id": case, "report_row": row, "sent_on": ended.isoformat()}
            elif ending == "application-withdrawn":
                data, row = {"case_id": case}, "三.（六）.3"
            else:
                data = {"case_id": case, "report_row": row}
            report.add(seq, ending, data, at(ended))
        if receipt > end or (ended is not None and ended < start):
            continue
        key = "一" if receipt >= start else "二"
        expected[key][kind] += 1
        if ended is not None and ended <= end:
            expected[row][kind] += 1
            expected["三.（七）"][kind] += 1
        else:
            expected["四"][kind] += 1
    result = report.result(year, agency="测试局")
    for line in result["table3"]["lines"]:
        for kind in TYPES:
            assert line["cells"][kind] == expected[line["key"]][kind], (line["label"], kind)
        assert line["cells"]["total"] == sum(expected[line["key"]].values())
    assert result["check"]["holds"] and result["log_position"] == seq


def test_a_correction_across_the_year_boundary_counts_in_the_year_of_receipt() -> None:
    """本年新收 counts by the original receipt date: received 2025-12-29, corrected 2026-01-05."""
    report = AnnualReport()
    report.add(
        1,
        "request-received",
        {"case_id": "a", "applicant": {"type": "natural_person"}, "received_on": "2025-12-29"},
        at(date(2025, 12, 29)),
    )
    report.add(
        2, "clarification-received", {"case_id": "a", "received_on": "2026-01-05"}, at(date(2026, 1, 5))
    )
    report.add(
        3,
        "answer-sent",
        {"case_id": "a", "report_row": "三.（一）", "sent_on": "2026-01-20"},
        at(date(2026, 1, 20)),
    )
    y2025, y2026 = report.result(2025, agency="局"), report.result(2026, agency="局")
    cells = {
        y: {line["key"]: line["cells"]["total"] for line in r["table3"]["lines"]}
        for y, r in ((2025, y2025), (2026, y2026))
    }
    assert cells[2025]["一"] == 1 and cells[2025]["四"] == 1
    assert cells[2026]["一"] == 0 and cells[2026]["二"] == 1 and cells[2026]["三.（一）"] == 1


def test_a_report_that_fails_the_check_names_the_cases() -> None:
    """A case that ended before its receipt date (or in a row outside the format) is named."""
    report = AnnualReport()
    report.add(
        1,
        "request-received",
        {"case_id": "odd", "applicant": {"type": "other_org"}, "received_on": "2026-05-10"},
        at(date(2026, 5, 10)),
    )
    report.add(
        2,
        "answer-sent",
        {"case_id": "odd", "report_row": "三.（一）", "sent_on": "2026-05-01"},
        at(date(2026, 5, 11)),
    )
    report.add(
        3,
        "request-received",
        {"case_id": "row", "applicant": {"type": "other_org"}, "received_on": "2026-05-10"},
        at(date(2026, 5, 10)),
    )
    report.add(
        4,
        "answer-sent",
        {"case_id": "row", "report_row": "三.（九）", "sent_on": "2026-05-20"},
        at(date(2026, 5, 20)),
    )
    check = report.result(2026, agency="局")["check"]
    assert not check["holds"]
    assert [b["case_id"] for b in check["breaches"]] == ["odd", "row"]


def test_appeals_by_kind_and_result_with_undecided_ones_pending() -> None:
    """Table 四: filed in the year; decided by its end (维持/纠正/其他), else 尚未审结."""
    report = AnnualReport()
    filed = [
        ("r1", "reconsideration", "2026-02-01", ("upheld", "2026-04-01")),
        ("r2", "reconsideration", "2026-03-01", ("corrected", "2026-05-01")),
        ("r3", "reconsideration", "2026-11-01", ("other", "2027-01-10")),  # decided after the year
        ("l1", "lawsuit", "2026-06-01", ("other", "2026-09-01")),
        ("l2", "lawsuit_after_reconsideration", "2026-07-01", None),
        ("old", "lawsuit", "2025-06-01", ("upheld", "2026-02-01")),  # filed the year before
    ]
    seq = 0
    for appeal, kind, on, decided in filed:
        seq += 1
        report.add(
            seq,
            "appeal-filed",
            {"case_id": "c", "appeal_id": appeal, "kind": kind, "filed_on": on},
            at(date.fromisoformat(on)),
        )
        if decided:
            seq += 1
            report.add(
                seq,
                "appeal-decided",
                {"case_id": "c", "appeal_id": appeal, "result": decided[0], "decided_on": decided[1]},
                at(date.fromisoformat(decided[1])),
            )
    cells = report.result(2026, agency="局")["table4"]["cells"]
    assert cells["reconsideration"] == {"upheld": 1, "corrected": 1, "other": 0, "pending": 1, "total": 3}
    assert cells["lawsuit"] == {"upheld": 0, "corrected": 0, "other": 1, "pending": 0, "total": 1}
    assert cells["lawsuit_after_reconsideration"] == {
        "upheld": 0,
        "corrected": 0,
        "other": 0,
        "pending": 1,
        "total": 1,
    }


def test_rules_issued_repealed_and_in_force_and_the_office_figures() -> None:
    """Table 二: 规章 and 行政规范性文件 by 成文日期 and 废止日期; the office's own figures."""
    report = AnnualReport()

    def doc(seq: int, doc_id: str, rule_type: str | None, formed: str) -> None:
        report.add(
            seq,
            "document-registered",
            {"document_id": doc_id, "metadata": {"rule_type": rule_type, "formed_on": formed}},
            at(date(2026, 1, 1)),
        )

    doc(1, "n1", "normative", "2025-03-01")
    doc(2, "n2", "normative", "2026-03-01")
    doc(3, "n3", "normative", "2026-04-01")
    doc(4, "r1", "regulation", "2026-05-01")
    doc(5, "x", None, "2026-05-01")
    report.add(6, "repealed", {"document_id": "n1", "repealed_on": "2026-06-30"}, at(date(2026, 6, 30)))
    report.add(
        7,
        "annual-figures-recorded",
        {"year": 2026, "licensing": 12, "penalties": 3, "compulsory_measures": 0, "charges_yuan": 1500},
        at(date(2027, 1, 5)),
    )
    t2 = report.result(2026, agency="局")["table2"]
    assert t2["rules"]["normative"] == {"issued": 2, "repealed": 1, "in_force": 2}
    assert t2["rules"]["regulation"] == {"issued": 1, "repealed": 0, "in_force": 1}
    assert t2["figures"] == {"licensing": 12, "penalties": 3, "compulsory_measures": 0}
    assert t2["charges_yuan"] == 1500


def test_the_three_outputs_carry_the_same_numbers() -> None:
    report = AnnualReport()
    report.add(
        1,
        "request-received",
        {"case_id": "a", "applicant": {"type": "legal_service_org"}, "received_on": "2026-03-02"},
        at(date(2026, 3, 2)),
    )
    report.add(
        2,
        "answer-sent",
        {"case_id": "a", "report_row": "三.（五）.2", "sent_on": "2026-03-20"},
        at(date(2026, 3, 20)),
    )
    report.add(
        3, "fee-paid", {"case_id": "a", "amount_yuan": 200, "paid_on": "2026-03-10"}, at(date(2026, 3, 10))
    )
    data = report.result(2026, agency="某市教育局")
    html = render(data, "html").decode()
    assert (
        "某市教育局2026年政府信息公开工作年度报告" in html
        and "2.重复申请" in html
        and "收取信息处理费 200 元" in html
    )
    wb = load_workbook(io.BytesIO(render(data, "xlsx")))
    rows = {r[1]: r[2:] for r in wb["三、申请情况"].iter_rows(values_only=True) if len(r) > 2}
    assert rows["2.重复申请"][COLUMNS.index(("legal_service_org", "法律服务机构"))] == 1
    assert rows["2.重复申请"][-1] == 1
    assert b'"log_position": 3' in render(data, "json")
