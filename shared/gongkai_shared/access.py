"""Who may do what on the broker: the one table every topology's NATS configuration comes from.

Two accounts (ARCHITECTURE.md §4):
- ``GONGKAI`` holds the ``FOI`` stream. Each service connects as its own user, allowed to
  publish only ``foi.<its context>.>`` and the JetStream API calls it needs: stream info,
  direct gets, ephemeral ordered consumers and the durable consumers it owns. No service can
  create, update, seal, purge or delete a stream, delete a message, or touch a consumer it does
  not own. ``admin`` (the operator: creating the stream, registering signing keys, backups) may
  do everything and is never given to a running service; ``auditor`` reads and writes nothing.
  The files' object store (stream ``OBJ_FILES``, ``files.py``) is open to intake, review and
  publishing only (``FILE_USERS``): put and get, never purge, so no service can delete a file. The
  published checkpoints (stream ``CHECKPOINTS``, ``tlog.py``) are read by review and the auditor
  and written by ``admin`` only (the checkpoint job).
- ``AGENCIES`` holds other agencies. Each agency pulls from its own durable consumer in
  ``GONGKAI``, filtered to the public events (``PUBLIC_SUBJECTS``), through a per-agency service
  export; it may reset that consumer to replay from the beginning (or from a stream sequence it
  kept), and can read nothing else, change no consumer's configuration and publish nothing.

Every user has its own inbox prefix (``_INBOX_<user>``) and may subscribe only there, so no user
can read the replies (and ordered-consumer deliveries) of another.

The configuration is rendered as JSON, which nats-server's configuration format accepts. For
Kubernetes, :func:`helm_values` renders the same accounts as values for the official NATS Helm
chart, every password a reference to the nats-server container's environment, filled from the
``gongkai-nats`` Secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

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
    "publishing": ("publishing-on-document-signed", "publishing-on-publication-decided"),
    "notify": (),
}

# Who uses the files' object store (bucket FILES, stream OBJ_FILES; files.py): intake stores
# identity proofs and serves an answer's disclosed documents, review reads the proofs and stores
# the documents, publishing stores a document's files (public, unencrypted) and serves those of
# published items (never an encrypted file: a document may not name one, and it never decrypts).
# Nobody else: not notify, not the auditor, not the agencies.
FILE_USERS = ("intake", "review", "publishing")
FILES_STREAM = "OBJ_FILES"
FILES_SUBJECTS = ("$O.FILES.C.>", "$O.FILES.M.>")  # chunks and metadata

# The published checkpoints (stream CHECKPOINTS, tlog.py): written only by the operator's
# checkpoint job (admin), read by review (which serves them to auditors) and the auditor.
CHECKPOINT_STREAM = "CHECKPOINTS"
CHECKPOINT_READERS = ("review",)

# What other agencies may read: the public events, which carry no personal data
# (gongkai_shared.public_events: their JSON Schemas and AsyncAPI document).
PUBLIC_SUBJECTS = (
    "foi.publishing.*.published",
    "foi.publishing.*.amended",
    "foi.publishing.*.repealed",
)

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


def _files() -> list[str]:
    """Put and get objects in the files' bucket: publish chunks and metadata, read them back
    (an object's get looks its stream up by subject). Never purge, delete or update the stream:
    an object store delete is a purge, and a replaced object purges its old chunks (files.py
    never replaces one)."""
    return [*FILES_SUBJECTS, *_js_read(FILES_STREAM), "$JS.API.STREAM.NAMES"]


def service_permissions(service: str, stream: str = "FOI") -> dict[str, Any]:
    allow = [f"foi.{service}.>", *_js_read(stream)]
    if service in CHECKPOINT_READERS:
        allow += _js_read(CHECKPOINT_STREAM)
    if service in FILE_USERS:
        allow += _files()
    for durable in DURABLES[service]:
        allow += _own_durable(stream, durable)
    return {"publish": {"allow": allow}, "subscribe": {"allow": [f"{inbox_prefix(service)}.>"]}}


def auditor_permissions(stream: str = "FOI") -> dict[str, Any]:
    return {
        "publish": {"allow": [*_js_read(stream), *_js_read(CHECKPOINT_STREAM)]},
        "subscribe": {"allow": [f"{inbox_prefix(AUDITOR)}.>"]},
    }


def _agency_api(stream: str, name: str) -> list[str]:
    """Pull, acknowledge, look at and reset its own durable: a reset (nats-server >= 2.14) moves
    only the consumer's position (to the first public event, or to a stream sequence given), so
    the agency replays from the beginning without being able to change the consumer's filter."""
    durable = agency_durable(name)
    return [
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
        f"$JS.API.CONSUMER.RESET.{stream}.{durable}",
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


# --- Kubernetes: the same accounts as values for the official NATS Helm chart ---------------------

NATS_SECRET = "gongkai-nats"

HELM_HEADER = """\
# Generated by `gongkai nats helm-values` (gongkai_shared.access.helm_values); edits are lost.
# The NATS accounts and permissions of gongkai_shared.access, for the official NATS chart, as a
# second values file after nats-values.yaml:
#   helm upgrade --install nats nats/nats -n gongkai \\
#     -f deploy/k8s/nats-values.yaml -f deploy/k8s/nats-auth-values.yaml
# No password is written here: each is `<< $VAR >>`, which the chart writes raw into nats.conf
# and nats-server reads from its environment, filled from the Secret gongkai-nats (one key per
# user). An agency is added by rendering again with every agency (--agency NAME ...) and running
# `helm upgrade` (docs/security.md).
"""


def password_env(user: str) -> str:
    """The nats-server container's variable holding ``user``'s password (a valid env name)."""
    return "NATS_PASSWORD_" + user.upper().replace("-", "_")


def helm_values(agencies: Iterable[str] = (), stream: str = "FOI", secret: str = NATS_SECRET) -> str:
    """The chart's ``config.merge`` (the two accounts of :func:`accounts`) and ``container.env``
    (each password from key ``<user>`` of Secret ``secret``), as YAML."""
    names = sorted({check_agency_name(a) for a in agencies})
    users = [*SERVICES, ADMIN, AUDITOR, *(agency_user(a) for a in names)]
    creds = Credentials({u: f"<< ${password_env(u)} >>" for u in users}, names)
    config = accounts(creds, stream)
    if not names:
        # an account no one can log in to, instead of the embedded runtime's placeholder user
        # whose random password would change the committed values at every render
        config[AGENCY_ACCOUNT]["users"] = []
    env = {password_env(u): {"valueFrom": {"secretKeyRef": {"name": secret, "key": u}}} for u in users}
    values = {"config": {"merge": {"accounts": config}}, "container": {"env": env}}
    return HELM_HEADER + yaml.safe_dump(values, sort_keys=False, allow_unicode=True, width=100)
