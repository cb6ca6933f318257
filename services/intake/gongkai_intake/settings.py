"""Intake settings: environment variables prefixed ``GONGKAI_INTAKE_``."""

from pydantic_settings import SettingsConfigDict

from gongkai_shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_INTAKE_", extra="ignore", populate_by_name=True)
    http_port: int = 8001
