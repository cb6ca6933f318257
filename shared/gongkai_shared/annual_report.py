"""The annual report (政府信息公开工作年度报告, 条例 Art. 49-50), computed from events only.

The format is 国办公开办函〔2021〕30号 (《中华人民共和国政府信息公开工作年度报告格式》): table 二 (主动公开),
table 三 (收到和处理政府信息公开申请情况, seven applicant columns) and table 四 (行政复议、行政诉讼),
plus the fees collected (六、其他需要报告的事项). Every label and its order below are the format's.

:class:`AnnualReport` folds events (any source: the live stream, an export) up to one log
position; the same events give the same numbers, so an auditor replaying the log, or the office
after a rebuild, gets an identical report. Pure: no I/O (the CLI and review's API feed it).

What each number counts (docs/decisions.md, "Audit (issue 11)"):
- a case is **received** on its own receipt date: the registered date if a registrar entered
  one, else the receipt date of ``request-received``; a correction (Art. 30) does not move it;
- a case **ends** with ``answer-sent`` (its ``sent_on``), ``application-abandoned`` or
  ``application-withdrawn`` (the Beijing date of the event), in the report row the event names;
- 一 new: received in the year; 二 carried over: received before the year, not ended before it;
  三 results: ended in the year; 四 carried forward: received by the year's end, not ended by it.
  一 + 二 = 三（七）+ 四 per column holds for every case whose end is not before its receipt and
  whose row is one of the format's; a report lists every case that breaks it;
- table 四: appeals filed in the year; a result decided by the year's end, else 尚未审结;
- table 二: documents of Art. 20(1) by their ``rule_type`` (规章 / 行政规范性文件): issued (成文日期 in
  the year), repealed (废止日期 in the year), in force at the year's end; the other figures are
  the office's inputs (``annual-figures-recorded``, the last one for the year);
- 六: disclosure fees (109号) paid in the year.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from .clock import OFFICE_TZ
from .outcomes import BY_CODE, WITHDRAWN

FORMAT = "国办公开办函〔2021〕30号"

# table 三's columns: 自然人, then 法人或其他组织 (five), then 总计
COLUMNS: tuple[tuple[str, str], ...] = (
    ("natural_person", "自然人"),
    ("commercial_enterprise", "商业企业"),
    ("research_institution", "科研机构"),
    ("public_interest_org", "社会公益组织"),
    ("legal_service_org", "法律服务机构"),
    ("other_org", "其他"),
    ("total", "总计"),
)
TYPES = tuple(c for c, _ in COLUMNS[:-1])


@dataclass(frozen=True)
class Line:
    key: str  # "一", "二", a report row code of outcomes.ROWS ("三.（三）.1"), "三.（七）", "四"
    label: str  # as the format prints it
    heading: str = ""  # the group heading the line sits under, as printed (may be empty)
    counted: bool = True  # False: a heading line with no numbers of its own


_WITHHOLD = (
    "属于国家秘密",
    "其他法律行政法规禁止公开",
    "危及“三安全一稳定”",
    "保护第三方合法权益",
    "属于三类内部事务信息",
    "属于四类过程性信息",
    "属于行政执法案卷",
    "属于行政查询事项",
)
_NOT_HELD = ("本机关不掌握相关政府信息", "没有现成信息需要另行制作", "补正后申请内容仍不明确")
_NOT_PROCESSED = (
    "信访举报投诉类申请",
    "重复申请",
    "要求提供公开出版物",
    "无正当理由大量反复申请",
    "要求行政机关确认或重新出具已获取信息",
)
_OTHER = (
    "申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "其他",
)


def _group(n: str, heading: str, labels: tuple[str, ...]) -> list[Line]:
    return [Line(f"三.{n}.{i}", f"{i}.{label}", heading) for i, label in enumerate(labels, 1)]


RESULTS_HEADING = "三、本年度办理结果"
TABLE3: tuple[Line, ...] = (
    Line("一", "一、本年新收政府信息公开申请数量"),
    Line("二", "二、上年结转政府信息公开申请数量"),
    Line("三.（一）", "（一）予以公开", RESULTS_HEADING),
    Line("三.（二）", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", RESULTS_HEADING),
    *_group("（三）", "（三）不予公开", _WITHHOLD),
    *_group("（四）", "（四）无法提供", _NOT_HELD),
    *_group("（五）", "（五）不予处理", _NOT_PROCESSED),
    *_group("（六）", "（六）其他处理", _OTHER),
    Line("三.（七）", "（七）总计", RESULTS_HEADING),
    Line("四", "四、结转下年度继续办理"),
)
RESULT_ROWS = tuple(line.key for line in TABLE3 if line.key.startswith("三.") and line.key != "三.（七）")

# table 四: 行政复议, 行政诉讼 (未经复议直接起诉, 复议后起诉), each with these five columns
APPEAL_RESULTS: tuple[tuple[str, str], ...] = (
    ("upheld", "结果维持"),
    ("corrected", "结果纠正"),
    ("other", "其他结果"),
    ("pending", "尚未审结"),
    ("total", "总计"),
)
APPEAL_KINDS: tuple[tuple[str, str], ...] = (
    ("reconsideration", "行政复议"),
    ("lawsuit", "行政诉讼（未经复议直接起诉）"),
    ("lawsuit_after_reconsideration", "行政诉讼（复议后起诉）"),
)

# table 二: the rule types of Art. 20(1), the inputs of Art. 20(5), (6), (8)
RULE_TYPES: tuple[tuple[str, str], ...] = (("regulation", "规章"), ("normative", "行政规范性文件"))
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("licensing", "第二十条第（五）项", "行政许可"),
    ("penalties", "第二十条第（六）项", "行政处罚"),
    ("compulsory_measures", "第二十条第（六）项", "行政强制"),
)
CHARGES = ("第二十条第（八）项", "行政事业性收费", "本年收费金额（单位：万元）")

# the events the report reads (by the last token of their subject): everything else is skipped
# without being parsed
READS = frozenset(
    {
        "request-received",
        "case-registered",
        "answer-sent",
        "application-abandoned",
        "application-withdrawn",
        "appeal-filed",
        "appeal-decided",
        "fee-paid",
        "annual-figures-recorded",
        "document-registered",
        "document-amended",
        "repealed",
    }
)


@dataclass
class _Case:
    applicant_type: str | None = None
    received_on: date | None = None
    registered_on: date | None = None  # a registrar's receipt date, when one was entered
    ended_on: date | None = None
    row: str | None = None

    @property
    def receipt(self) -> date | None:
        return self.registered_on or self.received_on


@dataclass
class _Appeal:
    kind: str
    filed_on: date
    result: str | None = None
    decided_on: date | None = None


@dataclass
class _Document:
    rule_type: str | None
    formed_on: date
    repealed_on: date | None = None


@dataclass(frozen=True)
class Breach:
    """A case that breaks 一 + 二 = 三（七）+ 四, and why."""

    case_id: str
    problem: str


def _day(value: str) -> date:
    return date.fromisoformat(value)


def _beijing(time: datetime) -> date:
    return time.astimezone(OFFICE_TZ).date()


@dataclass
class AnnualReport:
    """Feed it events in log order (:meth:`add`), then :meth:`result` for one year."""

    cases: dict[str, _Case] = field(default_factory=lambda: defaultdict(_Case))
    appeals: dict[str, _Appeal] = field(default_factory=dict)
    documents: dict[str, _Document] = field(default_factory=dict)
    fees: list[tuple[date, int]] = field(default_factory=list)
    figures: dict[int, dict[str, Any]] = field(default_factory=dict)
    position: int = 0  # the last log sequence folded

    def add(self, seq: int, name: str, data: dict[str, Any], time: datetime) -> None:
        self.position = max(self.position, seq)
        if name not in READS:
            return
        if name == "request-received":
            c = self.cases[data["case_id"]]
            c.applicant_type = data["applicant"]["type"]
            c.received_on = _day(data["received_on"])
        elif name == "case-registered":
            self.cases[data["case_id"]].registered_on = _day(data["received_on"])
        elif name in ("answer-sent", "application-abandoned", "application-withdrawn"):
            c = self.cases[data["case_id"]]
            if c.ended_on is None:  # a case ends once; a later event does not move it
                c.ended_on = _day(data["sent_on"]) if name == "answer-sent" else _beijing(time)
                c.row = data.get("report_row") or (
                    WITHDRAWN.report_row if name == "application-withdrawn" else None
                )
        elif name == "appeal-filed":
            self.appeals[data["appeal_id"]] = _Appeal(data["kind"], _day(data["filed_on"]))
        elif name == "appeal-decided":
            a = self.appeals.get(data["appeal_id"])
            if a is not None:
                a.result, a.decided_on = data["result"], _day(data["decided_on"])
        elif name == "fee-paid":
            self.fees.append((_day(data["paid_on"]), int(data["amount_yuan"])))
        elif name == "annual-figures-recorded":
            self.figures[int(data["year"])] = data
        elif name in ("document-registered", "document-amended"):
            m = data["metadata"]
            old = self.documents.get(data["document_id"])
            self.documents[data["document_id"]] = _Document(
                m.get("rule_type"), _day(m["formed_on"]), old.repealed_on if old else None
            )
        elif name == "repealed":
            d = self.documents.get(data["document_id"])
            if d is not None:
                d.repealed_on = _day(data["repealed_on"])

    # --- the tables --------------------------------------------------------------------

    def _table3(self, year: int) -> tuple[dict[str, dict[str, int]], list[Breach]]:
        start, end = date(year, 1, 1), date(year, 12, 31)
        cells: dict[str, dict[str, int]] = {
            line.key: {c: 0 for c, _ in COLUMNS} for line in TABLE3 if line.counted
        }
        breaches: list[Breach] = []
        for case_id, c in sorted(self.cases.items()):
            receipt = c.receipt
            if receipt is None or c.applicant_type is None:
                if c.ended_on is not None and start <= c.ended_on <= end:
                    breaches.append(Breach(case_id, "ended in the year, but no request-received in the log"))
                continue
            if receipt > end:
                continue
            col = c.applicant_type if c.applicant_type in TYPES else "other_org"
            ended = c.ended_on

            def count(key: str, col: str = col) -> None:
                cells[key][col] += 1
                cells[key]["total"] += 1

            if ended is not None and ended < receipt:
                breaches.append(Breach(case_id, f"ended {ended} before its receipt date {receipt}"))
                continue
            if ended is not None and start <= ended <= end and c.row not in cells:
                breaches.append(Breach(case_id, f"ended in row {c.row!r}, which is not a row of the format"))
                continue
            if receipt >= start:
                count("一")
            elif ended is None or ended >= start:
                count("二")
            else:
                continue  # ended before the year: not in this report
            if ended is not None and ended <= end:
                assert c.row is not None
                count(c.row)
                count("三.（七）")
            else:
                count("四")
        return cells, breaches

    def _table4(self, year: int) -> dict[str, dict[str, int]]:
        start, end = date(year, 1, 1), date(year, 12, 31)
        out = {k: {r: 0 for r, _ in APPEAL_RESULTS} for k, _ in APPEAL_KINDS}
        for a in self.appeals.values():
            if not start <= a.filed_on <= end or a.kind not in out:
                continue
            decided = a.result is not None and a.decided_on is not None and a.decided_on <= end
            out[a.kind][a.result if decided and a.result else "pending"] += 1
            out[a.kind]["total"] += 1
        return out

    def _table2(self, year: int) -> dict[str, Any]:
        start, end = date(year, 1, 1), date(year, 12, 31)
        rules = {}
        for code, _ in RULE_TYPES:
            docs = [d for d in self.documents.values() if d.rule_type == code]
            rules[code] = {
                "issued": sum(1 for d in docs if start <= d.formed_on <= end),
                "repealed": sum(
                    1 for d in docs if d.repealed_on is not None and start <= d.repealed_on <= end
                ),
                "in_force": sum(
                    1 for d in docs if d.formed_on <= end and (d.repealed_on is None or d.repealed_on > end)
                ),
            }
        given = self.figures.get(year, {})
        figures = {code: given.get(code) for code, _, _ in FIGURES}
        charges = given.get("charges_yuan")
        return {"rules": rules, "figures": figures, "charges_yuan": charges, "figures_recorded": bool(given)}

    def result(self, year: int, *, agency: str) -> dict[str, Any]:
        """The report for ``year`` as JSON-ready data: what the renderers print."""
        table3, breaches = self._table3(year)
        check = {
            c: table3["一"][c] + table3["二"][c] == table3["三.（七）"][c] + table3["四"][c]
            for c, _ in COLUMNS
        }
        start, end = date(year, 1, 1), date(year, 12, 31)
        fees = sum(amount for day, amount in self.fees if start <= day <= end)
        return {
            "format": FORMAT,
            "agency": agency,
            "year": year,
            "log_position": self.position,
            "table2": self._table2(year),
            "table3": {
                "columns": [{"key": k, "label": label} for k, label in COLUMNS],
                "lines": [
                    {"key": line.key, "label": line.label, "heading": line.heading, "cells": table3[line.key]}
                    for line in TABLE3
                ],
            },
            "check": {
                "rule": "一 + 二 = 三（七）+ 四",
                "holds": all(check.values()) and not breaches,
                "by_column": check,
                "breaches": [{"case_id": b.case_id, "problem": b.problem} for b in breaches],
            },
            "table4": {
                "kinds": [{"key": k, "label": label} for k, label in APPEAL_KINDS],
                "results": [{"key": k, "label": label} for k, label in APPEAL_RESULTS],
                "cells": self._table4(year),
            },
            "fees_collected_yuan": fees,
        }


class RawLike(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def subject(self) -> str: ...
    @property
    def data(self) -> bytes: ...


async def fold(events: AsyncIterable[RawLike], until_seq: int) -> AnnualReport:
    """The report's state from events as stored (the live stream, an export), in log order, up
    to ``until_seq``. Events the report does not read are skipped by their subject, unparsed."""
    report = AnnualReport()
    async for raw in events:
        if raw.seq > until_seq:
            break
        name = raw.subject.rsplit(".", 1)[-1]
        if name in READS:
            env = json.loads(raw.data)
            report.add(raw.seq, name, env.get("data") or {}, datetime.fromisoformat(env["time"]))
        report.position = raw.seq
    return report


def rows_of_outcomes() -> set[str]:
    """Every report row an outcome code can end a case in (a check that the format has them all)."""
    return {r.report_row for r in BY_CODE.values()}
