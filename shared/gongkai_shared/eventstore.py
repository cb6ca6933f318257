"""The event store: one immutable JetStream stream, appends guarded per aggregate.

Append rules (ARCHITECTURE.md §1):
- ``Nats-Msg-Id`` is the event id, so a retried publish is stored once;
- ``Nats-Expected-Last-Subject-Sequence`` with ``...-Subject: foi.*.<aggregate>.>`` rejects a
  stale writer (err_code 10071). The server checks the sequence *before* deduplicating, so a
  retry of a publish that was in fact stored also gets 10071: we then look for our event id in
  the aggregate's history and, if it is there, the append succeeded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import nats
import structlog
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import APIError, BadRequestError, NotFoundError

from .envelope import Envelope, sha256_hex
from .events import aggregate_filter, parse_body, subject_for

log = structlog.get_logger(__name__)

WRONG_LAST_SEQUENCE = 10071
EXPECTED_SEQ = "Nats-Expected-Last-Subject-Sequence"
EXPECTED_SEQ_SUBJECT = "Nats-Expected-Last-Subject-Sequence-Subject"
MSG_ID = "Nats-Msg-Id"


class ConcurrencyConflict(Exception):
    """Someone else appended to the aggregate since the state we decided on."""

    def __init__(self, aggregate_id: str, expected: int) -> None:
        super().__init__(f"aggregate {aggregate_id} moved past sequence {expected}")
        self.aggregate_id, self.expected = aggregate_id, expected


class ChainError(Exception):
    """The expected previous event does not belong to the aggregate being appended to."""


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    subject: str
    headers: dict[str, str]
    data: bytes
    envelope: Envelope

    @property
    def context(self) -> str:
        return self.subject.split(".")[1]

    @property
    def aggregate_id(self) -> str:
        return self.envelope.subject

    @property
    def name(self) -> str:
        return self.envelope.name

    @property
    def id(self) -> str:
        return self.envelope.id

    def body(self) -> Any:
        return parse_body(self.envelope)


def stream_config(name: str, replicas: int = 1) -> StreamConfig:
    """The FOI stream: every event forever; nothing deletes, purges or ages out history."""
    return StreamConfig(
        name=name,
        subjects=["foi.>"],
        storage=StorageType.FILE,
        num_replicas=replicas,
        max_age=0,
        max_msgs=-1,
        max_bytes=-1,
        max_msgs_per_subject=-1,
        deny_delete=True,
        deny_purge=True,
        allow_direct=True,
        allow_atomic=True,  # multi-event commands append as one atomic batch (nats-server >= 2.12)
        allow_rollup_hdrs=False,
        duplicate_window=120.0,
    )


async def connect(url: str, name: str) -> NATS:
    return await nats.connect(url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5)


class EventStore:
    def __init__(self, nc: NATS, stream: str = "FOI") -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.stream = stream

    async def ensure_stream(self, replicas: int = 1) -> None:
        """Create the stream, or bring an existing one to the immutable settings. Idempotent."""
        cfg = stream_config(self.stream, replicas)
        try:
            info = await self.js.stream_info(self.stream)
        except NotFoundError:
            try:
                await self.js.add_stream(cfg)
                log.info("stream_created", stream=self.stream)
                return
            except BadRequestError:  # another process created it first
                info = await self.js.stream_info(self.stream)
        current = info.config
        if not (current.deny_delete and current.deny_purge and current.allow_direct and current.allow_atomic):
            await self.js.update_stream(cfg)
            log.warning("stream_settings_restored", stream=self.stream)

    async def stream_settings(self) -> StreamConfig:
        return (await self.js.stream_info(self.stream)).config

    async def last_seq(self) -> int:
        return (await self.js.stream_info(self.stream)).state.last_seq

    # --- reads -------------------------------------------------------------------------

    @staticmethod
    def _stored(msg: Any) -> StoredEvent:
        headers = {k: v for k, v in (msg.headers or {}).items()}
        return StoredEvent(
            seq=msg.seq,
            subject=msg.subject,
            headers=headers,
            data=msg.data,
            envelope=Envelope.from_bytes(msg.data),
        )

    async def get(self, seq: int) -> StoredEvent:
        return self._stored(await self.js.get_msg(self.stream, seq=seq, direct=True))

    async def last_event(self, aggregate_id: str) -> StoredEvent | None:
        try:
            msg = await self.js.get_last_msg(self.stream, aggregate_filter(aggregate_id), direct=True)
        except NotFoundError:
            return None
        return self._stored(msg)

    async def read(
        self, start_seq: int = 1, filter_subject: str = "foi.>", *, until_seq: int | None = None
    ) -> AsyncIterator[StoredEvent]:
        """Events in stream order from ``start_seq`` (an ordered consumer: no acks, no gaps).

        Stops after ``until_seq`` (default: the stream's last sequence when called).
        """
        end = until_seq if until_seq is not None else await self.last_seq()
        if end < start_seq:
            return
        sub = await self.js.subscribe(
            filter_subject,
            ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start_seq),
        )
        try:
            while True:
                msg = await sub.next_msg(timeout=10)
                meta = msg.metadata
                seq = meta.sequence.stream
                yield StoredEvent(
                    seq=seq,
                    subject=msg.subject,
                    headers=dict(msg.headers or {}),
                    data=msg.data,
                    envelope=Envelope.from_bytes(msg.data),
                )
                if seq >= end or meta.num_pending == 0:
                    return
        finally:
            await sub.unsubscribe()

    async def history(self, aggregate_id: str) -> list[StoredEvent]:
        """The aggregate's whole history, in log order, read from the stream itself."""
        last = await self.last_event(aggregate_id)
        if last is None:
            return []
        return [e async for e in self.read(1, aggregate_filter(aggregate_id), until_seq=last.seq)]

    # --- writes ------------------------------------------------------------------------

    async def append(self, event: Envelope, context: str, expected_seq: int) -> StoredEvent:
        """Append ``event`` to its aggregate if the aggregate's last event is at ``expected_seq``.

        ``expected_seq`` 0 means the aggregate must not exist yet. Returns the stored event
        (also when a retry finds the first attempt was stored). Raises ConcurrencyConflict.
        """
        aggregate_id = event.subject
        prevhash = ""
        if expected_seq > 0:
            prev = await self.get(expected_seq)
            if prev.aggregate_id != aggregate_id:
                raise ChainError(f"sequence {expected_seq} is not an event of {aggregate_id}")
            prevhash = sha256_hex(prev.data)
        event = event.model_copy(update={"prevhash": prevhash})
        data = event.to_bytes()
        subject = subject_for(context, aggregate_id, event.name)
        headers = {
            MSG_ID: event.id,
            EXPECTED_SEQ: str(expected_seq),
            EXPECTED_SEQ_SUBJECT: aggregate_filter(aggregate_id),
        }
        try:
            ack = await self.js.publish(subject, data, stream=self.stream, headers=headers)
        except APIError as e:
            if e.err_code != WRONG_LAST_SEQUENCE:
                raise
            stored = await self._find_stored(aggregate_id, event.id)
            if stored is not None:
                log.info("append_was_stored", event_id=event.id, seq=stored.seq)
                return stored
            raise ConcurrencyConflict(aggregate_id, expected_seq) from e
        return StoredEvent(seq=ack.seq, subject=subject, headers=headers, data=data, envelope=event)

    async def _find_stored(self, aggregate_id: str, event_id: str) -> StoredEvent | None:
        last = await self.last_event(aggregate_id)
        if last is None:
            return None
        if last.id == event_id:
            return last
        for e in await self.history(aggregate_id):
            if e.id == event_id:
                return e
        return None


async def with_retries(attempt, tries: int = 4):  # noqa: ANN001, ANN201
    """Run ``attempt()`` again on a ConcurrencyConflict (fresh state each time), then give up."""
    for i in range(tries):
        try:
            return await attempt()
        except ConcurrencyConflict:
            if i == tries - 1:
                raise
            await asyncio.sleep(0.02 * (2**i))
    raise AssertionError("unreachable")
