"""The public pages of the column 政府信息公开 (DOMAIN §7), in Simplified Chinese.

Server-rendered (Jinja2, autoescaped), no script at all: ``/gongkai`` shows the four sections
(政府信息公开指南 from the agency's settings, 政府信息公开制度, 法定主动公开内容 by the Art. 20
categories with counts, 政府信息公开年报); ``/gongkai/search`` the catalogue with its filters
and search, page by page; ``/gongkai/item/<索引号>`` one item with its metadata table as
government sites show it. The Atom feed is ``feed.py``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from gongkai_shared.information import CATEGORIES
from gongkai_shared.text import line

from . import queries
from .api import CatalogQuery, catalog_query
from .settings import PublishingSettings

router = APIRouter(prefix="/gongkai", include_in_schema=False)
_env = Environment(loader=PackageLoader("gongkai_publishing", "templates"), autoescape=select_autoescape())
SECTION_LIST = 10  # items listed under 制度 and 年报 on the column's page (the rest: search)

DEFAULT_CLASSIFICATION = (
    "本机关政府信息分为主动公开、依申请公开和不予公开三类。",
    "主动公开的政府信息按《中华人民共和国政府信息公开条例》第二十条所列内容分类编排，"
    "每条信息标注索引号、发布机构、成文日期、发布日期、文号、主题分类和有效性，可在本栏目检索。",
    "依申请公开的政府信息，由公民、法人或者其他组织向本机关提出申请后，依法予以答复。",
)
DEFAULT_APPLICATION = (
    "申请人可通过本网站“提交申请”在线填写申请表（/apply），也可以信函、传真方式向本机关政府信息公开工作机构提出申请。",
    "申请内容应包括：申请人的姓名或者名称、身份证明、联系方式；申请公开的政府信息的名称、文号或者便于行政机关查询的其他特征性描述；"
    "申请公开的政府信息的形式要求，包括获取信息的方式、途径。",
    "本机关收到申请后，能够当场答复的当场答复；不能当场答复的，自收到申请之日起20个工作日内予以答复；"
    "需要延长答复期限的，经政府信息公开工作机构负责人同意并告知申请人，延长的期限最长不超过20个工作日。",
)


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status)


def _settings(request: Request) -> PublishingSettings:
    return request.app.state.settings


def guide(settings: PublishingSettings) -> dict[str, Any]:
    """政府信息公开指南 (条例 Art. 12) from the agency's settings."""

    def paragraphs(text: str, default: tuple[str, ...]) -> list[str]:
        return [p.strip() for p in text.splitlines() if p.strip()] or list(default)

    return {
        "agency": settings.agency_name,
        "contacts": [
            ("机构名称", settings.office_name),
            ("办公地址", settings.office_address),
            ("邮政编码", settings.office_postcode),
            ("办公时间", settings.office_hours),
            ("联系电话", settings.office_phone),
            ("传真", settings.office_fax),
            ("电子邮箱", settings.office_email),
        ],
        "classification": paragraphs(settings.guide_classification, DEFAULT_CLASSIFICATION),
        "application": paragraphs(settings.guide_application, DEFAULT_APPLICATION),
    }


@router.get("", response_class=HTMLResponse)
async def column(request: Request) -> HTMLResponse:
    pool = request.app.state.runtime.pool
    systems = await queries.list_items(pool, queries.Filters(kind="disclosure_system"), SECTION_LIST, None)
    reports = await queries.list_items(pool, queries.Filters(kind="annual_report"), SECTION_LIST, None)
    counts = await queries.category_counts(pool)
    categories = [(code, label, counts.get(code, 0)) for code, label in CATEGORIES.items()]
    return render(
        "column.html",
        guide=guide(_settings(request)),
        systems=systems,
        reports=reports,
        categories=categories,
    )


@router.get("/search", response_class=HTMLResponse)
async def search(request: Request, query: Annotated[CatalogQuery, Depends(catalog_query)]) -> HTMLResponse:
    f = query.filters
    found = await queries.list_items(request.app.state.runtime.pool, f, query.limit, query.after)
    form = {"q": f.q or "", "category": f.category or "", "year": f.year or "",
            "issuing_body": f.issuing_body or "", "valid": "" if f.valid is None else str(f.valid).lower(),
            "kind": f.kind or ""}  # fmt: skip
    next_url = None
    if found["next_cursor"]:
        kept = {k: v for k, v in form.items() if v != ""}
        next_url = "/gongkai/search?" + urlencode({**kept, "cursor": found["next_cursor"]})
    return render(
        "search.html",
        found=found,
        form=form,
        categories=CATEGORIES,
        kinds=queries.KIND_LABELS,
        next_url=next_url,
        paged=query.after is not None,
    )


@router.get("/item/{index_number:path}", response_class=HTMLResponse)
async def item(request: Request, index_number: Annotated[str, line(200, min_length=1)]) -> HTMLResponse:
    found = await queries.get_item(request.app.state.runtime.pool, index_number)
    if found is None:
        return render("not_found.html", 404, index_number=index_number)
    kinds = {"application/pdf": "PDF", "image/jpeg": "JPEG 图片", "image/png": "PNG 图片"}
    return render("item.html", item=found, kinds=kinds)
