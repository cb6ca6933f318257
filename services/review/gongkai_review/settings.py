"""Review settings: environment variables prefixed ``GONGKAI_REVIEW_``."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gongkai_shared.settings import ServiceSettings


class ReviewSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_REVIEW_", extra="ignore", populate_by_name=True)
    http_port: int = 8002
    profile: str = "national-2019"  # the rule profile new cases run under (name or name@version)
    office_name: str = "本机关"  # signs the letters
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

    def required_settings(self) -> dict[str, str]:
        """The answer letters name the reconsideration body (行政复议法 Art. 24)."""
        return {"GONGKAI_REVIEW_RECONSIDERATION_BODY": self.reconsideration_body}

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def local_passwords(self) -> bool:
        return not self.oidc_enabled or self.oidc_local_passwords
