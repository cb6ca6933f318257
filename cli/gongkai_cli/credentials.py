"""Where the command line finds its secrets: the environment first, else the embedded
installation's data folder (``$GONGKAI_DATA_DIR/secrets``, see ``installation.py``)."""

from __future__ import annotations

import os
from pathlib import Path

from gongkai_shared.checkpoint import Signer
from gongkai_shared.settings import weak_secret

from .installation import Installation
from .settings import CliError, CliSettings


def installation(settings: CliSettings) -> Installation:
    return Installation(Path(settings.data_dir))


def auth_secret(settings: CliSettings) -> str:
    """The staff-token key the operator's short tokens are minted with."""
    if settings.auth_secret:
        return settings.auth_secret
    install = installation(settings)
    if (install.dir / "auth.secret").exists() or (install.data_dir / "auth_secret").exists():
        return install.auth_secret()
    raise CliError(f"no signing secret: set GONGKAI_AUTH_SECRET or GONGKAI_DATA_DIR (none in {install.dir})")


def nats_password(settings: CliSettings, user: str) -> str:
    if settings.nats_password:
        # outside the embedded runtime the password comes from a Secret: a placeholder left in
        # it would also be what the broker accepts, so it is refused here as the services do
        if problem := weak_secret(settings.nats_password):
            raise CliError(f"GONGKAI_NATS_PASSWORD {problem} (docs/security.md)")
        return settings.nats_password
    path = installation(settings).dir / f"nats-{user}.password"
    if not path.exists():
        raise CliError(f"no NATS password for {user}: set GONGKAI_NATS_PASSWORD or GONGKAI_DATA_DIR")
    return path.read_text().strip()


def root(settings: CliSettings) -> Signer:
    """The operator's root key: GONGKAI_ROOT_SIGNING_KEY, else the data folder's."""
    if settings.root_signing_key:
        return Signer.from_skey(settings.root_signing_key)
    path = installation(settings).dir / "root.key"
    if not path.exists():
        raise CliError("no root key: set GONGKAI_ROOT_SIGNING_KEY or GONGKAI_DATA_DIR")
    return Signer.from_skey(path.read_text())


def root_vkey(settings: CliSettings) -> str:
    """The root verifier key every reader checks the registered signing keys against."""
    if settings.root_key:
        return settings.root_key
    if settings.root_signing_key or (installation(settings).dir / "root.key").exists():
        return root(settings).vkey()
    raise CliError("no root verifier key: set GONGKAI_ROOT_KEY (or GONGKAI_DATA_DIR)")


def checked_root_vkey(settings: CliSettings) -> str:
    """The root key's verifier key, which must be GONGKAI_ROOT_KEY when that is set too: services
    trusting another root would refuse every key registered here."""
    vkey = root(settings).vkey()
    if settings.root_key and settings.root_key.strip() != vkey:
        raise CliError(
            "GONGKAI_ROOT_KEY is not the verifier key of GONGKAI_ROOT_SIGNING_KEY: the services would"
            f" not trust what this registers; the root signing key's verifier key is {vkey}"
        )
    return vkey


def checkpoint_signer(settings: CliSettings) -> Signer:
    """The office's checkpoint key: GONGKAI_CHECKPOINT_KEY, else ``<data dir>/checkpoint_key``
    (created on first use, mode 0600)."""
    if settings.checkpoint_key:
        return Signer.from_skey(settings.checkpoint_key)
    path = Path(settings.data_dir) / "checkpoint_key"
    if path.exists():
        return Signer.from_skey(path.read_text())
    signer = Signer.generate(settings.checkpoint_origin)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(signer.skey() + "\n")
    return signer


def replace_checkpoint_key(settings: CliSettings, new: Signer) -> None:
    """Embedded runtime: ``new`` becomes the data folder's checkpoint key; the old file is kept
    beside it (``checkpoint_key.<key hash>.retired``), never overwritten."""
    path = Path(settings.data_dir) / "checkpoint_key"
    if path.exists():
        old = Signer.from_skey(path.read_text())
        kid = old.vkey().split("+")[1]
        os.replace(path, path.with_name(f"checkpoint_key.{kid}.retired"))
    fresh = path.with_name("checkpoint_key.new")
    fresh.touch(mode=0o600)
    fresh.write_text(new.skey() + "\n")
    os.replace(fresh, path)
