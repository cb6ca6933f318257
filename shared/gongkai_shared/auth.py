"""Staff identities: tokens signed (HS256) with ``GONGKAI_AUTH_SECRET`` that name a user's id.

A session token comes from signing in with a password (8 hours by default); an API token for a
machine client is issued by an administrator (with an expiry); an operator token is minted by
the ``gongkai`` command line from the key itself (minutes; it is how the first administrator is
added). Every service checks the named user against its own staff projection (staff.py) at each
request. Applicants do not sign in: they track their case with an unguessable tracking code.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import jwt

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


class TokenKind(StrEnum):
    session = "session"  # a staff member signed in with a password (hours)
    api = "api"  # a machine client's token (days), issued by an administrator
    operator = "operator"  # minted by whoever holds the key (the gongkai CLI), minutes, admin only


OPERATOR = "operator"


@dataclass(frozen=True)
class Claims:
    user_id: str
    kind: TokenKind
    issued_at: float  # seconds since the epoch, with microseconds
    expires_at: float


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def issue_token(secret: str, user_id: str, kind: TokenKind, ttl: timedelta) -> str:
    """A signed token naming the user's **id**; what the user may do is read at every request
    from the staff projection (roles, disabled), never trusted from the token."""
    if not secret:
        raise ValueError("GONGKAI_AUTH_SECRET is not set")
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": user_id,
        "kind": kind.value,
        "iat": int(now.timestamp()),
        "t": now.timestamp(),  # sub-second issue time: a token older than a password change fails
        "exp": int((now + ttl).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def operator_token(secret: str, ttl: timedelta = timedelta(minutes=10)) -> str:
    return issue_token(secret, OPERATOR, TokenKind.operator, ttl)


def verify_token(secret: str, token: str) -> Claims:
    """The token's claims if its signature, issuer and expiry hold; InvalidToken otherwise."""
    if not secret:
        raise InvalidToken("no signing secret configured")
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=ISSUER, options={"require": ["exp"]})
        kind = TokenKind(claims["kind"])
        user_id = str(claims["sub"])
        if (kind == TokenKind.operator) != (user_id == OPERATOR):
            raise ValueError("operator tokens name the operator, and only they do")
        return Claims(user_id, kind, float(claims.get("t", claims["iat"])), float(claims["exp"]))
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as e:
        raise InvalidToken(str(e)) from e
