"""The stream and the consumers a service needs are watched (issue: trust in the log, point 3).

A service refuses to start on a stream that could lose history and says exactly why; while it
runs, readiness fails when the stream is weakened or a durable consumer it needs disappears,
and recovers when the stream is restored or the service has recreated its consumer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from nats.js.api import StreamConfig

from gongkai_publishing.subscribers import ON_SIGNED
from gongkai_shared.access import DURABLES
from gongkai_shared.eventstore import stream_config
from gongkai_shared.runtime import Runtime, StartupRefused
from tests.flow import publish_proactive, wait_for_event
from tests.harness import System
from tests.servers import NatsServer

pytestmark = pytest.mark.integration


async def readiness(system: System, service: str) -> dict:
    return (await system.clients[service].get("/readyz")).json()


async def until_ready(system: System, service: str, ready: bool, within: float) -> dict:
    async with asyncio.timeout(within):
        while (body := await readiness(system, service))["ready"] != ready:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    return body


async def until_failing(system: System, service: str, failing: bool, within: float) -> tuple[dict, list]:
    """Until some check (readiness or health) fails, or none does: the body and those failing."""
    async with asyncio.timeout(within):
        while True:
            body = await readiness(system, service)
            bad = [c for c in body["checks"] if not c["ok"]]
            if bool(bad) == failing:
                return body, bad
            await asyncio.sleep(0.1)


async def test_a_service_refuses_a_stream_that_could_lose_history(tmp_path: Path, database_url: str) -> None:
    server = NatsServer(tmp_path / "nats").start(provision=False)
    admin = await server.admin()
    try:
        await admin.js.add_stream(
            StreamConfig(name="FOI", subjects=["foi.>"], deny_delete=False, deny_purge=True, max_msgs=1000)
        )
        settings = System(server, database_url).settings("intake")
        with pytest.raises(StartupRefused) as refused:
            await Runtime(settings, "intake").start()
        assert "deny_delete is off" in str(refused.value)
        assert "max_msgs is 1000" in str(refused.value)
    finally:
        await admin.nc.close()
        server.stop()


async def test_a_missing_stream_or_an_unregistered_key_is_refused(tmp_path: Path, database_url: str) -> None:
    server = NatsServer(tmp_path / "nats").start(provision=False)
    try:
        settings = System(server, database_url).settings("review")
        with pytest.raises(StartupRefused, match="stream FOI does not exist"):
            await Runtime(settings, "review").start()
        admin = await server.admin()
        await admin.ensure_stream()
        await admin.nc.close()
        with pytest.raises(StartupRefused, match="signing key .* is not registered"):
            await Runtime(settings, "review").start()
    finally:
        server.stop()


async def test_a_deleted_consumer_fails_readiness_and_is_recreated(
    nats_server: NatsServer, database_url: str
) -> None:
    """Rule: someone deletes publishing's durable consumer: within 10 s the service reports it
    (in readiness's detail, as health: the pod still serves its reads and stays in the Service)
    and recreates it, and signed documents are published again."""
    system = await System(nats_server, database_url).start()
    admin = await nats_server.admin()
    try:
        await until_ready(system, "publishing", True, 10)
        durable = ON_SIGNED
        assert durable in DURABLES["publishing"]
        await admin.js.delete_consumer("FOI", durable)
        body, failing = await until_failing(system, "publishing", True, 10)
        assert failing[0]["check"] == f"consumer:{durable}" and "gone" in failing[0]["detail"]
        assert failing[0]["readiness"] is False and body["ready"] is True
        await until_failing(system, "publishing", False, 10)
        assert (await admin.js.consumer_info("FOI", durable)).config.durable_name == durable

        await publish_proactive(system, "2026年部门预算")
        assert await wait_for_event(system, "foi.publishing.>", "published")
    finally:
        await admin.nc.close()
        await system.stop()


async def test_a_weakened_stream_fails_readiness_until_restored(
    nats_server: NatsServer, database_url: str
) -> None:
    system = await System(nats_server, database_url).start("intake")
    admin = await nats_server.admin()
    try:
        await until_ready(system, "intake", True, 10)
        await admin.js.update_stream(stream_config("FOI").evolve(max_msgs=100))
        body = await until_ready(system, "intake", False, 10)
        [stream] = [c for c in body["checks"] if c["check"] == "stream"]
        assert "max_msgs is 100" in stream["detail"]
        await admin.ensure_stream()  # the operator restores the settings
        await until_ready(system, "intake", True, 10)
    finally:
        await admin.nc.close()
        await system.stop()


@pytest.mark.parametrize(
    ("service", "setting", "value", "why"),
    [
        (
            "review",
            "auth_secret",
            "CHANGE-ME-generate-48-random-bytes",
            "GONGKAI_AUTH_SECRET is still the placeholder",
        ),
        ("notify", "auth_secret", "", "GONGKAI_AUTH_SECRET is empty"),
        ("intake", "tracking_secret", "CHANGE-ME", "GONGKAI_TRACKING_SECRET is still the placeholder"),
        ("intake", "tracking_secret", "short", "GONGKAI_TRACKING_SECRET is shorter than 32"),
    ],
)
async def test_a_placeholder_or_empty_secret_is_refused(
    nats_server: NatsServer, database_url: str, service: str, setting: str, value: str, why: str
) -> None:
    settings = System(nats_server, database_url).settings(service, **{setting: value})
    with pytest.raises(StartupRefused, match=why):
        await Runtime(settings, service).start()
