"""Review settings: environment variables prefixed ``GONGKAI_REVIEW_``."""

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from gongkai_shared.settings import FileServiceSettings, OfficeSettings

from .letters import Office
from .numbering import FORMATS, check_formats


class ReviewSettings(FileServiceSettings, OfficeSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_REVIEW_", extra="ignore", populate_by_name=True)
    http_port: int = 8002
    profile: str = "national-2019"  # the rule profile new cases run under (name or name@version)
    # the letters' sender (issue 9): office_name, office_address, office_phone, office_email
    # (OfficeSettings)
    # letter type -> document number format with {year} and {number} (numbering.py); JSON
    letter_numbers: dict[str, str] = Field(default_factory=lambda: dict(FORMATS))
    # where reconsideration is applied for, by name (行政复议法 Art. 24), e.g. "某市人民政府": no
    # default, the service refuses to start without it (gongkai-up sets one for the local runtime)
    reconsideration_body: str = ""
    session_hours: float = 8.0  # how long a signed-in staff member's session token lasts
    # single sign-on (issue 8): an OIDC provider replaces local passwords when an issuer is set
    oidc_issuer: str = ""  # e.g. https://sso.example.gov.cn/realms/office; empty = OIDC off
    oidc_client_id: str = ""
    oidc_client_secret: str = Field(default="", repr=False)
    oidc_redirect_url: str = ""  # https://<review>/staff/sign-in/oidc/callback, as registered
    oidc_login_claim: str = "preferred_username"  # the ID-token claim that names the staff login
    oidc_local_passwords: bool = False  # with OIDC on, are local passwords still accepted?

    @field_validator("letter_numbers")
    @classmethod
    def _numbers(cls, value: dict[str, str]) -> dict[str, str]:
        return check_formats(value)

    def office(self) -> Office:
        """The sender as letters show it (no case, no number yet)."""
        return Office(
            name=self.office_name,
            address=self.office_address,
            phone=self.office_phone,
            email=self.office_email,
            reconsideration_body=self.reconsideration_body,
            numbers=dict(self.letter_numbers),
        )

    def required_settings(self) -> dict[str, str]:
        """The answer letters name the reconsideration body (行政复议法 Art. 24)."""
        return {"GONGKAI_REVIEW_RECONSIDERATION_BODY": self.reconsideration_body}

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def local_passwords(self) -> bool:
        return not self.oidc_enabled or self.oidc_local_passwords
