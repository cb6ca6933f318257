"""Test session: real PostgreSQL (one server, a database per test) and a nats-server per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.servers import NatsServer, new_database, postgres


@pytest.fixture(scope="session")
def pg_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with postgres(tmp_path_factory.mktemp("pg")) as dsn:
        yield dsn


@pytest.fixture
async def database_url(pg_dsn: str) -> AsyncIterator[str]:
    name, url = await new_database(pg_dsn)
    yield url  # as the superuser: low-level checks read every schema; System uses each role
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats").start()
    yield server
    server.stop()


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    return nats_server.url
