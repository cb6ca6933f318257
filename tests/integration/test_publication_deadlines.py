"""Art. 26 on real servers: notify keeps a proactive document's publication deadline from its
registration, warns the staff before it, records one breach once it has passed unpublished, and
stops for a document that was published or repealed in time (issue 10)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from gongkai_notify.dispatcher import dispatch_once
from gongkai_shared.clock import FakeClock
from gongkai_shared.envelope import Actor
from gongkai_shared.events import DocumentMetadata, DocumentRegistered, PublishedV2, Repealed, make_event
from gongkai_shared.eventstore import EventStore, StoredEvent, with_retries
from gongkai_shared.information import Attribute
from tests.integration import test_notify_clock
from tests.integration.test_notify_clock import (
    Mailbox,
    Replicas,
    beijing,
    events_until,
    history,
    subject_of,
    wait_until,
)
from tests.servers import NatsServer

pytestmark = pytest.mark.integration
mailbox = test_notify_clock.mailbox  # the fixture: a real SMTP server
HANDLER = Actor(id="基础教育处-赵", role="handler")


def metadata(formed_on: date) -> DocumentMetadata:
    return DocumentMetadata(
        title="关于2026年义务教育招生工作的通知", issuing_body="市教育局", formed_on=formed_on,
        attribute=Attribute.proactive, category="rules", summary="招生范围与时间安排",
    )  # fmt: skip


async def publishing_appends(store: EventStore, body: Any, document: str, on: date) -> StoredEvent:
    """As publishing writes a document's events: expect the document's last event (notify's
    deadline events are on the same aggregate), retry when it moved."""

    async def attempt() -> StoredEvent:
        last = await store.last_event(document)
        event = make_event(body, aggregate_id=document, actor=HANDLER, time=beijing(on))
        return await store.append(event, "publishing", last.seq if last else 0)

    return await with_retries(attempt, tries=8)


async def register(store: EventStore, document: str, formed_on: date) -> StoredEvent:
    body = DocumentRegistered(document_id=document, department="基础教育处", metadata=metadata(formed_on))
    return await publishing_appends(store, body, document, formed_on)


async def test_art_26_a_proactive_document_is_warned_then_breached_unless_published_or_repealed(
    nats_server: NatsServer, database_url: str, mailbox: Mailbox
) -> None:
    """Art. 26: formed (and registered) 2026-03-02, a 主动公开 document is due 2026-03-30. The
    staff are warned from 2026-03-25 (3 working days left), and on 2026-03-31 one breach is
    recorded on the document; a document published on 2026-03-20, and one repealed on 2026-03-10,
    are neither warned nor breached."""
    clock = FakeClock(beijing(date(2026, 3, 2), 9))
    notify = await Replicas(nats_server, database_url, clock, smtp_host="127.0.0.1",
                            smtp_port=mailbox.controller.port, staff_email="office@gov.example.cn",
                            head_email="head@gov.example.cn").start(1)  # fmt: skip
    store = notify.store
    late, published, repealed = "doc-late", "doc-published", "doc-repealed"
    try:
        for doc in (late, published, repealed):
            await register(store, doc, date(2026, 3, 2))
        for doc in (late, published, repealed):
            [d] = await events_until(store, doc, "deadline-set", 1)
            assert d.subject == f"foi.notify.{doc}.deadline-set"
            s = d.envelope.data
            assert (s["case_id"], s["kind"], s["start_on"], s["working_days"], s["due_on"]) == (
                doc, "publication", "2026-03-02", 20, "2026-03-30")  # fmt: skip

        gone = Repealed(document_id=repealed, repealed_on=date(2026, 3, 10), reason="情况变化，不再执行")
        await publishing_appends(store, gone, repealed, date(2026, 3, 10))
        clock.set(beijing(date(2026, 3, 20), 9))
        item = PublishedV2(document_id=published, document_version=1, index_number="000014349/2026-00001",
                           index_year=2026, index_seq=1, agency_code="000014349",
                           metadata=metadata(date(2026, 3, 2)), published_on=date(2026, 3, 20),
                           source="proactive")  # fmt: skip
        await publishing_appends(store, item, published, date(2026, 3, 20))
        await notify.settled()

        clock.set(beijing(date(2026, 3, 25), 9))  # 26, 27, 30 remain
        [warning] = await events_until(store, late, "deadline-warning", 1)
        assert (warning.envelope.data["kind"], warning.envelope.data["working_days_left"]) == (
            "publication",
            3,
        )
        mail = await wait_until(lambda: mailbox.to("office@gov.example.cn"), "the staff's warning")
        assert "主动公开期限" in subject_of(mail[0])
        assert (
            f"文件{late}的主动公开期限（第1版）将于二〇二六年三月三十日届满"
            in mail[0].get_payload(decode=True).decode()
        )

        clock.set(beijing(date(2026, 3, 31), 9))
        [breach] = await events_until(store, late, "deadline-breached", 1)
        assert (breach.envelope.data["kind"], breach.envelope.data["due_on"]) == ("publication", "2026-03-30")
        await notify.settled()
        assert await dispatch_once(notify.apps[0].state.runtime, clock) == 0  # nothing else is due
        for doc in (published, repealed):
            names = {e.name for e in await history(store, doc)}
            assert not names & {"deadline-warning", "deadline-breached"}, (doc, names)
        assert not mailbox.to("head@gov.example.cn")  # only an answer's breach goes to the head
    finally:
        await notify.stack.aclose()
