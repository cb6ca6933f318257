"""``gongkai setup`` and ``gongkai stream create``: the operator's tasks before the services start
(administrator credential, root key)."""

from __future__ import annotations

from argparse import Namespace

from gongkai_shared.access import ADMIN, SERVICES
from gongkai_shared.checkpoint import CheckpointError, Signer
from gongkai_shared.files import ensure_bucket
from gongkai_shared.tlog import ensure_checkpoint_stream
from gongkai_shared.trust import key_ref

from .. import connections, credentials
from ..operator import setup as run_setup
from ..settings import CliError, CliSettings


async def setup(settings: CliSettings, args: Namespace) -> int:
    """Stream and signing keys: ``--key SERVICE=VKEY`` pairs, else the data folder's keys."""
    vkeys = dict(_pair(k) for k in args.key)
    if not vkeys:
        install = credentials.installation(settings)
        missing = [s for s in SERVICES if not (install.dir / f"signing-{s}.key").exists()]
        if missing:
            raise CliError(f"no signing key for {', '.join(missing)}: give --key SERVICE=VKEY")
        vkeys = {s: Signer.from_skey(install.signing_key(s)).vkey() for s in SERVICES}
    root_vkey = credentials.checked_root_vkey(settings)
    store = await connections.admin(settings)
    try:
        # the embedded installation's checkpoint key is registered with the services' keys; on
        # Kubernetes the operator registers it once (gongkai audit register-key --vkey)
        checkpoint = None if args.key else credentials.checkpoint_signer(settings).vkey()
        added = await run_setup(store, root_vkey, vkeys, [], args.replicas, checkpoint)
    finally:
        await store.nc.close()
    print(
        f"stream {settings.stream} ready; {len(added)} key(s) registered"
        + (f": {', '.join(added)}" if added else "")
    )
    return 0


def _pair(text: str) -> tuple[str, str]:
    service, sep, vkey = text.partition("=")
    if not sep or service not in SERVICES:
        raise CliError(f"--key {text!r}: expected SERVICE=VKEY with SERVICE one of {', '.join(SERVICES)}")
    try:
        key_ref(vkey)  # a placeholder left in the ConfigMap is named before anything is written
    except CheckpointError as e:
        raise CliError(f"--key {service}=…: not a verifier key ({e}); see gongkai keys generate") from None
    return service, vkey


async def stream_create(settings: CliSettings, args: Namespace) -> int:
    """Create the FOI stream or restore its immutable settings."""
    store = await connections.store(settings, ADMIN)
    try:
        await store.ensure_stream(args.replicas)
        await store.check_stream()
        await ensure_bucket(store.js, args.replicas)
        await ensure_checkpoint_stream(store.js, args.replicas)
    finally:
        await store.nc.close()
    print(f"stream {settings.stream}: every event kept, nothing deletes or purges history")
    return 0
