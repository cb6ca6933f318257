"""Publishing's decisions: an approved disclosure becomes a catalogue item. No I/O here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from gongkai_shared.envelope import Actor, Envelope, derived_id
from gongkai_shared.events import PublicationRefused, Published, ReviewApproved, make_event
from gongkai_shared.outcomes import discloses, is_refusal

PUBLISHER = Actor.system("publishing")


def item_id_for(approval_event_id: str) -> str:
    """One approval, one catalogue item, however often the reaction runs."""
    return derived_id(approval_event_id, "catalog-item")


def format_index(fmt: str, agency: str, year: int, seq: int) -> str:
    """索引号, e.g. ``000014349/2018-00222``."""
    return fmt.format(agency=agency, year=year, seq=seq)


def should_publish(approval: ReviewApproved) -> bool:
    return discloses(approval.outcome)


MIN_KEY = 6  # shorter refused texts would match too much to be a fair bar


def refusal_key(text: str) -> str:
    """Refused information matches in any form: spacing, punctuation and case do not matter."""
    return re.sub(r"[\s\W_]+", "", text).lower()


@dataclass(frozen=True)
class Refusal:
    case_id: str
    key: str
    reason: str


def refusals_of(event_name: str, data: dict) -> list[tuple[str, str, str]]:
    """What an event adds to the refusal register: (kind, text, reason) triples."""
    if event_name == "decision-recorded" and is_refusal(
        data.get("outcome_code") or data.get("outcome") or ""
    ):
        # a refusal (不予公开); never a 36(7) referral to the special procedure (行政查询事项)
        text = data.get("description") or ""
        return [("withheld_information", text, data.get("outcome_code") or "withhold")] if text else []
    if event_name == "review-approved":
        return [("withheld_part", p["part"], p["reason"]) for p in data.get("withheld_parts", [])]
    return []


def refused_by(register: list[Refusal], approval: ReviewApproved) -> Refusal | None:
    """The register entry that forbids publishing ``approval``, if any."""
    texts = [refusal_key(approval.title), refusal_key(approval.disclosed_content)]
    for r in register:
        if len(r.key) >= MIN_KEY and any(r.key in t for t in texts):
            return r
    return None


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


def refuse(
    approval: ReviewApproved, *, approval_event: Envelope, refusal: Refusal, now: datetime
) -> Envelope:
    body = PublicationRefused(
        item_id=item_id_for(approval_event.id),
        source_case_id=approval.case_id,
        approval_event_id=approval_event.id,
        refused_case_id=refusal.case_id,
        reason=f"已决定不予公开的信息不得以任何形式发布 (refusal register: {refusal.reason})",
    )
    return make_event(
        body,
        aggregate_id=item_id_for(approval_event.id),
        actor=PUBLISHER,
        event_id=derived_id(approval_event.id, "published"),
        causation_id=approval_event.id,
        correlation_id=approval_event.correlationid,
        time=now,
    )
