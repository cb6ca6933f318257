"""Review's projection: each case's folded state (the only state decisions read), the case
queue's columns, and the decision trail. Every event of a case moves its ``last_seq``."""

from __future__ import annotations

import json
import re
from datetime import date

import asyncpg

from gongkai_shared.eventstore import StoredEvent

from .case import CaseState, evolve, opened

TRAIL = {"request-received", "deadline-set", "deadline-breached"}


def description_key(text: str) -> str:
    """Same information, however it is spaced or punctuated."""
    return re.sub(r"[\s\W_]+", "", text).lower()


class CasesProjection:
    name = "review.cases"

    async def apply(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        env = event.envelope
        if event.name == "request-received":
            state = opened(env)
            b = env.data
            inserted = await conn.fetchval(
                "INSERT INTO cases(case_id, received_on, channel, applicant_name, applicant_type,"
                " description, form, delivery, status, last_seq, state, applicant_key, description_key)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'received',$9,$10,$11,$12)"
                " ON CONFLICT DO NOTHING RETURNING true",
                state.case_id,
                state.received_on,
                state.channel,
                state.applicant_name,
                b["applicant"]["type"],
                state.description,
                b["form"],
                b["delivery"],
                event.seq,
                state.model_dump_json(),
                state.applicant_key,
                description_key(state.description),
            )
            if inserted:
                await self._trail(conn, event)
            else:  # a second receipt for a case already known: the first stands
                await conn.execute("UPDATE cases SET last_seq=$2 WHERE case_id=$1", state.case_id, event.seq)
            return
        if event.name == "personal-data-viewed":  # for auditors: who saw whose details, when
            d = env.data
            await conn.execute(
                "INSERT INTO personal_data_reads(seq, case_id, user_id, role, at) VALUES ($1,$2,$3,$4,$5)"
                " ON CONFLICT DO NOTHING",
                event.seq, d["case_id"], d["user_id"], d["role"], env.time,
            )  # fmt: skip
            return
        if event.name == "published":  # a catalogue item: its case's trail shows it
            case_id = env.data.get("source_case_id")
            if case_id and await conn.fetchval("SELECT 1 FROM cases WHERE case_id=$1", case_id):
                await self._trail(conn, event, case_id)
            return
        row = await conn.fetchrow("SELECT state FROM cases WHERE case_id=$1", env.subject)
        if row is None:
            return  # not a case (e.g. a catalogue item)
        before = CaseState.model_validate_json(row["state"])
        state = evolve(before, env)
        await conn.execute(
            "UPDATE cases SET last_seq=$2, state=$3, status=$4, profile=$5, received_on=$6,"
            " outcome=COALESCE($7, outcome), departments=$8 WHERE case_id=$1",
            state.case_id,
            event.seq,
            state.model_dump_json(),
            state.status,
            state.profile,
            state.received_on,
            state.outcome_code,
            list(state.departments),
        )
        if event.name in ("review-approved", "decision-recorded"):
            d = env.data
            await conn.execute(
                "UPDATE cases SET reasons=$2, legal_basis=$3, decided_by=$4, decided_at=$5 WHERE case_id=$1",
                state.case_id,
                json.dumps(d.get("reasons", [])),
                d["legal_basis"],
                env.actor,
                env.time,
            )
        elif event.name == "deadline-set" and env.data.get("kind") == "answer":
            due = date.fromisoformat(env.data["due_on"])
            await conn.execute("UPDATE cases SET answer_due=$2 WHERE case_id=$1", state.case_id, due)
        elif event.name == "deadline-breached" and env.data.get("kind") == "answer":
            await conn.execute("UPDATE cases SET overdue=true WHERE case_id=$1", state.case_id)
        if event.context == "review" or event.name in TRAIL:
            await self._trail(conn, event)

    async def _trail(self, conn: asyncpg.Connection, event: StoredEvent, case_id: str | None = None) -> None:
        env = event.envelope
        await conn.execute(
            "INSERT INTO case_trail(case_id, seq, at, event, actor, role, data)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7)",
            case_id or env.subject,
            event.seq,
            env.time,
            event.name,
            env.actor,
            env.actorrole,
            json.dumps(env.data),
        )
