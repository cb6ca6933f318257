"""Review's projection: the case queue. Every event of a case moves its ``last_seq``."""

from __future__ import annotations

import json

import asyncpg
from gongkai_shared.events import (
    DeadlineBreached,
    DeadlineSet,
    DecisionRecorded,
    RequestReceived,
    ReviewApproved,
)
from gongkai_shared.eventstore import StoredEvent


class CasesProjection:
    name = "review.cases"

    async def apply(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        if event.name == "request-received":
            b: RequestReceived = event.body()
            await conn.execute(
                "INSERT INTO cases(case_id, received_on, channel, applicant_name, applicant_type,"
                " description, form, delivery, status, last_seq)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'received',$9)",
                b.case_id,
                b.received_on,
                b.channel.value,
                b.applicant.name,
                b.applicant.type.value,
                b.description,
                b.form.value,
                b.delivery.value,
                event.seq,
            )
            return
        # any other event of a case: the next write to it must expect this sequence
        await conn.execute(
            "UPDATE cases SET last_seq=$2 WHERE case_id=$1", event.aggregate_id, event.seq
        )
        if event.name in ("review-approved", "decision-recorded"):
            d: ReviewApproved | DecisionRecorded = event.body()
            await conn.execute(
                "UPDATE cases SET status='decided', outcome=$2, reasons=$3, legal_basis=$4,"
                " decided_by=$5, decided_at=$6 WHERE case_id=$1",
                d.case_id,
                d.outcome.value,
                json.dumps(d.reasons),
                d.legal_basis,
                event.envelope.actor,
                event.envelope.time,
            )
        elif event.name == "deadline-set":
            s: DeadlineSet = event.body()
            if s.kind == "answer":
                await conn.execute(
                    "UPDATE cases SET answer_due=$2 WHERE case_id=$1", s.case_id, s.due_on
                )
        elif event.name == "deadline-breached":
            x: DeadlineBreached = event.body()
            await conn.execute("UPDATE cases SET overdue=true WHERE case_id=$1", x.case_id)
