"""A case's whole trail, for auditors (issue 11): its own events and every event of another
aggregate that names it, in log order, each with its writer's signature status and hash link.

A case's own events are its aggregate's (``foi.*.<case>.>``): what notify records about it
(deadlines, notices and their delivery attempts) is there too. Events of *other* aggregates name
the case in their body: a catalogue item's ``published`` or ``publication-refused``
(``source_case_id``, ``refused_case_id``), a letter number taken from a yearly counter, a read of
the applicant's details (``case_id``). :func:`cases_named` says which cases an event names;
review's projection indexes them by case (``case_links``), so the trail is read from the case's
first event plus the indexed sequences, never by scanning the stream.

Every event is checked as the audit's verifier checks it (``cli/gongkai_cli/verification.py``):
its signature by the writer's key registered at that position (trust.py), and its ``prevhash``
against the exact bytes of the previous event of its own aggregate (for another aggregate's
event, found with one batched direct get: the last event of that aggregate up to the sequence
before it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from .envelope import Envelope, sha256_hex
from .events import aggregate_filter
from .eventstore import EventStore, StoredEvent
from .trust import KeyRing, Untrusted

# the body fields by which an event of another aggregate names a case
CASE_FIELDS = ("case_id", "source_case_id", "refused_case_id")


def cases_named(env: Envelope) -> list[str]:
    """The cases ``env`` names in its body, its own aggregate left out (in field order)."""
    named: list[str] = []
    for name in CASE_FIELDS:
        value = env.data.get(name)
        if isinstance(value, str) and value and value != env.subject and value not in named:
            named.append(value)
    return named


@dataclass(frozen=True)
class TrailEntry:
    """One event of a case's trail, and what the auditor's checks found."""

    seq: int
    subject: str
    aggregate_id: str
    own: bool  # the case's own aggregate (else: another aggregate that names the case)
    event: str
    event_id: str
    time: str
    actor: str
    role: str
    correlationid: str
    causationid: str
    signature: str  # "ok" | "failed" | "unchecked" (no root verifier key given)
    signature_problem: str | None
    hash_link: str  # "ok" | "broken"
    previous_seq: int | None  # the previous event of its aggregate (None: the aggregate's first)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class PreviousLookupError(Exception):
    """The server did not answer the lookup of an aggregate's previous event."""


async def previous_event(store: EventStore, aggregate_id: str, before: int) -> tuple[int, bytes] | None:
    """(seq, stored bytes) of ``aggregate_id``'s last event before sequence ``before``; None if it
    has none. One batched direct get (``multi_last`` with ``up_to_seq``, nats-server >= 2.11): the
    server answers the last message of each subject of the aggregate, and the latest wins."""
    if before <= 1:
        return None
    nc = store.nc
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    request = {"multi_last": [aggregate_filter(aggregate_id)], "up_to_seq": before - 1, "batch": 1000}
    found: tuple[int, bytes] | None = None
    try:
        await nc.publish(f"$JS.API.DIRECT.GET.{store.stream}", json.dumps(request).encode(), reply=inbox)
        while True:
            msg = await sub.next_msg(10)
            headers = msg.headers or {}
            status = headers.get("Status")
            if status == "404" or status == "204":  # nothing matched, or the end of the batch
                return found
            if status:
                raise PreviousLookupError(f"{status} {headers.get('Description', '')}".strip())
            seq = int(headers["Nats-Sequence"])
            if found is None or seq > found[0]:
                found = (seq, msg.data)
    finally:
        await sub.unsubscribe()


def _signature(ring: KeyRing | None, e: StoredEvent) -> tuple[str, str | None]:
    if ring is None:
        return "unchecked", None
    try:
        ring.check(e.seq, e.subject, e.headers, e.data, e.envelope)
    except Untrusted as problem:
        return "failed", str(problem)
    return "ok", None


def _entry(e: StoredEvent, own: bool, sig: tuple[str, str | None], link: str, prev: int | None) -> TrailEntry:
    env = e.envelope
    return TrailEntry(
        seq=e.seq,
        subject=e.subject,
        aggregate_id=env.subject,
        own=own,
        event=env.name,
        event_id=env.id,
        time=env.time.isoformat(),
        actor=env.actor,
        role=env.actorrole,
        correlationid=env.correlationid,
        causationid=env.causationid,
        signature=sig[0],
        signature_problem=sig[1],
        hash_link=link,
        previous_seq=prev,
    )


async def read_trail(
    store: EventStore,
    case_id: str,
    linked: Iterable[int],
    ring: KeyRing | None,
    *,
    first_seq: int | None = None,
) -> list[TrailEntry]:
    """The case's trail in log order: its own events (read from ``first_seq``, or from its first
    event looked up by subject) and the events at the ``linked`` sequences that name it (an
    indexed sequence whose event neither names the case nor was caused by one of its events is left
    out: an Art. 44 decision's publications name no case). Empty: no such case."""
    own = await store.history(case_id, since=first_seq)
    own_ids = {e.id for e in own}
    others = []
    for seq in sorted(set(linked)):
        e = await store.get(seq)
        if case_id in cases_named(e.envelope) or e.envelope.causationid in own_ids:
            others.append(e)
    if not own and not others:
        return []
    if ring is not None:
        await ring.ensure(store, max(e.seq for e in [*own, *others]) + 1)
    entries = []
    prev_seq, prev_hash = None, ""
    for e in own:  # the case's own chain, in order
        link = "ok" if e.envelope.prevhash == prev_hash else "broken"
        entries.append(_entry(e, True, _signature(ring, e), link, prev_seq))
        prev_seq, prev_hash = e.seq, sha256_hex(e.data)
    for e in others:
        prev = await previous_event(store, e.envelope.subject, e.seq)
        expected = sha256_hex(prev[1]) if prev else ""
        link = "ok" if e.envelope.prevhash == expected else "broken"
        entries.append(_entry(e, False, _signature(ring, e), link, prev[0] if prev else None))
    return sorted(entries, key=lambda t: t.seq)
