"""Who may do what on the broker: the one table every topology's NATS configuration comes from.

Two accounts (ARCHITECTURE.md §4):
- ``GONGKAI`` holds the ``FOI`` stream. Each service connects as its own user, allowed to
  publish only ``foi.<its context>.>`` and the JetStream API calls it needs: stream info,
  direct gets, ephemeral ordered consumers and the durable consumers it owns. No service can
  create, update, seal, purge or delete a stream, delete a message, or touch a consumer it does
  not own. ``admin`` (the operator: creating the stream, registering signing keys, backups) may
  do everything and is never given to a running service; ``auditor`` reads and writes nothing.
- ``AGENCIES`` holds other agencies. Each agency pulls from its own durable consumer in
  ``GONGKAI``, filtered to the public events, through a per-agency service export; it can read
  nothing else and publish nothing.

Every user has its own inbox prefix (``_INBOX_<user>``) and may subscribe only there, so no user
can read the replies (and ordered-consumer deliveries) of another.

The configuration is rendered as JSON, which nats-server's configuration format accepts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

SERVICES = ("intake", "review", "publishing", "notify")
ACCOUNT = "GONGKAI"
AGENCY_ACCOUNT = "AGENCIES"
ADMIN = "admin"
AUDITOR = "auditor"

# The durable consumers each service owns (its FastStream reactions). A reaction whose durable
# is not listed here is refused by the broker, and a test keeps this table and the code in step.
DURABLES: dict[str, tuple[str, ...]] = {
    "intake": (),
    "review": ("review-on-withdrawal-requested",),
    "publishing": ("publishing-on-review-approved",),
    "notify": (),
}

# What other agencies may read: the public events, which carry no personal data.
PUBLIC_SUBJECTS = ("foi.publishing.*.published",)

_AGENCY_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


def inbox_prefix(user: str) -> str:
    return f"_INBOX_{user}"


def agency_user(name: str) -> str:
    return f"agency-{name}"


def agency_durable(name: str) -> str:
    return f"agency-{name}"


def check_agency_name(name: str) -> str:
    if not _AGENCY_NAME.match(name):
        raise ValueError(f"agency name {name!r}: use 1-41 lower-case letters, digits and '-'")
    return name


def _js_read(stream: str) -> list[str]:
    """The JetStream API a reader needs: stream info, direct and plain gets, ordered consumers."""
    return [
        "$JS.API.INFO",
        f"$JS.API.STREAM.INFO.{stream}",
        f"$JS.API.STREAM.MSG.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}.>",
        # an ephemeral (ordered) consumer; the server refuses a durable name on this subject
        f"$JS.API.CONSUMER.CREATE.{stream}",
        f"$JS.FC.{stream}.>",  # flow-control replies of ordered consumers
    ]


def _own_durable(stream: str, durable: str) -> list[str]:
    return [
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}",
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}.>",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
        f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
    ]


def service_permissions(service: str, stream: str = "FOI") -> dict[str, Any]:
    allow = [f"foi.{service}.>", *_js_read(stream)]
    for durable in DURABLES[service]:
        allow += _own_durable(stream, durable)
    return {"publish": {"allow": allow}, "subscribe": {"allow": [f"{inbox_prefix(service)}.>"]}}


def auditor_permissions(stream: str = "FOI") -> dict[str, Any]:
    return {
        "publish": {"allow": _js_read(stream)},
        "subscribe": {"allow": [f"{inbox_prefix(AUDITOR)}.>"]},
    }


def _agency_api(stream: str, name: str) -> list[str]:
    durable = agency_durable(name)
    return [
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
    ]


@dataclass
class Credentials:
    """Passwords by user name: the services, ``admin``, ``auditor`` and ``agency-<name>``."""

    passwords: dict[str, str]
    agencies: list[str] = field(default_factory=list)

    def password(self, user: str) -> str:
        return self.passwords[user]


def accounts(creds: Credentials, stream: str = "FOI") -> dict[str, Any]:
    """The two accounts: the services' (with the stream) and the agencies' (read-only imports)."""
    users: list[dict[str, Any]] = [
        {"user": s, "password": creds.password(s), "permissions": service_permissions(s, stream)}
        for s in SERVICES
    ]
    users.append({"user": ADMIN, "password": creds.password(ADMIN)})  # everything
    users.append(
        {"user": AUDITOR, "password": creds.password(AUDITOR), "permissions": auditor_permissions(stream)}
    )
    exports: list[dict[str, Any]] = []
    imports: list[dict[str, Any]] = []
    agency_users: list[dict[str, Any]] = []
    for name in sorted(creds.agencies):
        api = _agency_api(stream, name)
        # MSG.NEXT answers with a stream of messages; the others with one reply each
        exports += [
            {
                "service": s,
                "accounts": [AGENCY_ACCOUNT],
                **({"response": "stream"} if ".MSG.NEXT." in s else {}),
            }
            for s in api
        ]
        imports += [{"service": {"account": ACCOUNT, "subject": s}} for s in api]
        user = agency_user(name)
        agency_users.append(
            {
                "user": user,
                "password": creds.password(user),
                "permissions": {
                    "publish": {"allow": api},
                    "subscribe": {"allow": [f"{inbox_prefix(user)}.>"]},
                },
            }
        )
    account: dict[str, Any] = {"jetstream": "enabled", "users": users}
    if exports:
        account["exports"] = exports
    agencies: dict[str, Any] = {"users": agency_users or [_nobody()]}
    if imports:
        agencies["imports"] = imports
    return {ACCOUNT: account, AGENCY_ACCOUNT: agencies}


HEADER = "# Generated by gongkai (gongkai_shared.access); edits are lost.\n"


def render_config(
    creds: Credentials,
    *,
    listen: str,
    store_dir: str,
    monitor: str | None = None,
    stream: str = "FOI",
    server_name: str = "gongkai-local",
    extra: dict[str, Any] | None = None,
) -> str:
    """The nats-server configuration: JetStream with ``sync_interval: always``, the two accounts."""
    config: dict[str, Any] = {
        "server_name": server_name,
        "listen": listen,
        # fsync every write: an acknowledged event survives a power cut (ARCHITECTURE.md §1)
        "jetstream": {"store_dir": store_dir, "sync_interval": "always"},
        # every user is named here and there is no no_auth_user: anonymous clients are refused
        "accounts": accounts(creds, stream),
    }
    if monitor:
        config["http"] = monitor  # loopback only: the monitoring port shows every connection
    config.update(extra or {})
    return HEADER + json.dumps(config, indent=2, ensure_ascii=False)


def with_accounts(existing: str, creds: Credentials, stream: str = "FOI") -> str:
    """A configuration written by :func:`render_config`, with its accounts rendered anew."""
    body = "\n".join(line for line in existing.splitlines() if not line.startswith("#"))
    config = json.loads(body)
    config["accounts"] = accounts(creds, stream)
    return HEADER + json.dumps(config, indent=2, ensure_ascii=False)


def _nobody() -> dict[str, Any]:
    """An account needs a user to be valid; this one can do nothing and has no usable password."""
    import secrets

    return {
        "user": "agency-none",
        "password": secrets.token_urlsafe(32),
        "permissions": {"publish": {"deny": [">"]}, "subscribe": {"deny": [">"]}},
    }
