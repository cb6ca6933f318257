"""What every rule of the review procedure uses, whatever its step.

- ``Input``: the base of every command's input model (unknown fields refused, text stripped);
- the text types of inputs (``Text``, ``Department``, ``ConsultationId``);
- ``Context``: what a decision may know besides the case (who, when, the calendar, the office,
  the documents it names and the refusal register's standing entries on them);
- ``reject``: a refusal with a message for the person who gave the command (answered ``409``);
- ``profile_of``/``due``: the case's rule profile (the law's periods) and working-day arithmetic;
- ``on_record``: a fact the state machine guarantees in this state, checked rather than assumed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict

from gongkai_shared.calendar import WorkingCalendar
from gongkai_shared.decisions import CommandRejected
from gongkai_shared.envelope import Actor
from gongkai_shared.information import DocumentRef, RegisterEntry
from gongkai_shared.profiles import RuleProfile, profile
from gongkai_shared.text import line, paragraph

from ..case import CaseState
from ..letters import Office

T = TypeVar("T")

Text = Annotated[str, paragraph(5000, min_length=1)]  # reasons, notes, summaries: several lines allowed
Department = Annotated[str, line(200, min_length=1)]
ConsultationId = Annotated[str, line(200, min_length=1)]


class Input(BaseModel):
    """A command's input: what the person giving it fills in (the HTTP body)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CaseNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Context:
    """What a decision may know besides the case: who, when, the calendar, the office."""

    actor: Actor
    now: datetime
    today: date
    calendar: WorkingCalendar
    new_id: str = ""
    default_profile: str = "national-2019"
    office: Office = field(default_factory=Office)  # the sender, and this letter's number (issue 9)
    reconsideration_body: str = ""  # by name (行政复议法 Art. 24): ReviewSettings, required
    repeats: list[str] = field(default_factory=list)
    # the case's number among the same applicant's applications of its calendar month (109号)
    month_ordinal: int | None = None
    # issue 10: the agency's documents the command and the case name (review's copy of
    # publishing's documents), the standing refusal register entries naming any of them (from any
    # case), and whether the office has registered any document at all
    documents: dict[str, DocumentRef] = field(default_factory=dict)
    refusals: tuple[RegisterEntry, ...] = ()
    office_has_documents: bool = False


def reject(message: str) -> CommandRejected:
    return CommandRejected(message)


def profile_of(state: CaseState, ctx: Context) -> RuleProfile:
    """The case's rule profile (set at registration), else the office's default."""
    return profile(state.profile or ctx.default_profile)


def due(ctx: Context, start: date, days: int) -> date:
    """The last day of a period of ``days`` working days from ``start``."""
    counted = ctx.calendar.add_working_days(start, days)
    if counted.due is None:  # only an open pause stops a count, and none is given here
        raise ValueError(f"no due date for {days} working days from {start}")
    return counted.due


def on_record(value: T | None, what: str) -> T:
    """``value``, which the state machine guarantees in the case's state; a case whose history
    lacks it (an old or foreign trail) is refused with a message rather than failing."""
    if value is None:
        raise reject(f"案件缺少{what}，不能执行此步骤 (the case has no {what} on record)")
    return value


def normal(text: str) -> str:
    """Text compared as information: spacing, punctuation and case do not count."""
    return re.sub(r"[\s\W_]+", "", text).lower()
