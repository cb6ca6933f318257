"""Staff identities: signed API tokens carrying the user's name and role.

``gongkai users add NAME --role ROLE`` issues a token signed (HS256) with the deployment's
``GONGKAI_AUTH_SECRET``; every service verifies it offline. Applicants do not sign in: they
track their case with an unguessable tracking code.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum

import jwt

from .envelope import Actor

ISSUER = "gongkai"


class Role(StrEnum):
    registrar = "registrar"  # 登记员
    handler = "handler"  # 承办部门经办人
    reviewer = "reviewer"  # 公开审核人
    approver = "approver"  # 审批人（机关负责人）
    auditor = "auditor"  # 审计（只读）
    admin = "admin"  # 系统管理员


class InvalidToken(Exception):
    pass


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def issue_token(secret: str, name: str, role: Role) -> str:
    if not secret:
        raise ValueError("GONGKAI_AUTH_SECRET is not set")
    claims = {
        "iss": ISSUER,
        "sub": name,
        "role": role.value,
        "iat": int(datetime.now(UTC).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(secret: str, token: str) -> Actor:
    if not secret:
        raise InvalidToken("no signing secret configured")
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=ISSUER)
        role = Role(claims["role"])
        return Actor(id=str(claims["sub"]), role=role.value)
    except (jwt.PyJWTError, KeyError, ValueError) as e:
        raise InvalidToken(str(e)) from e
