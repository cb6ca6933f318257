"""Single sign-on (统一身份认证, issue 8): an OIDC provider can replace local passwords.

Off unless ``GONGKAI_REVIEW_OIDC_ISSUER`` is set. Authorization code flow with PKCE; ``state``,
``nonce`` and the code verifier travel in a short-lived, signed, HttpOnly cookie. The ID token is
checked with authlib (signature against the provider's JWKS, iss, aud, exp, nonce) and its login
claim must name an existing, enabled staff account; the session token is the one a password
sign-in gives.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.jose import JsonWebKey, jwt
from authlib.jose.errors import JoseError
from authlib.oidc.core import CodeIDToken
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .staff_api import issue_session, page, signed_in_page

pages = APIRouter(prefix="/staff/sign-in/oidc", include_in_schema=False)
COOKIE = "gongkai_oidc"
COOKIE_SECONDS = 600  # the round trip to the provider must finish within ten minutes
TIMEOUT = httpx.Timeout(10.0)


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _sign(secret: str, payload: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    mac = hmac.new(f"oidc-cookie:{secret}".encode(), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def _unsign(secret: str, value: str | None) -> dict[str, Any]:
    body, _, mac = (value or "").rpartition(".")
    good = hmac.new(f"oidc-cookie:{secret}".encode(), body.encode(), hashlib.sha256).hexdigest()
    if not body or not hmac.compare_digest(mac, good):
        raise Refused(401, "登录请求无效或已过期，请重新登录。")
    payload = json.loads(base64.urlsafe_b64decode(body))
    if payload.get("exp", 0) < time.time():
        raise Refused(401, "登录请求已过期，请重新登录。")
    return payload


async def _discovery(issuer: str) -> dict[str, Any]:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        r = await client.get(url)
        r.raise_for_status()
        return r.json()


def _client(settings: Any) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        redirect_uri=settings.oidc_redirect_url,
        scope="openid profile",
        code_challenge_method="S256",
        timeout=TIMEOUT,
    )


def _error(request: Request, status: int, message: str) -> HTMLResponse:
    response = page(request, status, error=message)
    response.delete_cookie(COOKIE, path="/staff/sign-in/oidc")
    return response


@pages.get("")
async def start(request: Request) -> Response:
    settings = request.app.state.settings
    if not settings.oidc_enabled:
        return page(request, 404, error="本机关未启用统一身份认证。")
    try:
        meta = await _discovery(settings.oidc_issuer)
    except (httpx.HTTPError, ValueError):
        return _error(request, 503, "统一身份认证服务暂时无法访问，请稍后再试。")
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(48)
    async with _client(settings) as client:
        url, _ = client.create_authorization_url(
            meta["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
        )
    response = RedirectResponse(url, 302)
    cookie = _sign(request.app.state.auth_secret,
                   {"state": state, "nonce": nonce, "verifier": verifier,
                    "exp": int(time.time()) + COOKIE_SECONDS})  # fmt: skip
    response.set_cookie(
        COOKIE, cookie, max_age=COOKIE_SECONDS, path="/staff/sign-in/oidc", httponly=True,
        samesite="lax", secure=settings.oidc_redirect_url.startswith("https://"),
    )  # fmt: skip
    return response


@pages.get("/callback")
async def callback(request: Request) -> Response:
    settings = request.app.state.settings
    if not settings.oidc_enabled:
        return page(request, 404, error="本机关未启用统一身份认证。")
    try:
        login = await _verified_login(request, settings)
        user = await request.app.state.staff.by_login(login)
        if user is None:
            raise Refused(403, f"统一身份认证账号 {login} 在本系统中没有工作人员账号，请联系管理员。")
        if user.disabled:
            raise Refused(403, "该工作人员账号已停用。")
    except Refused as refused:
        return _error(request, refused.status, refused.message)
    response = await signed_in_page(request, issue_session(request, user), login)
    response.delete_cookie(COOKIE, path="/staff/sign-in/oidc")
    return response


async def _verified_login(request: Request, settings: Any) -> str:
    """The staff login the provider vouches for, or Refused."""
    if "error" in request.query_params:
        raise Refused(401, "统一身份认证未通过（提供方拒绝或已取消）。")
    flow = _unsign(request.app.state.auth_secret, request.cookies.get(COOKIE))
    state, code = request.query_params.get("state", ""), request.query_params.get("code", "")
    if not code or not secrets.compare_digest(state.encode(), str(flow.get("state", "")).encode()):
        raise Refused(401, "登录请求无效（state 不符），请重新登录。")
    try:
        meta = await _discovery(settings.oidc_issuer)
        if meta["issuer"].rstrip("/") != settings.oidc_issuer.rstrip("/"):
            raise ValueError("the provider names another issuer")
        async with _client(settings) as client:
            token = await client.fetch_token(
                meta["token_endpoint"], code=code, code_verifier=flow["verifier"]
            )
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            keys = (await client.get(meta["jwks_uri"])).raise_for_status().json()
    except (httpx.HTTPError, AuthlibBaseError, ValueError, KeyError):
        raise Refused(401, "统一身份认证未通过（无法兑换授权码）。") from None
    try:
        claims = jwt.decode(
            token.get("id_token", ""),
            JsonWebKey.import_key_set(keys),
            claims_cls=CodeIDToken,
            claims_options={
                "iss": {"essential": True, "value": meta["issuer"]},
                "aud": {"essential": True, "value": settings.oidc_client_id},
            },
            claims_params={"nonce": flow["nonce"], "client_id": settings.oidc_client_id},
        )
        claims.validate(leeway=60)
    except (JoseError, ValueError, TypeError):
        raise Refused(401, "统一身份认证未通过（身份令牌无效）。") from None
    login = claims.get(settings.oidc_login_claim)
    if not isinstance(login, str) or not login:
        raise Refused(403, f"身份令牌中没有登录名（{settings.oidc_login_claim}）。")
    return login
