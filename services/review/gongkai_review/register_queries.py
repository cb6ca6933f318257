"""Reads over review's documents and refusal register (``register.py`` writes them): what a
decision may know of the documents it names, and the register's lists for staff."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

import asyncpg

from gongkai_shared.information import DocumentRef, RegisterEntry, refusal_message

from .case import CaseState
from .domain.refusals import EntryState

_ENTRY = (
    "entry_id, document_id, title, doc_number, issuing_body, part, reason, explanation, case_id,"
    " decision, registered_on, review_due_on, last_reviewed_on, last_review_reason, lifted_on,"
    " lifted_reason, last_seq"
)
_ENTRY_FIELDS = (
    "entry_id", "document_id", "title", "doc_number", "issuing_body", "part", "reason", "explanation",
    "case_id",
)  # fmt: skip


def named_by(state: CaseState | None, command: Any) -> set[str]:
    """The document ids a command and its case name: the command's own (``documents``,
    ``withheld_documents``), the draft's and those the departments found."""
    ids: set[str] = set(getattr(command, "documents", None) or [])
    ids |= {w.document_id for w in getattr(command, "withheld_documents", None) or []}
    if state is not None:
        ids |= {d.document_id for d in state.found_documents}
        if state.draft is not None:
            ids |= {d.document_id for d in state.draft.documents}
            ids |= {w.document.document_id for w in state.draft.withheld_documents}
    return ids


async def documents(pool: asyncpg.Pool, ids: Iterable[str]) -> dict[str, DocumentRef]:
    rows = await pool.fetch(
        "SELECT document_id, title, doc_number, issuing_body FROM review_documents"
        " WHERE document_id = ANY($1::text[])",
        list(ids),
    )
    return {r["document_id"]: DocumentRef(**dict(r)) for r in rows}


async def standing_entries(pool: asyncpg.Pool, document_ids: Iterable[str]) -> tuple[RegisterEntry, ...]:
    """The standing entries naming any of ``document_ids``, from every case."""
    rows = await pool.fetch(
        f"SELECT {', '.join(_ENTRY_FIELDS)} FROM refusal_register"
        " WHERE document_id = ANY($1::text[]) AND lifted_on IS NULL ORDER BY registered_seq, entry_id",
        list(document_ids),
    )
    return tuple(RegisterEntry(**dict(r)) for r in rows)


async def office_has_documents(pool: asyncpg.Pool) -> bool:
    return bool(await pool.fetchval("SELECT EXISTS (SELECT 1 FROM review_documents)"))


async def warnings(pool: asyncpg.Pool, state: CaseState) -> list[dict]:
    """Before drafting: the standing entries on the documents the case names, with the message."""
    named = named_by(state, None)
    if not named:
        return []
    entries = await standing_entries(pool, named)
    return [{**_entry_dict(e), "message": refusal_message(e)} for e in entries]


def _entry_dict(e: RegisterEntry) -> dict[str, Any]:
    return {k: getattr(e, k) for k in _ENTRY_FIELDS}


async def search_documents(pool: asyncpg.Pool, q: str, limit: int) -> list[dict]:
    """Documents whose title or 文号 contains ``q`` (a few words staff type), each with the
    standing register entries naming it."""
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await pool.fetch(
        "SELECT document_id, version, title, doc_number, issuing_body, department, attribute, formed_on,"
        " repealed_on FROM review_documents WHERE title ILIKE $1 OR doc_number ILIKE $1"
        " ORDER BY title, document_id LIMIT $2",
        pattern,
        limit,
    )
    entries = await standing_entries(pool, [r["document_id"] for r in rows])
    out = []
    for r in rows:
        d = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in dict(r).items()}
        named = [e for e in entries if e.document_id == r["document_id"]]
        d["refusals"] = [{**_entry_dict(e), "message": refusal_message(e)} for e in named]
        out.append(d)
    return out


def _state(r: asyncpg.Record) -> EntryState:
    return EntryState(
        entry=RegisterEntry(**{k: r[k] for k in _ENTRY_FIELDS}),
        registered_on=r["registered_on"],
        review_due_on=r["review_due_on"],
        last_reviewed_on=r["last_reviewed_on"],
        last_review_reason=r["last_review_reason"],
        lifted_on=r["lifted_on"],
        lifted_reason=r["lifted_reason"],
    )


async def load_entry(pool: asyncpg.Pool, entry_id: str) -> tuple[EntryState | None, int]:
    r = await pool.fetchrow(f"SELECT {_ENTRY} FROM refusal_register WHERE entry_id = $1", entry_id)
    return (None, 0) if r is None else (_state(r), r["last_seq"])


def entry_view(r: asyncpg.Record, today: date) -> dict[str, Any]:
    d = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in dict(r).items()}
    s = _state(r)
    d["standing"], d["due_for_review"] = s.standing, s.due(today)
    d["message"] = refusal_message(s.entry)
    return d


async def list_entries(
    pool: asyncpg.Pool,
    today: date,
    *,
    standing: bool | None,
    due: bool,
    document_id: str | None,
    case_id: str | None,
    limit: int,
    offset: int,
) -> list[dict]:
    """Entries in registration order; ``due``: the standing ones whose review date has come
    (Art. 18)."""
    rows = await pool.fetch(
        f"SELECT {_ENTRY}, registered_seq FROM refusal_register"
        " WHERE ($1::boolean IS NULL OR (lifted_on IS NULL) = $1)"
        " AND (NOT $2 OR (lifted_on IS NULL AND review_due_on <= $3))"
        " AND ($4::text IS NULL OR document_id = $4) AND ($5::text IS NULL OR case_id = $5)"
        " ORDER BY registered_seq, entry_id LIMIT $6 OFFSET $7",
        standing, due, today, document_id, case_id, limit, offset,
    )  # fmt: skip
    return [entry_view(r, today) for r in rows]


async def get_entry(pool: asyncpg.Pool, entry_id: str, today: date) -> dict | None:
    r = await pool.fetchrow(
        f"SELECT {_ENTRY}, registered_seq FROM refusal_register WHERE entry_id = $1", entry_id
    )
    if r is None:
        return None
    history = await pool.fetch(
        "SELECT seq, at, event, actor, role, data FROM refusal_history WHERE entry_id = $1 ORDER BY seq",
        entry_id,
    )
    d = entry_view(r, today)
    d["history"] = [{**dict(h), "at": h["at"].isoformat(), "data": json.loads(h["data"])} for h in history]
    return d
