"""The public catalogue (政府信息公开目录) as JSON: no sign-in needed.

Filters (主题分类, year of 发布日期, 发布机构, 有效性, section), Chinese full-text search (``q``:
a two-character word is found in the title and in the text) and an opaque cursor (no OFFSET:
the next page starts after the last item shown). One item by its 索引号 with its links and
version history. An item's files (``/{索引号}/files/{sha256}.{ext}``): only those of a version
published under that number, from the object store, named after the document's title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from gongkai_shared.files import MAGIC, FileMissing, FileRef, store_of
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


FileName = Annotated[
    str,
    Path(pattern=r"^[0-9a-f]{64}\.(pdf|jpg|png)$", description="the file's SHA-256 (hex) and extension"),
]
NO_FILE = "该信息没有此附件 (no such file of this item)"
UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def content_disposition(item: queries.ItemFile, ext: str) -> str:
    """``attachment`` named after the document's title (RFC 6266: an ASCII fallback, the title
    in ``filename*``); 附件N after it when the version has several files."""
    title = UNSAFE_IN_NAME.sub("_", item.title).strip() or "附件"
    name = f"{title}（附件{item.position}）" if item.count > 1 else title
    fallback = f"{item.ref['sha256'][:16]}.{ext}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(f'{name}.{ext}', safe='')}"


# declared before the item's route: an index number holds "/" and that route takes any path
@router.get(
    "/{index_number:path}/files/{filename}",
    summary="下载公开信息的附件",
    response_class=Response,
    responses={
        **error_responses(404, 422),
        200: {"content": {t: {} for t in queries.FILE_EXTENSIONS}},
    },
)
async def get_item_file(
    index_number: Annotated[str, line(200, min_length=1)], filename: FileName, request: Request
) -> Response:
    """A file of a published item (its current version or one published before): the exact
    bytes stored, checked against their hash and type; 404 for any other file."""
    sha256, ext = filename.split(".")
    found = await queries.item_file(_rt(request).pool, index_number, sha256, ext)
    if found is None:
        raise HTTPException(404, NO_FILE)
    ref = FileRef.model_validate(found.ref)
    try:
        data = await store_of(request.app.state).stored(ref)
    except FileMissing:
        raise HTTPException(404, "附件已不存在 (the file is gone)") from None
    if not data.startswith(MAGIC[ref.media_type]):  # never serve bytes that are not what it says
        raise HTTPException(404, NO_FILE)
    headers = {
        "Content-Disposition": content_disposition(found, ext),
        "Cache-Control": "public, max-age=3600",
        "X-Content-SHA256": ref.sha256,
    }
    return Response(data, media_type=ref.media_type, headers=headers)


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
