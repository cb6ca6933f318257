"""The event store: one immutable JetStream stream, appends guarded per aggregate.

Append rules (ARCHITECTURE.md §1):
- ``Nats-Msg-Id`` is the event id, so a retried publish is stored once;
- ``Nats-Expected-Last-Subject-Sequence`` with ``...-Subject: foi.*.<aggregate>.>`` rejects a
  stale writer (err_code 10071). The server checks the sequence *before* deduplicating, so a
  retry of a publish that was in fact stored also gets 10071: we then look for our event id in
  the aggregate's history and, if it is there, the append succeeded.
- A publish whose acknowledgement does not come in time (NATS slow, frozen or gone) may or may
  not have been stored: we publish it once more, which the stream answers after the first
  attempt (an ack, or 10071 and the search above), within ``resolve_within`` seconds; if no
  answer comes, ``AppendUnresolved`` says so (a retry with the same event id is safe).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import nats
import nats.errors
import structlog
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy, PubAck, StorageType, StreamConfig
from nats.js.errors import APIError, BadRequestError, NotFoundError

from .access import inbox_prefix
from .envelope import Envelope, sha256_hex
from .events import aggregate_filter, parse_body, subject_for
from .trust import EventSigner, KeyRing, Untrusted

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


class AppendUnresolved(Exception):
    """A publish timed out and whether it was stored could not be told in time: the event may
    be in the log, or may still arrive there. Retrying with the same event id is safe."""

    def __init__(self, aggregate_id: str, event_id: str) -> None:
        super().__init__(
            f"append of {event_id} to {aggregate_id} timed out; whether it was stored is unknown"
        )
        self.aggregate_id, self.event_id = aggregate_id, event_id


class ChainError(Exception):
    """The expected previous event does not belong to the aggregate being appended to."""


class StreamMisconfigured(Exception):
    """The stream is missing, sealed, or weaker than the log requires; the message says how."""


@dataclass(frozen=True)
class RawEvent:
    """A message exactly as the stream holds it, not yet parsed (it may not even be an event)."""

    seq: int
    subject: str
    headers: dict[str, str]
    data: bytes


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


def stream_problems(config: StreamConfig, sealed: bool = False) -> list[str]:
    """Everything about a stream's settings that could lose or rewrite history, in words."""
    want = stream_config(config.name or "FOI")
    problems = []
    if list(config.subjects or []) != want.subjects:
        problems.append(f"subjects are {config.subjects}, not {want.subjects}")
    for flag in ("deny_delete", "deny_purge", "allow_direct"):
        if not getattr(config, flag):
            problems.append(f"{flag} is off")
    for limit in ("max_msgs", "max_bytes", "max_msgs_per_subject"):
        value = getattr(config, limit)
        if value is not None and value > 0:
            problems.append(f"{limit} is {value}: old events could be dropped")
    if config.max_age:
        problems.append(f"max_age is {config.max_age}s: old events could be dropped")
    if config.allow_rollup_hdrs:
        problems.append("allow_rollup_hdrs is on: a roll-up could erase a subject's history")
    if config.storage is not None and config.storage != StorageType.FILE:
        problems.append(f"storage is {config.storage}, not file")
    if sealed:
        problems.append("the stream is sealed: nothing can be written")
    return problems


async def connect(url: str, name: str, *, user: str = "", password: str = "", **options: Any) -> NATS:
    """Connect as ``user`` (with its own inbox prefix, the only one it may subscribe to)."""
    auth: dict[str, Any] = {}
    if user:
        auth = {"user": user, "password": password, "inbox_prefix": inbox_prefix(user)}
    options.setdefault("max_reconnect_attempts", -1)
    options.setdefault("reconnect_time_wait", 0.5)
    within = options.pop("initial_timeout", 30.0)
    errors: list[str] = []
    outer_cb = options.pop("error_cb", None)

    async def remember(e: Exception) -> None:
        errors.append(str(e) or type(e).__name__)
        if outer_cb is not None:
            await outer_cb(e)

    # nats-py retries the first connection forever too: a wrong password must not hang a service
    try:
        first = nats.connect(url, name=name, error_cb=remember, **auth, **options)
        return await asyncio.wait_for(first, within)
    except TimeoutError:
        last = errors[-1] if errors else "no answer"
        raise ConnectionError(f"cannot connect to NATS at {url} as {user or 'anonymous'}: {last}") from None


class EventStore:
    """The log. ``signer`` signs every append for its context (``None``: this store only reads);
    an operator's tool may hold several signers (``{"trust": root, ...}``), one per context."""

    def __init__(
        self, nc: NATS, stream: str = "FOI", signer: EventSigner | Iterable[EventSigner] | None = None
    ) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.stream = stream
        many = [] if signer is None else [signer] if isinstance(signer, EventSigner) else list(signer)
        self.signers: dict[str, EventSigner] = {s.context: s for s in many}
        # who may write to this log (learnt from its trust events); readers verify against it
        self.keyring: KeyRing | None = None
        # after a publish timed out: how long to look for the event before AppendUnresolved
        self.resolve_within = 3.0

    async def ensure_stream(self, replicas: int = 1) -> None:
        """Create the stream, or bring an existing one to the immutable settings. Idempotent.

        Only the operator's (administrator) credential may do this; services only check.
        """
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
        if stream_problems(info.config) or not info.config.allow_atomic:
            await self.js.update_stream(cfg)
            log.warning("stream_settings_restored", stream=self.stream)

    async def check_stream(self) -> None:
        """Raise StreamMisconfigured, naming every problem, unless the stream keeps all history."""
        try:
            info = await self.js.stream_info(self.stream)
        except NotFoundError:
            raise StreamMisconfigured(
                f"stream {self.stream} does not exist; the operator creates it (gongkai stream create)"
            ) from None
        problems = stream_problems(info.config, bool(info.config.sealed))
        if info.state.messages and info.state.first_seq > 1:
            problems.append(f"history is missing: the first event is at seq {info.state.first_seq}")
        if problems:
            raise StreamMisconfigured(f"stream {self.stream}: " + "; ".join(problems))

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

    async def last_raw(self, filter_subject: str) -> RawEvent | None:
        """The last message on ``filter_subject`` (wildcards allowed), unparsed; None if none."""
        try:
            msg = await self.js.get_last_msg(self.stream, filter_subject, direct=True)
        except NotFoundError:
            return None
        assert msg.seq is not None and msg.subject is not None  # a direct get always names both
        return RawEvent(msg.seq, msg.subject, dict(msg.headers or {}), msg.data or b"")

    async def read_raw(
        self, start_seq: int = 1, filter_subject: str = "foi.>", *, until_seq: int | None = None
    ) -> AsyncIterator[RawEvent]:
        """Messages in stream order from ``start_seq`` (an ordered consumer: no acks, no gaps).

        Stops after ``until_seq`` (default: the stream's last sequence when called).
        """
        end = until_seq if until_seq is not None else await self.last_seq()
        if end < start_seq:
            return
        sub = await self.js.subscribe(
            filter_subject,
            stream=self.stream,
            ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start_seq),
        )
        try:
            while True:
                msg = await sub.next_msg(timeout=10)
                meta = msg.metadata
                seq = meta.sequence.stream
                yield RawEvent(seq, msg.subject, dict(msg.headers or {}), msg.data)
                if seq >= end or meta.num_pending == 0:
                    return
        finally:
            await sub.unsubscribe()

    async def read(
        self, start_seq: int = 1, filter_subject: str = "foi.>", *, until_seq: int | None = None
    ) -> AsyncIterator[StoredEvent]:
        """Events in stream order from ``start_seq``, parsed (see :meth:`read_raw`)."""
        async for raw in self.read_raw(start_seq, filter_subject, until_seq=until_seq):
            yield StoredEvent(raw.seq, raw.subject, raw.headers, raw.data, Envelope.from_bytes(raw.data))

    async def first_seq(self, aggregate_id: str, since: int = 1) -> int | None:
        """The sequence of the aggregate's first event at or after ``since`` (one direct get:
        the server finds it from its subject index, not by reading the stream); None if none."""
        try:
            msg = await self.js.get_msg(
                self.stream, seq=since, subject=aggregate_filter(aggregate_id), next=True, direct=True
            )
        except NotFoundError:
            return None
        return msg.seq

    async def history(
        self, aggregate_id: str, *, since: int | None = None, proven: bool = False
    ) -> list[StoredEvent]:
        """The aggregate's whole history, in log order, read from the stream itself.

        Read from its first event, never from the start of the stream: ``since`` is where the
        caller knows it starts (a projection stores each case's first sequence); without it,
        the first event is looked up (:meth:`first_seq`). Events before ``since`` are not read.

        ``proven``: only the events whose writer is proven (trust.py); a service that acts on
        what it reads here must ask for this, as its projections do."""
        last = await self.last_event(aggregate_id)
        if last is None:
            return []
        start = since if since is not None else await self.first_seq(aggregate_id)
        if start is None or start > last.seq:
            return []
        events = [e async for e in self.read(start, aggregate_filter(aggregate_id), until_seq=last.seq)]
        if not proven:
            return events
        if self.keyring is None:
            raise ValueError("no key ring: cannot tell which events are proven")
        await self.keyring.ensure(self, last.seq)
        return [e for e in events if self._proven(e)]

    def _proven(self, e: StoredEvent) -> bool:
        assert self.keyring is not None
        try:
            self.keyring.check(e.seq, e.subject, e.headers, e.data, e.envelope)
        except Untrusted as problem:
            log.error("event_refused", reader="history", seq=e.seq, subject=e.subject, error=str(problem))
            return False
        return True

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
        signer = self.signers.get(context)
        if signer is None:
            owners = ", ".join(self.signers) or "nobody"
            raise PermissionError(f"this store signs for {owners}; it cannot write {context}'s events")
        headers = {
            MSG_ID: event.id,
            EXPECTED_SEQ: str(expected_seq),
            EXPECTED_SEQ_SUBJECT: aggregate_filter(aggregate_id),
            **signer.headers(subject, data),
        }
        try:
            try:
                ack = await self.js.publish(subject, data, stream=self.stream, headers=headers)
            except nats.errors.TimeoutError:
                ack = await self._publish_again(subject, data, headers, aggregate_id, event.id)
        except APIError as e:
            if e.err_code != WRONG_LAST_SEQUENCE:
                raise
            stored = await self._find_stored(aggregate_id, event.id, expected_seq)
            if stored is not None:
                log.info("append_was_stored", event_id=event.id, seq=stored.seq)
                return stored
            raise ConcurrencyConflict(aggregate_id, expected_seq) from e
        return StoredEvent(seq=ack.seq, subject=subject, headers=headers, data=data, envelope=event)

    async def _publish_again(
        self, subject: str, data: bytes, headers: dict[str, str], aggregate_id: str, event_id: str
    ) -> PubAck:
        """After a publish timed out: was it stored? The same message again (same id, same
        expected sequence) is answered in order, after the first attempt: stored now (an ack),
        stored then (10071: the caller finds it), or no answer within ``resolve_within``."""
        log.warning("append_timed_out", event_id=event_id, resolving_within=self.resolve_within)
        try:
            return await self.js.publish(
                subject, data, stream=self.stream, headers=headers, timeout=self.resolve_within
            )
        except nats.errors.TimeoutError:
            log.warning("append_unresolved", event_id=event_id)
            raise AppendUnresolved(aggregate_id, event_id) from None

    async def _find_stored(self, aggregate_id: str, event_id: str, expected_seq: int) -> StoredEvent | None:
        """Our event, if the first attempt stored it: it can only follow ``expected_seq``."""
        last = await self.last_event(aggregate_id)
        if last is None:
            return None
        if last.id == event_id:
            return last
        for e in await self.history(aggregate_id, since=expected_seq + 1 if expected_seq else None):
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
