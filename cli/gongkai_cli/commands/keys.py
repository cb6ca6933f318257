"""``gongkai keys``: the services' event-signing keys, registered and revoked in the log with the
root key (gongkai_shared.trust)."""

from __future__ import annotations

import sys
from argparse import Namespace

from gongkai_shared.access import SERVICES
from gongkai_shared.checkpoint import CheckpointError, Signer
from gongkai_shared.trust import key_ref, load_ring, register_key, revoke_key

from .. import connections, credentials
from ..installation import signing_key_name
from ..settings import CliError, CliSettings


async def list_keys(settings: CliSettings, args: Namespace) -> int:
    """Registered keys and their validity, from the log."""
    root_vkey = credentials.root_vkey(settings)
    store = await connections.store(settings)
    try:
        ring = await load_ring(store, root_vkey)
    finally:
        await store.nc.close()
    print(f"root  {root_vkey}")  # the verifier key every service and auditor needs
    for key in ring.keys.values():
        d = key.describe()
        state = f"revoked at seq {d['revoked_at_seq']}" if d["revoked_at_seq"] else "active"
        print(f"{d['service']:<11} {d['key']}  registered at seq {d['registered_at_seq']}, {state}")
    return 0


async def register(settings: CliSettings, args: Namespace) -> int:
    return await _register(settings, args.service, args.vkey)


async def _register(settings: CliSettings, service: str, vkey: str) -> int:
    if service not in SERVICES:
        raise CliError(f"unknown service {service!r}; services: {', '.join(SERVICES)}")
    try:
        key_ref(vkey)
    except CheckpointError as e:
        raise CliError(f"{vkey!r}: {e}") from None
    store = await connections.admin(settings)
    try:
        stored = await register_key(store, service, vkey)
    finally:
        await store.nc.close()
    print(f"registered {key_ref(vkey)} for {service} at seq {stored.seq}")
    return 0


async def revoke(settings: CliSettings, args: Namespace) -> int:
    """What the key signs after the revocation is refused."""
    store = await connections.admin(settings)
    try:
        ring = await load_ring(store, credentials.root(settings).vkey())
        if args.key not in ring.keys:
            raise CliError(f"no registered key {args.key} (gongkai keys list)")
        stored = await revoke_key(store, args.key, args.reason)
    finally:
        await store.nc.close()
    print(f"revoked {args.key} at seq {stored.seq}: events it signs after this are refused")
    return 0


async def rotate(settings: CliSettings, args: Namespace) -> int:
    """Embedded runtime: a new key file for the service, registered; the old one stays valid
    until revoked, so events signed before the service restarts still verify."""
    service = args.service
    if service not in SERVICES:
        raise CliError(f"unknown service {service!r}; services: {', '.join(SERVICES)}")
    install = credentials.installation(settings)
    old = Signer.from_skey(install.signing_key(service)).vkey()
    new = Signer.from_skey(install.rotate_signing_key(service)).vkey()
    await _register(settings, service, new)
    print(
        f"restart {service} (or `make up`) to sign with it, then:"
        f" gongkai keys revoke {key_ref(old)} --reason rotated"
    )
    return 0


def generate(settings: CliSettings, args: Namespace) -> int:
    """A new Ed25519 key for a service (or the root): the signing key on the first line, its
    verifier key on the second, where each goes on stderr. Nothing is registered."""
    name = args.name
    if name not in (*SERVICES, "root"):
        raise CliError(f"unknown service {name!r}; one of {', '.join(SERVICES)} or root")
    signer = Signer.generate(signing_key_name(name))
    print(signer.skey())
    print(signer.vkey())
    if name == "root":
        where = (
            "line 1: the root signing key (secret: Secret gongkai-root, GONGKAI_ROOT_SIGNING_KEY; keep"
            " it offline); line 2: its verifier key (public: GONGKAI_ROOT_KEY in ConfigMap gongkai-config)"
        )
    else:
        where = (
            f"line 1: {name}'s signing key (secret: Secret gongkai-signing, key {name});"
            f" line 2: its verifier key (public: ConfigMap gongkai-verifier-keys, key {name}),"
            f" registered by gongkai setup --key {name}=VKEY or gongkai keys register {name} VKEY"
        )
    print(where, file=sys.stderr)
    return 0
