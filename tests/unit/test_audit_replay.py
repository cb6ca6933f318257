"""Audit (issue 11): which events belong to a case's trail, and where a replay stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gongkai_review.replay import cut
from gongkai_shared.envelope import Envelope
from gongkai_shared.eventstore import StoredEvent
from gongkai_shared.trail import cases_named

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _env(aggregate: str, data: dict, time: datetime = T0) -> Envelope:
    return Envelope(
        id="e", source="/gongkai/publishing", type="cn.gov.gongkai.published.v1", subject=aggregate,
        time=time, actor="a", actorrole="system", correlationid="e", causationid="e", data=data,
    )  # fmt: skip


def test_an_event_of_another_aggregate_names_the_cases_in_its_body() -> None:
    refused = _env("item-1", {"source_case_id": "case-b", "refused_case_id": "case-a"})
    assert cases_named(refused) == ["case-b", "case-a"]
    # a case's own event is already in its history: it is not a link
    assert cases_named(_env("case-a", {"case_id": "case-a"})) == []
    assert cases_named(_env("letter-numbers-answer-2026", {"case_id": "case-a"})) == ["case-a"]


def _stored(seq: int, minutes: int) -> StoredEvent:
    env = _env("case-a", {}, T0 + timedelta(minutes=minutes))
    return StoredEvent(seq, "foi.review.case-a.x", {}, b"", env)


def test_a_replay_is_a_prefix_of_the_log_even_when_clocks_disagree() -> None:
    """The cut stops at the first event after as-of: a later-logged event stamped earlier (a
    writer's clock behind) is not folded in before the events it follows."""
    events = [_stored(1, 0), _stored(2, 10), _stored(3, 30), _stored(4, 20)]
    assert [e.seq for e in cut(events, T0 + timedelta(minutes=25), None)] == [1, 2]
    assert [e.seq for e in cut(events, None, 3)] == [1, 2, 3]
    assert cut(events, T0 - timedelta(minutes=1), None) == []
