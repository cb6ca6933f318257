"""Fixtures shared by the integration tests."""

from __future__ import annotations

import pytest

from tests.harness import System
from tests.servers import NatsServer


@pytest.fixture
async def intake(nats_server: NatsServer, database_url: str):
    """The intake service alone, on a fresh nats-server and database."""
    system = await System(nats_server, database_url).start("intake")
    yield system
    await system.stop()
