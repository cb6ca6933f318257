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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from gongkai_cli.installation import Installation
from gongkai_cli.operator import admin_store, setup
from gongkai_shared.access import ADMIN, SERVICES, render_config
from gongkai_shared.eventstore import EventStore, connect
from gongkai_shared.trust import EventSigner, KeyRing


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
    """A nats-server with JetStream, ``sync_interval: always``, on a loopback port, configured
    exactly as the embedded runtime configures it: every user authenticated and limited to its
    part (gongkai_shared.access), the FOI stream created and the services' signing keys
    registered with the operator's root key, all from an installation under ``store``."""

    def __init__(self, store: Path, port: int | None = None) -> None:
        self.store = store
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.install = Installation(store / "install")

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def root_vkey(self) -> str:
        return self.install.root().vkey()

    def write_config(self) -> None:
        self.store.mkdir(parents=True, exist_ok=True)
        conf = render_config(
            self.install.credentials(),
            listen=f"127.0.0.1:{self.port}",
            store_dir=str(self.store / "js"),
            server_name="gongkai-test",
        )
        self.conf = self.store / "nats.conf"
        self.conf.write_text(conf)

    def start(self, provision: bool = True) -> NatsServer:
        self.write_config()
        self.proc = subprocess.Popen(
            [nats_server_binary(), "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.store / "nats.log", "ab"),  # noqa: SIM115
        )
        wait_port(self.port)
        if provision:
            _in_thread(self.provision())
        return self

    def reload(self) -> None:
        """Rewrite the configuration (new agencies) and have the server reload it (SIGHUP)."""
        import signal

        self.write_config()
        assert self.proc is not None
        self.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)

    async def provision(self) -> None:
        store = await self.admin()
        try:
            vkeys = {s: self.signer(s).vkey for s in SERVICES}
            await setup(store, self.root_vkey, vkeys, self.install.agencies())
        finally:
            await store.nc.close()

    def signer(self, context: str) -> EventSigner:
        if context == "trust":
            return EventSigner("trust", self.install.root())
        return EventSigner.from_skey(context, self.install.signing_key(context))

    async def admin(self, **options: Any) -> EventStore:
        """The operator's store: administrator credential, signing with the root key."""
        return await admin_store(
            self.url, self.install.nats_password(ADMIN), root=self.install.root(), **options
        )

    async def connect(self, user: str, **options: Any) -> Any:
        return await connect(self.url, f"test-{user}", user=user,
                             password=self.install.nats_password(user), **options)  # fmt: skip

    async def writer(self, *contexts: str) -> EventStore:
        """A store connected as the administrator that signs, for each of ``contexts``, with that
        service's registered key: a test that plays several services on one connection."""
        nc = await self.connect(ADMIN)
        store = EventStore(nc, "FOI", [self.signer(c) for c in contexts or SERVICES])
        store.keyring = KeyRing(self.root_vkey)
        return store

    def service_settings(self, service: str) -> dict[str, str]:
        """What a service needs to connect and sign, as settings (harness and subprocesses)."""
        return {
            "nats_url": self.url,
            "nats_password": self.install.nats_password(service),
            "signing_key": self.install.signing_key(service),
            "root_key": self.root_vkey,
        }

    def cli_env(self) -> dict[str, str]:
        """Environment for the ``gongkai`` command line against this server (operator's files)."""
        return {"GONGKAI_NATS_URL": self.url, "GONGKAI_DATA_DIR": str(self.install.data_dir)}

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _in_thread(coro: Any) -> Any:
    """Run a coroutine to completion from synchronous code, whatever loop the caller is in."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


# The password of each service's role on the session's PostgreSQL. Roles are cluster-wide, so
# postgres() makes them once; System connects each service as its own role with them.
SERVICE_PASSWORDS: dict[str, str] = {}


@contextmanager
def postgres(data: Path) -> Iterator[str]:
    """A PostgreSQL server for the session, authenticated as the embedded runtime's is: SCRAM for
    every connection and a login role per service (gongkai_local.postgres). Yields a superuser DSN;
    each test's database gets the services' grants from ``grant_services``."""
    from gongkai_local.postgres import service_role, start_postgres, stop_postgres
    from gongkai_local.routes import SERVICES as NAMES

    roles = [service_role(s) for s in NAMES]
    if os.environ.get("GONGKAI_TEST_CONTAINERS") == "1":
        import secrets

        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16") as container:
            dsn = container.get_connection_url(driver=None)
            _in_thread(_make_roles(dsn, {role: secrets.token_urlsafe(32) for role in roles}))
            yield dsn
        return
    pg = start_postgres(data)
    try:
        _in_thread(_make_roles(pg.superuser_dsn, {role: pg.password(role) for role in roles}))
        yield pg.superuser_dsn
    finally:
        stop_postgres(pg.pgdata, pg)


async def _make_roles(superuser_dsn: str, passwords: dict[str, str]) -> None:
    """The cluster-wide part of the embedded bootstrap: SCRAM, one login role per service."""
    import asyncpg

    from gongkai_local.postgres import prepare_cluster

    conn = await asyncpg.connect(superuser_dsn)
    try:
        await prepare_cluster(conn, passwords)
    finally:
        await conn.close()
    SERVICE_PASSWORDS.update(passwords)


async def grant_services(database_url: str) -> None:
    """Grant the services' roles on a test's new database (``database_url``, as the superuser)
    what the embedded bootstrap grants them on ``gongkai``."""
    import asyncpg

    from gongkai_local.postgres import grant_database

    conn = await asyncpg.connect(database_url)
    try:
        await grant_database(conn, urlsplit(database_url).path.lstrip("/"), SERVICE_PASSWORDS)
    finally:
        await conn.close()


def service_dsn(database_url: str, service: str) -> str:
    """``database_url`` (a test's database) as ``service``'s own role, with its password."""
    from gongkai_local.postgres import service_role

    role = service_role(service)
    parts = urlsplit(database_url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{role}:{quote(SERVICE_PASSWORDS[role], safe='')}@{host}"))


def with_database(dsn: str, name: str) -> str:
    base, _, query = dsn.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


async def new_database(pg_dsn: str) -> tuple[str, str]:
    """A fresh database the services' roles may use as they may use ``gongkai``: (name, URL)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    url = with_database(pg_dsn, name)
    await grant_services(url)
    return name, url
