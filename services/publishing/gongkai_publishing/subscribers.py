"""Publishing's reactions: a signature releases proactive documents (``document-signed``); an
Art. 44 decision publishes the documents it names (``publication-decided``).

Shared FastStream reactions (gongkai_shared.reactions: explicit acks, retried with backoff,
never skipped). Each is idempotent: the events it appends derive their ids from the causing
event's id, and a document already showing its signed version is not published again.

Index numbers (索引号) come from the log (``index-number-assigned`` on the year's counter aggregate
``index-numbers-<year>``, appended only if the counter's last event is the one read): the number a
document took is found again after a crash, and a rebuilt database can never hand one out twice.
"""

from __future__ import annotations

import asyncio
import random
from datetime import date

import structlog

from gongkai_shared.clock import Clock
from gongkai_shared.envelope import Envelope, derived_id
from gongkai_shared.events import EventBody, IndexNumberAssigned, make_event
from gongkai_shared.eventstore import ConcurrencyConflict
from gongkai_shared.information import DocumentKind
from gongkai_shared.reactions import Reaction
from gongkai_shared.runtime import Runtime

from . import records
from .domain import (
    ON_REQUEST,
    PROACTIVE,
    PUBLISHER,
    DocumentState,
    Numbered,
    amend_body,
    catalogue_item,
    counter_aggregate,
    format_index,
    needs_release,
    next_index_seq,
    publish_body,
    refusal_body,
    release_group,
    standing_blocks,
)
from .settings import PublishingSettings

log = structlog.get_logger(__name__)
ON_SIGNED = "publishing-on-document-signed"
ON_DECIDED = "publishing-on-publication-decided"

_counters: dict[int, asyncio.Lock] = {}  # one allocation at a time per year in this process


class NumberingBusy(Exception):
    """The year's counter kept moving under us (other replicas publishing): retried later."""


async def take_index(
    rt: Runtime, settings: PublishingSettings, document_id: str, year: int, tries: int = 100
) -> tuple[str, int]:
    """The document's index number for ``year``: the one it already took, or the next one,
    taken in the log with optimistic concurrency (the loser reads again and takes the next)."""
    agg = counter_aggregate(year)
    async with _counters.setdefault(year, asyncio.Lock()):
        for attempt in range(tries):
            last = await rt.store.last_event(agg)
            if last is not None:  # every number taken so far is in the projection
                await rt.wait_for(last.seq)
            row = await rt.pool.fetchrow(
                "SELECT index_number, seq FROM index_allocations WHERE item_id=$1", document_id
            )
            if row is not None:
                return row["index_number"], row["seq"]
            in_catalogue = await rt.pool.fetchval(
                "SELECT last_seq FROM index_counters WHERE agency_code=$1 AND year=$2",
                settings.agency_code,
                year,
            )
            seq = next_index_seq(int(last.envelope.data["seq"]) if last else 0, in_catalogue or 0)
            number = format_index(settings.index_format, settings.agency_code, year, seq)
            body = IndexNumberAssigned(
                document_id=document_id,
                agency_code=settings.agency_code,
                year=year,
                seq=seq,
                index_number=number,
            )
            try:
                await rt.store.append(
                    make_event(body, aggregate_id=agg, actor=PUBLISHER), rt.service, last.seq if last else 0
                )
            except ConcurrencyConflict:
                await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))
                continue
            return number, seq
    raise NumberingBusy(f"the index number counter for {year} is busy")


async def _append(rt: Runtime, doc_id: str, body: EventBody, cause: Envelope, key: str) -> int:
    """Append one event to a document, once (its id derives from the cause), after its last."""
    event = make_event(
        body,
        aggregate_id=doc_id,
        actor=PUBLISHER,
        event_id=derived_id(cause.id, key),
        causation_id=cause.id,
        correlation_id=cause.correlationid,
    )
    for _ in range(10):
        last = await rt.store.last_event(doc_id)
        try:
            return (await rt.store.append(event, rt.service, last.seq if last else 0)).seq
        except ConcurrencyConflict:
            continue
    raise ConcurrencyConflict(doc_id, -1)


async def release(
    rt: Runtime,
    settings: PublishingSettings,
    today: date,
    cause: Envelope,
    group: list[DocumentState],
    *,
    source: str,
    case_id: str | None = None,
) -> None:
    """Publish (or re-publish as ``amended``) the documents of ``group`` together: if the
    register forbids any of them, none is published and each forbidden one gets
    ``publication-refused``; else each takes its number and is published."""
    ids = [d.document_id for d in group]
    entries = await records.standing_entries(rt.pool, ids)
    blocked = {d: standing_blocks(entries, d) for d in ids}
    if any(blocked.values()):
        for doc_id, blocking in blocked.items():
            if blocking:
                await _append(rt, doc_id, refusal_body(doc_id, blocking, case_id), cause, f"refused:{doc_id}")
                log.warning("publication_refused", document_id=doc_id, entries=[e.entry_id for e in blocking])
        return
    numbered: list[Numbered] = []
    for d in group:
        if d.index_number is not None:
            year = int(
                await rt.pool.fetchval("SELECT year FROM index_allocations WHERE item_id=$1", d.document_id)
            )
            seq = int(
                await rt.pool.fetchval("SELECT seq FROM index_allocations WHERE item_id=$1", d.document_id)
            )
            numbered.append(Numbered(d, d.index_number, year, seq))
        else:
            number, seq = await take_index(rt, settings, d.document_id, today.year)
            numbered.append(Numbered(d, number, today.year, seq))
    numbers = {n.state.document_id: n.index_number for n in numbered}
    related_ids = {r for d in group for r in [*d.metadata.replaces, d.metadata.interprets] if r}
    related = await records.load_documents(rt.pool, sorted(related_ids))
    related.update({d.document_id: d for d in group})
    for n in numbered:
        d = n.state
        interps = [x for x in group if x.metadata.interprets == d.document_id]
        if d.metadata.kind == DocumentKind.policy:
            interps = [*interps, *[i for i in await records.interpretations_of(rt.pool, d.document_id)
                                   if i.published and i not in interps]]  # fmt: skip
        item = catalogue_item(
            n, agency_code=settings.agency_code, today=today, source=source, related=related,
            numbers=numbers, interpretations=interps,
        )  # fmt: skip
        version = d.current.number
        if d.published_version is None:
            seq = await _append(rt, d.document_id, publish_body(item), cause, f"published:{d.document_id}")
            log.info("published", document_id=d.document_id, index_number=n.index_number, seq=seq)
        else:
            body = amend_body(item, state=d, today=today)
            await _append(rt, d.document_id, body, cause, f"amended:{d.document_id}:{version}")
            log.info("amended", document_id=d.document_id, index_number=n.index_number, version=version)


async def on_document_signed(
    rt: Runtime, settings: PublishingSettings, clock: Clock, event: Envelope, seq: int
) -> None:
    """A signed proactive document is published (with its policy or interpretations)."""
    await rt.wait_for(seq)  # the signature and everything before it are in the projection
    doc_id = event.data["document_id"]
    signed = (await records.load_documents(rt.pool, [doc_id])).get(doc_id)
    if signed is None or signed.current.number != event.data["document_version"]:
        return  # amended again since: the newer version is signed on its own
    policy: DocumentState | None = None
    interpretations: list[DocumentState] = []
    if signed.metadata.kind == DocumentKind.policy:
        policy = signed
    elif signed.metadata.kind == DocumentKind.interpretation and signed.metadata.interprets:
        policy = (await records.load_documents(rt.pool, [signed.metadata.interprets])).get(
            signed.metadata.interprets
        )
    if policy is not None:
        interpretations = await records.interpretations_of(rt.pool, policy.document_id)
    group = [d for d in release_group(signed, policy, interpretations) if needs_release(d)]
    if group:
        await release(rt, settings, clock.today(), event, group, source=PROACTIVE)


async def on_publication_decided(
    rt: Runtime, settings: PublishingSettings, clock: Clock, event: Envelope, seq: int
) -> None:
    """Art. 44: the documents the office decided to publish, each as registered by staff."""
    await rt.wait_for(seq)
    ids = list(event.data["document_ids"])
    docs = await records.load_documents(rt.pool, ids)
    for d in ids:  # each on its own: one refused document does not hold back the others
        state = docs.get(d)
        if state is None or state.published:
            continue
        await release(rt, settings, clock.today(), event, [state], source=ON_REQUEST, case_id=event.subject)


def reactions(rt: Runtime, settings: PublishingSettings, clock: Clock) -> list[Reaction]:
    async def signed(event: Envelope, seq: int) -> None:
        await on_document_signed(rt, settings, clock, event, seq)

    async def decided(event: Envelope, seq: int) -> None:
        await on_publication_decided(rt, settings, clock, event, seq)

    return [
        Reaction("foi.publishing.*.document-signed", ON_SIGNED, signed, settings.reaction_max_backoff),
        Reaction("foi.publishing.*.publication-decided", ON_DECIDED, decided, settings.reaction_max_backoff),
    ]
