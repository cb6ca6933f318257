"""Publishing settings: environment variables prefixed ``GONGKAI_PUBLISHING_``."""

from pydantic_settings import SettingsConfigDict

from gongkai_shared.settings import ServiceSettings


class PublishingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_PUBLISHING_", extra="ignore", populate_by_name=True)
    http_port: int = 8003
    agency_code: str = "000000000"  # 机关代码 (or the 18-character unified social credit code)
    # 索引号 format; formats vary by province: {agency}, {year}, {seq} are available
    index_format: str = "{agency}/{year}-{seq:05d}"
    reaction_max_backoff: float = 60.0
