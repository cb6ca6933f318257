"""Review settings: environment variables prefixed ``GONGKAI_REVIEW_``."""

from pydantic_settings import SettingsConfigDict

from gongkai_shared.settings import ServiceSettings


class ReviewSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_REVIEW_", extra="ignore", populate_by_name=True)
    http_port: int = 8002
    profile: str = "national-2019"  # the rule profile new cases run under (name or name@version)
    office_name: str = "本机关"  # signs the letters
    reconsideration_body: str = "本级人民政府"  # where reconsideration is applied for
    session_hours: float = 8.0  # how long a signed-in staff member's session token lasts
