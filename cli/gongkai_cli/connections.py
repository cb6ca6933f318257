"""The command line's two ways in: the log on NATS (read-only ``auditor`` unless an operator's
command needs ``admin``) and the services' HTTP APIs (as the operator, with a short token)."""

from __future__ import annotations

from typing import Any

import httpx

from gongkai_shared.access import ADMIN, AUDITOR
from gongkai_shared.auth import operator_token
from gongkai_shared.checkpoint import Signer
from gongkai_shared.eventstore import EventStore, connect
from gongkai_shared.trust import TRUST, EventSigner

from . import credentials
from .settings import CliError, CliSettings


async def store(settings: CliSettings, user: str = AUDITOR, root: Signer | None = None) -> EventStore:
    """A connection as ``user`` (the read-only auditor unless an operator's command needs admin)."""
    url = settings.resolved_nats_url()
    user = settings.nats_user or user

    async def quiet(_: Exception) -> None:  # errors are reported once, below, not as tracebacks
        return None

    password = credentials.nats_password(settings, user)
    try:
        nc = await connect(
            url,
            "gongkai-cli",
            user=user,
            password=password,
            connect_timeout=3,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.2,
            error_cb=quiet,
        )
    except Exception as e:  # noqa: BLE001 — nats raises its own NoServersError
        raise CliError(
            f"cannot reach NATS at {url} as {user} ({e or type(e).__name__}); is `make up` running?"
        ) from None
    return EventStore(nc, settings.stream, EventSigner(TRUST, root) if root else None)


async def admin(settings: CliSettings) -> EventStore:
    """The operator's connection: administrator credential, signing with the root key."""
    return await store(settings, ADMIN, credentials.root(settings))


async def api(
    settings: CliSettings,
    method: str,
    path: str,
    body: dict | None = None,
    *,
    token: str | None = None,
    base: str | None = None,
    timeout: float = 30,
) -> Any:
    """Call a service's API as the operator (a short token minted from the staff-token key), or
    with ``token`` (a staff member's API token, e.g. an auditor's); at the public address or at
    ``base`` (an operator listener)."""
    base = base or settings.service_url()
    token = token or operator_token(credentials.auth_secret(settings))
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            r = await client.request(
                method, f"{base}{path}", json=body, headers={"Authorization": f"Bearer {token}"}
            )
    except httpx.HTTPError as e:
        raise CliError(f"cannot reach {base} ({type(e).__name__}); is `make up` running?") from None
    if r.status_code >= 400:
        try:
            detail = r.json()
            message = detail.get("message", detail)
            if detail.get("errors"):
                message = f"{message}: " + "; ".join(
                    f"{e['field']}: {e['message']}" for e in detail["errors"]
                )
        except (ValueError, AttributeError):
            message = r.text
        raise CliError(f"{method} {path}: {r.status_code} {message}")
    return r.json()
