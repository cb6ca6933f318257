"""Pages for applicants, in Simplified Chinese: the application form and the tracking page.

Server-rendered HTML (Jinja2, autoescaped) over the same decisions as the JSON API: the form is
validated by the same ``Apply`` model and appends the same ``request-received``.

The form carries a hidden token made when it is rendered: it is the submission's idempotency
key, so a form sent twice (a double click, a reload) is one case and both answers show the same
tracking code. The tracking form is a GET (a read): it needs none.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError

from gongkai_shared.events import ApplicantType, Delivery, Form
from gongkai_shared.files import BadUpload, read_upload, store_of

from . import queries
from .api import RETRY_AFTER, Unresolved, submit
from .domain import Apply, InvalidApplication, new_key, tracking_hash
from .downloads import listing
from .ratelimit import RateLimits
from .settings import IntakeSettings

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
    "identity_proof": "身份证明",
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


CODE = re.compile(r"[A-Za-z2-7]{24}")  # a tracking code: 24 characters of base32
BAD_CODE = "查询码格式不正确：查询码为 24 位，由字母 A-Z 和数字 2-7 组成。"
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")  # the form's token (domain.new_key: 32 characters)
STALE_FORM = "表单已失效，请核对内容后重新提交。"
RESUBMITTED = "此表单已提交过内容不同的申请。如需另行申请，请核对内容后再次点击“提交申请”。"
UNRESOLVED = (
    "系统繁忙，暂时无法确认您的申请是否已保存。请稍后再次点击“提交申请”："
    "同一表单再次提交不会重复受理，将显示同一查询码。"
)


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status)


def _busy(request: Request, kind: str, back: str) -> HTMLResponse | None:
    """The page that says 请求过于频繁 (429, Retry-After) when this client used its budget."""
    limits: RateLimits = request.app.state.rate_limits
    wait = limits.retry_after(request, kind)
    if wait is None:
        return None
    page = _page("busy.html", 429, retry_after=wait, back=back)
    page.headers["Retry-After"] = str(wait)
    return page


def _form_page(
    values: dict[str, str], errors: list[dict[str, str]], status: int, token: str, notice: str = ""
) -> HTMLResponse:
    page = _page(
        "apply.html",
        status,
        values=values,
        errors=errors,
        notice=notice,
        token=token,
        labels=LABELS,
        applicant_types=APPLICANT_TYPES,
        forms=FORMS,
        deliveries=DELIVERIES,
    )
    page.headers["Cache-Control"] = "no-store"  # each rendering its own token
    return page


@router.get("/apply", response_class=HTMLResponse)
async def application_form() -> HTMLResponse:
    return _form_page({}, [], 200, new_key())


@router.post("/apply", response_class=HTMLResponse)
async def submit_form(request: Request) -> HTMLResponse:
    if busy := _busy(request, "applications", "/apply"):
        return busy
    form = await request.form()
    values = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
    token = values.pop("token", "")
    if token and not TOKEN.fullmatch(token):
        return _form_page(values, [], 422, new_key(), STALE_FORM)
    contact = {k: values[k] for k in ("email", "phone", "address") if values.get(k)}
    body = {
        "applicant": {"name": values.get("name", ""), "type": values.get("type", ""),
                      "id_number": values.get("id_number") or None, "contact": contact},
        "description": values.get("description", ""), "form": values.get("form", ""),
        "delivery": values.get("delivery", ""), "channel": "online", "purpose": values.get("purpose") or None,
    }  # fmt: skip
    token = token or new_key()  # a form from before tokens, or a script: a key of its own
    settings: IntakeSettings = request.app.state.settings
    upload = form.get("identity_proof")
    files = store_of(request.app.state)
    try:
        cmd = Apply.model_validate(body)
        if upload is not None and not isinstance(upload, str) and upload.filename:
            # checked before anything is stored; stored only once the rest of the form is valid
            data, media_type = await read_upload(upload, settings.upload_max_bytes, "identity_proof")
            ref = await files.put_personal(data, media_type)
            cmd = cmd.model_copy(update={"identity_proof": ref})
        accepted = await submit(
            request.app.state.runtime,
            request.app.state.clock,
            settings.tracking_secret,
            cmd,
            token,
            files=files,
        )
    except ValidationError as e:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": in_chinese(err)}
            for err in e.errors()
        ]
        return _form_page(values, errors, 422, token)
    except (InvalidApplication, BadUpload) as e:
        return _form_page(values, [{"field": e.field, "message": str(e)}], 422, token)
    except Unresolved as e:  # the same token again is the same case, stored or not
        page = _form_page(values, [], 503, e.key, UNRESOLVED)
        page.headers["Retry-After"] = str(RETRY_AFTER)
        return page
    except HTTPException as e:
        if e.status_code != 409:
            raise
        return _form_page(values, [], 409, new_key(), RESUBMITTED)
    return _page(
        "accepted.html",
        201,
        tracking_code=accepted.tracking_code,
        received_on=accepted.received_on.isoformat(),
    )


@router.get("/track", response_class=HTMLResponse, response_model=None)
async def track_form(code: str | None = None) -> HTMLResponse | RedirectResponse:
    code = (code or "").strip()
    if not code:
        return _page("track.html", found=None, code=None)
    if not CODE.fullmatch(code):  # never echoed back, never put in a Location header
        return _page("track.html", 422, found=None, code=None, error=BAD_CODE)
    return RedirectResponse(f"/track/{code.upper()}", status_code=303)


@router.get("/track/{code}", response_class=HTMLResponse)
async def track_page(code: str, request: Request) -> HTMLResponse:
    if busy := _busy(request, "lookups", "/track"):
        return busy
    if not CODE.fullmatch(code):
        return _page("track.html", 404, found=None, code=None, error=BAD_CODE)
    pool = request.app.state.runtime.pool
    found = await queries.application_by_tracking_hash(pool, tracking_hash(code))
    files = await queries.applicant_files(pool, tracking_hash(code)) if found else None
    downloads = listing(code, files) if files else None
    return _page("track.html", 200 if found else 404, found=found, code=code, downloads=downloads)
