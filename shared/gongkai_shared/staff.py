"""Staff accounts are events (owned by review, read by every service).

``staff-user-added``, ``staff-role-granted``, ``staff-role-revoked``, ``staff-user-disabled`` and
``staff-password-set`` live on ``foi.review.user-<id>.>``. Every service projects them into its
own ``staff_users`` table, so each can tell, from its own database, whether a token's user
exists, is enabled, holds a role, and whether the token predates a password change or the
account being disabled. Rules about people compare these **ids**, never display names.

A password is kept only as its argon2id hash (in the event and the projection).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import asyncpg
from pydantic import Field

from .auth import Role
from .events import EventBody, event
from .eventstore import StoredEvent
from .text import line, paragraph

STAFF_TABLE = """
CREATE TABLE IF NOT EXISTS staff_users (
    user_id text PRIMARY KEY,
    login text NOT NULL UNIQUE,
    display_name text NOT NULL,
    roles text[] NOT NULL DEFAULT '{}',
    department text,
    disabled boolean NOT NULL DEFAULT false,
    password_hash text,
    -- tokens issued before this instant are refused (password changed, account disabled)
    tokens_valid_after timestamptz
);
"""


@event("staff-user-added", context="review")
class StaffUserAdded(EventBody):
    """An administrator added a staff account (工作人员账号)."""

    user_id: Annotated[str, line(64, min_length=1)]
    login: Annotated[str, line(64, min_length=1)]
    display_name: Annotated[str, line(100, min_length=1)]
    roles: list[Role] = Field(default_factory=list, max_length=len(Role))
    department: Annotated[str, line(100)] | None = None


@event("staff-role-granted", context="review")
class StaffRoleGranted(EventBody):
    user_id: Annotated[str, line(64, min_length=1)]
    role: Role


@event("staff-role-revoked", context="review")
class StaffRoleRevoked(EventBody):
    user_id: Annotated[str, line(64, min_length=1)]
    role: Role


@event("staff-user-disabled", context="review")
class StaffUserDisabled(EventBody):
    """The account no longer signs in; its tokens stop working."""

    user_id: Annotated[str, line(64, min_length=1)]
    reason: Annotated[str, paragraph(500, min_length=1)]


@event("staff-password-set", context="review")
class StaffPasswordSet(EventBody):
    """A new password (argon2id hash); tokens issued before it stop working."""

    user_id: Annotated[str, line(64, min_length=1)]
    password_hash: Annotated[str, line(200, min_length=1)]


@event("personal-data-viewed", context="review")
class PersonalDataViewed(EventBody):
    """A staff member was shown a case's applicant contact and identity details (查阅个人信息)."""

    case_id: Annotated[str, line(200, min_length=1)]
    user_id: Annotated[str, line(64, min_length=1)]
    role: Role
    # what was shown besides the case's details: "identity-proof" (the file, issue 9); absent
    # for the case's details
    item: Annotated[str, line(100, min_length=1)] | None = None


def reads_aggregate(case_id: str) -> str:
    """Reads of one case's personal data: their own aggregate, so a read never races a command."""
    return f"reads-{case_id}"


def aggregate_of(user_id: str) -> str:
    return f"user-{user_id}"


class StaffProjection:
    """``staff_users`` in the service's own schema, named per service (``review.staff``): the
    services share one database, and a projection's advisory lock is taken by its name."""

    def __init__(self, service: str) -> None:
        self.name = f"{service}.staff"
        self.version = 0  # counts staff events applied: the directory's cache is older than that

    async def apply(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        if event.name.startswith("staff-"):
            await self._apply(conn, event)
            self.version += 1

    async def _apply(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        body = event.body()
        at = event.envelope.time
        if isinstance(body, StaffUserAdded):
            await conn.execute(
                "INSERT INTO staff_users(user_id, login, display_name, roles, department)"
                " VALUES ($1,$2,$3,$4,$5) ON CONFLICT (user_id) DO NOTHING",
                body.user_id, body.login, body.display_name, [r.value for r in body.roles], body.department,
            )  # fmt: skip
        elif isinstance(body, StaffRoleGranted):
            await conn.execute(
                "UPDATE staff_users SET roles = array_append(array_remove(roles, $2), $2) WHERE user_id = $1",
                body.user_id, body.role.value,
            )  # fmt: skip
        elif isinstance(body, StaffRoleRevoked):
            await conn.execute(
                "UPDATE staff_users SET roles = array_remove(roles, $2) WHERE user_id = $1",
                body.user_id, body.role.value,
            )  # fmt: skip
        elif isinstance(body, StaffUserDisabled):
            await conn.execute(
                "UPDATE staff_users SET disabled = true, tokens_valid_after = $2 WHERE user_id = $1",
                body.user_id, at,
            )  # fmt: skip
        elif isinstance(body, StaffPasswordSet):
            await conn.execute(
                "UPDATE staff_users SET password_hash = $2, tokens_valid_after = $3 WHERE user_id = $1",
                body.user_id, body.password_hash, at,
            )  # fmt: skip


@dataclass(frozen=True)
class StaffUser:
    user_id: str
    login: str
    display_name: str
    roles: frozenset[Role]
    department: str | None
    disabled: bool
    tokens_valid_after: datetime | None
    password_hash: str | None

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> StaffUser:
        return cls(
            r["user_id"], r["login"], r["display_name"], frozenset(Role(x) for x in r["roles"]),
            r["department"], r["disabled"], r["tokens_valid_after"], r["password_hash"],
        )  # fmt: skip

    def describe(self) -> dict:
        return {
            "user_id": self.user_id,
            "login": self.login,
            "display_name": self.display_name,
            "roles": sorted(r.value for r in self.roles),
            "department": self.department,
            "disabled": self.disabled,
        }


class StaffDirectory:
    """Who a token names, read from the service's own projection and cached briefly. An entry
    is dropped as soon as the projection applies any staff event, and after ``ttl`` seconds in
    any case: a disabled account's tokens stop working within seconds everywhere."""

    def __init__(self, pool: asyncpg.Pool, projection: StaffProjection, ttl: float = 10.0) -> None:
        self.pool, self.projection, self.ttl = pool, projection, ttl
        self._cache: dict[str, tuple[float, int, StaffUser | None]] = {}

    async def get(self, user_id: str, *, fresh: bool = False) -> StaffUser | None:
        now, version = time.monotonic(), self.projection.version
        hit = self._cache.get(user_id)
        if hit is not None and now - hit[0] < self.ttl and hit[1] == version and not fresh:
            return hit[2]
        row = await self.pool.fetchrow("SELECT * FROM staff_users WHERE user_id = $1", user_id)
        user = StaffUser.from_row(row) if row else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[user_id] = (now, version, user)
        return user

    def invalidate(self, user_id: str) -> None:
        self._cache.pop(user_id, None)

    async def by_login(self, login: str) -> StaffUser | None:
        row = await self.pool.fetchrow("SELECT * FROM staff_users WHERE login = $1", login)
        return StaffUser.from_row(row) if row else None

    async def all(self) -> list[StaffUser]:
        return [
            StaffUser.from_row(r) for r in await self.pool.fetch("SELECT * FROM staff_users ORDER BY login")
        ]
