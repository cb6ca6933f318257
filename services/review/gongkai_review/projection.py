"""Review's projection: each case's folded state (the only state decisions read), the case
queue's columns, the decision trail, the loaded calendar years (``calendar-loaded``, so
review counts on notify's calendar), and the agency's documents with the refusal register
(``register.py``, issue 10). Every event of a case moves its ``last_seq``."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import asyncpg

from gongkai_shared.calendar_store import store_year
from gongkai_shared.eventstore import StoredEvent

from . import appeal_register, case_links, register
from .case import CaseState, evolve, opened

# other services' events on a case's aggregate that its trail shows (publishing's Art. 44
# decision is written on the case so that the case's history shows it)
TRAIL = {"request-received", "deadline-set", "deadline-breached", "publication-decided"}


def description_key(text: str) -> str:
    """Same information, however it is spaced or punctuated."""
    return re.sub(r"[\s\W_]+", "", text).lower()


class CasesProjection:
    name = "review.cases"

    async def apply(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        env = event.envelope
        await case_links.write(conn, case_links.links_of(event))  # for the auditor's trail
        await case_links.follow(conn, event)
        if event.name in register.EVENTS:  # documents and the refusal register (issue 10)
            await register.apply(conn, event)
        if event.name == "request-received":
            state = opened(env)
            b = env.data
            inserted = await conn.fetchval(
                "INSERT INTO cases(case_id, received_on, channel, applicant_name, applicant_type,"
                " description, form, delivery, status, last_seq, state, applicant_key, description_key,"
                " first_seq, payer_key, first_received_on)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'received',$9,$10,$11,$12,$9,$13,$2)"
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
                state.payer_key,
            )
            if inserted:
                await self._trail(conn, event)
            else:  # a second receipt for a case already known: the first stands
                await conn.execute("UPDATE cases SET last_seq=$2 WHERE case_id=$1", state.case_id, event.seq)
            return
        if event.name == "calendar-loaded":  # review's rules count on the clock's calendar
            await store_year(conn, event.body(), event.seq, event.id)
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
        assert state is not None  # a known case stays one
        await conn.execute(
            "UPDATE cases SET last_seq=$2, state=$3, status=$4, profile=$5, received_on=$6,"
            " outcome=COALESCE($7, outcome), departments=$8, first_received_on=$9, corrected_on=$10"
            " WHERE case_id=$1",
            state.case_id,
            event.seq,
            state.model_dump_json(),
            state.status,
            state.profile,
            state.received_on,
            state.outcome_code,
            list(state.departments),
            state.original_received_on,
            state.corrected_on,
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
        elif event.name in appeal_register.APPEAL_EVENTS:  # the office's register of appeals
            await appeal_register.apply(conn, env, event.seq)
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

    # --- batches: the same effects, folded per case in memory, written once per batch -------

    async def apply_batch(self, conn: asyncpg.Connection, events: list[StoredEvent]) -> None:
        """What :meth:`apply` does for each event in turn, with a few statements per batch: the
        batch's cases are read once, folded in memory, and written back once each (the trail
        and the reads by COPY)."""
        for e in events:  # few and rare; stored in log order before the cases, which do not read them
            if e.name == "calendar-loaded":
                await store_year(conn, e.body(), e.seq, e.id)
        await case_links.write(conn, [link for e in events for link in case_links.links_of(e)])
        for e in events:
            if e.name in case_links.CAUSES or e.name in case_links.CAUSED:
                await case_links.follow(conn, e)
        events = [e for e in events if e.name != "calendar-loaded"]
        for e in events:  # documents and the refusal register: their own tables, in log order
            if e.name in register.EVENTS:
                await register.apply(conn, e)
        fold = _Fold()
        wanted = {e.envelope.subject for e in events}
        for e in events:
            source = e.envelope.data.get("source_case_id") if e.name == "published" else None
            if isinstance(source, str):
                wanted.add(source)
        for r in await conn.fetch(f"SELECT {_ROW} FROM cases WHERE case_id = ANY($1::text[])", list(wanted)):
            fold.rows[r["case_id"]] = dict(r)
        for event in events:
            fold.apply(event)
        await fold.write(conn)


# the columns a batch reads and writes back (all but the ones no event changes after receipt)
_MUTABLE = (
    "last_seq", "state", "status", "profile", "received_on", "outcome", "departments",
    "reasons", "legal_basis", "decided_by", "decided_at", "answer_due", "overdue",
    "first_received_on", "corrected_on",
)  # fmt: skip
_ROW = ", ".join(("case_id", *_MUTABLE))
_INSERTED = (
    "case_id", "received_on", "channel", "applicant_name", "applicant_type", "description", "form",
    "delivery", "status", "last_seq", "state", "applicant_key", "description_key", "first_seq",
    "profile", "outcome", "departments", "reasons", "legal_basis", "decided_by", "decided_at",
    "answer_due", "overdue", "payer_key", "first_received_on", "corrected_on",
)  # fmt: skip
_TRAIL = ("case_id", "seq", "at", "event", "actor", "role", "data")
_READS = ("seq", "case_id", "user_id", "role", "at")


class _Fold:
    """One batch of :class:`CasesProjection`: rows by case id, as ``apply`` would leave them."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}  # what the table holds, then as changed
        self.states: dict[str, CaseState] = {}  # parsed once per batch, dumped once at the end
        self.new: dict[str, dict[str, Any]] = {}  # received in this batch: inserted
        self.changed: set[str] = set()  # already in the table: updated
        self.trail: list[tuple[Any, ...]] = []
        self.reads: list[tuple[Any, ...]] = []
        self.appeals_filed: list[tuple[Any, ...]] = []
        self.appeals_decided: list[tuple[Any, ...]] = []

    def _trail(self, event: StoredEvent, case_id: str | None = None) -> None:
        env = event.envelope
        self.trail.append((case_id or env.subject, event.seq, env.time, event.name, env.actor, env.actorrole,
                           json.dumps(env.data)))  # fmt: skip

    def _row(self, case_id: str) -> dict[str, Any] | None:
        return self.new.get(case_id) or self.rows.get(case_id)

    def _touch(self, case_id: str) -> None:
        if case_id not in self.new:
            self.changed.add(case_id)

    def apply(self, event: StoredEvent) -> None:
        env, name = event.envelope, event.name
        if name == "request-received":
            state = opened(env)
            row = self._row(state.case_id)
            if row is not None:  # a second receipt for a case already known: the first stands
                row["last_seq"] = event.seq
                self._touch(state.case_id)
                return
            b = env.data
            self.new[state.case_id] = {
                "case_id": state.case_id, "received_on": state.received_on, "channel": state.channel,
                "applicant_name": state.applicant_name, "applicant_type": b["applicant"]["type"],
                "description": state.description, "form": b["form"], "delivery": b["delivery"],
                "status": "received", "last_seq": event.seq, "state": None,
                "applicant_key": state.applicant_key, "description_key": description_key(state.description),
                "first_seq": event.seq, "profile": None, "outcome": None, "departments": [], "reasons": None,
                "legal_basis": None, "decided_by": None, "decided_at": None, "answer_due": None,
                "overdue": False, "payer_key": state.payer_key, "first_received_on": state.received_on,
                "corrected_on": None,
            }  # fmt: skip
            self.states[state.case_id] = state
            self._trail(event)
            return
        if name == "personal-data-viewed":
            d = env.data
            self.reads.append((event.seq, d["case_id"], d["user_id"], d["role"], env.time))
            return
        if name == "published":
            case_id = env.data.get("source_case_id")
            if case_id and self._row(case_id) is not None:
                self._trail(event, case_id)
            return
        row = self._row(env.subject)
        if row is None:
            return  # not a case (e.g. a catalogue item)
        before = self.states.get(env.subject) or CaseState.model_validate_json(row["state"])
        state = evolve(before, env)
        assert state is not None
        self.states[env.subject] = state
        row.update(
            last_seq=event.seq,
            status=state.status,
            profile=state.profile,
            received_on=state.received_on,
            departments=list(state.departments),
            first_received_on=state.original_received_on,
            corrected_on=state.corrected_on,
        )
        if state.outcome_code is not None:
            row["outcome"] = state.outcome_code
        if name in ("review-approved", "decision-recorded"):
            d = env.data
            row.update(reasons=json.dumps(d.get("reasons", [])), legal_basis=d["legal_basis"],
                       decided_by=env.actor, decided_at=env.time)  # fmt: skip
        elif name == "deadline-set" and env.data.get("kind") == "answer":
            row["answer_due"] = date.fromisoformat(env.data["due_on"])
        elif name == "deadline-breached" and env.data.get("kind") == "answer":
            row["overdue"] = True
        elif name == "appeal-filed":
            self.appeals_filed.append(appeal_register.filed_row(env, event.seq))
        elif name == "appeal-decided":
            self.appeals_decided.append(appeal_register.decided_row(env))
        self._touch(env.subject)
        if event.context == "review" or name in TRAIL:
            self._trail(event)

    async def write(self, conn: asyncpg.Connection) -> None:
        for case_id, state in self.states.items():
            row = self._row(case_id)
            assert row is not None
            row["state"] = state.model_dump_json()
        if self.new:
            await conn.copy_records_to_table(
                "cases",
                records=[tuple(r[c] for c in _INSERTED) for r in self.new.values()],
                columns=_INSERTED,
            )
        if self.changed:
            sets = ", ".join(f"{c}=${i}" for i, c in enumerate(_MUTABLE, start=2))
            await conn.executemany(
                f"UPDATE cases SET {sets} WHERE case_id=$1",
                [(c, *(self.rows[c][k] for k in _MUTABLE)) for c in self.changed],
            )
        if self.trail:
            await conn.copy_records_to_table("case_trail", records=self.trail, columns=_TRAIL)
        await appeal_register.write(conn, self.appeals_filed, self.appeals_decided)
        if self.reads:
            await conn.executemany(
                "INSERT INTO personal_data_reads(seq, case_id, user_id, role, at) VALUES ($1,$2,$3,$4,$5)"
                " ON CONFLICT DO NOTHING",
                self.reads,
            )
