"""The clock's rules (答复期限), pure: deadlines from a case's events, profile and calendar.

National 2019 profile (DOMAIN.md §3): the answer is due 20 working days after receipt, the
day of receipt not counted. The complete clock (pauses, clarification restart, extension,
local profiles) builds on this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from gongkai_shared.calendar import DueDate, WorkingCalendar
from gongkai_shared.envelope import Actor, Envelope, derived_id
from gongkai_shared.events import DeadlineBreached, DeadlineSet, make_event

CLOCK = Actor.system("notify")


@dataclass(frozen=True)
class Profile:
    name: str
    answer_days: int
    count_receipt_day: bool


PROFILES = {
    "national-2019": Profile("national-2019", answer_days=20, count_receipt_day=False),
    "local-2008": Profile("local-2008", answer_days=15, count_receipt_day=False),
}


def deadline_id(case_id: str, kind: str) -> str:
    return derived_id(case_id, f"deadline:{kind}")


def answer_due(received_on: date, profile: Profile, calendar: WorkingCalendar) -> DueDate:
    return calendar.add_working_days(
        received_on, profile.answer_days, count_start=profile.count_receipt_day
    )


def is_breached(due_on: date, today: date, answered: bool) -> bool:
    """A deadline is breached once its last day has passed with no answer."""
    return not answered and today > due_on


@dataclass(frozen=True)
class Deadline:
    deadline_id: str
    case_id: str
    kind: str
    start_on: date
    working_days: int
    due_on: date
    profile: str
    calendar_version: str
    provisional: bool


def deadline_set(d: Deadline, *, now: datetime, cause: str) -> Envelope:
    body = DeadlineSet(
        case_id=d.case_id,
        deadline_id=d.deadline_id,
        kind=d.kind,
        start_on=d.start_on,
        working_days=d.working_days,
        due_on=d.due_on,
        profile=d.profile,
        calendar_version=d.calendar_version,
        provisional=d.provisional,
    )
    # the same computation is one event, however many replicas or retries emit it
    eid = derived_id(d.deadline_id, f"set:{d.due_on}:{d.calendar_version}")
    return make_event(
        body, aggregate_id=d.case_id, actor=CLOCK, event_id=eid, causation_id=cause, time=now
    )


def deadline_breached(d: Deadline, *, now: datetime) -> Envelope:
    body = DeadlineBreached(
        case_id=d.case_id, deadline_id=d.deadline_id, kind=d.kind, due_on=d.due_on, detected_at=now
    )
    eid = derived_id(d.deadline_id, f"breached:{d.due_on}")
    return make_event(body, aggregate_id=d.case_id, actor=CLOCK, event_id=eid, time=now)
