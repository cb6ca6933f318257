"""Secrets the embedded runtime generates for itself: one per file under the data folder.

Each file holds one random value, readable by its owner only (mode 0600). It is created on first
use and read back on every later start, so a restart keeps working with the same credentials;
deleting the file is how an operator asks for a new value (see docs/operations.md).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def secret_file(path: Path) -> str:
    """The secret stored in ``path``; if there is none yet, a new one (``token_urlsafe(32)``)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        _create(path, secrets.token_urlsafe(32))
    value = path.read_text().strip()
    if not value:
        raise ValueError(f"{path} is empty: delete it to have a new secret generated")
    return value


def _create(path: Path, value: str) -> None:
    """Write ``value`` beside ``path`` and link it into place: the file appears whole or not at
    all, and when two processes race, the first one's value wins and both read it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            os.fchmod(f.fileno(), 0o600)  # whatever the umask
            f.write(value + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
