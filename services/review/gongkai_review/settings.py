"""Review settings: environment variables prefixed ``GONGKAI_REVIEW_``."""

from gongkai_shared.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class ReviewSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GONGKAI_REVIEW_", extra="ignore", populate_by_name=True
    )
    http_port: int = 8002
