"""The annual report's outputs: JSON, HTML (Simplified Chinese, the format's tables) and XLSX.

Each renders the data of :meth:`gongkai_shared.annual_report.AnnualReport.result` and nothing
else, so the three always agree.
"""

from __future__ import annotations

import io
import json
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from .annual_report import APPEAL_KINDS, APPEAL_RESULTS, CHARGES, COLUMNS, FIGURES, RULE_TYPES

MEDIA_TYPES = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

_env = Environment(
    loader=PackageLoader("gongkai_shared", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def wan_yuan(yuan: int | None) -> str:
    """Yuan as the report prints charges: 万元, four decimals (to the yuan)."""
    return "" if yuan is None else f"{yuan / 10_000:.4f}"


def _figure(value: int | None) -> str:
    return "未填报" if value is None else str(value)


def to_json(report: dict[str, Any]) -> bytes:
    return json.dumps(report, ensure_ascii=False, indent=2, sort_keys=False).encode()


def to_html(report: dict[str, Any]) -> bytes:
    page = _env.get_template("annual_report.html.j2").render(
        r=report,
        rule_types=RULE_TYPES,
        figures=FIGURES,
        charges=CHARGES,
        columns=COLUMNS,
        appeal_kinds=APPEAL_KINDS,
        appeal_results=APPEAL_RESULTS,
        wan_yuan=wan_yuan,
        figure=_figure,
    )
    return page.encode()


def to_xlsx(report: dict[str, Any]) -> bytes:
    wb = Workbook()
    bold = Font(bold=True)
    t2 = wb.active
    assert t2 is not None
    t2.title = "二、主动公开"
    t2.append([f"{report['year']}年{report['agency']}政府信息公开工作年度报告（{report['format']}）"])
    t2.append(["第二十条第（一）项"])
    t2.append(["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"])
    for code, label in RULE_TYPES:
        r = report["table2"]["rules"][code]
        t2.append([label, r["issued"], r["repealed"], r["in_force"]])
    for code, article, label in FIGURES:
        t2.append([article])
        t2.append(["信息内容", "本年处理决定数量"])
        t2.append([label, report["table2"]["figures"][code]])
    t2.append([CHARGES[0]])
    t2.append(["信息内容", CHARGES[2]])
    t2.append([CHARGES[1], wan_yuan(report["table2"]["charges_yuan"])])

    t3 = wb.create_sheet("三、申请情况")
    t3.append(["", "", "申请人情况"])
    t3.append(["", "", COLUMNS[0][1], "法人或其他组织", "", "", "", "", COLUMNS[-1][1]])
    t3.append(["", "", "", *[label for _, label in COLUMNS[1:-1]]])
    for line in report["table3"]["lines"]:
        cells = [line["cells"][c] for c, _ in COLUMNS]
        t3.append([line["heading"], line["label"], *cells])
    t3.append([])
    t3.append([f"勾稽关系：{report['check']['rule']}", "成立" if report["check"]["holds"] else "不成立"])
    for b in report["check"]["breaches"]:
        t3.append(["", b["case_id"], b["problem"]])

    t4 = wb.create_sheet("四、复议诉讼")
    t4.append(["", *[label for _, label in APPEAL_RESULTS]])
    for kind, label in APPEAL_KINDS:
        t4.append([label, *[report["table4"]["cells"][kind][r] for r, _ in APPEAL_RESULTS]])

    t6 = wb.create_sheet("六、其他")
    t6.append(["本年收取信息处理费（元）", report["fees_collected_yuan"]])
    t6.append(["统计所依据的日志位置", report["log_position"]])
    for ws in wb.worksheets:
        ws["A1"].font = bold
        for row in ws.iter_rows():
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="center")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


RENDERERS = {"json": to_json, "html": to_html, "xlsx": to_xlsx}


def render(report: dict[str, Any], fmt: str) -> bytes:
    return RENDERERS[fmt](report)
