"""The projection runner: the log, in order, into PostgreSQL, each event exactly once.

The position lives in Postgres, not in the broker. The runner reads ``foi.>`` with an ordered
consumer from ``position + 1``, applies a batch of events strictly in sequence and commits the
effects **and** the new position in one transaction. Any error rolls the batch back and the
runner resumes from the stored position after a backoff; nothing is skipped, nothing applied
twice. One runner per projection is active (an advisory lock); others stand by and learn the
stored position and health from PostgreSQL (``observe``, fed by positions.PositionBoard). The
batch transaction also re-reads the position ``FOR UPDATE`` so that even two active runners
could never apply the same event twice. A failure is stored in the projection's row (state,
error, the failed sequence) so that every replica knows it, and an operator parks the failed
event through that row from any replica (``park``); the active runner honours it.

The measured pitfalls this avoids (ARCHITECTURE.md §2): no acks to lose or reorder, no
concurrent handling of a fetched batch, no message terminated because its handler raised.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, Protocol

import asyncpg
import structlog
from prometheus_client import Counter, Gauge
from pydantic import ValidationError

from .envelope import Envelope
from .events import REGISTRY
from .eventstore import EventStore, RawEvent, StoredEvent
from .positions import PARKED as PARKED_STATE
from .positions import STOPPED, Lag, ProjectionBehind, ProjectionStopped, StoredPosition
from .trust import Claim, KeyRing, Untrusted, verify_claims

log = structlog.get_logger(__name__)

POSITION = Gauge("gongkai_projection_position", "Last stream sequence applied", ["projection"])
FAILURES = Counter("gongkai_projection_failures_total", "Failed projection batches", ["projection"])
APPLIED = Counter("gongkai_projection_events_total", "Events applied", ["projection"])
STOPPED_GAUGE = Gauge(
    "gongkai_projection_stopped",
    "1 while the projection is stopped on an event it cannot apply",
    ["projection"],
)


class Projection(Protocol):
    name: str

    async def apply(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        """Apply one event's effect. Runs inside the batch transaction.

        A projection may also define ``apply_batch(conn, events)``: the same effects as
        ``apply`` on each event in turn, written at once (folded per aggregate in memory,
        ``executemany``/``COPY``/``unnest``). The runner then calls it for each batch, and
        ``apply`` alone only to pin down which event of a failed batch is the poison one."""


async def apply_events(projection: Any, conn: asyncpg.Connection, events: Sequence[StoredEvent]) -> None:
    """``events``' effects, in order: with the projection's ``apply_batch`` if it has one."""
    if not events:
        return
    batch = getattr(projection, "apply_batch", None)
    if batch is not None:
        await batch(conn, list(events))
        return
    for event in events:
        with structlog.contextvars.bound_contextvars(
            event_id=event.id, case_id=event.aggregate_id, seq=event.seq
        ):
            await projection.apply(conn, event)


PARKED = Counter("gongkai_projection_parked_total", "Events a projection passed over", ["projection"])
REFUSED = Counter(
    "gongkai_events_refused_total",
    "Events refused because their writer could not be proven (unsigned, unknown key, wrong owner)",
    ["reader"],
)


def _parse(raw: RawEvent) -> tuple[StoredEvent | None, str]:
    """The event, or why it can never be applied (no envelope, or a body against its own schema).

    An unknown event *type* is not parked: it is a newer writer, and this reader must be upgraded.
    """
    try:
        env = Envelope.from_bytes(raw.data)
    except ValidationError as e:
        return None, f"not a valid event envelope: {e}"
    cls = REGISTRY.get(env.type)
    if cls is not None:
        try:
            cls.model_validate(env.data)
        except ValidationError as e:
            return None, f"{env.type} does not match its schema: {e}"
    return StoredEvent(raw.seq, raw.subject, raw.headers, raw.data, env), ""


class Prepared:
    """One event of a batch as the runner will treat it: applied, or parked with a reason."""

    __slots__ = ("raw", "event", "problem", "reason")

    def __init__(self, raw: RawEvent, event: StoredEvent | None, problem: str = "", reason: str = "") -> None:
        self.raw, self.event, self.problem, self.reason = raw, event, problem, reason


async def prepare(keyring: KeyRing, batch: Sequence[RawEvent]) -> list[Prepared]:
    """Parse every event of ``batch`` and prove its writer. Every signature is verified, the
    Ed25519 arithmetic for the whole batch at once in threads (trust.verify_claims)."""
    out: list[Prepared] = []
    claims: list[Claim] = []
    claimed: list[Prepared] = []
    for raw in batch:
        event, problem = _parse(raw)
        if event is None:  # it can never be applied: parked with its error
            out.append(Prepared(raw, None, problem, "cannot be applied"))
            continue
        try:
            claim = keyring.claim(raw.seq, raw.subject, raw.headers, raw.data, event.envelope)
        except Untrusted as e:
            out.append(Prepared(raw, None, str(e), "writer not proven"))
            continue
        p = Prepared(raw, event)
        out.append(p)
        claims.append(claim)
        claimed.append(p)
    for p, claim, ok in zip(claimed, claims, await verify_claims(claims), strict=True):
        if not ok:
            p.event, p.problem, p.reason = (
                None,
                f"the signature by {claim.ref} does not verify",
                "writer not proven",
            )
    return out


class PositionMoved(Exception):
    """Another runner advanced the stored position: resynchronise."""


class ProjectionRunner:
    def __init__(
        self,
        pool: asyncpg.Pool,
        store: EventStore,
        projection: Projection,
        *,
        keyring: KeyRing | None = None,
        batch_max: int = 500,
        fail_after: int = 5,
        max_backoff: float = 30.0,
    ) -> None:
        self.pool, self.store, self.projection = pool, store, projection
        ring = keyring or store.keyring
        if ring is None:  # verification is never optional
            raise ValueError(f"{projection.name}: no key ring to verify the writers of events with")
        self.keyring: KeyRing = ring
        self.rejected = 0  # events refused for their signature: an alert in readiness and metrics
        self.last_rejected: str | None = None
        self.name = projection.name
        self.batch_max = batch_max
        self.fail_after = fail_after
        self.max_backoff = max_backoff
        self.position = 0
        self.state = "starting"
        self.last_error: str | None = None
        self.failures = 0
        # the sequence whose apply() raised last: the next attempt commits the events before
        # it as their own batch and retries it alone, so a poison event holds back nothing
        # before it (position stops at failed_seq - 1) and the error is pinned on one event
        self.failed_seq: int | None = None
        self._applying: int | None = None
        # a batch whose apply_batch() raised: its events are applied one by one (apply()) on
        # the next attempt, so that the poison event among them is pinned as failed_seq
        self._applying_batch: int | None = None
        self._one_by_one_upto = 0
        self.stop_at: int | None = None  # stop once this sequence is applied (a rebuild)
        self.lock_name = projection.name  # a rebuild into another schema locks apart from live
        # the projection's row as PostgreSQL has it (whichever replica is active wrote it)
        self.stored: StoredPosition | None = None
        self._advanced = asyncio.Event()
        self._stopping = False
        self._wake = asyncio.Event()

    # --- public ------------------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        """False once the projection has failed ``fail_after`` times in a row (a poison event)."""
        return self.failures < self.fail_after

    @property
    def stopped(self) -> bool:
        """Stopped on an event, here or on the replica running the projection: no wait helps
        (until an operator parks the event: then it resumes)."""
        stored = self.stored
        if not self.healthy:
            if stored is None or self.failed_seq is None:
                return True
            parked = stored.state == PARKED_STATE and stored.failed_seq == self.failed_seq
            return not (parked or stored.position >= self.failed_seq)  # or just committed past it
        return self.state != "running" and stored is not None and stored.state == STOPPED

    @property
    def error(self) -> str | None:
        return self.last_error or (self.stored.last_error if self.stored else None)

    def observe(self, stored: StoredPosition) -> None:
        """The projection's stored row: its position (never moves back) and the active runner's
        health; a parked event wakes the runner stopped on it."""
        self.stored = stored
        STOPPED_GAUGE.labels(self.name).set(1 if self.stopped else 0)
        if stored.position > self.position and self.state in ("starting", "standby"):
            self._set_position(stored.position)  # the active runner keeps its own count
        else:
            self._notify_waiters()
        if stored.state == PARKED_STATE and self.failed_seq == stored.failed_seq:
            self._wake.set()

    def stop(self) -> None:
        """Ask the runner to stop after the batch in hand (it is also cancelled)."""
        self._stopping = True

    async def run(self) -> None:
        """Run until stopped. Errors are retried with backoff, never skipped."""
        while not self._stopping:
            try:
                await self._run_locked()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the lock's connection failed too: stand by again after it
                await self._failed(e)

    async def _failed(self, e: Exception) -> None:
        """Roll back happened: record the failure (here and in the projection's row), back off;
        the next attempt resumes from the stored position."""
        if self._applying is not None:
            self.failed_seq = self._applying
            self._applying = None
        elif self._applying_batch is not None:  # apply_batch raised: one by one next time
            self._one_by_one_upto = self._applying_batch
        self._applying_batch = None
        self.failures += 1
        self.last_error = f"{type(e).__name__}: {e}"
        self.state = "failing" if self.healthy else STOPPED
        FAILURES.labels(self.name).inc()
        STOPPED_GAUGE.labels(self.name).set(0 if self.healthy else 1)
        await self._store_health()
        self._notify_waiters()
        delay = min(0.05 * 2**self.failures, self.max_backoff)
        log.error(
            "projection_batch_failed",
            projection=self.name,
            position=self.position,
            failures=self.failures,
            error=self.last_error,
            failed_seq=self.failed_seq,
            retry_in=delay,
        )
        self._wake.clear()
        try:  # an operator's park() ends the wait early
            await asyncio.wait_for(self._wake.wait(), delay)
        except TimeoutError:
            pass

    def lag(self) -> Lag:
        return Lag(self.name, self.position, self.stopped, self.error)

    async def wait_for(self, seq: int, timeout: float = 10.0) -> bool:
        """Wait until the projection has applied stream sequence ``seq``: True, or
        ``ProjectionBehind`` after ``timeout``, ``ProjectionStopped`` as soon as it is stopped."""
        deadline = time.monotonic() + timeout
        while self.position < seq:
            if self.stopped:
                raise ProjectionStopped(seq, [self.lag()])
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProjectionBehind(seq, [self.lag()])
            event = self._advanced
            try:
                await asyncio.wait_for(event.wait(), timeout=min(left, 0.5))
            except TimeoutError:
                pass
        return True

    # --- internals ---------------------------------------------------------------------

    async def _run_locked(self) -> None:
        async with self.pool.acquire() as lock_conn:
            while not await lock_conn.fetchval(
                "SELECT pg_try_advisory_lock(hashtext('projection:' || $1))", self.lock_name
            ):
                self.state = "standby"
                await asyncio.sleep(1.0)
            try:
                while not self._stopping:
                    try:
                        await self._follow(lock_conn)
                    except asyncio.CancelledError:
                        raise
                    except Exception as e:  # any failure: roll back happened
                        if lock_conn.is_closed():
                            raise
                        # keep the lock while backing off: the replica that failed stays the
                        # one running the projection (no two replicas taking turns at it)
                        await self._failed(e)
            finally:
                if not lock_conn.is_closed():
                    await lock_conn.execute(
                        "SELECT pg_advisory_unlock(hashtext('projection:' || $1))", self.lock_name
                    )

    async def _load_position(self) -> int:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO projection_position(name) VALUES ($1) ON CONFLICT DO NOTHING",
                self.name,
            )
            row = await conn.fetchrow(
                "SELECT position, failures, failed_seq, last_error FROM projection_position WHERE name = $1",
                self.name,
            )
        # taking over from a replica that failed on the next event: go on counting its failures,
        # or two replicas taking turns would each retry forever without ever being "stopped"
        if row["failed_seq"] == row["position"] + 1 and row["failures"] > self.failures:
            self.failures, self.failed_seq, self.last_error = (
                row["failures"],
                row["failed_seq"],
                row["last_error"],
            )
        return int(row["position"])

    async def _follow(self, lock_conn: asyncpg.Connection) -> None:
        self._set_position(await self._load_position())
        self.rejected = await lock_conn.fetchval(
            "SELECT count(*) FROM parked_events WHERE projection = $1 AND reason = 'writer not proven'",
            self.name,
        )
        self.state = "running"
        sub, buffer, arrived, room = await self._subscribe()
        # the next batch is parsed and its signatures verified (threads) while this one is
        # written: (batch, its preparation) taken from the buffer ahead
        ahead: tuple[list[RawEvent], asyncio.Future[list[Prepared]]] | None = None
        try:
            while not self._stopping and not self._reached_stop():
                if ahead is None and not buffer:
                    arrived.clear()
                    try:
                        await asyncio.wait_for(arrived.wait(), 1.0)
                    except TimeoutError:
                        await lock_conn.fetchval("SELECT 1")  # still holding the lock?
                        continue
                if ahead is None:
                    ahead = self._take(buffer, room)
                batch, preparing = ahead
                ahead = self._take(buffer, room) if buffer and self.failed_seq is None else None
                parts = self._split(batch)
                if len(parts) == 1:
                    await self._apply_batch(batch, await preparing)
                    continue
                preparing.cancel()
                for part in parts:
                    await self._apply_batch(part)
        finally:
            if ahead is not None:
                ahead[1].cancel()
            await sub.unsubscribe()

    def _take(
        self, buffer: list[RawEvent], room: asyncio.Event
    ) -> tuple[list[RawEvent], asyncio.Future[list[Prepared]]]:
        batch = buffer[: self.batch_max]
        del buffer[: self.batch_max]
        room.set()
        return batch, asyncio.ensure_future(self._prepare(batch))

    async def _prepare(self, batch: list[RawEvent]) -> list[Prepared]:
        await self.keyring.ensure(self.store, batch[-1].seq)
        return await prepare(self.keyring, batch)

    def _reached_stop(self) -> bool:
        if self.stop_at is not None and self.position >= self.stop_at:
            self._stopping = True
        return self._stopping

    async def _subscribe(self) -> tuple[Any, list[RawEvent], asyncio.Event, asyncio.Event]:
        """An ordered consumer from ``position + 1`` whose messages land in a buffer of at most
        a few batches: when it is full the callback waits, so flow control holds the server."""
        from nats.js.api import ConsumerConfig, DeliverPolicy

        buffer: list[RawEvent] = []
        arrived, room = asyncio.Event(), asyncio.Event()
        room.set()
        high = 4 * self.batch_max
        stop_at = self.stop_at

        async def take(msg: Any) -> None:
            seq = msg.metadata.sequence.stream
            if stop_at is not None and seq > stop_at:
                return
            buffer.append(RawEvent(seq, msg.subject, msg.headers or {}, msg.data))
            arrived.set()
            if len(buffer) >= high:
                room.clear()
                await room.wait()

        sub = await self.store.js.subscribe(
            "foi.>",
            stream=self.store.stream,
            ordered_consumer=True,
            cb=take,
            pending_msgs_limit=-1,
            pending_bytes_limit=-1,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self.position + 1
            ),
        )
        return sub, buffer, arrived, room

    def _split(self, batch: list[RawEvent]) -> list[list[RawEvent]]:
        """After a failure at ``failed_seq``: the events before it, it alone, the rest."""
        f = self.failed_seq
        if f is None or not any(e.seq == f for e in batch):
            return [batch]
        parts = [
            [e for e in batch if e.seq < f],
            [e for e in batch if e.seq == f],
            [e for e in batch if e.seq > f],
        ]
        return [p for p in parts if p]

    async def _apply_batch(self, batch: list[RawEvent], prepared: list[Prepared] | None = None) -> None:
        if prepared is None:
            prepared = await self._prepare(batch)
        async with self.pool.acquire() as conn, conn.transaction():
            stored = await conn.fetchval(
                "SELECT position FROM projection_position WHERE name = $1 FOR UPDATE", self.name
            )
            if stored != self.position:
                raise PositionMoved(f"{self.name}: stored {stored}, in memory {self.position}")
            pos = stored
            parked = {
                r["seq"]
                for r in await conn.fetch(
                    "SELECT seq FROM parked_events WHERE projection = $1 AND seq > $2 AND seq <= $3",
                    self.name, pos, batch[-1].seq,
                )
            }  # fmt: skip
            ready: list[StoredEvent] = []
            for p in prepared:
                raw = p.raw
                if raw.seq <= pos:
                    continue
                if raw.seq != pos + 1:
                    raise RuntimeError(f"{self.name}: gap in the log, {pos} then {raw.seq}")
                pos = raw.seq
                if raw.seq in parked:
                    continue
                if p.event is None:  # never applied, never silently skipped: parked (and alerted)
                    await self._park(conn, raw, p.problem, p.reason, "system")
                    if p.reason == "writer not proven":
                        self.rejected += 1
                        self.last_rejected = f"seq {raw.seq}: {p.problem}"
                        REFUSED.labels(self.name).inc()
                    continue
                ready.append(p.event)
            await self._apply_ready(conn, ready)
            await conn.execute(
                "UPDATE projection_position SET position = $2, updated_at = now() WHERE name = $1",
                self.name,
                pos,
            )
        APPLIED.labels(self.name).inc(pos - self.position)
        self.failures, self.last_error = 0, None
        if self.failed_seq is not None and pos >= self.failed_seq:
            self.failed_seq = None
        self.state = "running"
        self._set_position(pos)

    async def _apply_ready(self, conn: asyncpg.Connection, ready: list[StoredEvent]) -> None:
        """The batch's proven events: with ``apply_batch`` when the projection has one, except
        after a failed batch (then one by one, so that the failing event is known)."""
        batched = hasattr(self.projection, "apply_batch")
        if batched and ready and ready[0].seq > self._one_by_one_upto:
            self._applying_batch = ready[-1].seq
            await apply_events(self.projection, conn, ready)
            self._applying_batch = None
            return
        for event in ready:
            with structlog.contextvars.bound_contextvars(
                event_id=event.id, case_id=event.aggregate_id, seq=event.seq
            ):
                self._applying = event.seq
                await self.projection.apply(conn, event)
        self._applying = None

    async def _park(self, conn: asyncpg.Connection, raw: RawEvent, error: str, reason: str, by: str) -> None:
        await conn.execute(
            "INSERT INTO parked_events(projection, seq, subject, error, reason, parked_by)"
            " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
            self.name, raw.seq, raw.subject, error[:4000], reason, by,
        )  # fmt: skip
        PARKED.labels(self.name).inc()
        log.error("event_parked", projection=self.name, seq=raw.seq, subject=raw.subject, error=error,
                  reason=reason, parked_by=by)  # fmt: skip

    async def park(self, seq: int, reason: str, by: str) -> None:
        """An operator passes over the event the projection is stopped on, recording why.

        Works on any replica: the parked row and the projection's ``parked`` state are written
        under the lock of the projection's row (which the batch takes too); the active runner,
        woken by the row's notification, passes over the event on its next attempt."""
        query = "SELECT state, failed_seq, last_error FROM projection_position WHERE name = $1"
        row = await self.pool.fetchrow(query, self.name)
        if row is None or row["state"] != STOPPED or row["failed_seq"] != seq:
            raise ValueError(f"{self.name} is not stopped at sequence {seq}")
        stored = await self.store.get(seq)
        raw = RawEvent(seq, stored.subject, stored.headers, stored.data)
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(query + " FOR UPDATE", self.name)
            if row["state"] != STOPPED or row["failed_seq"] != seq:
                raise ValueError(f"{self.name} is not stopped at sequence {seq}")
            await self._park(conn, raw, row["last_error"] or "", reason, by)
            await conn.execute(
                "UPDATE projection_position SET state = $2 WHERE name = $1", self.name, PARKED_STATE
            )
        # at once on this replica (the others hear it from the row's notification)
        self.observe(StoredPosition(self.name, self.position, PARKED_STATE, failed_seq=seq))

    async def _store_health(self) -> None:
        """Write the failure into the projection's row, for every replica to see. The row keeps
        ``parked`` while the operator's park of this very event is pending."""
        try:
            await self.pool.execute(
                "UPDATE projection_position SET state = CASE WHEN state = $6 AND failed_seq = $4"
                " THEN state ELSE $2 END, failures = $3, failed_seq = $4, last_error = $5 WHERE name = $1",
                self.name, self.state, self.failures, self.failed_seq, (self.last_error or "")[:4000],
                PARKED_STATE,
            )  # fmt: skip
        except (OSError, asyncpg.PostgresError) as e:  # the database is what failed: said here,
            # and the failure itself stays in this runner's state, status and metrics
            log.error("projection_health_not_stored", projection=self.name, error=f"{type(e).__name__}: {e}")

    def _notify_waiters(self) -> None:
        self._advanced.set()
        self._advanced = asyncio.Event()

    def _set_position(self, pos: int) -> None:
        self.position = pos
        POSITION.labels(self.name).set(pos)
        self._notify_waiters()
