"""Real servers for the test session: nats-server (JetStream) and PostgreSQL, from the wheels.

Each test gets its own nats-server (a fresh JetStream store, so a test's events never meet
another's) and its own database in one session-wide PostgreSQL. Where a Docker engine answers
and ``GONGKAI_TEST_CONTAINERS=1`` is set, testcontainers starts them instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def nats_server_binary() -> str:
    here = Path(sys.executable).parent / "nats-server"
    return str(here) if here.exists() else (shutil.which("nats-server") or "nats-server")


class NatsServer:
    """A nats-server with JetStream, ``sync_interval: always``, on a loopback port."""

    def __init__(self, store: Path, port: int | None = None) -> None:
        self.store = store
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        self.store.mkdir(parents=True, exist_ok=True)
        conf = self.store / "nats.conf"
        conf.write_text(
            f"listen: 127.0.0.1:{self.port}\n"
            f'jetstream {{ store_dir: "{self.store / "js"}", sync_interval: always }}\n'
        )
        self.proc = subprocess.Popen(
            [nats_server_binary(), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.store / "nats.log", "ab"),  # noqa: SIM115
        )
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextmanager
def postgres(data: Path) -> Iterator[str]:
    """A PostgreSQL server (pgserver wheel) for the session; yields a superuser DSN."""
    if os.environ.get("GONGKAI_TEST_CONTAINERS") == "1":
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16") as pg:
            yield pg.get_connection_url(driver=None)
        return
    import pgserver

    server = pgserver.get_server(str(data), cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
