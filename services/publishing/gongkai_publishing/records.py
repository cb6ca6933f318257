"""Publishing's reads for its commands and reactions: a document's state, its relations, the
standing refusal register, what a case's answer disclosed (all from the projection)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from gongkai_shared.events import DocumentMetadata
from gongkai_shared.information import RegisterEntry

from .domain import CaseDisclosure, DocumentState, Version


async def load_documents(pool: asyncpg.Pool | asyncpg.Connection, ids: list[str]) -> dict[str, DocumentState]:
    """The documents named (those that exist), with every version."""
    if not ids:
        return {}
    rows = await pool.fetch("SELECT * FROM documents WHERE document_id = ANY($1::text[])", ids)
    versions = await pool.fetch(
        "SELECT * FROM document_versions WHERE document_id = ANY($1::text[]) ORDER BY version", ids
    )
    by_doc: dict[str, dict[int, Version]] = {}
    for v in versions:
        by_doc.setdefault(v["document_id"], {})[v["version"]] = Version(
            number=v["version"],
            metadata=DocumentMetadata.model_validate_json(v["metadata"]),
            submitted_by=v["submitted_by"],
            reason=v["reason"],
            changed_on=v["changed_on"],
            review_passed=v["review_passed"],
            signed_by=v["signed_by"],
        )
    return {
        r["document_id"]: DocumentState(
            document_id=r["document_id"],
            department=r["department"],
            versions=by_doc[r["document_id"]],
            published_version=r["published_version"],
            index_number=r["index_number"],
            repealed_on=r["repealed_on"],
        )
        for r in rows
    }


async def load_document(pool: asyncpg.Pool, document_id: str) -> tuple[DocumentState | None, int]:
    """The document and the log position of its last event (0: none)."""
    state = (await load_documents(pool, [document_id])).get(document_id)
    seq = await pool.fetchval("SELECT last_seq FROM documents WHERE document_id=$1", document_id)
    return state, seq or 0


async def interpretations_of(pool: asyncpg.Pool, policy_id: str) -> list[DocumentState]:
    ids = [r["document_id"] for r in await pool.fetch(
        "SELECT document_id FROM documents WHERE interprets=$1 ORDER BY first_seq", policy_id
    )]  # fmt: skip
    found = await load_documents(pool, ids)
    return [found[i] for i in ids]


async def existing(pool: asyncpg.Pool, ids: list[str]) -> set[str]:
    rows = await pool.fetch("SELECT document_id FROM documents WHERE document_id = ANY($1::text[])", ids)
    return {r["document_id"] for r in rows}


def _entry(r: asyncpg.Record) -> RegisterEntry:
    return RegisterEntry(
        entry_id=r["entry_id"], document_id=r["document_id"], title=r["title"], doc_number=r["doc_number"],
        issuing_body=r["issuing_body"], part=r["part"], reason=r["reason"], explanation=r["explanation"],
        case_id=r["case_id"],
    )  # fmt: skip


async def standing_entries(pool: asyncpg.Pool, document_ids: list[str]) -> list[RegisterEntry]:
    """The register's standing (not lifted) entries naming these documents."""
    rows = await pool.fetch(
        "SELECT * FROM refusal_entries WHERE document_id = ANY($1::text[]) AND lifted_on IS NULL"
        " ORDER BY seq",
        document_ids,
    )
    return [_entry(r) for r in rows]


async def case_disclosure(pool: asyncpg.Pool, case_id: str) -> CaseDisclosure | None:
    r = await pool.fetchrow("SELECT * FROM case_disclosures WHERE case_id=$1", case_id)
    if r is None:
        return None
    # what the answer disclosed: as it names them, else as the signed decision did
    return CaseDisclosure(case_id, r["answered_on"], frozenset(r["disclosed"]) | frozenset(r["approved"]))


async def event_by_id(pool: asyncpg.Pool, event_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM document_events WHERE event_id=$1", event_id)


async def document_view(pool: asyncpg.Pool, document_id: str) -> dict[str, Any] | None:
    """A document for staff: its state, every version and its history."""
    row = await pool.fetchrow("SELECT * FROM documents WHERE document_id=$1", document_id)
    if row is None:
        return None
    versions = await pool.fetch(
        "SELECT version, metadata, submitted_by, reason, changed_on, review_passed, review_notes,"
        " reviewed_by, signed_by FROM document_versions WHERE document_id=$1 ORDER BY version",
        document_id,
    )
    history = await pool.fetch(
        "SELECT seq, name, actor, at, data FROM document_events WHERE aggregate_id=$1 ORDER BY seq",
        document_id,
    )
    out = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dict(row).items()}
    out["versions"] = [
        {**dict(v), "metadata": json.loads(v["metadata"]),
         "changed_on": v["changed_on"].isoformat() if v["changed_on"] else None}
        for v in versions
    ]  # fmt: skip
    out["history"] = [
        {"seq": h["seq"], "event": h["name"], "actor": h["actor"], "at": h["at"].isoformat(),
         "data": json.loads(h["data"])}
        for h in history
    ]  # fmt: skip
    return out
