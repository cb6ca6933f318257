"""Intake settings: environment variables prefixed ``GONGKAI_INTAKE_``."""

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from gongkai_shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_INTAKE_", extra="ignore", populate_by_name=True)
    http_port: int = 8001
    # derives the tracking code of a retried submission; a key of its own, not the staff-token key
    tracking_secret: str = Field(
        default="", repr=False, validation_alias=AliasChoices("tracking_secret", "GONGKAI_TRACKING_SECRET")
    )

    def secrets_to_check(self) -> dict[str, str]:
        return {**super().secrets_to_check(), "GONGKAI_TRACKING_SECRET": self.tracking_secret}
