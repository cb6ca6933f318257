"""Settings read from environment variables by pydantic-settings, one prefix per service.

The same variables configure the embedded runtime and Kubernetes.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What every service needs: where NATS and its database are, where it listens.

    A service subclasses this with ``model_config = SettingsConfigDict(env_prefix="GONGKAI_<SVC>_")``.
    """

    model_config = SettingsConfigDict(env_prefix="GONGKAI_SERVICE_", extra="ignore", populate_by_name=True)

    nats_url: str = "nats://127.0.0.1:4222"
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
    log_level: str = "info"


class CliSettings(BaseSettings):
    """The ``gongkai`` command line tool."""

    model_config = SettingsConfigDict(env_prefix="GONGKAI_", extra="ignore")

    nats_url: str = ""
    stream: str = "FOI"
    auth_secret: str = Field(default="", repr=False)
    data_dir: str = "./var"
    checkpoint_key: str = Field(default="", repr=False)  # PRIVATE+KEY+… ; default: data dir file
    checkpoint_origin: str = "gongkai/FOI"

    def resolved_nats_url(self) -> str:
        """GONGKAI_NATS_URL, else the URL ``make up`` wrote into the data folder, else the default."""
        if self.nats_url:
            return self.nats_url
        from pathlib import Path

        written = Path(self.data_dir) / "nats_url"
        if written.exists():
            return written.read_text().strip()
        return "nats://127.0.0.1:4222"
