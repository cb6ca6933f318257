"""``gongkai users``: staff accounts, through review's API (review owns the staff directory)."""

from __future__ import annotations

import sys
from argparse import Namespace

from gongkai_shared.auth import Role

from ..connections import api
from ..settings import CliError, CliSettings

ROLES = ", ".join(r.value for r in Role)


def _roles(names: list[str]) -> list[str]:
    for role in names:
        if role not in {r.value for r in Role}:
            raise CliError(f"unknown role {role!r}; roles: {ROLES}")
    return names


async def _user_id(settings: CliSettings, login: str) -> str:
    for u in (await api(settings, "GET", "/api/v1/users"))["items"]:
        if u["login"] == login:
            return u["user_id"]
    raise CliError(f"no staff account {login!r} (gongkai users list)")


async def add(settings: CliSettings, args: Namespace) -> int:
    """Add the account and print an API token for it (``--days`` long)."""
    login = args.login.strip()
    if not login:
        raise CliError("the login must not be empty")
    password = sys.stdin.readline().strip() if args.password_stdin else None
    body = {"login": login, "display_name": (args.name or login).strip(), "roles": _roles(args.role),
            "department": args.department, "password": password}  # fmt: skip
    user = await api(settings, "POST", "/api/v1/users", body)
    token = await api(settings, "POST", f"/api/v1/users/{user['user_id']}/tokens", {"days": args.days})
    print(token["token"])
    return 0


async def list_users(settings: CliSettings, args: Namespace) -> int:
    for u in (await api(settings, "GET", "/api/v1/users"))["items"]:
        state = "disabled" if u["disabled"] else "active"
        roles, department = ",".join(u["roles"]), u["department"] or "-"
        print(f"{u['login']:<16} {u['display_name']:<12} {roles:<28} {department:<12} {state} {u['user_id']}")
    return 0


async def disable(settings: CliSettings, args: Namespace) -> int:
    user_id = await _user_id(settings, args.login)
    await api(settings, "POST", f"/api/v1/users/{user_id}/disable", {"reason": args.reason})
    return _done(args)


async def grant(settings: CliSettings, args: Namespace) -> int:
    user_id = await _user_id(settings, args.login)
    await api(settings, "POST", f"/api/v1/users/{user_id}/roles", {"role": _roles([args.role])[0]})
    return _done(args)


async def revoke(settings: CliSettings, args: Namespace) -> int:
    user_id = await _user_id(settings, args.login)
    await api(settings, "DELETE", f"/api/v1/users/{user_id}/roles/{_roles([args.role])[0]}")
    return _done(args)


async def password(settings: CliSettings, args: Namespace) -> int:
    """Set a sign-in password, read from stdin (never from the command line)."""
    user_id = await _user_id(settings, args.login)
    await api(
        settings, "POST", f"/api/v1/users/{user_id}/password", {"password": sys.stdin.readline().strip()}
    )
    return _done(args)


async def token(settings: CliSettings, args: Namespace) -> int:
    """Print an API token for a machine client."""
    user_id = await _user_id(settings, args.login)
    days = int(args.days or 30)
    print((await api(settings, "POST", f"/api/v1/users/{user_id}/tokens", {"days": days}))["token"])
    return 0


def _done(args: Namespace) -> int:
    print(f"{args.login}: {args.cmd} done")
    return 0
