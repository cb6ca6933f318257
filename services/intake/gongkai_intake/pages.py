"""Pages for applicants, in Simplified Chinese: the application form and the tracking page.

Server-rendered HTML (Jinja2, autoescaped) over the same decisions as the JSON API: the form is
validated by the same ``Apply`` model and appends the same ``request-received``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError

from gongkai_shared.events import ApplicantType, Delivery, Form

from . import queries
from .api import submit, tracking_hash
from .domain import Apply, InvalidApplication

router = APIRouter(include_in_schema=False)
_env = Environment(loader=PackageLoader("gongkai_intake", "templates"), autoescape=select_autoescape())

APPLICANT_TYPES = [
    (ApplicantType.natural_person, "自然人"),
    (ApplicantType.commercial_enterprise, "商业企业"),
    (ApplicantType.research_institution, "科研机构"),
    (ApplicantType.public_interest_org, "社会公益组织"),
    (ApplicantType.legal_service_org, "法律服务机构"),
    (ApplicantType.other_org, "其他组织"),
]
FORMS = [(Form.electronic, "电子文本"), (Form.paper, "纸质文本"), (Form.inspection, "现场查阅")]
DELIVERIES = [(Delivery.email, "电子邮件"), (Delivery.post, "邮寄"), (Delivery.pickup, "自行领取"),
              (Delivery.online, "网上获取")]  # fmt: skip
LABELS = {
    "applicant.name": "申请人姓名或名称", "applicant.type": "申请人类型", "applicant.id_number": "证件号码",
    "applicant.contact.email": "电子邮箱", "applicant.contact.phone": "联系电话",
    "applicant.contact.address": "通信地址", "applicant.contact": "联系方式", "description": "所需信息描述",
    "form": "提供形式", "delivery": "获取方式", "purpose": "用途", "body": "申请",
}  # fmt: skip


def in_chinese(err: Any) -> str:
    """A validation error of the form, said in Chinese (the text's own message when it has one)."""
    kind, ctx, msg = err["type"], err.get("ctx") or {}, err["msg"]
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "必须填写"
    if kind == "string_too_short":
        return f"至少填写 {ctx['min_length']} 个字"
    if kind == "string_too_long":
        return f"不得超过 {ctx['max_length']} 个字"
    if kind in ("enum", "literal_error"):
        return "请从列表中选择"
    if kind == "string_unicode":
        return "含有无法编码的字符"
    if err["loc"][-1:] == ("email",):
        return "电子邮箱格式不正确"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind in ("control_characters", "invalid_unicode", "date_out_of_range"):
        return msg  # already in Chinese, with an English gloss
    return f"填写不正确 ({msg})"


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status)


def _form_page(values: dict[str, str], errors: list[dict[str, str]], status: int) -> HTMLResponse:
    return _page(
        "apply.html",
        status,
        values=values,
        errors=errors,
        labels=LABELS,
        applicant_types=APPLICANT_TYPES,
        forms=FORMS,
        deliveries=DELIVERIES,
    )


@router.get("/apply", response_class=HTMLResponse)
async def application_form() -> HTMLResponse:
    return _form_page({}, [], 200)


@router.post("/apply", response_class=HTMLResponse)
async def submit_form(request: Request) -> HTMLResponse:
    form = await request.form()
    values = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
    contact = {k: values[k] for k in ("email", "phone", "address") if values.get(k)}
    body = {
        "applicant": {"name": values.get("name", ""), "type": values.get("type", ""),
                      "id_number": values.get("id_number") or None, "contact": contact},
        "description": values.get("description", ""), "form": values.get("form", ""),
        "delivery": values.get("delivery", ""), "channel": "online", "purpose": values.get("purpose") or None,
    }  # fmt: skip
    try:
        cmd = Apply.model_validate(body)
        accepted = await submit(request.app.state.runtime, request.app.state.clock, cmd, None)
    except ValidationError as e:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": in_chinese(err)}
            for err in e.errors()
        ]
        return _form_page(values, errors, 422)
    except InvalidApplication as e:
        return _form_page(values, [{"field": e.field, "message": str(e)}], 422)
    return _page(
        "accepted.html",
        201,
        tracking_code=accepted.tracking_code,
        received_on=accepted.received_on.isoformat(),
    )


@router.get("/track", response_class=HTMLResponse, response_model=None)
async def track_form(code: str | None = None) -> HTMLResponse | RedirectResponse:
    if code and code.strip():
        return RedirectResponse(f"/track/{code.strip().upper()}", status_code=303)
    return _page("track.html", found=None, code=None)


@router.get("/track/{code}", response_class=HTMLResponse)
async def track_page(code: str, request: Request) -> HTMLResponse:
    found = await queries.application_by_tracking_hash(request.app.state.runtime.pool, tracking_hash(code))
    return _page("track.html", 200 if found else 404, found=found, code=code)
