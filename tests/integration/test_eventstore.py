"""The event store on a real nats-server: an immutable log, appends guarded per aggregate.

Rules from ARCHITECTURE.md §1: the stream cannot lose history; a stale writer is rejected and
retries on fresh state; a retried publish is stored once; a case's history is the filter
``foi.*.<case>.>`` in log order, chained by ``prevhash``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from nats.js.errors import APIError

from gongkai_shared.envelope import Actor, Envelope, new_id, sha256_hex
from gongkai_shared.events import (
    Applicant,
    ApplicantType,
    Channel,
    Contact,
    DecisionRecorded,
    Delivery,
    Form,
    Outcome,
    RequestReceived,
    make_event,
)
from gongkai_shared.eventstore import (
    ConcurrencyConflict,
    EventStore,
    StoredEvent,
    with_retries,
)
from tests.events import deadline_set
from tests.servers import NatsServer

ACTOR = Actor(id="clerk-1", role="clerk")


def received(case_id: str) -> Envelope:
    body = RequestReceived(
        case_id=case_id,
        tracking_hash="0" * 64,
        applicant=Applicant(
            name="张三", type=ApplicantType.natural_person, contact=Contact(phone="13800000000")
        ),
        description="招生计划",
        form=Form.electronic,
        delivery=Delivery.email,
        channel=Channel.online,
        received_on=date(2026, 2, 10),
        entered_at=datetime(2026, 2, 10, 2, 0, tzinfo=UTC),
    )
    return make_event(body, aggregate_id=case_id, actor=ACTOR)


def decided(case_id: str, note: str | None = None) -> Envelope:
    body = DecisionRecorded(
        case_id=case_id,
        outcome=Outcome.not_held,
        reasons=["not_held"],
        legal_basis="《政府信息公开条例》第三十六条第（四）项",
        note=note,
    )
    return make_event(body, aggregate_id=case_id, actor=Actor(id="rev-1", role="reviewer"))


def deadline(case_id: str) -> Envelope:
    return deadline_set(case_id)


@pytest.fixture
async def store(nats_server: NatsServer) -> AsyncIterator[EventStore]:
    s = await nats_server.writer()  # plays every service, each signing with its own key
    yield s
    await s.nc.drain()


def assert_chained(history: list[StoredEvent]) -> None:
    """Event k's prevhash is the SHA-256 of event k-1's stored bytes; the first has none."""
    assert history[0].envelope.prevhash == ""
    for prev, cur in zip(history, history[1:], strict=False):
        assert cur.envelope.prevhash == sha256_hex(prev.data), (prev.seq, cur.seq)


# --- the stream ---------------------------------------------------------------------------


async def test_ensure_stream_is_idempotent_and_the_stream_keeps_everything(
    store: EventStore, nats_server: NatsServer
) -> None:
    """Rule: the FOI stream denies delete and purge, serves direct gets, and ages nothing out;
    calling ensure_stream again (the operator, from several clients, concurrently) changes nothing."""
    first = await store.stream_settings()
    others = [await nats_server.admin() for _ in range(3)]
    try:
        await asyncio.gather(store.ensure_stream(), *(o.ensure_stream() for o in others))
    finally:
        for o in others:
            await o.nc.drain()
    cfg = await store.stream_settings()
    assert cfg == first
    assert cfg.subjects == ["foi.>"]
    assert cfg.deny_delete and cfg.deny_purge and cfg.allow_direct and cfg.allow_atomic
    assert not cfg.max_age  # 0: no age limit
    assert cfg.max_msgs == -1 and cfg.max_bytes == -1 and cfg.max_msgs_per_subject == -1
    assert not cfg.allow_rollup_hdrs  # a rollup would be a purge by another name
    names = [n async for n in _stream_names(store)]
    assert names.count("FOI") == 1


async def _stream_names(store: EventStore) -> AsyncIterator[str]:
    for info in await store.js.streams_info():
        yield info.config.name


async def test_ensure_stream_restores_immutable_settings_of_an_existing_stream(tmp_path: Path) -> None:
    """Rule: a pre-existing FOI stream that allows deletes is brought to the immutable settings."""
    from nats.js.api import StreamConfig

    bare = NatsServer(tmp_path / "bare").start(provision=False)
    nc = (await bare.admin()).nc
    try:
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name="FOI", subjects=["foi.>"], deny_delete=False, deny_purge=False))
        store = EventStore(nc)
        await store.ensure_stream()
        cfg = await store.stream_settings()
        assert cfg.deny_delete and cfg.deny_purge and cfg.allow_direct and cfg.allow_atomic
    finally:
        await nc.drain()
        bare.stop()


async def test_server_refuses_to_delete_a_message_or_purge_the_stream(store: EventStore) -> None:
    """Rule: nothing rewrites history: the server itself refuses delete_msg and purge."""
    case = new_id()
    e = await store.append(received(case), "intake", 0)
    with pytest.raises(APIError):
        await store.js.delete_msg("FOI", e.seq)
    with pytest.raises(APIError):
        await store.js.purge_stream("FOI")
    with pytest.raises(APIError):
        await store.js.purge_stream("FOI", subject=f"foi.intake.{case}.>")
    assert await store.last_seq() == e.seq
    assert (await store.get(e.seq)).data == e.data


# --- optimistic concurrency ---------------------------------------------------------------


async def test_stale_writer_is_rejected_then_succeeds_on_fresh_state(store: EventStore) -> None:
    """Rule: two writers deciding on the same state: the first wins, the second gets
    ConcurrencyConflict, and retrying on fresh state appends after the winner, chained."""
    case = new_id()
    first = await store.append(received(case), "intake", 0)
    n = first.seq

    winner = await store.append(decided(case, "winner"), "review", n)
    with pytest.raises(ConcurrencyConflict) as conflict:
        await store.append(decided(case, "loser"), "review", n)
    assert conflict.value.aggregate_id == case and conflict.value.expected == n
    assert await store.last_seq() == winner.seq  # the rejected write left no trace

    loser_attempts: list[int] = []

    async def attempt() -> StoredEvent:
        last = await store.last_event(case)  # fresh state each time
        assert last is not None
        loser_attempts.append(last.seq)
        return await store.append(deadline(case), "notify", last.seq)

    loser = await with_retries(attempt)
    assert loser_attempts == [winner.seq]
    assert loser.seq > winner.seq

    history = await store.history(case)
    assert [e.seq for e in history] == [first.seq, winner.seq, loser.seq]
    assert [e.name for e in history] == ["request-received", "decision-recorded", "deadline-set"]
    assert history[1].envelope.data["note"] == "winner"
    assert_chained(history)


async def test_with_retries_recovers_from_a_conflict_injected_between_read_and_write(
    store: EventStore,
) -> None:
    """Rule: a handler that loses the race retries on fresh state and succeeds the second time."""
    case = new_id()
    await store.append(received(case), "intake", 0)
    calls = 0

    async def attempt() -> StoredEvent:
        nonlocal calls
        calls += 1
        last = await store.last_event(case)
        assert last is not None
        if calls == 1:  # someone else writes after we read
            await store.append(decided(case, "other"), "review", last.seq)
        return await store.append(deadline(case), "notify", last.seq)

    mine = await with_retries(attempt)
    assert calls == 2
    history = await store.history(case)
    assert [e.name for e in history] == ["request-received", "decision-recorded", "deadline-set"]
    assert history[-1].seq == mine.seq
    assert_chained(history)


async def test_with_retries_gives_up_after_its_tries(store: EventStore) -> None:
    """Rule: a writer that always decides on stale state gives up with ConcurrencyConflict."""
    case = new_id()
    await store.append(received(case), "intake", 0)
    calls = 0

    async def stale() -> StoredEvent:
        nonlocal calls
        calls += 1
        return await store.append(decided(case), "review", 0)  # 0: "must not exist yet"

    with pytest.raises(ConcurrencyConflict):
        await with_retries(stale, tries=3)
    assert calls == 3
    assert len(await store.history(case)) == 1


# --- idempotent retry ---------------------------------------------------------------------


async def test_retry_of_a_stored_publish_returns_the_stored_event_once(store: EventStore) -> None:
    """Rule: re-appending the exact envelope with the same expected sequence (a retry whose first
    attempt was in fact stored) returns the stored event and stores nothing new."""
    case = new_id()
    e = received(case)
    stored = await store.append(e, "intake", 0)
    again = await store.append(e, "intake", 0)
    assert again.seq == stored.seq
    assert again.id == e.id and again.data == stored.data
    assert await store.last_seq() == stored.seq
    assert [x.id for x in await store.history(case)] == [e.id]

    # the same for a later event of the case (expected > 0, so prevhash is set)
    d = decided(case)
    second = await store.append(d, "review", stored.seq)
    again2 = await store.append(d, "review", stored.seq)
    assert again2.seq == second.seq and again2.data == second.data
    assert await store.last_seq() == second.seq
    assert_chained(await store.history(case))


async def test_retry_finds_its_event_behind_later_events_and_does_not_duplicate(
    store: EventStore,
) -> None:
    """Rule: a retry that arrives after others appended to the case still finds its event in
    the history (not only as the last event) and stores nothing new."""
    case = new_id()
    e = received(case)
    stored = await store.append(e, "intake", 0)
    d1 = await store.append(decided(case), "review", stored.seq)
    other_case = await store.append(received(new_id()), "intake", 0)  # noise on the stream
    d2 = await store.append(deadline(case), "notify", d1.seq)

    again = await store.append(e, "intake", 0)
    assert again.seq == stored.seq and again.data == stored.data
    assert await store.last_seq() == d2.seq
    assert other_case.seq < d2.seq
    history = await store.history(case)
    assert [x.seq for x in history] == [stored.seq, d1.seq, d2.seq]
    assert [x.id for x in history].count(e.id) == 1
    assert_chained(history)


async def test_retry_of_a_never_stored_event_on_stale_state_is_a_conflict(
    store: EventStore,
) -> None:
    """Rule: a retry is recognised by its event id only; an unknown id on stale state is a
    conflict, not a success."""
    case = new_id()
    await store.append(received(case), "intake", 0)
    with pytest.raises(ConcurrencyConflict):
        await store.append(received(case), "intake", 0)  # same body, new id
    assert len(await store.history(case)) == 1


# --- reading ------------------------------------------------------------------------------


async def test_history_is_the_aggregates_events_only_in_order_across_contexts(
    store: EventStore,
) -> None:
    """Rule: history(case) is every event of that case, whichever context wrote it, in log
    order, and nothing of any other case (not even one whose id starts with this one's)."""
    case, other = "case-1", "case-10"
    assert await store.history(case) == []
    a = await store.append(received(case), "intake", 0)
    o1 = await store.append(received(other), "intake", 0)
    b = await store.append(deadline(case), "notify", a.seq)
    o2 = await store.append(decided(other), "review", o1.seq)
    c = await store.append(decided(case), "review", b.seq)

    history = await store.history(case)
    assert [e.seq for e in history] == [a.seq, b.seq, c.seq]
    assert [e.subject for e in history] == [
        f"foi.intake.{case}.request-received",
        f"foi.notify.{case}.deadline-set",
        f"foi.review.{case}.decision-recorded",
    ]
    assert [e.context for e in history] == ["intake", "notify", "review"]
    assert {e.aggregate_id for e in history} == {case}
    assert_chained(history)
    assert [type(e.body()).__name__ for e in history] == [
        "RequestReceived",
        "DeadlineSet",
        "DecisionRecorded",
    ]
    assert [e.seq for e in await store.history(other)] == [o1.seq, o2.seq]
    # the stored bytes are the canonical bytes of the envelope
    for e in history:
        assert e.data == e.envelope.to_bytes()
        assert (await store.get(e.seq)).data == e.data


async def test_history_is_read_from_the_cases_first_event(store: EventStore) -> None:
    """Rule: a case's history starts at its first event, found from the subject index (never by
    reading the stream from sequence 1); a caller that stored the first sequence passes it, and
    what comes before ``since`` is not read."""
    case, other = "case-7", "case-70"
    for i in range(5):  # other cases' events before this case's first
        await store.append(received(f"{other}-{i}"), "intake", 0)
    a = await store.append(received(case), "intake", 0)
    o = await store.append(received(other), "intake", 0)
    b = await store.append(deadline(case), "notify", a.seq)
    c = await store.append(decided(case), "review", b.seq)
    assert await store.first_seq(case) == a.seq
    assert await store.first_seq(case, since=a.seq + 1) == b.seq
    assert await store.first_seq("case-never") is None
    assert await store.first_seq(other) == o.seq
    whole = [e.seq for e in await store.history(case)]
    assert whole == [a.seq, b.seq, c.seq]
    assert [e.seq for e in await store.history(case, since=a.seq)] == whole
    assert [e.seq for e in await store.history(case, since=b.seq)] == [b.seq, c.seq]
    assert await store.history(case, since=c.seq + 1) == []
