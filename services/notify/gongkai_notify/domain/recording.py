"""What the log says about a deadline, pure: the next event that brings it up to the computation.

The clock records a computed deadline as ``deadline-set`` (or ``deadline-suspended`` while a
correction or a consultation holds it), warns ``warn_days`` working days before its last day
(``deadline-warning``) and records ``deadline-breached`` once the day has passed unanswered. Every
event id derives from the deadline and what is recorded (the n-th recording, the due date), so
however many replicas or retries emit it, the log holds it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from gongkai_shared.calendar import WorkingCalendar
from gongkai_shared.envelope import Actor, Envelope, derived_id
from gongkai_shared.events import (
    DeadlineBreached,
    DeadlineSet,
    DeadlineSuspended,
    DeadlineWarning,
    make_event,
)

from .deadlines import PAUSED, RUNNING, SUSPENDED, Deadline
from .rules import warn_on

CLOCK = Actor.system("notify")


@dataclass(frozen=True)
class Recorded:
    """What the log already says about one deadline (notify's projection keeps it)."""

    status: str  # none | running | suspended
    due_on: date | None
    provisional: bool | None
    set_count: int
    set_seq: int | None
    warned_for: date | None
    breached: bool


def next_record(d: Deadline, r: Recorded, *, now: datetime) -> Envelope | None:
    """The event that brings the log up to the computation, if any (deadline-set / -suspended)."""
    if d.status == RUNNING and d.due_on is not None:
        if r.status == RUNNING and r.due_on == d.due_on and r.provisional == d.provisional:
            return None
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
        # the n-th recording of a deadline is one event, however many replicas or retries emit it
        purpose = f"set:{r.set_count + 1}:{d.due_on}:{d.calendar_version}:{d.provisional}"
        return _event(body, d, purpose, now)
    if d.status in (SUSPENDED, PAUSED) and r.status == RUNNING:
        reason = "clarification" if d.status == SUSPENDED else "consultation"
        suspended = DeadlineSuspended(
            case_id=d.case_id,
            deadline_id=d.deadline_id,
            kind=d.kind,
            reason=reason,
            since=d.status_since,
            cause_event_id=d.status_cause.id if d.status_cause else None,
        )
        return _event(suspended, d, f"suspended:{r.set_seq or 0}", now)
    return None


def needs_warning(d: Deadline, r: Recorded, today: date, warn_days: int, calendar: WorkingCalendar) -> bool:
    if not (d.enforced and d.status == RUNNING and r.status == RUNNING and d.due_on == r.due_on):
        return False
    if r.breached or r.warned_for == d.due_on or d.due_on is None or today > d.due_on:
        return False
    return today >= warn_on(d.due_on, warn_days, calendar)


def deadline_warning(d: Deadline, *, today: date, warn_days: int, calendar: WorkingCalendar,
                     now: datetime) -> Envelope:  # fmt: skip
    assert d.due_on is not None
    body = DeadlineWarning(
        case_id=d.case_id,
        deadline_id=d.deadline_id,
        kind=d.kind,
        due_on=d.due_on,
        working_days_left=calendar.working_days_between(today, d.due_on),
        warn_days=warn_days,
    )
    return _event(body, d, f"warning:{d.due_on}", now)


def deadline_breached(d: Deadline, *, now: datetime) -> Envelope:
    """Once per deadline: the id derives from the deadline alone."""
    assert d.due_on is not None
    body = DeadlineBreached(
        case_id=d.case_id, deadline_id=d.deadline_id, kind=d.kind, due_on=d.due_on, detected_at=now
    )
    return _event(body, d, "breached", now)


def _event(body: Any, d: Deadline, purpose: str, now: datetime) -> Envelope:
    return make_event(
        body,
        aggregate_id=d.case_id,
        actor=CLOCK,
        event_id=derived_id(d.deadline_id, purpose),
        causation_id=d.cause.id,
        time=now,
    )
