"""Notify's projection: cases, whether they are answered, and their deadlines."""

from __future__ import annotations

import asyncpg
from gongkai_shared.calendar import WorkingCalendar
from gongkai_shared.events import DeadlineBreached, DeadlineSet, RequestReceived
from gongkai_shared.eventstore import StoredEvent

from .domain import Profile, answer_due, deadline_id

ANSWERS = {"review-approved", "decision-recorded"}


class DeadlinesProjection:
    name = "notify.deadlines"

    def __init__(self, profile: Profile, calendar: WorkingCalendar) -> None:
        self.profile, self.calendar = profile, calendar

    async def apply(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        if event.name == "request-received":
            r: RequestReceived = event.body()
            due = answer_due(r.received_on, self.profile, self.calendar)
            await conn.execute(
                "INSERT INTO cases(case_id, last_seq, caused_by) VALUES ($1,$2,$3)",
                r.case_id,
                event.seq,
                event.id,
            )
            await conn.execute(
                "INSERT INTO deadlines(deadline_id, case_id, kind, start_on, working_days, due_on,"
                " profile, calendar_version, provisional) VALUES ($1,$2,'answer',$3,$4,$5,$6,$7,$8)",
                deadline_id(r.case_id, "answer"),
                r.case_id,
                r.received_on,
                self.profile.answer_days,
                due.due,
                self.profile.name,
                due.calendar_version,
                due.provisional,
            )
            return
        await conn.execute(
            "UPDATE cases SET last_seq=$2 WHERE case_id=$1", event.aggregate_id, event.seq
        )
        if event.name in ANSWERS:
            await conn.execute(
                "UPDATE cases SET answered=true WHERE case_id=$1", event.aggregate_id
            )
        elif event.name == "deadline-set":
            s: DeadlineSet = event.body()
            # the recorded computation is the truth, whatever this replica's calendar says
            await conn.execute(
                "UPDATE deadlines SET set_seq=$2, start_on=$3, working_days=$4, due_on=$5,"
                " profile=$6, calendar_version=$7, provisional=$8 WHERE deadline_id=$1",
                s.deadline_id,
                event.seq,
                s.start_on,
                s.working_days,
                s.due_on,
                s.profile,
                s.calendar_version,
                s.provisional,
            )
        elif event.name == "deadline-breached":
            b: DeadlineBreached = event.body()
            await conn.execute(
                "UPDATE deadlines SET breached_seq=$2 WHERE deadline_id=$1",
                b.deadline_id,
                event.seq,
            )
