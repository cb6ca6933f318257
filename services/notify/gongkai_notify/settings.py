"""Notify settings: environment variables prefixed ``GONGKAI_NOTIFY_``."""

from pydantic_settings import SettingsConfigDict

from gongkai_shared.settings import OfficeSettings


class NotifySettings(OfficeSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_NOTIFY_", extra="ignore", populate_by_name=True)
    http_port: int = 8004
    tick_seconds: float = 5.0  # how often due deadlines are checked
    profile: str = "national-2019"  # until case-registered names the case's profile
    warn_days: int = 3  # warn this many working days before each deadline
    recompute_chunk: int = 200  # cases recomputed per transaction after a calendar year is loaded
    recompute_tick_seconds: float = 1.0  # how often an empty recompute queue is looked at

    # notices: the office's name and contacts frame the receipt (OfficeSettings); where applicants
    # track their application (intake's /track page, e.g. https://gongkai.example.gov.cn/track)
    tracking_url: str = ""
    staff_email: str = ""  # the disclosure office's mailbox: warnings, recomputed deadlines
    head_email: str = ""  # the office head: breaches are escalated here
    smtp_host: str = ""  # empty: no e-mail channel
    smtp_port: int = 25
    smtp_from: str = "gongkai@localhost"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout: float = 10.0
    webhook_urls: str = ""  # comma-separated; every notice is POSTed as JSON to each
    webhook_timeout: float = 10.0
    delivery_tick_seconds: float = 2.0
    # a claimed delivery is another sender's after this long (a crashed sender's notice is retried);
    # longer than the slowest send (smtp_timeout, webhook_timeout)
    delivery_lease_seconds: float = 120.0
    retry_base_seconds: float = 30.0  # backoff: base * 2^(attempt-1), capped
    retry_max_seconds: float = 3600.0
    max_attempts: int = 8
    # a rebuilt projection does not create notices for events older than this (hours; 0: no limit)
    notice_max_age_hours: float = 72.0

    def webhooks(self) -> list[str]:
        return [u.strip() for u in self.webhook_urls.split(",") if u.strip()]
