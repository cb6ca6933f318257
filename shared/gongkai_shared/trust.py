"""Writer identity: every event is signed by the service that wrote it (ARCHITECTURE.md §1).

Each service holds an Ed25519 key. It signs ``gongkai-event-v1 \\n subject \\n stored bytes``
(the NATS subject binds the signature to the context and aggregate; the bytes are the canonical
JSON that is stored and hashed) and the signature travels in the ``Gongkai-Signature`` header as
``<key name>+<hex key id> <base64 signature>``.

The services' public keys, with their validity, are themselves events on ``foi.trust.>``,
signed with the operator's **root key**: ``signing-key-registered`` and ``signing-key-revoked``.
A verifier therefore needs nothing but the log and the root verifier key. Validity is
positional, so it cannot be backdated: a key signs the events after its registration and before
its revocation; optional dates narrow it further by the event's own time.

A reader accepts an event only when (1) it is signed, (2) by a registered key valid at that
position, (3) whose service owns the subject's context, (4) which is also the context that owns
the event's type, and (5) the signature verifies. ``trust`` events must carry the root key's
signature. Anything else is refused with the reason, never applied.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError
from pydantic import BaseModel, ValidationError

from .checkpoint import CheckpointError, Signer, parse_vkey
from .envelope import Actor, Envelope
from .events import REGISTRY, SERVICE_CONTEXTS, EventBody, Instant, event, make_event
from .text import line, paragraph

if TYPE_CHECKING:
    from .eventstore import EventStore, StoredEvent

log = structlog.get_logger(__name__)

SIGNATURE = "Gongkai-Signature"
TRUST = "trust"
KEYS_AGGREGATE = "signing-keys"
TRUST_FILTER = f"foi.{TRUST}.>"
_DOMAIN = b"gongkai-event-v1\n"


@event("signing-key-registered", context=TRUST)
class SigningKeyRegistered(EventBody):
    """The operator registered a service's public key (C2SP verifier-key format)."""

    service: Annotated[str, line(100, min_length=1)]
    vkey: Annotated[str, line(1000, min_length=1)]
    valid_from: Instant | None = None
    valid_until: Instant | None = None
    note: Annotated[str, paragraph(2000)] | None = None


@event("signing-key-revoked", context=TRUST)
class SigningKeyRevoked(EventBody):
    """The operator revoked a key (``<name>+<hex id>``): events after this one signed by it fail."""

    key: Annotated[str, line(300, min_length=1)]
    reason: Annotated[str, paragraph(2000)]


@event("checkpoint-key-registered", context=TRUST)
class CheckpointKeyRegistered(EventBody):
    """The operator registered a key that signs the log's checkpoints (tlog.py). It is valid for
    checkpoints of a tree size at or after this event's position, until it is retired."""

    vkey: Annotated[str, line(1000, min_length=1)]
    valid_from: Instant | None = None
    valid_until: Instant | None = None
    note: Annotated[str, paragraph(2000)] | None = None


@event("checkpoint-key-retired", context=TRUST)
class CheckpointKeyRetired(EventBody):
    """The operator ended a checkpoint key's validity (``<name>+<hex id>``): a checkpoint it signs
    of a tree size at or after this event's position does not verify."""

    key: Annotated[str, line(300, min_length=1)]
    reason: Annotated[str, paragraph(2000)]


def signing_input(subject: str, data: bytes) -> bytes:
    return _DOMAIN + subject.encode() + b"\n" + data


def key_ref(vkey: str) -> str:
    name, kid, _ = parse_vkey(vkey)
    return f"{name}+{kid}"


class EventSigner:
    """A service's signing key; ``context`` is the only subject space it signs for."""

    def __init__(self, context: str, signer: Signer) -> None:
        self.context, self.signer = context, signer
        self.vkey = signer.vkey()
        self.ref = key_ref(self.vkey)

    @classmethod
    def from_skey(cls, context: str, skey: str) -> EventSigner:
        return cls(context, Signer.from_skey(skey))

    def headers(self, subject: str, data: bytes) -> dict[str, str]:
        sig = self.signer.key.sign(signing_input(subject, data))
        return {SIGNATURE: f"{self.ref} {base64.b64encode(sig).decode()}"}


@dataclass
class Key:
    ref: str
    service: str
    public: Ed25519PublicKey
    registered_seq: int
    revoked_seq: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    raw: bytes = field(default=b"", repr=False)  # the 32-byte public key, for verification

    def __post_init__(self) -> None:
        self.raw = self.raw or self.public.public_bytes_raw()

    def describe(self) -> dict[str, Any]:
        return {
            "key": self.ref,
            "service": self.service,
            "registered_at_seq": self.registered_seq,
            "revoked_at_seq": self.revoked_seq,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }


class Untrusted(Exception):
    """The event is not provably written by the service that owns its subject."""


@dataclass(frozen=True)
class Claim:
    """What remains to prove once every other rule holds: ``signature`` of ``signed`` by ``key``."""

    ref: str
    key: bytes  # raw Ed25519 public key
    signature: bytes
    signed: bytes

    def holds(self) -> bool:
        """The Ed25519 arithmetic (libsodium, which releases the GIL: threads verify in parallel)."""
        if len(self.signature) != 64:
            return False
        try:
            crypto_sign_open(self.signature + self.signed, self.key)
        except BadSignatureError:
            return False
        return True


_POOL: ThreadPoolExecutor | None = None
CHUNK = 64  # signatures per task: big enough to amortise a hand-over, small enough to spread


def _verify_chunk(claims: Sequence[Claim]) -> list[bool]:
    return [c.holds() for c in claims]


async def verify_claims(claims: Sequence[Claim]) -> list[bool]:
    """Whether each claim's signature verifies, computed in a thread pool (one per core)."""
    global _POOL
    if len(claims) < CHUNK:
        return _verify_chunk(claims)
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="verify")
    loop = asyncio.get_running_loop()
    parts = [claims[i : i + CHUNK] for i in range(0, len(claims), CHUNK)]
    results = await asyncio.gather(*(loop.run_in_executor(_POOL, _verify_chunk, p) for p in parts))
    return [ok for part in results for ok in part]


class KeyRing:
    """The registered keys, learnt from the log's ``trust`` events, and the check of each event."""

    def __init__(self, root_vkey: str) -> None:
        try:
            name, kid, self.root = parse_vkey(root_vkey)
        except CheckpointError as e:
            raise ValueError(f"the root verifier key is not valid: {e}") from None
        self.root_ref = f"{name}+{kid}"
        self.root_raw = self.root.public_bytes_raw()
        self.keys: dict[str, Key] = {}
        self.loaded_upto = 0  # the last trust event read
        self.checked_upto = 0  # every trust event before this sequence is known
        self._lock = asyncio.Lock()

    # --- checking ---------------------------------------------------------------------------

    def check(self, seq: int, subject: str, headers: dict[str, str] | None, data: bytes,
              envelope: Envelope | None = None) -> None:  # fmt: skip
        """Raise Untrusted naming what is wrong; return quietly for a trustworthy event."""
        claim = self.claim(seq, subject, headers, data, envelope)
        if not claim.holds():
            raise Untrusted(f"the signature by {claim.ref} does not verify")

    def claim(self, seq: int, subject: str, headers: dict[str, str] | None, data: bytes,
              envelope: Envelope | None = None) -> Claim:  # fmt: skip
        """Every rule but the signature arithmetic (raise Untrusted naming what is wrong); the
        signature still to verify. :func:`verify_claims` verifies many at once, in threads."""
        parts = subject.split(".")
        context = parts[1] if len(parts) >= 4 else ""
        header = (headers or {}).get(SIGNATURE)
        if not header:
            raise Untrusted("unsigned event")
        ref, _, sig_b64 = header.partition(" ")
        try:
            signature = base64.b64decode(sig_b64, validate=True)
        except ValueError:
            raise Untrusted("malformed signature header") from None
        if context == TRUST:
            if ref != self.root_ref:
                raise Untrusted(f"a trust event must be signed by the root key, not {ref}")
            public = self.root_raw
        else:
            public = self._service_key(seq, context, ref, envelope).raw
        if envelope is not None:
            self._check_type(context, envelope)
        return Claim(ref, public, signature, signing_input(subject, data))

    def _service_key(self, seq: int, context: str, ref: str, envelope: Envelope | None) -> Key:
        key = self.keys.get(ref)
        if key is None:
            raise Untrusted(f"signed with key {ref}, which was never registered")
        if key.service != context:
            raise Untrusted(f"signed with {key.service}'s key {ref} on a {context or '?'} subject")
        if seq <= key.registered_seq:
            raise Untrusted(f"key {ref} was registered only at seq {key.registered_seq}")
        if key.revoked_seq is not None and seq > key.revoked_seq:
            raise Untrusted(f"key {ref} was revoked at seq {key.revoked_seq}")
        when = envelope.time if envelope is not None else None
        if when is not None and (
            (key.valid_from and when < key.valid_from) or (key.valid_until and when > key.valid_until)
        ):
            raise Untrusted(f"event time {when.isoformat()} is outside the validity of key {ref}")
        return key

    @staticmethod
    def _check_type(context: str, envelope: Envelope) -> None:
        cls = REGISTRY.get(envelope.type)
        if cls is not None and cls.context != context:
            raise Untrusted(f"{envelope.name} belongs to {cls.context}, not to {context}")

    # --- learning from the log ------------------------------------------------------------

    def learn(self, seq: int, subject: str, headers: dict[str, str] | None, data: bytes) -> None:
        """Take in one ``trust`` event; one that is not signed by the root key is ignored."""
        try:
            env = Envelope.from_bytes(data)
            self.check(seq, subject, headers, data, env)
            body = REGISTRY[env.type].model_validate(env.data)
        except (Untrusted, ValidationError, KeyError) as e:
            log.error("trust_event_ignored", seq=seq, subject=subject, error=str(e))
            return
        if isinstance(body, SigningKeyRegistered):
            self._register(seq, body)
        elif isinstance(body, SigningKeyRevoked) and body.key in self.keys:
            key = self.keys[body.key]
            key.revoked_seq = key.revoked_seq or seq

    def _register(self, seq: int, body: SigningKeyRegistered) -> None:
        try:
            name, kid, public = parse_vkey(body.vkey)
        except CheckpointError:
            log.error("trust_event_ignored", seq=seq, error="not a verifier key")
            return
        ref = f"{name}+{kid}"
        if ref not in self.keys and body.service in SERVICE_CONTEXTS:
            self.keys[ref] = Key(ref, body.service, public, seq, None, body.valid_from, body.valid_until)

    async def ensure(self, store: EventStore, seq: int) -> None:
        """Make sure every trust event before ``seq`` is known (one direct get when nothing new)."""
        if seq <= self.checked_upto:
            return
        async with self._lock:
            if seq <= self.checked_upto:
                return
            last = await store.last_raw(TRUST_FILTER)
            if last is not None and last.seq > self.loaded_upto:
                async for raw in store.read_raw(self.loaded_upto + 1, TRUST_FILTER, until_seq=last.seq):
                    self.learn(raw.seq, raw.subject, raw.headers, raw.data)
                    self.loaded_upto = raw.seq
            self.checked_upto = max(seq, self.loaded_upto)

    def active(self, service: str) -> list[Key]:
        return [k for k in self.keys.values() if k.service == service and k.revoked_seq is None]


# --- the operator's side (root key) ---------------------------------------------------------


def root_actor() -> Actor:
    return Actor(id="operator", role="admin")


async def append_trust(store: EventStore, body: BaseModel, expected: int | None = None) -> StoredEvent:
    """Append a trust event with ``store`` (which must sign with the root key)."""
    assert isinstance(body, EventBody)
    last = await store.last_event(KEYS_AGGREGATE) if expected is None else None
    seq = expected if expected is not None else (last.seq if last else 0)
    env = make_event(body, aggregate_id=KEYS_AGGREGATE, actor=root_actor())
    return await store.append(env, TRUST, seq)


async def register_key(store: EventStore, service: str, vkey: str, **validity: Any) -> StoredEvent:
    if service not in SERVICE_CONTEXTS:
        raise ValueError(f"unknown service {service!r}")
    key_ref(vkey)  # a malformed key is refused before anything is written
    return await append_trust(store, SigningKeyRegistered(service=service, vkey=vkey, **validity))


async def revoke_key(store: EventStore, ref: str, reason: str) -> StoredEvent:
    return await append_trust(store, SigningKeyRevoked(key=ref, reason=reason))


async def load_ring(store: EventStore, root_vkey: str) -> KeyRing:
    ring = KeyRing(root_vkey)
    await ring.ensure(store, await store.last_seq() + 1)
    return ring


async def provision(store: EventStore, root_vkey: str, vkeys: dict[str, str]) -> list[str]:
    """Register each service's key unless it is already registered and not revoked. Idempotent."""
    ring = await load_ring(store, root_vkey)
    added = []
    for service, vkey in vkeys.items():
        ref = key_ref(vkey)
        if ref in ring.keys:
            if ring.keys[ref].revoked_seq is not None:
                raise ValueError(f"{service}'s key {ref} was revoked: give the service a new key")
            continue
        await register_key(store, service, vkey, note="provisioned")
        added.append(ref)
    return added
