"""The command line's settings (environment variables ``GONGKAI_*``) and its one error type."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CliError(Exception):
    """A problem the user can act on: printed as ``gongkai: <message>``, exit status 2."""


class CliSettings(BaseSettings):
    """The ``gongkai`` command line tool."""

    model_config = SettingsConfigDict(env_prefix="GONGKAI_", extra="ignore")

    nats_url: str = ""
    # the operator's NATS credential (default: the data folder's files for admin and auditor)
    nats_user: str = ""
    nats_password: str = Field(default="", repr=False)
    # the root key: its private half signs key registrations, its verifier key checks the log
    root_signing_key: str = Field(default="", repr=False)
    root_key: str = ""
    # where the services answer (calendar load goes through notify's API); default: data folder
    url: str = ""
    # the operator listener (``/<service>/...``, loopback only); default: the data folder's ops_url
    ops_url: str = ""
    stream: str = "FOI"
    auth_secret: str = Field(default="", repr=False)
    data_dir: str = "./var"
    checkpoint_key: str = Field(default="", repr=False)  # PRIVATE+KEY+… ; default: data dir file
    checkpoint_origin: str = "gongkai/FOI"
    # an auditor's API token (gongkai users token <login>): the auditor's views of review's API
    auditor_token: str = Field(default="", repr=False)

    def resolved_nats_url(self) -> str:
        """GONGKAI_NATS_URL, else the URL ``make up`` wrote into the data folder, else the default."""
        if self.nats_url:
            return self.nats_url
        written = Path(self.data_dir) / "nats_url"
        if written.exists():
            return written.read_text().strip()
        return "nats://127.0.0.1:4222"

    def service_url(self) -> str:
        """GONGKAI_URL, else the URL ``make up`` wrote into the data folder."""
        if self.url:
            return self.url.rstrip("/")
        written = Path(self.data_dir) / "url"
        if written.exists():
            return written.read_text().strip().rstrip("/")
        raise CliError("where is Gongkai? set GONGKAI_URL (e.g. http://127.0.0.1:8000) or GONGKAI_DATA_DIR")

    def ops_service_url(self, service: str) -> str:
        """A service's operator endpoints: GONGKAI_OPS_URL, else the operator listener ``make up``
        wrote into the data folder, followed by ``/<service>``."""
        base = self.ops_url.rstrip("/")
        if not base:
            written = Path(self.data_dir) / "ops_url"
            if not written.exists():
                raise CliError(
                    "where are the operator endpoints? set GONGKAI_OPS_URL (e.g. http://127.0.0.1:8001)"
                    " or GONGKAI_DATA_DIR, or give --url (a service's own address)"
                )
            base = written.read_text().strip().rstrip("/")
        return f"{base}/{service}"
