"""The log as a transparency log: published checkpoints, their keys, and proofs (issue 11).

- **Checkpoints** (C2SP ``tlog-checkpoint`` notes, checkpoint.py) are published by the
  checkpoint job (``gongkai audit checkpoint --publish``, run on a schedule) to the stream
  ``CHECKPOINTS``, one message per checkpoint on ``checkpoint.<tree size>``: the latest is the
  stream's last message, the one of a size is one direct get. The stream keeps every
  checkpoint (no limits, no delete, no purge); only the operator writes it, review and the
  auditor read it (access.py).
- **Checkpoint keys** are registered and retired in the log itself by the operator's root key
  (trust events ``checkpoint-key-registered`` / ``checkpoint-key-retired``). A key is valid for
  the checkpoints of a tree size from its registration's position (a checkpoint made after the
  registration covers it) up to, not including, its retirement's position (a checkpoint made
  after the retirement covers that). A checkpoint carries no time, so validity is positional
  and cannot be backdated: a retired key can never again sign a checkpoint that verifies for
  the log as it grows. The registration may also give dates (``valid_from``/``valid_until``),
  published with the key for the reader.
- **Proofs** are computed from the log (merkle.py): the command line by one streaming pass over
  its first *size* events (O(size) reading and hashing, O(log² size) memory); review with a
  :class:`TileCache` of the hashes of every complete 256-event tile, so that a proof reads at
  most three tiles and the events after the last complete one.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nats.errors import NoRespondersError
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from pydantic import ValidationError

from .access import CHECKPOINT_STREAM
from .checkpoint import Checkpoint, CheckpointError, parse_checkpoint, parse_vkey, verify
from .envelope import Envelope
from .events import REGISTRY
from .merkle import (
    TILE,
    MerkleTree,
    RangeHasher,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from .trust import TRUST_FILTER, CheckpointKeyRegistered, CheckpointKeyRetired, KeyRing, Untrusted

if TYPE_CHECKING:
    from .eventstore import EventStore

CHECKPOINT_SUBJECTS = "checkpoint.>"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- published checkpoints --------------------------------------------------------------------


def checkpoint_stream_config(replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=CHECKPOINT_STREAM,
        subjects=[CHECKPOINT_SUBJECTS],
        storage=StorageType.FILE,
        num_replicas=replicas,
        max_age=0,
        max_msgs=-1,
        max_bytes=-1,
        max_msgs_per_subject=-1,
        deny_delete=True,
        deny_purge=True,
        allow_direct=True,
        allow_rollup_hdrs=False,
    )


async def ensure_checkpoint_stream(js: JetStreamContext, replicas: int = 1) -> None:
    """Create the checkpoints' stream (the operator's credential). Idempotent."""
    try:
        await js.stream_info(CHECKPOINT_STREAM)
    except NotFoundError:
        try:
            await js.add_stream(checkpoint_stream_config(replicas))
        except BadRequestError:  # created meanwhile
            await js.stream_info(CHECKPOINT_STREAM)


async def publish_checkpoint(js: JetStreamContext, note: str) -> int:
    """Store a signed checkpoint note; its stream sequence. Publishing the same note twice
    stores it once (the message id is the note's size and root)."""
    body = parse_checkpoint(note.partition("\n\n")[0] + "\n")
    ack = await js.publish(
        f"checkpoint.{body.size}",
        note.encode(),
        stream=CHECKPOINT_STREAM,
        headers={"Nats-Msg-Id": f"{body.size}-{body.root}"},
    )
    return ack.seq


async def latest_checkpoint(js: JetStreamContext) -> str | None:
    """The last published checkpoint note, or None if none was ever published."""
    try:
        msg = await js.get_last_msg(CHECKPOINT_STREAM, CHECKPOINT_SUBJECTS, direct=True)
    except (NotFoundError, NoRespondersError):  # none published, or no stream yet
        return None
    return (msg.data or b"").decode()


async def checkpoint_of_size(js: JetStreamContext, size: int) -> str | None:
    """The checkpoint published for tree size ``size``, or None."""
    try:
        msg = await js.get_last_msg(CHECKPOINT_STREAM, f"checkpoint.{size}", direct=True)
    except (NotFoundError, NoRespondersError):  # none published, or no stream yet
        return None
    return (msg.data or b"").decode()


# --- checkpoint keys ----------------------------------------------------------------------------


@dataclass
class CheckpointKey:
    ref: str  # <name>+<hex key hash>
    vkey: str
    registered_seq: int
    retired_seq: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def covers(self, size: int) -> bool:
        return self.registered_seq <= size and (self.retired_seq is None or size < self.retired_seq)

    def describe(self) -> dict[str, Any]:
        return {
            "key": self.ref,
            "vkey": self.vkey,
            "valid_for_tree_sizes": {"from": self.registered_seq, "before": self.retired_seq},
            "registered_at_seq": self.registered_seq,
            "retired_at_seq": self.retired_seq,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "active": self.retired_seq is None,
        }


class CheckpointKeys:
    """The checkpoint keys registered and retired by the root key, learnt from the log."""

    def __init__(self, root_vkey: str) -> None:
        self.ring = KeyRing(root_vkey)  # checks that trust events carry the root's signature
        self.keys: dict[str, CheckpointKey] = {}

    def learn(self, seq: int, subject: str, headers: dict[str, str] | None, data: bytes) -> None:
        try:
            env = Envelope.from_bytes(data)
            self.ring.check(seq, subject, headers, data, env)
            body = REGISTRY[env.type].model_validate(env.data)
        except (Untrusted, ValidationError, KeyError, ValueError):
            return  # the auditor's verifier reports it; a key it did not prove is no key
        if isinstance(body, CheckpointKeyRegistered):
            try:
                name, kid, _ = parse_vkey(body.vkey)
            except CheckpointError:
                return
            ref = f"{name}+{kid}"
            if ref not in self.keys:
                self.keys[ref] = CheckpointKey(
                    ref, body.vkey.strip(), seq, None, body.valid_from, body.valid_until
                )
        elif isinstance(body, CheckpointKeyRetired) and body.key in self.keys:
            key = self.keys[body.key]
            key.retired_seq = key.retired_seq or seq

    def verify(self, note: str) -> tuple[Checkpoint, CheckpointKey]:
        """The checkpoint, if a registered key whose validity covers its tree size signed it."""
        problems = []
        for key in self.keys.values():
            try:
                checkpoint = verify(note, key.vkey)
            except CheckpointError as e:
                if "no signature by" not in str(e):
                    problems.append(f"{key.ref}: {e}")
                continue
            if key.covers(checkpoint.size):
                return checkpoint, key
            end = f"before {key.retired_seq}" if key.retired_seq else "on"
            problems.append(
                f"{key.ref} is valid for tree sizes {key.registered_seq} {end}, not {checkpoint.size}"
            )
        raise CheckpointError(
            "no registered checkpoint key valid for it signed the checkpoint"
            + (f" ({'; '.join(problems)})" if problems else "")
        )


async def load_checkpoint_keys(store: EventStore, root_vkey: str) -> CheckpointKeys:
    keys = CheckpointKeys(root_vkey)
    if await store.last_raw(TRUST_FILTER) is not None:
        async for raw in store.read_raw(1, TRUST_FILTER):
            if raw.subject.startswith("foi.trust."):
                keys.learn(raw.seq, raw.subject, raw.headers, raw.data)
    return keys


# --- proofs ---------------------------------------------------------------------------------

Read = Callable[[int, int], AsyncIterator[bytes]]  # the stored bytes of events first..last


class TileCache:
    """The hashes of the log's complete tiles (aligned perfect subtrees of TILE events), kept in
    memory (32 bytes per 256 events: 1.3 MB for 10 million) and extended as the log grows. With
    it a proof reads only the tiles its boundaries cut (at most three) and the events after the
    last complete tile, and folds the other tiles' hashes: O(size / 256) hashes."""

    def __init__(self) -> None:
        self.tiles: list[bytes] = []
        self._lock = asyncio.Lock()

    async def extend(self, read: Read, upto: int) -> None:
        """Hash every complete tile of the first ``upto`` events not hashed yet."""
        async with self._lock:
            want = upto // TILE
            if want <= len(self.tiles):
                return
            tree = MerkleTree()
            async for data in read(len(self.tiles) * TILE + 1, want * TILE):
                tree.add(data)
                if tree.size == TILE:
                    self.tiles.append(tree.root_bytes())
                    tree = MerkleTree()


async def _fill(hasher: RangeHasher, read: Read, tiles: TileCache | None) -> None:
    """Feed the first ``hasher.size`` events: a tile's hash where no boundary cuts it, else its
    events; then the events after the last complete tile."""
    fed = 0
    if tiles is not None:
        for t, digest in enumerate(tiles.tiles[: hasher.size // TILE]):
            if not hasher.add_subtree(digest, TILE):
                async for data in read(t * TILE + 1, (t + 1) * TILE):
                    hasher.add(data)
            fed = (t + 1) * TILE
    if fed < hasher.size:
        async for data in read(fed + 1, hasher.size):
            hasher.add(data)
    hasher.hashes()  # raises ProofError if the log has fewer events than the tree size


async def inclusion(
    read: Read, seq: int, size: int, leaf: bytes, tiles: TileCache | None = None
) -> dict[str, Any]:
    """The inclusion proof of the event at ``seq`` (leaf ``seq - 1``, bytes ``leaf``) in the tree
    of the first ``size`` events, checked (RFC 9162 §2.1.3.2) before it is returned."""
    hasher = RangeHasher(inclusion_ranges(seq - 1, size), size)
    await _fill(hasher, read, tiles)
    path, root = hasher.hashes(), hasher.root()
    verify_inclusion(seq - 1, size, leaf_hash(leaf), path, root)
    return {
        "seq": seq,
        "leaf_index": seq - 1,
        "tree_size": size,
        "leaf_hash": _b64(leaf_hash(leaf)),
        "hashes": [_b64(h) for h in path],
        "root_hash": _b64(root),
    }


async def consistency(read: Read, first: int, second: int, tiles: TileCache | None = None) -> dict[str, Any]:
    """The consistency proof from the tree of ``first`` events to the tree of ``second``,
    checked (RFC 9162 §2.1.4.2) before it is returned."""
    hasher = RangeHasher(consistency_ranges(first, second), second, also=(first,))
    await _fill(hasher, read, tiles)
    path, first_root, second_root = hasher.hashes(), hasher.prefix_root(first), hasher.root()
    verify_consistency(first, second, first_root, second_root, path)
    return {
        "first": first,
        "second": second,
        "first_root_hash": _b64(first_root),
        "second_root_hash": _b64(second_root),
        "hashes": [_b64(h) for h in path],
    }
