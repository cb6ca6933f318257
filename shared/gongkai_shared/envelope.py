"""The CloudEvents 1.0 envelope every Gongkai event travels in (structured JSON mode).

Extension attributes: ``actor`` and ``actorrole`` (who did it, in which role), ``correlationid``
(the whole interaction), ``causationid`` (the event or command that caused this one) and
``prevhash``: SHA-256 (hex) of the exact stored bytes of the previous event of the same
aggregate, empty for its first event. The chain makes any edit, removal or reordering of a
case's history detectable from the log alone.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import uuid6
from pydantic import BaseModel, ConfigDict, Field

TYPE_PREFIX = "cn.gov.gongkai."
SYSTEM_ACTOR = "system"


def new_id() -> str:
    """A fresh event id: UUIDv7, so ids sort by creation time."""
    return str(uuid6.uuid7())


def derived_id(cause: str, purpose: str) -> str:
    """An id that derives from a cause, so a reaction repeated for the same cause is one event."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"gongkai:{cause}:{purpose}"))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Actor(BaseModel):
    """Who issued a command: a staff user, an applicant, or a service acting on its own."""

    model_config = ConfigDict(frozen=True)
    id: str
    role: str

    @classmethod
    def system(cls, service: str) -> Actor:
        return cls(id=f"{SYSTEM_ACTOR}:{service}", role=SYSTEM_ACTOR)


class Envelope(BaseModel):
    """One event as stored on the stream."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: str = "1.0"
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    datacontenttype: str = "application/json"
    dataschema: str | None = None
    actor: str
    actorrole: str
    correlationid: str
    causationid: str
    prevhash: str = ""
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def name(self) -> str:
        """The event's name without prefix and version, e.g. ``request-received``."""
        return self.type.removeprefix(TYPE_PREFIX).rsplit(".", 1)[0]

    @property
    def version(self) -> int:
        return int(self.type.rsplit(".v", 1)[1])

    def to_bytes(self) -> bytes:
        """Canonical JSON: sorted keys, no spaces, UTF-8. These bytes are what is stored and hashed."""
        payload = self.model_dump(mode="json", exclude_none=True)
        return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)


def utcnow() -> datetime:
    return datetime.now(UTC)
