"""The annual report for the office (政府信息公开工作年度报告, 条例 Art. 49-50).

Computed from the log alone (gongkai_shared.annual_report), exactly as an auditor's
``gongkai report annual`` computes it, up to the log's end or an earlier position (``at``): the
same position gives the same numbers, whatever the state of review's projection. Reading the
log once a year is not a hot path; the fold keeps a few facts per case, not the events.

The office's own figures of table 二 (licensing, penalties, compulsory measures, charges: not
handled by Gongkai) are recorded as an event (``annual-figures-recorded``), so the report still
comes from the log alone.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gongkai_shared.annual_report import fold
from gongkai_shared.annual_report_render import MEDIA_TYPES, render
from gongkai_shared.auth import Role
from gongkai_shared.envelope import Actor
from gongkai_shared.events import FIRST_DAY, LAST_DAY, AnnualFiguresRecorded, make_event
from gongkai_shared.eventstore import ConcurrencyConflict, with_retries
from gongkai_shared.web import error_responses, staff

router = APIRouter(prefix="/api/v1/reports", tags=["reports 年度报告"])
READERS = staff(Role.reviewer, Role.approver, Role.auditor)
RECORDERS = staff(Role.approver)
Year = Annotated[int, Path(ge=FIRST_DAY.year, le=LAST_DAY.year - 1, description="报告年度")]


@router.get(
    "/annual/{year}",
    summary="政府信息公开工作年度报告（由事件日志计算）",
    responses={
        **error_responses(401, 403, 422),
        200: {
            "content": {"application/json": {}, "text/html": {}, MEDIA_TYPES["xlsx"]: {}},
            "description": "the report, as JSON, HTML or XLSX",
        },
    },
)
async def annual_report(
    request: Request,
    year: Year,
    format: Literal["json", "html", "xlsx"] = Query("json", description="json, html or xlsx"),
    at: int | None = Query(None, ge=0, le=2**63 - 1, description="日志位置 (default: the end)"),
    _: Actor = Depends(READERS),
) -> Response:
    rt = request.app.state.runtime
    last = await rt.store.last_seq()
    position = last if at is None else at
    if position > last:
        raise HTTPException(422, f"日志仅到位置 {last} (the log ends at {last})")
    report = await fold(rt.store.read_raw(1, until_seq=position), position)
    data = report.result(year, agency=request.app.state.settings.office_name)
    headers = {"X-Gongkai-Log-Position": str(data["log_position"])}
    if format == "xlsx":
        headers["Content-Disposition"] = f'attachment; filename="annual-report-{year}.xlsx"'
    return Response(render(data, format), media_type=MEDIA_TYPES[format], headers=headers)


class Figures(BaseModel):
    """The office's figures for table 二 (Art. 20(5), (6), (8)) of one year."""

    model_config = ConfigDict(extra="forbid")
    licensing: int = Field(ge=0, le=100_000, description="行政许可 本年处理决定数量")
    penalties: int = Field(ge=0, le=100_000, description="行政处罚 本年处理决定数量")
    compulsory_measures: int = Field(ge=0, le=100_000, description="行政强制 本年处理决定数量")
    charges_yuan: int = Field(
        ge=0, le=10**12, description="行政事业性收费 本年收费金额（元；报告以万元列示）"
    )


@router.put(
    "/annual/{year}/figures",
    summary="填报年度报告表二中本机关的处理决定数量和收费金额",
    responses=error_responses(401, 403, 409, 422),
)
async def record_figures(
    request: Request, year: Year, figures: Figures, actor: Actor = Depends(RECORDERS)
) -> dict:
    rt = request.app.state.runtime
    aggregate = f"annual-figures-{year}"
    body = AnnualFiguresRecorded(year=year, **figures.model_dump())

    async def attempt():  # noqa: ANN202
        last = await rt.store.last_event(aggregate)
        return await rt.store.append(make_event(body, aggregate_id=aggregate, actor=actor), rt.service,
                                     last.seq if last else 0)  # fmt: skip

    try:
        stored = await with_retries(attempt)
    except ConcurrencyConflict:
        raise HTTPException(409, "同时有人填报，请重试 (recorded concurrently: try again)") from None
    return {"year": year, "seq": stored.seq, **figures.model_dump()}
