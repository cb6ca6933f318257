"""Driving review's pure decisions in memory: state, command, event, next state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from gongkai_review.case import CaseState, evolve
from gongkai_review.commands import decide
from gongkai_review.domain import Context
from gongkai_shared.calendar import WorkingCalendar
from gongkai_shared.clock import OFFICE_TZ
from gongkai_shared.envelope import Actor, Envelope, new_id
from gongkai_shared.events import Applicant, Contact, EventBody, RequestReceived, make_event

CALENDAR = WorkingCalendar()
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def received(
    case_id: str = "case-1",
    description: str = "2025年学校招生计划",
    channel: str = "online",
    name: str = "张三",
) -> tuple[CaseState, Envelope]:
    body = RequestReceived(
        case_id=case_id,
        tracking_hash="h",
        description=description,
        form="electronic",
        delivery="email",
        channel=channel,
        received_on=START.date(),
        entered_at=START,
        applicant=Applicant(name=name, type="natural_person", contact=Contact(email="a@b.cn")),
    )
    env = make_event(body, aggregate_id=case_id, actor=Actor(id="applicant", role="applicant"), time=START)
    return evolve(None, env), env


class Desk:
    """One case on the desk: run commands as people, at a time that can move."""

    def __init__(self, state: CaseState, profile: str = "national-2019") -> None:
        self.state, self.profile = state, profile
        self.now = START
        self.events: list[Envelope] = []

    def ctx(self, who: str, role: str) -> Context:
        return Context(
            actor=Actor(id=who, role=role),
            now=self.now,
            today=self.now.astimezone(OFFICE_TZ).date(),  # the office's (Beijing) day
            calendar=CALENDAR,
            new_id=new_id(),
            default_profile=self.profile,
            reconsideration_body="某市人民政府",
        )

    def do(self, cmd, who: str = "someone", role: str = "reviewer") -> EventBody:  # noqa: ANN001
        body = decide(self.state, cmd, self.ctx(who, role))
        env = make_event(body, aggregate_id=self.state.case_id, actor=Actor(id=who, role=role), time=self.now)
        self.state = evolve(self.state, env)
        self.events.append(env)
        return body

    def wait(self, days: int) -> None:
        self.now += timedelta(days=days)

    @property
    def today(self) -> date:
        return self.now.astimezone(OFFICE_TZ).date()
