"""Intake's projection: the applicant-safe view of each case (status, deadline, history)."""

from __future__ import annotations

import json

import asyncpg
from gongkai_shared.events import (
    DeadlineBreached,
    DeadlineSet,
    DecisionRecorded,
    Published,
    RequestReceived,
    ReviewApproved,
)
from gongkai_shared.eventstore import StoredEvent


class ApplicationsProjection:
    name = "intake.applications"

    async def apply(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        if event.name not in _HANDLED:
            return
        body = event.body()
        if isinstance(body, Published):
            if body.source_case_id:
                await self._history(
                    conn,
                    body.source_case_id,
                    event,
                    {"index_number": body.index_number},
                    bump=False,
                )
            return
        if isinstance(body, RequestReceived):
            await conn.execute(
                "INSERT INTO applications(case_id, tracking_hash, channel, received_on,"
                " received_at, status, last_seq) VALUES ($1,$2,$3,$4,$5,'received',$6)",
                body.case_id,
                body.tracking_hash,
                body.channel.value,
                body.received_on,
                event.envelope.time,
                event.seq,
            )
            await self._history(conn, body.case_id, event, {"received_on": str(body.received_on)})
            return
        case_id = event.aggregate_id
        if isinstance(body, DeadlineSet) and body.kind == "answer":
            await conn.execute(
                "UPDATE applications SET answer_due=$2, due_provisional=$3 WHERE case_id=$1",
                case_id,
                body.due_on,
                body.provisional,
            )
            detail = {"due_on": str(body.due_on), "provisional": body.provisional}
        elif isinstance(body, (ReviewApproved, DecisionRecorded)):
            await conn.execute(
                "UPDATE applications SET status='answered', outcome=$2 WHERE case_id=$1",
                case_id,
                body.outcome.value,
            )
            detail = {"outcome": body.outcome.value}
        elif isinstance(body, DeadlineBreached):
            await conn.execute("UPDATE applications SET overdue=true WHERE case_id=$1", case_id)
            detail = {"due_on": str(body.due_on)}
        else:
            return
        await self._history(conn, case_id, event, detail)

    async def _history(
        self,
        conn: asyncpg.Connection,
        case_id: str,
        event: StoredEvent,
        detail: dict,
        bump: bool = True,
    ) -> None:
        await conn.execute(
            "INSERT INTO application_history(case_id, seq, at, event, detail) VALUES ($1,$2,$3,$4,$5)",
            case_id,
            event.seq,
            event.envelope.time,
            event.name,
            json.dumps(detail),
        )
        if bump:  # the case's last event: the expected sequence for the next write to it
            await conn.execute(
                "UPDATE applications SET last_seq=$2 WHERE case_id=$1", case_id, event.seq
            )


_HANDLED = {
    "request-received",
    "deadline-set",
    "review-approved",
    "decision-recorded",
    "deadline-breached",
    "published",
}
