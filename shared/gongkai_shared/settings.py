"""Settings read from environment variables by pydantic-settings, one prefix per service.

The same variables configure the embedded runtime and Kubernetes.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .letterframe import Letterhead


class ServiceSettings(BaseSettings):
    """What every service needs: where NATS and its database are, where it listens.

    A service subclasses this with ``model_config = SettingsConfigDict(env_prefix="GONGKAI_<SVC>_")``.
    """

    model_config = SettingsConfigDict(env_prefix="GONGKAI_SERVICE_", extra="ignore", populate_by_name=True)

    nats_url: str = "nats://127.0.0.1:4222"
    # the service's own NATS user (default: the service's name) and its password
    nats_user: str = ""
    nats_password: str = Field(default="", repr=False)
    # the service's Ed25519 event-signing key, ``PRIVATE+KEY+<name>+<id>+<base64>`` (C2SP note
    # format); its public half must be registered in the log by the operator (gongkai keys)
    signing_key: str = Field(default="", repr=False)
    # the operator's root verifier key: every reader checks the registered keys against it
    root_key: str = Field(default="", validation_alias=AliasChoices("root_key", "GONGKAI_ROOT_KEY"))
    database_url: str = "postgresql://postgres@127.0.0.1:5432/gongkai"
    db_schema: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 8001
    stream: str = "FOI"
    stream_replicas: int = 1
    # Staff tokens are signed with this key; every service verifies them (same value everywhere).
    auth_secret: str = Field(
        default="", repr=False, validation_alias=AliasChoices("auth_secret", "GONGKAI_AUTH_SECRET")
    )
    projection_batch_max: int = 500
    # how long a read with ``min_seq`` (and a command deciding on its case) waits for the
    # projections before answering 503 with Retry-After (docs/operations.md, "min_seq")
    wait_seconds: float = Field(default=5.0, gt=0, le=60)
    log_level: str = "info"

    def secrets_to_check(self) -> dict[str, str]:
        """The secrets that must be real before the service starts (by environment variable).

        The NATS password is one: outside the embedded runtime the broker takes it from the same
        Secret, so a placeholder left there would be accepted by both."""
        prefix = self.model_config.get("env_prefix", "")
        return {"GONGKAI_AUTH_SECRET": self.auth_secret, f"{prefix}NATS_PASSWORD": self.nats_password}

    def required_settings(self) -> dict[str, str]:
        """Settings without which the service must not start (by environment variable): a
        service lists its own (review: the reconsideration body its letters name)."""
        return {}


def weak_secret(value: str) -> str | None:
    """Why a secret must not be used (empty, a placeholder, too short), or None."""
    if not value.strip():
        return "is empty"
    if "change-me" in value.lower() or "changeme" in value.lower():
        return "is still the placeholder"
    if len(value) < 32:
        return "is shorter than 32 characters"
    return None


class FileServiceSettings(ServiceSettings):
    """A service that stores or reads files (``files.py``): intake and review.

    ``GONGKAI_FILES_KEY`` is the master key that wraps each personal file's data key (32 bytes,
    URL-safe base64, the same value in both services); it never enters the log."""

    files_key: str = Field(
        default="", repr=False, validation_alias=AliasChoices("files_key", "GONGKAI_FILES_KEY")
    )
    # the largest upload accepted (an identity proof, a disclosed document); the edge allows a
    # little more on the upload routes only (deploy/local/gongkai_local/routes.py)
    upload_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)

    @field_validator("files_key")
    @classmethod
    def _files_key(cls, value: str) -> str:
        if value:
            from .files import parse_master_key

            parse_master_key(value)
        return value

    def secrets_to_check(self) -> dict[str, str]:
        return {**super().secrets_to_check(), "GONGKAI_FILES_KEY": self.files_key}


class OfficeSettings(ServiceSettings):
    """A service that writes to people outside the office (review's letters, notify's receipt):
    the sending agency's name signs them and the office's contact details stand in each one's
    note (``letterframe``). Set the same values in both services (``GONGKAI_REVIEW_OFFICE_NAME``,
    ``GONGKAI_NOTIFY_OFFICE_NAME`` …); the placeholders are for a demonstration."""

    office_name: str = "某市人民政府办公室"
    office_address: str = "某市某区人民路1号"
    office_phone: str = "0000-00000000"
    office_email: str = "gongkai@example.gov.cn"

    def letterhead(self) -> Letterhead:
        return Letterhead(self.office_name, self.office_address, self.office_phone, self.office_email)
