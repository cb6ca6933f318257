"""The public catalogue (政府信息公开目录) as JSON: no sign-in needed.

Filters (主题分类, year of 发布日期, 发布机构, 有效性, section), Chinese full-text search (``q``:
a two-character word is found in the title and in the text) and an opaque cursor (no OFFSET:
the next page starts after the last item shown). One item by its 索引号 with its links and
version history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError

from gongkai_shared.information import CATEGORIES, DocumentKind
from gongkai_shared.runtime import Runtime
from gongkai_shared.text import line
from gongkai_shared.web import error_responses

from . import queries

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog 公开目录"])

PAGE_MAX = 100


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


@dataclass(frozen=True)
class CatalogQuery:
    """The list's query parameters, validated (shared by the JSON list and the search page)."""

    filters: queries.Filters
    limit: int
    after: tuple | None


def catalog_query(
    q: Annotated[
        Annotated[str, line(200)] | None,
        Query(
            description="检索词：标题、摘要、关键词、文号或正文中的词（中文两字词即可检索）；空格或标点分隔的词须全部出现"
        ),
    ] = None,
    category: Annotated[
        Annotated[str, line(100)] | None,
        Query(description="主题分类代码 (information.CATEGORIES, 条例第二十条)"),
    ] = None,
    year: Annotated[int | None, Query(ge=1990, le=2999, description="发布日期的年份")] = None,
    issuing_body: Annotated[Annotated[str, line(300)] | None, Query(description="发布机构")] = None,
    valid: Annotated[bool | None, Query(description="true 有效 / false 废止")] = None,
    kind: Annotated[DocumentKind | None, Query(description="文件类型（栏目：制度、年报、政策解读…）")] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 20,
    cursor: Annotated[
        Annotated[str, line(600)] | None, Query(description="上一页返回的 next_cursor（不透明）")
    ] = None,
) -> CatalogQuery:
    try:
        after = queries.decode_cursor(cursor) if cursor else None
    except queries.BadCursor as e:
        raise RequestValidationError(
            [{"loc": ("query", "cursor"), "msg": str(e), "type": "cursor"}]
        ) from None
    if category and category not in CATEGORIES:
        message = "不是条例第二十条的主题分类代码 (unknown category; see information.CATEGORIES)"
        raise RequestValidationError([{"loc": ("query", "category"), "msg": message, "type": "category"}])
    text = q.strip() if q else None
    filters = queries.Filters(
        q=text or None,
        category=category or None,
        year=year,
        issuing_body=issuing_body or None,
        valid=valid,
        kind=kind.value if kind else None,
    )
    return CatalogQuery(filters, limit, after)


@router.get("", summary="政府信息公开目录：筛选、检索、翻页", responses=error_responses(422, 503))
async def list_catalog(
    request: Request,
    query: Annotated[CatalogQuery, Depends(catalog_query)],
    min_seq: int | None = Query(None, ge=0, description="先等待目录更新到此事件序号"),
) -> dict:
    rt = _rt(request)
    await rt.wait_for(min_seq)
    return await queries.list_items(rt.pool, query.filters, query.limit, query.after)


@router.get(
    "/{index_number:path}",
    summary="按索引号查看公开信息（含版本与关联）",
    responses=error_responses(404, 422),
)
async def get_catalog_item(index_number: Annotated[str, line(200, min_length=1)], request: Request) -> dict:
    found = await queries.get_item(_rt(request).pool, index_number)
    if found is None:
        raise HTTPException(404, "未找到该索引号的信息 (no item with this index number)")
    return found
