"""Notify settings: environment variables prefixed ``GONGKAI_NOTIFY_``."""

from gongkai_shared.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GONGKAI_NOTIFY_", extra="ignore", populate_by_name=True
    )
    http_port: int = 8004
    tick_seconds: float = 5.0  # how often due deadlines are checked
    profile: str = "national-2019"
