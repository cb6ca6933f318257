"""The example subscriber in ``examples/agency_subscriber`` works against a running system
(issue 10): as an agency added by the operator, with the schemas and keys publishing serves."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from gongkai_cli.operator import ensure_agency_consumer
from tests.harness import System
from tests.integration.test_agency_events import append_public_history
from tests.servers import NatsServer

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).parents[2] / "examples" / "agency_subscriber" / "subscriber.py"


async def run_example(nats: NatsServer, events_url: str, password: str, *args: str) -> list[str]:
    env = {**os.environ, "GONGKAI_NATS_URL": nats.url, "GONGKAI_AGENCY_PASSWORD": password}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE), "--agency", "city-archive", "--events-url", events_url,
        "--wait", "10", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, err.decode()
    return out.decode().splitlines()


async def test_the_example_subscriber_prints_every_publication_and_replays(
    nats_server: NatsServer, database_url: str
) -> None:
    """Rule: an agency's program, with only the credentials the operator gave it and what
    publishing serves (schemas, verifier keys), receives each public event once, validated and
    signature-checked, and with ``--replay`` all of them again from the first."""
    await append_public_history(nats_server, before_agency=True)
    password = nats_server.install.add_agency("city-archive")
    nats_server.reload()
    admin = await nats_server.admin()
    try:
        await ensure_agency_consumer(admin, "city-archive")
    finally:
        await admin.nc.close()
    await append_public_history(nats_server, before_agency=False)

    system = await System(nats_server, database_url).start("publishing")
    try:
        events_url = await system.serve_http("publishing") + "/api/v1/events"
        lines = await run_example(nats_server, events_url, password, "--count", "3", "--verify")
        assert [line.split(" ", 2)[1] for line in lines] == ["发布", "修订", "废止"]
        assert all("000014349/2026-00001" in line for line in lines)
        assert "《关于2026年义务教育招生工作的通知》" in lines[0]
        again = await run_example(nats_server, events_url, password, "--count", "3", "--replay")
        assert again == lines
    finally:
        await system.stop()
