"""The office's list of appeals (行政复议、行政诉讼) by year and result: the inputs of the annual
report's table 四. Recording them is a case command (``commands.py``: ``appeals``)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request

from gongkai_shared.auth import Role
from gongkai_shared.envelope import Actor
from gongkai_shared.events import FIRST_DAY, LAST_DAY, AppealKind
from gongkai_shared.web import error_responses, staff

from . import appeal_register

router = APIRouter(prefix="/api/v1/appeals", tags=["appeals 复议诉讼"])
OFFICE = staff(Role.registrar, Role.reviewer, Role.approver, Role.auditor)


@router.get(
    "", summary="行政复议、行政诉讼列表（按提起年份、结果）", responses=error_responses(401, 403, 422)
)
async def list_appeals(
    request: Request,
    year: int = Query(ge=FIRST_DAY.year, le=LAST_DAY.year - 1, description="提起年份"),
    result: Literal["upheld", "corrected", "other", "pending"] | None = Query(
        None, description="维持 upheld、纠正 corrected、其他 other、尚未审结 pending"
    ),
    kind: AppealKind | None = None,
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
    min_seq: int | None = Query(None, ge=0, description="wait until this sequence is applied"),
    _: Actor = Depends(OFFICE),
) -> dict:
    rt = request.app.state.runtime
    await rt.wait_for(min_seq)
    return await appeal_register.list_appeals(
        rt.pool, year, result, kind.value if kind else None, limit, offset
    )
