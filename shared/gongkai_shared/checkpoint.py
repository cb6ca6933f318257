"""Signed checkpoints of the log, in the C2SP ``tlog-checkpoint`` / ``signed-note`` formats.

A checkpoint states "the log's first *size* events have Merkle tree hash *root*" (RFC 6962),
signed with the office's Ed25519 key. An auditor who keeps a checkpoint can later verify, from
the log alone, that those events are still exactly there (the root of the first *size* events
is unchanged) and that nothing has been cut off, whatever was appended since.

    <origin>\\n<size>\\n<base64 root>\\n\\n— <key name> <base64(key id ‖ signature)>\\n
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
DASH = "\u2014"


class CheckpointError(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public).digest()[:4]


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Signer:
    name: str
    key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_skey(cls, skey: str) -> Signer:
        """``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>`` (the note tooling's format)."""
        try:
            _, _, name, _, data = skey.strip().split("+", 4)
            raw = base64.b64decode(data)
            assert raw[0] == ED25519 and len(raw) == 33
        except (ValueError, AssertionError, IndexError) as e:
            raise CheckpointError("not an Ed25519 signing key") from e
        return cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))

    def skey(self) -> str:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = self.key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        kid = key_id(self.name, _public_bytes(self.key.public_key())).hex()
        return f"PRIVATE+KEY+{self.name}+{kid}+{_b64(bytes([ED25519]) + seed)}"

    def vkey(self) -> str:
        """The verifier key an auditor keeps: ``<name>+<hex id>+<base64(0x01 ‖ public key)>``."""
        public = _public_bytes(self.key.public_key())
        return f"{self.name}+{key_id(self.name, public).hex()}+{_b64(bytes([ED25519]) + public)}"

    def sign(self, origin: str, size: int, root_hex: str) -> str:
        body = f"{origin}\n{size}\n{_b64(bytes.fromhex(root_hex))}\n"
        public = _public_bytes(self.key.public_key())
        signature = key_id(self.name, public) + self.key.sign(body.encode())
        return f"{body}\n{DASH} {self.name} {_b64(signature)}\n"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: str  # hex


def parse_vkey(vkey: str) -> tuple[str, str, Ed25519PublicKey]:
    """``<name>+<hex id>+<base64(0x01 ‖ public key)>`` as (name, hex id, key); checks the id."""
    try:
        name, kid_hex, data = vkey.strip().split("+", 2)
        raw = base64.b64decode(data, validate=True)
        if raw[0] != ED25519 or len(raw) != 33 or key_id(name, raw[1:]).hex() != kid_hex:
            raise ValueError
        return name, kid_hex, Ed25519PublicKey.from_public_bytes(raw[1:])
    except (ValueError, IndexError) as e:
        raise CheckpointError("not an Ed25519 verifier key") from e


def verify(note: str, vkey: str) -> Checkpoint:
    """The checkpoint, if ``note`` carries a valid signature by ``vkey``; else CheckpointError."""
    name, kid_hex, public = parse_vkey(vkey)
    body, sep, signatures = note.partition("\n\n")
    if not sep:
        raise CheckpointError("not a signed note: no signature block")
    body += "\n"
    for line in signatures.splitlines():
        if not line.startswith(f"{DASH} {name} "):
            continue
        sig = base64.b64decode(line.rsplit(" ", 1)[1])
        if sig[:4].hex() != kid_hex:
            continue
        try:
            public.verify(sig[4:], body.encode())
        except InvalidSignature:
            raise CheckpointError("the checkpoint's signature does not verify") from None
        lines = body.splitlines()
        try:
            return Checkpoint(lines[0], int(lines[1]), base64.b64decode(lines[2]).hex())
        except (IndexError, ValueError) as e:
            raise CheckpointError("not a checkpoint body") from e
    raise CheckpointError(f"no signature by {name} on the checkpoint")
