"""Intake's projection: the applicant-safe view of each case (status, deadline, history).

The applicant sees what the office tells them (registration, clarification notice, extension,
consultation pause, the answer letter) and the clock; internal steps (drafts, sign-off,
confidentiality review, department feedback) stay internal until the answer is sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import asyncpg

from gongkai_shared.eventstore import StoredEvent

# event -> (new status or None, what of it the applicant may see)
Detail = Callable[[dict], dict]
VISIBLE: dict[str, tuple[str | None, Detail]] = {
    "case-registered": ("registered", lambda d: {"received_on": d["received_on"]}),
    "clarification-requested": (
        "clarification_requested",
        lambda d: {"items": d["items"], "period_days": d["period_days"], "letter": d["letter"]},
    ),
    "clarification-received": ("processing", lambda d: {"received_on": d["received_on"]}),
    "consultation-started": (None, lambda d: {"paused_from": d["started_on"]}),
    "consultation-replied": (None, lambda d: {}),
    "extension-approved": (None, lambda d: {"working_days": d["working_days"], "letter": d["letter"]}),
    "answer-sent": (
        "answered",
        # the documents disclosed with the answer (references; the applicant downloads them)
        lambda d: {
            "outcome": d["outcome"],
            "outcome_code": d["outcome_code"],
            "letter": d["letter"],
            "documents": d.get("documents") or [],
        },
    ),
    "application-abandoned": ("abandoned", lambda d: {"reason": d["reason"]}),
    "application-withdrawn": ("withdrawn", lambda d: {}),
    "withdrawal-requested": (None, lambda d: {"reason": d["reason"]}),
    "deadline-breached": (None, lambda d: {"due_on": d["due_on"]}),
    # a request to correct a record the answer provided (Art. 41), and its answer letter
    "record-correction-requested": (None, lambda d: {"correction_id": d["correction_id"]}),
    "record-corrected": (None, lambda d: {"correction_id": d["correction_id"], "letter": d["letter"]}),
    "record-correction-refused": (
        None,
        lambda d: {"correction_id": d["correction_id"], "letter": d["letter"]},
    ),
    "record-correction-referred": (
        None,
        lambda d: {"correction_id": d["correction_id"], "letter": d["letter"]},
    ),
    # fees (国办函〔2020〕109号) and excessive requests (Art. 35): the applicant's letters
    "fee-notice-issued": (
        None,
        lambda d: {"amount_yuan": d["amount_yuan"], "payment_days": d["payment_days"], "letter": d["letter"]},
    ),
    "fee-paid": (None, lambda d: {"amount_yuan": d["amount_yuan"], "paid_on": d["paid_on"]}),
    "excessive-reasons-requested": (None, lambda d: {"letter": d["letter"]}),
    "excessive-reasons-assessed": (
        None,
        lambda d: {"answer_by": d.get("answer_by"), **({"letter": d["letter"]} if d.get("letter") else {})},
    ),
    # the skeleton's decisions without sign-off were the answer
    "review-approved": (None, lambda d: {"outcome": d["outcome"]}),
    "decision-recorded": (None, lambda d: {"outcome": d["outcome"]}),
}


class ApplicationsProjection:
    name = "intake.applications"

    async def apply(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        env, d = event.envelope, event.envelope.data
        if event.name == "request-received":
            inserted = await conn.fetchval(
                "INSERT INTO applications(case_id, tracking_hash, channel, received_on,"
                " received_at, status, last_seq) VALUES ($1,$2,$3,$4,$5,'received',$6)"
                " ON CONFLICT DO NOTHING RETURNING true",
                d["case_id"],
                d["tracking_hash"],
                d["channel"],
                date.fromisoformat(d["received_on"]),
                env.time,
                event.seq,
            )
            if inserted:
                await self._history(conn, d["case_id"], event, {"received_on": d["received_on"]})
            else:  # a second receipt for a case (or tracking code) already known: the first stands
                await self._bump(conn, d["case_id"], event.seq)
            return
        if event.name == "published":
            case_id = d.get("source_case_id")
            if case_id and await conn.fetchval("SELECT 1 FROM applications WHERE case_id=$1", case_id):
                detail = {"index_number": d["index_number"]}
                await self._history(conn, case_id, event, detail, bump=False)
            return
        case_id = env.subject
        if not await conn.fetchval("SELECT 1 FROM applications WHERE case_id=$1", case_id):
            return
        if event.name == "deadline-set" and d.get("kind") == "answer":
            await conn.execute(
                "UPDATE applications SET answer_due=$2, due_provisional=$3 WHERE case_id=$1",
                case_id,
                date.fromisoformat(d["due_on"]),
                d["provisional"],
            )
            await self._history(
                conn, case_id, event, {"due_on": d["due_on"], "provisional": d["provisional"]}
            )
            return
        if event.name not in VISIBLE:
            await self._bump(conn, case_id, event.seq)
            return
        if event.name == "clarification-received":  # the original receipt date stays (Art. 30)
            corrected = date.fromisoformat(d["received_on"])
            await conn.execute("UPDATE applications SET corrected_on=$2 WHERE case_id=$1", case_id, corrected)
        if event.name in ("review-approved", "decision-recorded") and d.get("draft_id"):
            await self._bump(conn, case_id, event.seq)  # signed, not yet sent: internal
            return
        status, shown = VISIBLE[event.name]
        if event.name in ("review-approved", "decision-recorded"):
            status = "answered"
        if event.name == "deadline-breached":
            if d.get("kind") != "answer":  # the office's own internal deadlines
                await self._bump(conn, case_id, event.seq)
                return
            await conn.execute("UPDATE applications SET overdue=true WHERE case_id=$1", case_id)
        if status:
            outcome = d.get("outcome")
            await conn.execute(
                "UPDATE applications SET status=$2, outcome=COALESCE($3, outcome) WHERE case_id=$1",
                case_id,
                status,
                outcome,
            )
        await self._history(conn, case_id, event, shown(d))

    async def _bump(self, conn: asyncpg.Connection, case_id: str, seq: int) -> None:
        await conn.execute("UPDATE applications SET last_seq=$2 WHERE case_id=$1", case_id, seq)

    async def _history(
        self, conn: asyncpg.Connection, case_id: str, event: StoredEvent, detail: dict, bump: bool = True
    ) -> None:
        await conn.execute(
            "INSERT INTO application_history(case_id, seq, at, event, detail) VALUES ($1,$2,$3,$4,$5)",
            case_id,
            event.seq,
            event.envelope.time,
            event.name,
            json.dumps(detail, ensure_ascii=False),
        )
        if bump:  # the case's last event: the expected sequence for the next write to it
            await self._bump(conn, case_id, event.seq)
