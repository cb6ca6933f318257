"""Publishing's decisions: an approved disclosure becomes a catalogue item. No I/O here."""

from __future__ import annotations

from datetime import date, datetime

from gongkai_shared.envelope import Actor, Envelope, derived_id
from gongkai_shared.events import Outcome, Published, ReviewApproved, make_event

PUBLISHER = Actor.system("publishing")


def item_id_for(approval_event_id: str) -> str:
    """One approval, one catalogue item, however often the reaction runs."""
    return derived_id(approval_event_id, "catalog-item")


def format_index(fmt: str, agency: str, year: int, seq: int) -> str:
    """索引号, e.g. ``000014349/2018-00222``."""
    return fmt.format(agency=agency, year=year, seq=seq)


def should_publish(approval: ReviewApproved) -> bool:
    return approval.outcome == Outcome.disclose


def publish(
    approval: ReviewApproved,
    *,
    approval_event: Envelope,
    index_number: str,
    year: int,
    seq: int,
    agency_code: str,
    today: date,
    now: datetime,
) -> Envelope:
    item_id = item_id_for(approval_event.id)
    body = Published(
        item_id=item_id,
        index_number=index_number,
        index_year=year,
        index_seq=seq,
        title=approval.title,
        content=approval.disclosed_content,
        agency_code=agency_code,
        source_case_id=approval.case_id,
        approval_event_id=approval_event.id,
        published_on=today,
    )
    return make_event(
        body,
        aggregate_id=item_id,
        actor=PUBLISHER,
        event_id=derived_id(approval_event.id, "published"),
        causation_id=approval_event.id,
        correlation_id=approval_event.correlationid,
        time=now,
    )
