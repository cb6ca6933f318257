"""Another agency receives the public events through its account and replays them (issue 10).

A real nats-server configured by ``gongkai_shared.access`` exactly as the runtimes are. The
operator adds the agency (``gongkai agencies add``: credentials and its durable consumer); the
agency connects as its own user in the ``AGENCIES`` account, receives ``published`` (v2),
``amended`` and ``repealed``, signed by publishing and valid against the served schemas, and
never another event; it acknowledges them, resets its durable and receives them all again.
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import date
from typing import Any

import jsonschema
import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from gongkai_cli.operator import ensure_agency_consumer
from gongkai_shared.access import PUBLIC_SUBJECTS, agency_durable, agency_user
from gongkai_shared.checkpoint import parse_vkey
from gongkai_shared.envelope import Actor
from gongkai_shared.events import (
    REGISTRY,
    Amended,
    CatalogueLink,
    DocumentMetadata,
    DocumentRegistered,
    PublishedV2,
    Repealed,
    make_event,
)
from gongkai_shared.information import Attribute
from gongkai_shared.public_events import event_schema
from gongkai_shared.trust import SIGNATURE, signing_input
from tests.servers import NatsServer

pytestmark = pytest.mark.integration

AGENCY = "city-archive"
PUBLIC_TYPES = ["cn.gov.gongkai.published.v2", "cn.gov.gongkai.amended.v1", "cn.gov.gongkai.repealed.v1"]


class Refusals:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def __call__(self, e: Exception) -> None:
        self.seen.append(str(e).lower())

    async def wait_for(self, fragment: str, within: float = 3.0) -> None:
        async with asyncio.timeout(within):
            while not any(fragment.lower() in s for s in self.seen):  # noqa: ASYNC110 — bounded
                await asyncio.sleep(0.02)


def metadata(title: str = "关于2026年义务教育招生工作的通知") -> DocumentMetadata:
    return DocumentMetadata(title=title, issuing_body="市教育局", formed_on=date(2026, 3, 2),
                            attribute=Attribute.proactive, category="rules", summary="招生范围与时间安排",
                            body="各区教育局：现将2026年招生工作通知如下。")  # fmt: skip


def item(version: int = 1) -> dict[str, Any]:
    return dict(document_id="doc-1", document_version=version, index_number="000014349/2026-00001",
                index_year=2026, index_seq=1, agency_code="000014349", metadata=metadata(),
                published_on=date(2026, 3, 20), source="proactive")  # fmt: skip


async def append_public_history(server: NatsServer, *, before_agency: bool) -> None:
    """Publishing's events of one document, signed with publishing's key: registered (internal),
    published; or, after the agency exists, amended and repealed."""
    writer = await server.writer("publishing")
    actor = Actor(id="office-1", role="approver")
    try:
        last = await writer.last_event("doc-1")
        expected = last.seq if last else 0
        repealed = Repealed(document_id="doc-1", index_number="000014349/2026-00001",
                            repealed_on=date(2026, 5, 1), reason="被新文件替代",
                            replaced_by=CatalogueLink(document_id="doc-2"))  # fmt: skip
        bodies: list[Any] = (
            [DocumentRegistered(document_id="doc-1", department="基础教育处", metadata=metadata()),
             PublishedV2(**item())]
            if before_agency
            else [Amended(**item(2), reason="更正附件", amended_on=date(2026, 4, 1)), repealed]
        )  # fmt: skip
        for body in bodies:
            stored = await writer.append(
                make_event(body, aggregate_id="doc-1", actor=actor), "publishing", expected
            )
            expected = stored.seq
    finally:
        await writer.nc.close()


async def fetch_all(sub: Any, n: int) -> list[Any]:
    """``n`` messages (a timeout is an error: the agency must receive them)."""
    got: list[Any] = []
    async with asyncio.timeout(10):
        while len(got) < n:
            got += await sub.fetch(n - len(got), timeout=5)
    return got


def verify(msg: Any, vkey: str) -> None:
    """The agency's check: publishing's key signed these exact bytes on this subject."""
    ref, sig = msg.headers[SIGNATURE].split(" ", 1)
    name, kid, public = parse_vkey(vkey)
    assert ref == f"{name}+{kid}"
    public.verify(base64.b64decode(sig), signing_input(msg.subject, msg.data))  # raises if forged


async def test_an_agency_receives_the_public_events_and_replays_them_from_the_beginning(
    nats_server: NatsServer,
) -> None:
    """Rule (issue 10, ARCHITECTURE.md §4): an agency added by the operator gets its own durable
    consumer of ``published``/``amended``/``repealed`` from the first (also what was published
    before it was added), never an internal or personal event; it can reset its durable and
    receive everything again, and can neither publish, read other subjects nor change consumers."""
    await append_public_history(nats_server, before_agency=True)
    admin = await nats_server.admin()
    try:  # personal data on another context, which the agency must never see
        await admin.js.publish(
            "foi.intake.case-1.request-received", b'{"applicant":"personal"}', stream="FOI"
        )
    finally:
        await admin.nc.close()

    # what `gongkai agencies add city-archive` does: credentials, accounts reloaded, its durable
    nats_server.install.add_agency(AGENCY)
    nats_server.reload()
    admin = await nats_server.admin()
    try:
        await ensure_agency_consumer(admin, AGENCY)
        await ensure_agency_consumer(admin, AGENCY)  # idempotent
    finally:
        await admin.nc.close()
    await append_public_history(nats_server, before_agency=False)

    publishing_key = nats_server.signer("publishing").vkey
    user, durable = agency_user(AGENCY), agency_durable(AGENCY)
    errors = Refusals()
    nc = await nats_server.connect(user, error_cb=errors)
    try:
        sub = await nc.jetstream().pull_subscribe_bind(durable, "FOI")
        got = await fetch_all(sub, 3)
        events = [json.loads(m.data) for m in got]
        assert [e["type"] for e in events] == PUBLIC_TYPES
        assert [m.subject for m in got] == ["foi.publishing.doc-1.published", "foi.publishing.doc-1.amended",
                                            "foi.publishing.doc-1.repealed"]  # fmt: skip
        for m, e in zip(got, events, strict=True):
            jsonschema.Draft202012Validator(event_schema(REGISTRY[e["type"]])).validate(e)
            verify(m, publishing_key)
            await m.ack()
        await nc.flush()
        with pytest.raises(nats.errors.TimeoutError):  # nothing else: no registration, no request
            await sub.fetch(1, timeout=1)

        # what the agency may not do
        await nc.publish("foi.publishing.doc-9.published", b"{}")
        await errors.wait_for('publish to "foi.publishing.doc-9.published"')
        await nc.subscribe("foi.intake.>")
        await errors.wait_for('subscription to "foi.intake.>"')
        config = {"durable_name": durable, "filter_subjects": ["foi.>"], "deliver_policy": "all"}
        widened = {"stream_name": "FOI", "config": config}  # its own durable, widened to everything
        forbidden = [
            f"$JS.API.CONSUMER.CREATE.FOI.{durable}",
            f"$JS.API.CONSUMER.DURABLE.CREATE.FOI.{durable}",
            f"$JS.API.CONSUMER.DELETE.FOI.{durable}",
            "$JS.API.CONSUMER.RESET.FOI.publishing-on-review-approved",
            "$JS.API.DIRECT.GET.FOI",
        ]
        for subject in forbidden:
            await nc.publish(subject, json.dumps(widened).encode())
            await errors.wait_for(f'publish to "{subject.lower()}"')
    finally:
        await nc.close()

    # a reconnect resumes after the acknowledged events; a reset replays from the first
    nc = await nats_server.connect(user)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe_bind(durable, "FOI")
        with pytest.raises(nats.errors.TimeoutError):
            await sub.fetch(1, timeout=1)
        # from stream sequence 1: the beginning (an empty request would skip to the end instead)
        reset = await nc.request(f"$JS.API.CONSUMER.RESET.FOI.{durable}", b'{"seq":1}', timeout=5)
        reply = json.loads(reset.data)
        assert "error" not in reply, reply
        assert reply["config"]["filter_subjects"] == list(PUBLIC_SUBJECTS)  # the filter is unchanged
        again = await fetch_all(sub, 3)
        assert [json.loads(m.data)["type"] for m in again] == PUBLIC_TYPES
        for m in again:
            await m.ack()
        await nc.flush()
    finally:
        await nc.close()
    admin = await nats_server.admin()
    try:
        info = await admin.js.consumer_info("FOI", durable)
        assert info.num_pending == 0 and info.num_ack_pending == 0
    finally:
        await admin.nc.close()


async def test_an_agency_added_before_amended_and_repealed_were_public_gets_them_on_the_next_setup(
    nats_server: NatsServer,
) -> None:
    """An agency's durable created when only ``published`` was public is given the current
    filter by ``gongkai setup`` / ``agencies add`` (idempotent), keeping its position."""
    await append_public_history(nats_server, before_agency=True)
    nats_server.install.add_agency("old-archive")
    nats_server.reload()
    durable = agency_durable("old-archive")
    admin = await nats_server.admin()
    try:
        await admin.js.add_consumer("FOI", ConsumerConfig(
            durable_name=durable, filter_subjects=["foi.publishing.*.published"],
            deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.EXPLICIT))  # fmt: skip
    finally:
        await admin.nc.close()
    nc = await nats_server.connect(agency_user("old-archive"))
    try:
        sub = await nc.jetstream().pull_subscribe_bind(durable, "FOI")
        [first] = await fetch_all(sub, 1)
        await first.ack()
        await nc.flush()
    finally:
        await nc.close()

    admin = await nats_server.admin()
    try:
        await ensure_agency_consumer(admin, "old-archive")
        info = await admin.js.consumer_info("FOI", durable)
        assert sorted(info.config.filter_subjects or []) == sorted(PUBLIC_SUBJECTS)
        assert info.ack_floor.stream_seq == first.metadata.sequence.stream  # its position kept
    finally:
        await admin.nc.close()
    await append_public_history(nats_server, before_agency=False)
    nc = await nats_server.connect(agency_user("old-archive"))
    try:
        sub = await nc.jetstream().pull_subscribe_bind(durable, "FOI")
        got = await fetch_all(sub, 2)
        assert [json.loads(m.data)["type"] for m in got] == PUBLIC_TYPES[1:]
    finally:
        await nc.close()
