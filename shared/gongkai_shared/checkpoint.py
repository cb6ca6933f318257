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

    def sign_note(self, text: str) -> str:
        """``text`` (ending in a newline) as a signed note: a blank line, then
        ``— <name> base64(4-byte key hash ‖ Ed25519 signature of text)``."""
        if not text.endswith("\n") or "\n\n" in text:
            raise CheckpointError("a note's text ends with one newline and has no blank line")
        public = _public_bytes(self.key.public_key())
        signature = key_id(self.name, public) + self.key.sign(text.encode())
        return f"{text}\n{DASH} {self.name} {_b64(signature)}\n"

    def sign(self, origin: str, size: int, root_hex: str) -> str:
        """A C2SP tlog-checkpoint: origin, tree size, base64 root hash, as a signed note."""
        return self.sign_note(checkpoint_body(origin, size, bytes.fromhex(root_hex)))


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{_b64(root)}\n"


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


def open_note(note: str, vkey: str) -> str:
    """The note's text, if it carries a valid signature by ``vkey`` (C2SP signed-note: the
    signature line's name and 4-byte key hash select the key); else CheckpointError."""
    name, kid_hex, public = parse_vkey(vkey)
    text, sep, signatures = note.partition("\n\n")
    if not sep:
        raise CheckpointError("not a signed note: no signature block")
    text += "\n"
    for line in signatures.splitlines():
        if not line.startswith(f"{DASH} {name} "):
            continue
        try:
            sig = base64.b64decode(line.rsplit(" ", 1)[1], validate=True)
        except ValueError:
            raise CheckpointError("a signature line is not base64") from None
        if sig[:4].hex() != kid_hex:
            continue
        try:
            public.verify(sig[4:], text.encode())
        except InvalidSignature:
            raise CheckpointError("the checkpoint's signature does not verify") from None
        return text
    raise CheckpointError(f"no signature by {name} on the checkpoint")


def parse_checkpoint(text: str) -> Checkpoint:
    """The body of a C2SP tlog-checkpoint (origin, size, base64 root; extension lines ignored)."""
    lines = text.splitlines()
    try:
        root = base64.b64decode(lines[2], validate=True)
        size = int(lines[1])
        if len(root) != 32 or size < 0 or not lines[0]:
            raise ValueError
        return Checkpoint(lines[0], size, root.hex())
    except (IndexError, ValueError) as e:
        raise CheckpointError("not a checkpoint body") from e


def signers_of(note: str) -> list[str]:
    """``<name>+<hex key hash>`` of every signature line of a note (not verified)."""
    _, _, signatures = note.partition("\n\n")
    out = []
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) == 3 and parts[0] == DASH:
            try:
                out.append(f"{parts[1]}+{base64.b64decode(parts[2])[:4].hex()}")
            except ValueError:
                continue
    return out


def verify(note: str, vkey: str) -> Checkpoint:
    """The checkpoint, if ``note`` carries a valid signature by ``vkey``; else CheckpointError."""
    return parse_checkpoint(open_note(note, vkey))
