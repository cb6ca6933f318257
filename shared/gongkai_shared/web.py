"""What every service's HTTP app shares: error bodies, staff auth, health, readiness, metrics."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .auth import OPERATOR, InvalidToken, Role, TokenKind, verify_token
from .envelope import Actor
from .positions import BeyondLog, ProjectionBehind

log = structlog.get_logger(__name__)
_bearer = HTTPBearer(auto_error=False)


class FieldError(BaseModel):
    field: str = Field(description="the failing field as a dotted path (body: the whole request)")
    message: str = Field(description="中文 (English)")


class ErrorBody(BaseModel):
    """The one error format of every service: ``{"status", "message", "errors"}``."""

    status: int = Field(description="the HTTP status, repeated")
    message: str = Field(description="what went wrong, in Chinese with an English gloss: 中文 (English)")
    errors: list[FieldError] | None = Field(None, description="each failing field (400, 422)")


def error_body(status: int, message: str, errors: list[dict] | None = None) -> dict:
    body: dict = {"status": status, "message": message}
    if errors is not None:
        body["errors"] = errors
    return body


# the framework's own errors, said in Chinese; the English gloss is the HTTP phrase in lower case
STATUS_ZH = {
    400: "请求格式错误", 401: "需要登录", 403: "无权执行此操作", 404: "未找到", 405: "不支持该请求方法",
    406: "无法提供所要求的格式", 409: "与当前状态冲突", 411: "缺少请求长度", 413: "请求内容过大",
    415: "不支持的内容类型", 422: "请求内容不符合要求", 429: "请求过于频繁，请稍后再试", 500: "内部错误",
    502: "上游服务无响应", 503: "服务暂不可用",
}  # fmt: skip
ERROR_DESCRIPTIONS = {
    400: "请求体无法解析 (the body cannot be parsed)", 401: "需要登录 (missing or invalid token)",
    403: "角色无权执行此操作 (forbidden)", 404: "未找到 (not found)", 409: "与当前状态冲突 (conflict)",
    413: "请求内容超过入口的大小限制 (body over the edge's limit, GONGKAI_MAX_BODY)",
    422: "请求内容不符合要求，逐项说明 (invalid request, each field named)",
    429: "请求过于频繁，Retry-After 秒后再试 (too many requests; retry after Retry-After seconds)",
    503: "数据尚未更新到所要求的序号，或所需投影已停止；Retry-After 秒后再试"
         " (a projection has not applied the sequence needed, or is stopped;"
         " retry after Retry-After seconds)",
}  # fmt: skip
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _in_chinese(status: int, detail: Any) -> str:
    """Our own messages are already ``中文 (English)``; the framework's are English phrases."""
    if isinstance(detail, str) and _CJK.search(detail):
        return detail
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    english = detail if isinstance(detail, str) and detail and detail != phrase else phrase.lower()
    return f"{STATUS_ZH.get(status, '请求未能完成')} ({english})"


def field_message(err: dict) -> str:
    """A validation error of one field in Chinese, with pydantic's English as the gloss."""
    kind, ctx, msg = err.get("type", ""), err.get("ctx") or {}, str(err.get("msg", ""))
    msg = msg.removeprefix("Value error, ")
    if _CJK.search(msg):
        return msg  # our own validators speak Chinese already
    if kind == "missing":
        zh = "必须填写"
    elif kind == "extra_forbidden":
        zh = "不接受此字段"
    elif kind == "string_too_short":
        zh = f"至少 {ctx.get('min_length')} 个字符"
    elif kind == "string_too_long":
        zh = f"不得超过 {ctx.get('max_length')} 个字符"
    elif kind == "string_pattern_mismatch":
        zh = "格式不正确"
    elif kind in ("enum", "literal_error"):
        zh = "取值不在允许范围内"
    elif kind.startswith(("int_", "float_", "decimal_", "bool_", "string_type", "list_", "dict_", "model_")):
        zh = "类型或格式不正确"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        zh = "数值超出范围"
    elif kind.startswith(("date_", "datetime_", "time_")):
        zh = "日期或时间不正确"
    elif kind in ("too_short", "too_long"):
        zh = "条目数量不符合要求"
    elif err.get("loc", ())[-1:] == ("email",):
        zh = "电子邮箱格式不正确"
    else:
        zh = "填写不正确"
    return f"{zh} ({msg})"


def _field(err: dict) -> str:
    loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
    return ".".join(loc) or "body"


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of an operation's errors, each with the error schema."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        out[code] = {"model": ErrorBody, "description": ERROR_DESCRIPTIONS.get(code, _in_chinese(code, None))}
        if code in (429, 503):
            out[code]["headers"] = {
                "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}
            }
    return out


def install_error_handlers(app: FastAPI) -> None:
    """Every error in the one format, the framework's own included (an unknown route 404, a wrong
    method 405, a body it cannot parse 400); 422 bodies name each failing field as a dotted path
    (a malformed JSON body: ``body``); no stack trace ever reaches a user."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":  # not JSON at all: the body, not a field (its loc
                where = (err.get("ctx") or {}).get("error", "")  # is a character position)
                message = f"请求体不是有效的 JSON (malformed JSON body{': ' + where if where else ''})"
                errors.append({"field": "body", "message": message})
            else:
                errors.append({"field": _field(err), "message": field_message(err)})
        return JSONResponse(error_body(422, "请求内容不符合要求 (invalid request)", errors), 422)

    @app.exception_handler(StarletteHTTPException)  # FastAPI's HTTPException is one too
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = error_body(exc.status_code, _in_chinese(exc.status_code, exc.detail))
        return JSONResponse(body, exc.status_code, headers=exc.headers)

    @app.exception_handler(ProjectionBehind)  # a wait that timed out is an error, never stale data
    async def _behind(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProjectionBehind)
        headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(error_body(503, exc.message), 503, headers=headers)

    @app.exception_handler(BeyondLog)  # no command returned it: the same answer in every service
    async def _beyond(_: Request, exc: Exception) -> JSONResponse:
        errors = [{"field": "min_seq", "message": str(exc)}]
        return JSONResponse(error_body(422, "请求内容不符合要求 (invalid request)", errors), 422)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        return JSONResponse(error_body(500, "内部错误 (internal error)"), 500)


# The role a user acts in when they hold several the route allows: the restricted handler view
# (own department, masked details) only when no other role applies.
ACTING_ORDER = (Role.registrar, Role.reviewer, Role.approver, Role.auditor, Role.handler, Role.admin)


def staff(*roles: Role) -> Callable[..., Awaitable[Actor]]:
    """A dependency that admits a signed-in, enabled staff user holding one of ``roles``.

    The token names the user's id; roles, being disabled and the last password change are read
    from the service's own staff projection (staff.py), so a disabled account or a revoked role
    stops working everywhere within a minute. No role is implied: an administrator signs off
    only if also granted the approver role. The operator (the CLI holding the key) is an admin.
    """
    allowed = set(roles)

    async def _dep(request: Request, cred: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Actor:
        if cred is None:
            raise HTTPException(401, "需要登录 (missing token)", {"WWW-Authenticate": "Bearer"})
        try:
            claims = verify_token(request.app.state.auth_secret, cred.credentials)
        except InvalidToken:
            raise HTTPException(
                401, "令牌无效或已过期 (invalid or expired token)", {"WWW-Authenticate": "Bearer"}
            ) from None
        if claims.kind == TokenKind.operator:
            if Role.admin not in allowed:
                raise HTTPException(
                    403, "运维令牌只能用于管理操作 (the operator token is for administration only)"
                )
            return Actor(id=OPERATOR, role=Role.admin.value)
        user = await request.app.state.staff.get(claims.user_id)
        revoked_before = user.tokens_valid_after.timestamp() if user and user.tokens_valid_after else 0.0
        if user is None or user.disabled or claims.issued_at < revoked_before:
            message = "账号不存在、已停用或令牌已失效 (unknown or disabled user, or a revoked token)"
            raise HTTPException(401, message, {"WWW-Authenticate": "Bearer"})
        role = next((r for r in ACTING_ORDER if r in allowed and r in user.roles), None)
        if role is None:
            held = ", ".join(sorted(r.value for r in user.roles)) or "none"
            raise HTTPException(403, f"角色 {held} 无权执行此操作 (forbidden)")
        request.state.staff_user = user
        return Actor(id=user.user_id, role=role.value)

    return _dep


Checks = Callable[[], Iterable[tuple[str, bool, str]]]


def install_ops_routes(app: FastAPI, checks: Checks, health: Checks | None = None) -> None:
    """``/healthz`` (process alive), ``/readyz``, ``/metrics``.

    ``/readyz`` is 503 only when a ``checks`` item fails (can this pod serve?); the ``health``
    items (projections, reactions, background tasks) are listed in its detail with
    ``"readiness": false``: an operator acts on them, the Service keeps the pod."""

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        results = [{"check": n, "ok": ok, "detail": d, "readiness": True} for n, ok, d in checks()]
        ready = all(r["ok"] for r in results)
        results += [
            {"check": n, "ok": ok, "detail": d, "readiness": False} for n, ok, d in (health or list)()
        ]
        return JSONResponse({"ready": ready, "checks": results}, 200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def declare_edge_errors(app: FastAPI) -> None:
    """Declare in the app's OpenAPI the errors any operation can get from outside its own code:
    ``400`` where the path has a parameter (the edge refuses path tricks, such as an encoded
    control character in it) or the request has a body (a body that cannot be parsed),
    ``413`` where it has a body (over the edge's limit), and ``503`` with ``Retry-After`` where
    it takes ``min_seq`` (not applied in time). Each with the error schema; what an
    operation declares itself is kept. Call it after every route is added."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()  # FastAPI's, cached on the app: declaring twice changes nothing
        error = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in {**error.pop("$defs", {}), "ErrorBody": error}.items():
            components.setdefault(name, definition)
        body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for item in schema.get("paths", {}).values():
            for method, operation in item.items():
                if method not in ("get", "put", "post", "delete", "patch"):
                    continue
                has_body = "requestBody" in operation
                in_path = any(p.get("in") == "path" for p in operation.get("parameters", []))
                waits = any(p.get("name") == "min_seq" for p in operation.get("parameters", []))
                codes = ([400] if has_body or in_path else []) + ([413] if has_body else [])
                responses = operation.setdefault("responses", {})
                for code in codes:
                    responses.setdefault(
                        str(code), {"description": ERROR_DESCRIPTIONS[code], "content": body}
                    )
                if waits:  # a read of a sequence not applied in time: 503 with Retry-After
                    declared = error_responses(503)[503]
                    responses.setdefault(
                        "503", {"description": declared["description"], "content": body,
                                "headers": declared["headers"]},
                    )  # fmt: skip
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
