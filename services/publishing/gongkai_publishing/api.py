"""The public catalogue (政府信息公开目录): no sign-in needed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from gongkai_shared.runtime import Runtime
from gongkai_shared.text import line
from gongkai_shared.web import error_responses

from . import queries

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog 公开目录"])


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


@router.get("", summary="政府信息公开目录", responses=error_responses(422))
async def list_catalog(
    request: Request,
    q: Annotated[Annotated[str, line(200)] | None, Query(description="words in the title")] = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
    min_seq: int | None = Query(None, ge=0),
) -> dict:
    rt = _rt(request)
    await rt.wait_for(min_seq)
    return await queries.list_items(rt.pool, q, limit, offset)


@router.get("/{index_number:path}", summary="按索引号查看公开信息", responses=error_responses(404, 422))
async def get_catalog_item(index_number: Annotated[str, line(200, min_length=1)], request: Request) -> dict:
    found = await queries.get_item(_rt(request).pool, index_number)
    if found is None:
        raise HTTPException(404, "未找到该索引号的信息 (no item with this index number)")
    return found
