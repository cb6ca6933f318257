"""Events the tests need, built one way."""

from __future__ import annotations

from datetime import date

from gongkai_shared.envelope import Actor, Envelope
from gongkai_shared.events import DeadlineSet, make_event


def deadline_set(case_id: str, calendar_version: str = "test") -> Envelope:
    """A notify event on ``case_id``: the 2026-02-10 receipt's answer deadline, 2026-03-16."""
    body = DeadlineSet(
        case_id=case_id,
        deadline_id=f"{case_id}:answer",
        kind="answer",
        start_on=date(2026, 2, 10),
        working_days=20,
        due_on=date(2026, 3, 16),
        profile="national-2019",
        calendar_version=calendar_version,
        provisional=False,
    )
    return make_event(body, aggregate_id=case_id, actor=Actor.system("notify"))
