"""The broker enforces who may do what (ARCHITECTURE.md §4), with the generated configuration.

A real nats-server configured by ``gongkai_shared.access`` exactly as the embedded runtime is:
no anonymous client; each service publishes only its own context and cannot change, seal,
purge or delete the stream or touch another's consumer; another agency reads the public events
through its own durable consumer, from the first, and nothing else.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from gongkai_cli.operator import ensure_agency_consumer
from gongkai_shared.access import DURABLES, SERVICES, agency_durable, agency_user
from gongkai_shared.eventstore import stream_config
from tests.servers import NatsServer

pytestmark = pytest.mark.integration


class Refusals:
    """The permission errors the server sends a client (asynchronously, by error callback)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def __call__(self, e: Exception) -> None:
        self.seen.append(str(e).lower())

    async def wait_for(self, fragment: str, within: float = 3.0) -> None:
        async with asyncio.timeout(within):
            while not any(fragment.lower() in s for s in self.seen):  # noqa: ASYNC110 — bounded
                await asyncio.sleep(0.02)


async def refused(call: Any) -> None:
    """A JetStream API call the server refuses never gets an answer: the client times out."""
    with pytest.raises((TimeoutError, nats.errors.TimeoutError)):
        await asyncio.wait_for(call, 1)


async def test_an_anonymous_client_is_refused(nats_server: NatsServer) -> None:
    with pytest.raises(Exception, match="Authorization Violation"):
        await nats.connect(
            nats_server.url, allow_reconnect=False, connect_timeout=2, max_reconnect_attempts=0
        )


async def test_a_wrong_password_is_refused_with_a_clear_error(nats_server: NatsServer) -> None:
    from gongkai_shared.eventstore import connect

    with pytest.raises(ConnectionError, match="as intake: .*[Aa]uthorization"):
        await connect(nats_server.url, "t", user="intake", password="wrong", initial_timeout=3)


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_writes_only_its_own_context_and_cannot_change_the_stream(
    nats_server: NatsServer, service: str
) -> None:
    """Rule: intake writes foi.intake.>, review foi.review.> …; no service may publish into
    another's context, update, seal, purge or delete the stream, or delete a consumer it does
    not own."""
    errors = Refusals()
    nc = await nats_server.connect(service, error_cb=errors)
    js = nc.jetstream()
    try:
        own = await js.publish(f"foi.{service}.probe-1.probe", b"{}", stream="FOI")
        assert own.seq > 0
        # each forbidden request, sent as the JetStream client would send it; the server refuses
        # it at the door (a permissions violation) and never acts on it
        forbidden = [f"foi.{other}.probe-1.probe" for other in SERVICES if other != service] + [
            "foi.trust.signing-keys.signing-key-registered",
            "$JS.API.STREAM.UPDATE.FOI",  # limits that would drop events, or sealing
            "$JS.API.STREAM.PURGE.FOI",
            "$JS.API.STREAM.MSG.DELETE.FOI",
            "$JS.API.STREAM.DELETE.FOI",
            "$JS.API.STREAM.CREATE.OTHER",
            *(f"$JS.API.CONSUMER.DELETE.FOI.{d}" for o, ds in DURABLES.items() for d in ds if o != service),
            *(f"$JS.API.CONSUMER.MSG.NEXT.FOI.{d}" for o, ds in DURABLES.items() for d in ds if o != service),
        ]
        sealed = stream_config("FOI").evolve(sealed=True).as_dict()
        for subject in forbidden:
            await nc.publish(subject, json.dumps(sealed).encode() if "UPDATE" in subject else b"{}")
        for subject in forbidden:
            await errors.wait_for(f'publish to "{subject.lower()}"')
        await refused(js.delete_stream("FOI"))  # and the client's own call gets no answer
    finally:
        await nc.close()
    admin = await nats_server.admin()
    try:
        info = await admin.js.stream_info("FOI")
        assert info.state.messages == info.state.last_seq  # nothing deleted
        assert not info.config.sealed and (info.config.max_msgs or -1) <= 0
    finally:
        await admin.nc.close()


async def test_a_service_cannot_read_another_users_inbox(nats_server: NatsServer) -> None:
    """Each user subscribes only under its own inbox prefix: replies to review (and the events
    delivered to its consumers) cannot be read by intake."""
    errors = Refusals()
    nc = await nats_server.connect("intake", error_cb=errors)
    try:
        await nc.subscribe("_INBOX_review.>")
        await nc.flush()
        await errors.wait_for('subscription to "_inbox_review.>"')
    finally:
        await nc.close()


async def test_an_agency_reads_the_public_events_from_the_first_and_nothing_else(
    nats_server: NatsServer,
) -> None:
    """Rule: another agency gets its own credentials and durable consumer; it receives every
    ``published`` event (also those published before it was added), acknowledges them, and is
    refused publishing, other subjects and other consumers."""
    writer = await nats_server.writer()
    try:
        for i in range(3):  # before the agency exists
            await writer.js.publish(
                f"foi.publishing.item-{i}.published", f'{{"n":{i}}}'.encode(), stream="FOI"
            )
        await writer.js.publish("foi.intake.case-1.request-received", b'{"name":"personal"}', stream="FOI")
    finally:
        await writer.nc.close()

    nats_server.install.add_agency("city-archive")
    nats_server.reload()
    admin = await nats_server.admin()
    try:
        await ensure_agency_consumer(admin, "city-archive")
        await admin.js.publish("foi.publishing.item-3.published", b'{"n":3}', stream="FOI")  # after
    finally:
        await admin.nc.close()

    errors = Refusals()
    user = agency_user("city-archive")
    nc = await nats_server.connect(user, error_cb=errors)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe_bind(agency_durable("city-archive"), "FOI")
        got = await sub.fetch(10, timeout=3)
        assert [m.subject for m in got] == [f"foi.publishing.item-{i}.published" for i in range(4)]
        for m in got:
            await m.ack()
        await nc.flush()

        await nc.publish("foi.publishing.item-9.published", b"{}")
        await errors.wait_for('publish to "foi.publishing.item-9.published"')
        await nc.subscribe("foi.>")
        await errors.wait_for('subscription to "foi.>"')
        for subject in ("$JS.API.STREAM.INFO.FOI", "$JS.API.CONSUMER.CREATE.FOI",
                        f"$JS.API.CONSUMER.MSG.NEXT.FOI.{DURABLES['publishing'][0]}"):  # fmt: skip
            await nc.publish(subject, b"{}")
            await errors.wait_for(f'publish to "{subject.lower()}"')
        await refused(js.add_consumer("FOI", ConsumerConfig(deliver_policy=DeliverPolicy.ALL)))
    finally:
        await nc.close()

    # the durable consumer remembers what the agency acknowledged: a reconnect resumes after it
    nc = await nats_server.connect(user)
    try:
        sub = await nc.jetstream().pull_subscribe_bind(agency_durable("city-archive"), "FOI")
        with pytest.raises(nats.errors.TimeoutError):
            await sub.fetch(1, timeout=1)
    finally:
        await nc.close()


@pytest.mark.parametrize("user", ["notify", "auditor"])
async def test_only_the_services_that_use_files_reach_the_files_object_store(
    nats_server: NatsServer, user: str
) -> None:
    """Issue 9 (Art. 29): identity proofs are personal data; the object store is open to the
    services that use it (intake, review; publishing for a document's public files, issue 10)
    and to nobody else (the operator aside)."""
    from gongkai_shared.files import OBJECT_STREAM

    nc = await nats_server.connect(user)
    try:
        await refused(nc.jetstream().stream_info(OBJECT_STREAM))
    finally:
        await nc.close()


@pytest.mark.parametrize("user", ["intake", "review", "publishing"])
async def test_no_service_can_purge_or_delete_the_files(nats_server: NatsServer, user: str) -> None:
    """Issue 9: the bucket never loses a file: an object store delete is a purge of its chunks,
    and the services may neither purge, delete a message, update nor delete the stream."""
    from gongkai_shared.files import OBJECT_STREAM, FileStore

    nc = await nats_server.connect(user)
    try:
        js = nc.jetstream()
        ref = await FileStore(js).put_public(b"%PDF-1.7\n" + user.encode(), "application/pdf")
        assert (await js.stream_info(OBJECT_STREAM)).state.messages >= 2  # it can store and read
        await refused(js.purge_stream(OBJECT_STREAM))
        await refused(js.delete_msg(OBJECT_STREAM, 1))
        await refused(js.delete_stream(OBJECT_STREAM))
        assert await FileStore(js).stored(ref)
    finally:
        await nc.close()
