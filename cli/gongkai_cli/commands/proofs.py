"""``gongkai audit proof|keys|…-key`` and ``audit checkpoint --publish``: the log as a
transparency log (gongkai_shared.tlog), for auditors with standard tools.

Proofs are computed from the log itself (one batched pass over its first *size* events,
logreader.py) and checked before they are printed, as JSON with base64 hashes (RFC 9162's
``inclusion_path`` / ``consistency_path``) and the published checkpoint note of that size.
"""

from __future__ import annotations

import base64
import json
from argparse import Namespace
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from gongkai_shared.checkpoint import CheckpointError, Signer, parse_vkey
from gongkai_shared.eventstore import EventStore
from gongkai_shared.merkle import ProofError
from gongkai_shared.tlog import (
    CheckpointKeys,
    Read,
    checkpoint_of_size,
    consistency,
    ensure_checkpoint_stream,
    inclusion,
    latest_checkpoint,
    load_checkpoint_keys,
    publish_checkpoint,
)
from gongkai_shared.trust import CheckpointKeyRegistered, CheckpointKeyRetired, append_trust

from .. import connections, credentials
from ..logreader import read_log
from ..settings import CliError, CliSettings


def _reader(store: EventStore) -> Read:
    """The events' stored bytes from ``first`` to ``last``, batched (logreader.py)."""

    async def read(first: int, last: int) -> AsyncIterator[bytes]:
        async for e in read_log(store, first, last):
            yield e.data

    return read


async def _checked_note(store: EventStore, keys: CheckpointKeys, size: int, root_b64: str) -> str | None:
    """The published checkpoint of ``size``, verified, whose root must be the log's."""
    note = await checkpoint_of_size(store.js, size)
    if note is None:
        return None
    checkpoint, _ = keys.verify(note)
    if checkpoint.root != _hex(root_b64):
        raise CliError(
            f"the log's root at size {size} is not the published checkpoint's: the log was rewritten"
        )
    return note


def _hex(b64: str) -> str:
    return base64.b64decode(b64).hex()


async def _default_size(store: EventStore) -> int:
    note = await latest_checkpoint(store.js)
    if note is not None:
        return int(note.splitlines()[1])
    return await store.last_seq()


async def proof(settings: CliSettings, args: Namespace) -> int:
    """``inclusion --seq N [--size S]`` or ``consistency --from M [--to N]``."""
    if args.kind == "inclusion":
        if args.seq is None:
            raise CliError("audit proof inclusion needs --seq")
        return await proof_inclusion(settings, args)
    if args.first is None:
        raise CliError("audit proof consistency needs --from")
    return await proof_consistency(settings, args)


async def proof_inclusion(settings: CliSettings, args: Namespace) -> int:
    """The inclusion proof of the event at ``--seq`` in the tree of ``--size`` events."""
    store = await connections.store(settings)
    try:
        size = args.size if args.size is not None else await _default_size(store)
        last = await store.last_seq()
        if not 1 <= args.seq <= size <= last:
            raise CliError(
                f"--seq {args.seq} --size {size}: need 1 <= seq <= size <= {last} (the log's length)"
            )
        leaf = (await store.get(args.seq)).data
        proof = await inclusion(_reader(store), args.seq, size, leaf)
        keys = await load_checkpoint_keys(store, credentials.root_vkey(settings))
        proof["checkpoint"] = await _checked_note(store, keys, size, proof["root_hash"])
    except (ProofError, CheckpointError) as e:
        raise CliError(str(e)) from None
    finally:
        await store.nc.close()
    print(json.dumps({"origin": settings.checkpoint_origin, **proof}, indent=2, ensure_ascii=False))
    return 0


async def proof_consistency(settings: CliSettings, args: Namespace) -> int:
    """The consistency proof from the tree of ``--from`` events to the tree of ``--to``."""
    store = await connections.store(settings)
    try:
        second = args.to if args.to is not None else await _default_size(store)
        last = await store.last_seq()
        if not 1 <= args.first <= second <= last:
            raise CliError(f"--from {args.first} --to {second}: need 1 <= from <= to <= {last}")
        proof = await consistency(_reader(store), args.first, second)
        keys = await load_checkpoint_keys(store, credentials.root_vkey(settings))
        proof["first_checkpoint"] = await _checked_note(store, keys, args.first, proof["first_root_hash"])
        proof["second_checkpoint"] = await _checked_note(store, keys, second, proof["second_root_hash"])
    except (ProofError, CheckpointError) as e:
        raise CliError(str(e)) from None
    finally:
        await store.nc.close()
    print(json.dumps({"origin": settings.checkpoint_origin, **proof}, indent=2, ensure_ascii=False))
    return 0


def describe_keys(keys: CheckpointKeys) -> list[dict[str, Any]]:
    return [k.describe() for k in keys.keys.values()]


async def list_keys(settings: CliSettings, args: Namespace) -> int:
    """The checkpoint keys registered in the log, with their validity."""
    store = await connections.store(settings)
    try:
        keys = await load_checkpoint_keys(store, credentials.root_vkey(settings))
    finally:
        await store.nc.close()
    if not keys.keys:
        print("no checkpoint key is registered (gongkai audit register-key)")
    for k in keys.keys.values():
        end = f"before {k.retired_seq} (retired)" if k.retired_seq else "onwards (active)"
        print(f"{k.vkey}  valid for tree sizes {k.registered_seq} {end}")
    return 0


async def register_key(settings: CliSettings, args: Namespace) -> int:
    """Register a checkpoint key (root key): default, the one this installation signs with."""
    vkey = args.vkey or credentials.checkpoint_signer(settings).vkey()
    try:
        name, kid, _ = parse_vkey(vkey)
    except CheckpointError as e:
        raise CliError(f"{vkey!r}: {e}") from None
    store = await connections.admin(settings)
    try:
        keys = await load_checkpoint_keys(store, credentials.checked_root_vkey(settings))
        if f"{name}+{kid}" in keys.keys:
            raise CliError(f"{name}+{kid} is already registered (gongkai audit keys)")
        stored = await append_trust(store, CheckpointKeyRegistered(vkey=vkey, valid_until=args.valid_until))
    finally:
        await store.nc.close()
    print(
        f"registered checkpoint key {name}+{kid} at seq {stored.seq}:"
        f" valid for tree sizes {stored.seq} onwards"
    )
    return 0


async def retire_key(settings: CliSettings, args: Namespace) -> int:
    """End a checkpoint key's validity (root key): it verifies no checkpoint of a size from now."""
    store = await connections.admin(settings)
    try:
        keys = await load_checkpoint_keys(store, credentials.checked_root_vkey(settings))
        key = keys.keys.get(args.key)
        if key is None or key.retired_seq is not None:
            raise CliError(f"no active checkpoint key {args.key} (gongkai audit keys)")
        stored = await append_trust(store, CheckpointKeyRetired(key=args.key, reason=args.reason))
    finally:
        await store.nc.close()
    print(
        f"retired {args.key} at seq {stored.seq}:"
        f" valid for tree sizes {key.registered_seq} to {stored.seq - 1}"
    )
    return 0


async def rotate_key(settings: CliSettings, args: Namespace) -> int:
    """Embedded runtime: a new checkpoint key file, registered, and the old key retired."""
    if settings.checkpoint_key:
        raise CliError(
            "GONGKAI_CHECKPOINT_KEY is set: generate a key (gongkai keys generate NAME), register its"
            " verifier key (gongkai audit register-key --vkey), put it in the Secret, then retire the"
            " old one (gongkai audit retire-key)"
        )
    old = credentials.checkpoint_signer(settings)
    new = Signer.generate(settings.checkpoint_origin)
    store = await connections.admin(settings)
    try:
        keys = await load_checkpoint_keys(store, credentials.checked_root_vkey(settings))
        await append_trust(store, CheckpointKeyRegistered(vkey=new.vkey(), note="rotated"))
        old_ref = "+".join(old.vkey().split("+")[:2])
        if old_ref in keys.keys and keys.keys[old_ref].retired_seq is None:
            await append_trust(store, CheckpointKeyRetired(key=old_ref, reason=args.reason))
    finally:
        await store.nc.close()
    credentials.replace_checkpoint_key(settings, new)
    print(f"checkpoints are now signed with {new.vkey()}; {old_ref} retired")
    return 0


async def publish(settings: CliSettings, note: str) -> int:
    """Store a signed checkpoint in the CHECKPOINTS stream (the operator's credential), once its
    key is registered and valid for its size (else auditors could not verify it)."""
    store = await connections.store(settings, "admin")
    try:
        keys = await load_checkpoint_keys(store, credentials.root_vkey(settings))
        try:
            _, key = keys.verify(note)
        except CheckpointError as e:
            raise CliError(
                f"not published: {e}; register the key first (gongkai audit register-key)"
            ) from None
        now = datetime.now(UTC)  # the dates the operator gave the key: past them, rotate it
        if (key.valid_until and now > key.valid_until) or (key.valid_from and now < key.valid_from):
            raise CliError(f"not published: checkpoint key {key.ref} is outside its dates; rotate it")
        await ensure_checkpoint_stream(store.js)
        seq = await publish_checkpoint(store.js, note)
    finally:
        await store.nc.close()
    return seq
