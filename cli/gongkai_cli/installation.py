"""An embedded installation's credentials, kept under its data folder (``<data>/secrets``).

Every secret is a file of mode 0600, created on first use and reused afterwards: the NATS
password of each user, each service's event-signing key, the operator's root key, the staff
token key and the tracking-code key. ``gongkai-up`` and the ``gongkai`` command line read them
here; Kubernetes takes the same values from Secrets instead (docs/security.md).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from gongkai_shared.access import ADMIN, AUDITOR, SERVICES, Credentials, agency_user, check_agency_name
from gongkai_shared.checkpoint import Signer

ROOT_KEY_NAME = "gongkai-root"


def secret_file(path: Path, make: Callable[[], str] = lambda: secrets.token_urlsafe(32)) -> str:
    """The secret in ``path``; created (mode 0600, never group- or world-readable) if missing."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(make() + "\n")
    return path.read_text().strip()


def signing_key_name(service: str) -> str:
    """Keys are named by service and creation date, so a rotated key is told apart in the log."""
    return f"gongkai-{service}-{datetime.now(UTC):%Y%m%d%H%M%S}"


class Installation:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.dir = self.data_dir / "secrets"

    def secret(self, name: str, make: Callable[[], str] | None = None) -> str:
        return secret_file(self.dir / name, make) if make else secret_file(self.dir / name)

    # --- NATS ---------------------------------------------------------------------------------

    def nats_password(self, user: str) -> str:
        return self.secret(f"nats-{user}.password")

    def agencies(self) -> list[str]:
        path = self.data_dir / "agencies.json"
        return sorted(json.loads(path.read_text())) if path.exists() else []

    def add_agency(self, name: str) -> str:
        """Record an agency (idempotent) and return its NATS password."""
        check_agency_name(name)
        names = set(self.agencies()) | {name}
        (self.data_dir / "agencies.json").write_text(json.dumps(sorted(names)) + "\n")
        return self.nats_password(agency_user(name))

    def credentials(self) -> Credentials:
        users = [*SERVICES, ADMIN, AUDITOR, *(agency_user(a) for a in self.agencies())]
        return Credentials({u: self.nats_password(u) for u in users}, self.agencies())

    # --- signing keys -------------------------------------------------------------------------

    def root(self) -> Signer:
        return Signer.from_skey(self.secret("root.key", lambda: Signer.generate(ROOT_KEY_NAME).skey()))

    def signing_key(self, service: str) -> str:
        """The service's current signing key (``PRIVATE+KEY+…``)."""
        return self.secret(
            f"signing-{service}.key", lambda: Signer.generate(signing_key_name(service)).skey()
        )

    def rotate_signing_key(self, service: str) -> str:
        """A new key for ``service``; the old one is kept beside it until it is revoked."""
        path = self.dir / f"signing-{service}.key"
        if path.exists():
            path.rename(path.with_name(f"{path.name}.{datetime.now(UTC):%Y%m%d%H%M%S}.old"))
        return self.signing_key(service)

    # --- staff tokens and tracking codes ---------------------------------------------------------

    def auth_secret(self) -> str:
        legacy = self.data_dir / "auth_secret"  # where earlier versions kept it
        if legacy.exists() and not (self.dir / "auth.secret").exists():
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            legacy.rename(self.dir / "auth.secret")
        return self.secret("auth.secret", lambda: secrets.token_urlsafe(48))

    def tracking_secret(self) -> str:
        return self.secret("tracking.secret", lambda: secrets.token_urlsafe(48))

    def files_key(self) -> str:
        """The master key of personal files (GONGKAI_FILES_KEY, files.py): 32 random bytes."""
        from gongkai_shared.files import new_master_key

        return self.secret("files.key", new_master_key)
