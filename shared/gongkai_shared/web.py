"""What every service's HTTP app shares: error bodies, staff auth, health, readiness, metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import structlog
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .auth import OPERATOR, InvalidToken, Role, TokenKind, verify_token
from .envelope import Actor

log = structlog.get_logger(__name__)
_bearer = HTTPBearer(auto_error=False)


def error_body(status: int, message: str, errors: list[dict] | None = None) -> dict:
    body: dict = {"status": status, "message": message}
    if errors is not None:
        body["errors"] = errors
    return body


def install_error_handlers(app: FastAPI) -> None:
    """422 bodies name each failing field as a dotted path; no stack trace ever reaches a user."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            errors.append({"field": ".".join(loc) or "body", "message": err.get("msg", "")})
        return JSONResponse(error_body(422, "请求内容不符合要求 (invalid request)", errors), 422)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        return JSONResponse(error_body(exc.status_code, detail), exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        return JSONResponse(error_body(500, "内部错误 (internal error)"), 500)


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
            raise HTTPException(401, "账号不存在、已停用或令牌已失效 (unknown or disabled user, or a revoked token)",
                                {"WWW-Authenticate": "Bearer"})  # fmt: skip
        role = next((r for r in Role if r in allowed and r in user.roles), None)
        if role is None:
            held = ", ".join(sorted(r.value for r in user.roles)) or "none"
            raise HTTPException(403, f"角色 {held} 无权执行此操作 (forbidden)")
        request.state.staff_user = user
        return Actor(id=user.user_id, role=role.value)

    return _dep


def install_ops_routes(app: FastAPI, checks: Callable[[], Iterable[tuple[str, bool, str]]]) -> None:
    """``/healthz`` (process alive), ``/readyz`` (dependencies and projections), ``/metrics``."""

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        results = [{"check": n, "ok": ok, "detail": d} for n, ok, d in checks()]
        ready = all(r["ok"] for r in results)
        return JSONResponse({"ready": ready, "checks": results}, 200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)
