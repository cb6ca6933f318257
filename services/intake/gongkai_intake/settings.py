"""Intake settings: environment variables prefixed ``GONGKAI_INTAKE_``."""

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import SettingsConfigDict

from gongkai_shared.settings import FileServiceSettings

from .ratelimit import Rate, networks


class IntakeSettings(FileServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_INTAKE_", extra="ignore", populate_by_name=True)
    http_port: int = 8001
    # derives the tracking code of a retried submission; a key of its own, not the staff-token key
    tracking_secret: str = Field(
        default="", repr=False, validation_alias=AliasChoices("tracking_secret", "GONGKAI_TRACKING_SECRET")
    )
    # per client (ratelimit.py): N/second|minute|hour|day, or off. Applications: the API and the
    # form together; lookups: tracking by code (API and page) and withdrawal together.
    rate_applications: str = "20/hour"
    rate_lookups: str = "60/minute"
    # peers whose X-Forwarded-For names the client (the edge): addresses or networks, comma-separated
    trusted_proxies: str = "127.0.0.1"
    # a registrar may enter a receipt date at most this many days back (letters, fax, in person)
    receipt_max_age_days: int = Field(default=365, ge=1, le=3650)

    @field_validator("rate_applications", "rate_lookups")
    @classmethod
    def _rate(cls, value: str) -> str:
        Rate.parse(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        networks(value)
        return value

    def secrets_to_check(self) -> dict[str, str]:
        return {**super().secrets_to_check(), "GONGKAI_TRACKING_SECRET": self.tracking_secret}
