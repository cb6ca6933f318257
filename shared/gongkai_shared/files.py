"""Files: identity proofs and disclosed documents, in the NATS JetStream object store.

Events never carry a file; they carry a :class:`FileRef`: the SHA-256 of the bytes stored, the
size and media type of the document, and whether it is encrypted. Objects are named by that
hash (content-addressed), so a file is stored once and never replaced; the bucket (stream
``OBJ_FILES``) has no age, size or count limit, and the services may not purge it
(``access.py``): an object store delete is a purge, and only the operator holds that right.

Personal files (an applicant's identity proof, Art. 29) are encrypted before they are stored
(AES-256-GCM) with a data key of their own. The data key is wrapped (AES-256-GCM) by the master
key ``GONGKAI_FILES_KEY`` (settings/secrets, never in the log) and kept as a small object of its
own (``key-<key_id>``), so that removing that object shreds the file: the ciphertext, in the
bucket or in a backup, can no longer be read, and no event is rewritten (crypto-shredding,
ARCHITECTURE.md §1). For an encrypted file the hash is the hash of the ciphertext: the permanent
log holds no fingerprint of an identity document.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nats.js import JetStreamContext
from nats.js.api import ObjectStoreConfig, StorageType
from nats.js.errors import BucketNotFoundError, NotFoundError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

from .filerefs import MAGIC, BadUpload, FileRef, MediaType, check_upload

__all__ = ["MAGIC", "BadUpload", "FileMissing", "FileRef", "FileStore", "MediaType", "check_upload"]

BUCKET = "FILES"
OBJECT_STREAM = f"OBJ_{BUCKET}"
NONCE = 12


class FileMissing(LookupError):
    """No stored file (or no key) for a reference."""


def parse_master_key(text: str) -> bytes:
    """``GONGKAI_FILES_KEY``: 32 bytes, URL-safe base64 (``gongkai`` generates one)."""
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError:
        raise ValueError("GONGKAI_FILES_KEY is not base64") from None
    if len(key) != 32:
        raise ValueError("GONGKAI_FILES_KEY must be 32 bytes (44 characters of base64)")
    return key


def new_master_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _key_object(key_id: str) -> str:
    return f"key-{key_id}"


async def ensure_bucket(js: JetStreamContext, replicas: int = 1) -> None:
    """Create the bucket (the operator's credential): file storage, as many replicas as the
    ``FOI`` stream, no TTL and no size limit. Idempotent."""
    try:
        await js.object_store(BUCKET)
    except (BucketNotFoundError, NotFoundError):
        config = ObjectStoreConfig(
            description="gongkai files: identity proofs (encrypted), disclosed documents",
            storage=StorageType.FILE,
            replicas=replicas,
            ttl=None,
            max_bytes=-1,
        )
        await js.create_object_store(BUCKET, config)


class FileStore:
    """The bucket, for a service allowed to use it. ``master_key``: needed for personal files."""

    def __init__(self, js: JetStreamContext, master_key: bytes | None = None) -> None:
        self.js = js
        self.master_key = master_key
        self._bucket: ObjectStore | None = None

    async def bucket(self) -> ObjectStore:
        if self._bucket is None:
            self._bucket = await self.js.object_store(BUCKET)
        return self._bucket

    async def _put_once(self, name: str, data: bytes) -> None:
        """Store ``name`` unless it is there: an object is never replaced (a replacement purges)."""
        bucket = await self.bucket()
        try:
            await bucket.get_info(name)
            return
        except (ObjectNotFoundError, NotFoundError):
            pass
        await bucket.put(name, data)

    async def put_public(self, data: bytes, media_type: str) -> FileRef:
        digest = hashlib.sha256(data).hexdigest()
        await self._put_once(digest, data)
        return FileRef(sha256=digest, size=len(data), media_type=media_type, encrypted=False)

    def _master(self) -> AESGCM:
        if self.master_key is None:
            raise RuntimeError("GONGKAI_FILES_KEY is not set: personal files cannot be stored or read")
        return AESGCM(self.master_key)

    async def put_personal(self, data: bytes, media_type: str) -> FileRef:
        """Encrypt with a fresh data key, store the wrapped key, then the ciphertext."""
        master = self._master()
        key_id = uuid.uuid4().hex
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE)
        wrapped = nonce + master.encrypt(nonce, data_key, f"gongkai-data-key:{key_id}".encode())
        nonce = os.urandom(NONCE)
        sealed = nonce + AESGCM(data_key).encrypt(nonce, data, f"gongkai-file:{key_id}".encode())
        await self._put_once(_key_object(key_id), wrapped)
        digest = hashlib.sha256(sealed).hexdigest()
        await self._put_once(digest, sealed)
        return FileRef(sha256=digest, size=len(data), media_type=media_type, encrypted=True, key_id=key_id)

    async def stored(self, ref: FileRef) -> bytes:
        """The stored bytes of ``ref`` (ciphertext if encrypted), checked against its hash."""
        bucket = await self.bucket()
        try:
            result = await bucket.get(ref.sha256)
        except (ObjectNotFoundError, NotFoundError):
            raise FileMissing(ref.sha256) from None
        data = bytes(result.data or b"")
        if hashlib.sha256(data).hexdigest() != ref.sha256:
            raise FileMissing(f"{ref.sha256}: the stored bytes do not match the hash")
        return data

    async def exists(self, ref: FileRef) -> bool:
        """Whether ``ref`` names a stored file (and, if encrypted, its key is there)."""
        bucket = await self.bucket()
        try:
            info = await bucket.get_info(ref.sha256)
            if ref.encrypted:
                if ref.key_id is None:
                    return False
                await bucket.get_info(_key_object(ref.key_id))
        except (ObjectNotFoundError, NotFoundError):
            return False
        return info.size is not None and info.size > 0

    async def stored_size(self, sha256: str) -> int | None:
        """Bytes stored under ``sha256`` (the ciphertext's size for an encrypted file), or None
        when nothing is stored under it."""
        bucket = await self.bucket()
        try:
            info = await bucket.get_info(sha256)
        except (ObjectNotFoundError, NotFoundError):
            return None
        return info.size if info.size else None

    async def read(self, ref: FileRef) -> bytes:
        """The document: decrypted when encrypted (FileMissing if the file or its key is gone)."""
        data = await self.stored(ref)
        if not ref.encrypted:
            return data
        if ref.key_id is None:
            raise FileMissing(f"{ref.sha256}: encrypted without a key id")
        bucket = await self.bucket()
        try:
            wrapped = bytes((await bucket.get(_key_object(ref.key_id))).data or b"")
        except (ObjectNotFoundError, NotFoundError):
            raise FileMissing(f"{ref.sha256}: its key was shredded") from None
        aad = f"gongkai-data-key:{ref.key_id}".encode()
        data_key = self._master().decrypt(wrapped[:NONCE], wrapped[NONCE:], aad)
        aad = f"gongkai-file:{ref.key_id}".encode()
        return AESGCM(data_key).decrypt(data[:NONCE], data[NONCE:], aad)


def store_of(state: Any) -> FileStore:
    """The file store of a running service (an app's ``state``: its runtime and settings),
    made once per NATS connection."""
    js = state.runtime.store.js
    files: FileStore | None = getattr(state, "files", None)
    if files is None or files.js is not js:
        key = getattr(state.settings, "files_key", "")
        files = FileStore(js, parse_master_key(key) if key else None)
        state.files = files
    return files


async def read_upload(upload: Any, max_bytes: int, field: str) -> tuple[bytes, str]:
    """(bytes, media type) of a multipart file (a Starlette ``UploadFile``), or BadUpload; reads
    at most one byte more than allowed."""
    data = await upload.read(max_bytes + 1)
    return data, check_upload(data, getattr(upload, "content_type", None), max_bytes, field)
