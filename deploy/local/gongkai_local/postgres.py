"""PostgreSQL from the ``pgserver`` wheel: one cluster under the data folder, a unix socket only.

Database ``gongkai``; one LOGIN role per service (``gongkai_<svc>``) allowed to create its own
schema. Authentication is ``trust`` over the socket, which only local users can reach.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg

from .pgwatch import alive

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (pgserver then uses /tmp/runtime-<uid>).
    warnings.simplefilter("ignore")
    import pgserver

DATABASE = "gongkai"


@dataclass
class Postgres:
    server: pgserver.PostgresServer
    pgdata: Path
    socket_dir: str

    def dsn(self, role: str, database: str = DATABASE) -> str:
        return f"postgresql://{role}@/{database}?host={self.socket_dir}"

    @property
    def superuser_dsn(self) -> str:
        return self.server.get_uri()


def _forget_dead_handles(pgdata: Path) -> None:
    """pgserver stops the cluster only when the last live handle goes away; a supervisor killed
    with SIGKILL leaves its pid in the list, so drop pids that are no longer running."""
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        pids = []
    handles.write_text(json.dumps([p for p in pids if alive(p)]))

    return True


def start_postgres(data_dir: Path) -> Postgres:
    """Blocking: initdb on first use, then start (or adopt a cluster left running)."""
    pgdata = (data_dir / "pg").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    host = parse_qs(urlsplit(server.get_uri()).query)["host"][0]
    _link_log(data_dir, pgdata)
    return Postgres(server, pgdata, host)


def _link_log(data_dir: Path, pgdata: Path) -> None:
    link = data_dir / "logs" / "postgres.log"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.unlink(missing_ok=True)
        link.symlink_to(pgdata / "log")


async def bootstrap(pg: Postgres, services: list[str]) -> None:
    """Idempotent: database ``gongkai`` and a role per service. Each service makes its schema."""
    conn = await asyncpg.connect(pg.superuser_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            await conn.execute(f'CREATE DATABASE "{DATABASE}"')
        for svc in services:
            role = f"gongkai_{svc}"
            if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
                await conn.execute(f'CREATE ROLE "{role}" LOGIN')
            await conn.execute(f'GRANT CONNECT, CREATE ON DATABASE "{DATABASE}" TO "{role}"')
    finally:
        await conn.close()


def start_watchdog(pgdata: Path) -> subprocess.Popen[bytes]:
    """A process outside our process group that stops the cluster if this process is killed."""
    return subprocess.Popen(
        [sys.executable, "-m", "gongkai_local.pgwatch", str(os.getpid()), str(pgdata)],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_postgres(pgdata: Path, pg: Postgres | None) -> None:
    """Stop the cluster: pgserver's own cleanup, then ``pg_ctl stop`` if anything is left."""
    if pg is not None:
        pg.server.cleanup()
    if not (pgdata / "postmaster.pid").exists():
        return
    pg_ctl = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl"
    # As root, pgserver runs the cluster as its own system user; pg_ctl must run as that user.
    user = "pgserver" if os.geteuid() == 0 else None
    subprocess.run(
        [str(pg_ctl), "-D", str(pgdata), "-m", "fast", "-w", "stop"],
        user=user,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        timeout=60,
    )
