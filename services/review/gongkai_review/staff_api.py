"""Staff accounts (工作人员账号): administrators add users, grant and revoke roles, disable
accounts and set passwords; staff sign in with a password and get a session token.

The accounts are events on ``foi.review.user-<id>.>`` (gongkai_shared.staff); every service
projects them. Passwords are hashed with argon2id and never stored or logged in clear.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gongkai_shared.auth import Role, TokenKind, issue_token
from gongkai_shared.clock import OFFICE_TZ
from gongkai_shared.envelope import Actor
from gongkai_shared.events import EventBody, make_event
from gongkai_shared.eventstore import ConcurrencyConflict, StoredEvent, with_retries
from gongkai_shared.positions import ProjectionBehind
from gongkai_shared.runtime import Runtime
from gongkai_shared.staff import (
    StaffPasswordSet,
    StaffRoleGranted,
    StaffRoleRevoked,
    StaffUser,
    StaffUserAdded,
    StaffUserDisabled,
    aggregate_of,
)
from gongkai_shared.text import line, paragraph
from gongkai_shared.web import error_responses, staff

router = APIRouter(prefix="/api/v1", tags=["staff 工作人员"])
ADMIN = staff(Role.admin)
# what each operation can answer besides success (issue 8: every code is declared)
CHANGE_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422)
PASSWORDS_OFF = "本机关已启用统一身份认证，不再接受本地密码登录 (local passwords are off: use single sign-on)"
HASHER = PasswordHasher()  # argon2id with the library's recommended parameters
Login = Annotated[str, line(64, min_length=1)]


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: Login = Field(description="登录名")
    display_name: Annotated[str, line(100, min_length=1)] = Field(description="姓名")
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    department: Annotated[str, line(100)] | None = Field(
        default=None, description="所属部门（承办部门经办人）"
    )
    password: Annotated[str, line(200, min_length=12)] | None = None


class Grant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


class Disable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, paragraph(500, min_length=2)]


class Password(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Annotated[str, line(200, min_length=12)]


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(default=30, ge=1, le=366)


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: Login
    password: Annotated[str, line(200, min_length=1)]


class Token(BaseModel):
    token: str
    user_id: str
    expires_at: datetime


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


async def _append(
    request: Request, user_id: str, body: EventBody, actor: Actor, *, new: bool = False
) -> StoredEvent:
    rt, aggregate = _rt(request), aggregate_of(user_id)

    async def attempt() -> StoredEvent:
        last = await rt.store.last_event(aggregate)
        if new and last is not None:
            raise HTTPException(409, "账号已存在 (the user exists)")
        return await rt.store.append(make_event(body, aggregate_id=aggregate, actor=actor), rt.service,
                                     last.seq if last else 0)  # fmt: skip

    try:
        stored = await with_retries(attempt)
    except ConcurrencyConflict:
        raise HTTPException(409, "账号正被他人修改，请重试 (the account changed concurrently)") from None
    request.app.state.staff.invalidate(user_id)
    try:
        await rt.wait_for(stored.seq)  # the caller reads its own write
    except ProjectionBehind as e:  # stored, not yet readable: say so, so nobody resubmits it
        raise HTTPException(
            503,
            f"已保存（序号 {stored.seq}），暂不可读，请稍后查询，勿重复提交 (stored at sequence"
            f" {stored.seq} but not yet readable: read it again later, do not resubmit)",
            headers={"Retry-After": str(e.retry_after)},
        ) from None
    return stored


async def _user(request: Request, user_id: str) -> StaffUser:
    user = await request.app.state.staff.get(user_id, fresh=True)
    if user is None:
        raise HTTPException(404, "账号不存在 (no such user)")
    return user


@router.post(
    "/users",
    status_code=201,
    summary="添加工作人员账号（管理员）",
    responses=error_responses(400, 401, 403, 409, 413, 422),
)
async def add_user(body: NewUser, request: Request, actor: Actor = Depends(ADMIN)) -> dict:
    directory = request.app.state.staff
    if await directory.by_login(body.login) is not None:
        raise HTTPException(409, f"登录名 {body.login} 已被使用 (login taken)")
    user_id = str(uuid.uuid4())
    added = StaffUserAdded(user_id=user_id, login=body.login, display_name=body.display_name,
                           roles=sorted(set(body.roles)), department=body.department)  # fmt: skip
    stored = await _append(request, user_id, added, actor, new=True)
    if body.password:
        hashed = StaffPasswordSet(user_id=user_id, password_hash=HASHER.hash(body.password))
        stored = await _append(request, user_id, hashed, actor)
    return {**(await _user(request, user_id)).describe(), "sequence": stored.seq}


@router.get("/users", summary="工作人员账号列表（管理员、审计）", responses=error_responses(401, 403))
async def list_users(request: Request, _: Actor = Depends(staff(Role.admin, Role.auditor))) -> dict:
    users = await request.app.state.staff.all()
    return {"total": len(users), "items": [u.describe() for u in users]}


@router.post("/users/{user_id}/roles", status_code=201, summary="授予角色（管理员）", responses=CHANGE_ERRORS)
async def grant(user_id: Login, body: Grant, request: Request, actor: Actor = Depends(ADMIN)) -> dict:
    await _user(request, user_id)
    stored = await _append(request, user_id, StaffRoleGranted(user_id=user_id, role=body.role), actor)
    return {**(await _user(request, user_id)).describe(), "sequence": stored.seq}


@router.delete(
    "/users/{user_id}/roles/{role}",
    summary="撤销角色（管理员）",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def revoke(user_id: Login, role: Role, request: Request, actor: Actor = Depends(ADMIN)) -> dict:
    user = await _user(request, user_id)
    if role not in user.roles:
        raise HTTPException(409, f"该账号没有角色 {role.value} (the user does not hold the role)")
    stored = await _append(request, user_id, StaffRoleRevoked(user_id=user_id, role=role), actor)
    return {**(await _user(request, user_id)).describe(), "sequence": stored.seq}


@router.post(
    "/users/{user_id}/disable",
    status_code=201,
    summary="停用账号（管理员）；其令牌一分钟内全部失效",
    responses=CHANGE_ERRORS,
)
async def disable(user_id: Login, body: Disable, request: Request, actor: Actor = Depends(ADMIN)) -> dict:
    user = await _user(request, user_id)
    if user.disabled:
        raise HTTPException(409, "账号已停用 (already disabled)")
    stored = await _append(request, user_id, StaffUserDisabled(user_id=user_id, reason=body.reason), actor)
    return {**(await _user(request, user_id)).describe(), "sequence": stored.seq}


@router.post(
    "/users/{user_id}/password",
    status_code=201,
    summary="设置密码（管理员）；此前的令牌失效",
    responses=CHANGE_ERRORS,
)
async def set_password(
    user_id: Login, body: Password, request: Request, actor: Actor = Depends(ADMIN)
) -> dict:
    await _user(request, user_id)
    event = StaffPasswordSet(user_id=user_id, password_hash=HASHER.hash(body.password))
    stored = await _append(request, user_id, event, actor)
    return {"user_id": user_id, "sequence": stored.seq}


@router.post(
    "/users/{user_id}/tokens",
    status_code=201,
    response_model=Token,
    summary="签发接口令牌（管理员）",
    responses=CHANGE_ERRORS,
)
async def api_token(user_id: Login, body: TokenRequest, request: Request, _: Actor = Depends(ADMIN)) -> Token:
    user = await _user(request, user_id)
    if user.disabled:
        raise HTTPException(409, "账号已停用 (disabled)")
    ttl = timedelta(days=body.days)
    token = issue_token(request.app.state.auth_secret, user_id, TokenKind.api, ttl)
    return Token(token=token, user_id=user_id, expires_at=datetime.now(UTC) + ttl)


@router.post(
    "/auth/sign-in",
    response_model=Token,
    summary="工作人员登录：返回会话令牌",
    responses=error_responses(400, 401, 403, 413, 422),
)
async def sign_in(body: SignIn, request: Request) -> Token:
    if not request.app.state.settings.local_passwords:
        raise HTTPException(403, PASSWORDS_OFF)
    return await _session(request, body.login, body.password)


async def _session(request: Request, login: str, password: str) -> Token:
    """A session token for the right password; one answer for every wrong login or password."""
    user = await request.app.state.staff.by_login(login)
    refused = HTTPException(401, "登录名或密码错误 (wrong login or password)")
    if user is None or user.disabled or not user.password_hash:
        HASHER.hash(password)  # as slow as a real check: timing tells nothing
        raise refused
    try:
        HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise refused from None
    return issue_session(request, user)


def issue_session(request: Request, user: StaffUser) -> Token:
    """A session token for an account already checked (by password or by the OIDC provider)."""
    hours = request.app.state.settings.session_hours
    ttl = timedelta(hours=hours)
    token = issue_token(request.app.state.auth_secret, user.user_id, TokenKind.session, ttl)
    return Token(token=token, user_id=user.user_id, expires_at=datetime.now(UTC) + ttl)


# --- the sign-in page (Simplified Chinese) ------------------------------------------------------

pages = APIRouter(prefix="/staff", include_in_schema=False)
_env = Environment(loader=PackageLoader("gongkai_review", "templates/pages"), autoescape=select_autoescape())


def page(request: Request, status: int = 200, **values: Any) -> HTMLResponse:
    settings = request.app.state.settings
    html = _env.get_template("sign_in.html").render(
        {"token": None, "error": None, "login": "", "oidc": settings.oidc_enabled,
         "passwords": settings.local_passwords, **values}
    )  # fmt: skip
    return HTMLResponse(html, status)


async def signed_in_page(request: Request, token: Token, login: str) -> HTMLResponse:
    user = await request.app.state.staff.get(token.user_id)
    local = token.expires_at.astimezone(OFFICE_TZ).strftime("%Y-%m-%d %H:%M")
    return page(request, token=token.token, display_name=user.display_name if user else login,
                expires_at=local)  # fmt: skip


@pages.get("/sign-in")
async def sign_in_page(request: Request) -> HTMLResponse:
    return page(request)


@pages.post("/sign-in")
async def sign_in_form(request: Request) -> HTMLResponse:
    if not request.app.state.settings.local_passwords:
        return page(request, 403, error="已启用统一身份认证，不再接受本地密码，请使用统一身份认证登录。")
    form = await request.form()
    login, password = str(form.get("login", "")).strip(), str(form.get("password", ""))
    try:
        SignIn(login=login, password=password)
    except ValidationError:
        return page(request, 422, login="", error="请填写登录名和密码（不含控制字符）。")
    try:
        token = await _session(request, login, password)
    except HTTPException:
        return page(request, 401, login=login, error="登录名或密码错误。")
    return await signed_in_page(request, token, login)
