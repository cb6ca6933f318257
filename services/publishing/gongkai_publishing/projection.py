"""Publishing's projection: documents and their workflow, the catalogue, the index numbers the
log has used, what answers disclosed (Art. 44), and the refusal register by document.

Tables: ``documents``, ``document_versions``, ``document_events`` (migration 0005); the catalogue
``catalog_items``, ``catalog_links``, ``catalog_versions`` (0004, read by queries.py);
``index_allocations``, ``index_counters`` (0001: filled from the log, so a rebuilt database
knows every number used); ``case_disclosures``, ``refusal_entries`` (0005); the register of before
issue 10, ``refusal_register`` (0002: listed, blocks nothing). Both versions of ``published``
are read.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import asyncpg

from gongkai_shared.eventstore import StoredEvent
from gongkai_shared.information import register_entries

from .domain import legacy_refusals, refusal_key

DOCUMENT_EVENTS = (
    "document-registered", "document-amended", "document-reviewed", "document-signed", "repealed",
    "published", "amended", "publication-refused", "publication-decided",
)  # fmt: skip


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class CatalogProjection:
    name = "publishing.catalog"

    async def apply(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        env, d, name = event.envelope, event.envelope.data, event.name
        await self._register(conn, event)
        if event.context == "publishing" and name in DOCUMENT_EVENTS:
            await conn.execute(
                "INSERT INTO document_events(event_id, aggregate_id, seq, name, actor, at, data)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
                env.id, env.subject, event.seq, name, env.actor, env.time, json.dumps(d, ensure_ascii=False),
            )  # fmt: skip
        if name == "answer-sent":
            disclosed = [x["document_id"] for x in d.get("disclosed_documents") or []]
            await conn.execute(
                "INSERT INTO case_disclosures(case_id, answered_on, disclosed, seq) VALUES ($1,$2,$3,$4)"
                " ON CONFLICT (case_id) DO UPDATE SET answered_on=EXCLUDED.answered_on,"
                " disclosed=EXCLUDED.disclosed, seq=EXCLUDED.seq",
                env.subject, _day(d["sent_on"]), disclosed, event.seq,
            )  # fmt: skip
        elif name == "review-approved" and d.get("documents"):
            approved = [x["document_id"] for x in d["documents"]]
            await conn.execute(
                "INSERT INTO case_disclosures(case_id, approved, seq) VALUES ($1,$2,$3)"
                " ON CONFLICT (case_id) DO UPDATE SET approved=EXCLUDED.approved, seq=EXCLUDED.seq",
                env.subject, approved, event.seq,
            )  # fmt: skip
        elif event.context != "publishing":
            # another service's event on a document's aggregate (notify's Art. 26 deadline-set,
            # -warning, -breached): the document's last event moved, and its commands expect it
            await conn.execute(
                "UPDATE documents SET last_seq=$2 WHERE document_id=$1 AND last_seq < $2",
                env.subject,
                event.seq,
            )
            return
        handler = _HANDLERS.get(name)
        if handler is not None:
            await handler(conn, event)

    async def _register(self, conn: asyncpg.Connection, event: StoredEvent) -> None:
        """The refusal register: documents a signed decision withheld, until lifted."""
        env = event.envelope
        for e in register_entries(event.name, env.id, env.data):
            await conn.execute(
                "INSERT INTO refusal_entries(entry_id, document_id, title, doc_number, issuing_body, part,"
                " reason, explanation, case_id, seq) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
                " ON CONFLICT DO NOTHING",
                e.entry_id, e.document_id, e.title, e.doc_number, e.issuing_body, e.part, e.reason,
                e.explanation, e.case_id, event.seq,
            )  # fmt: skip
        if event.name == "refusal-lifted":
            d = env.data
            await conn.execute(
                "UPDATE refusal_entries SET lifted_on=$2, lifted_reason=$3, lifted_seq=$4 WHERE entry_id=$1",
                d["entry_id"], _day(d["lifted_on"]), d["reason"], event.seq,
            )  # fmt: skip
        for kind, text, reason in legacy_refusals(event.name, env.data):  # listed; blocks nothing
            await conn.execute(
                "INSERT INTO refusal_register(case_id, kind, text, key, reason, seq)"
                " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
                env.subject, kind, text, refusal_key(text), reason, event.seq,
            )  # fmt: skip


# --- documents ---------------------------------------------------------------------------


async def _registered(conn: asyncpg.Connection, event: StoredEvent) -> None:
    d, m = event.envelope.data, event.envelope.data["metadata"]
    await conn.execute(
        "INSERT INTO documents(document_id, department, version, kind, attribute, interprets,"
        " first_seq, last_seq) VALUES ($1,$2,1,$3,$4,$5,$6,$6) ON CONFLICT DO NOTHING",
        d["document_id"], d["department"], m.get("kind", "document"), m["attribute"], m.get("interprets"),
        event.seq,
    )  # fmt: skip
    await _version(conn, event, 1, m, None, None)


async def _amended_document(conn: asyncpg.Connection, event: StoredEvent) -> None:
    d, m = event.envelope.data, event.envelope.data["metadata"]
    known = await conn.fetchval(
        "UPDATE documents SET version=$2, kind=$3, attribute=$4, interprets=$5, last_seq=$6"
        " WHERE document_id=$1 RETURNING true",
        d["document_id"], d["document_version"], m.get("kind", "document"), m["attribute"],
        m.get("interprets"), event.seq,
    )  # fmt: skip
    if not known:  # a version of a document never registered: nothing to attach it to (as for
        return  # a review or signature of one); the projection must not stop on it
    await _version(conn, event, d["document_version"], m, d["reason"], _day(d["changed_on"]))


async def _version(
    conn: asyncpg.Connection, event: StoredEvent, version: int, m: dict, reason: str | None, on: date | None
) -> None:
    await conn.execute(
        "INSERT INTO document_versions(document_id, version, metadata, submitted_by, reason, changed_on,"
        " seq) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
        event.envelope.data["document_id"], version, json.dumps(m, ensure_ascii=False),
        event.envelope.actor, reason, on, event.seq,
    )  # fmt: skip


async def _reviewed(conn: asyncpg.Connection, event: StoredEvent) -> None:
    d = event.envelope.data
    await conn.execute(
        "UPDATE document_versions SET review_passed=$3, review_notes=$4, reviewed_by=$5"
        " WHERE document_id=$1 AND version=$2",
        d["document_id"], d["document_version"], d["passed"], d.get("notes") or "", event.envelope.actor,
    )  # fmt: skip
    await _touch(conn, d["document_id"], event.seq)


async def _signed(conn: asyncpg.Connection, event: StoredEvent) -> None:
    d = event.envelope.data
    await conn.execute(
        "UPDATE document_versions SET signed_by=$3 WHERE document_id=$1 AND version=$2",
        d["document_id"], d["document_version"], event.envelope.actor,
    )  # fmt: skip
    await _touch(conn, d["document_id"], event.seq)


async def _touch(conn: asyncpg.Connection, document_id: str, seq: int) -> None:
    await conn.execute("UPDATE documents SET last_seq=$2 WHERE document_id=$1", document_id, seq)


async def _repealed(conn: asyncpg.Connection, event: StoredEvent) -> None:
    d = event.envelope.data
    on, replaced = _day(d["repealed_on"]), (d.get("replaced_by") or {}).get("document_id")
    await conn.execute(
        "UPDATE documents SET repealed_on=$2, repeal_reason=$3, replaced_by=$4, last_seq=$5"
        " WHERE document_id=$1",
        d["document_id"], on, d["reason"], replaced, event.seq,
    )  # fmt: skip
    await conn.execute(
        "UPDATE catalog_items SET valid=false, repealed_on=$2, updated_seq=$3 WHERE document_id=$1",
        d["document_id"], on, event.seq,
    )  # fmt: skip


async def _refused(conn: asyncpg.Connection, event: StoredEvent) -> None:
    d = event.envelope.data
    if "document_id" in d:  # v2 (v1 named a catalogue item of an approval)
        await _touch(conn, d["document_id"], event.seq)


# --- index numbers ----------------------------------------------------------------------


async def _allocated(
    conn: asyncpg.Connection, event: StoredEvent, item_id: str, number: str, agency: str, year: int, seq: int
) -> None:
    """A number the log used: never handed out again, also after a rebuild."""
    await conn.execute(
        "INSERT INTO index_allocations(item_id, index_number, year, seq, allocated_at)"
        " VALUES ($1,$2,$3,$4,$5) ON CONFLICT (item_id) DO NOTHING",
        item_id, number, year, seq, event.envelope.time,
    )  # fmt: skip
    await conn.execute(
        "INSERT INTO index_counters(agency_code, year, last_seq) VALUES ($1,$2,$3)"
        " ON CONFLICT (agency_code, year)"
        " DO UPDATE SET last_seq = GREATEST(index_counters.last_seq, EXCLUDED.last_seq)",
        agency, year, seq,
    )  # fmt: skip


async def _assigned(conn: asyncpg.Connection, event: StoredEvent) -> None:
    d = event.envelope.data
    await _allocated(conn, event, d["document_id"], d["index_number"], d["agency_code"], d["year"], d["seq"])


# --- the catalogue ----------------------------------------------------------------------


async def _published(conn: asyncpg.Connection, event: StoredEvent) -> None:
    d = event.envelope.data
    if "item_id" in d:  # version 1
        await _published_v1(conn, event)
        return
    m = d["metadata"]
    await conn.execute(
        "INSERT INTO catalog_items(index_number, item_id, title, body, agency_code, published_on,"
        " event_id, seq, document_id, document_version, summary, doc_number, issuing_body, formed_on,"
        " category, kind, keywords, attribute, source, files, valid, index_year, index_seq,"
        " updated_seq) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$2,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,"
        " true,$20,$21,$8) ON CONFLICT (index_number) DO NOTHING",
        d["index_number"], d["document_id"], m["title"], m.get("body") or "", d["agency_code"],
        _day(d["published_on"]), event.id, event.seq, d["document_version"], m["summary"],
        m.get("doc_number"), m["issuing_body"], _day(m["formed_on"]), m["category"],
        m.get("kind", "document"), m.get("keywords") or [], m["attribute"], d["source"],
        json.dumps(m.get("files") or []), d["index_year"], d["index_seq"],
    )  # fmt: skip
    await _item_version(conn, event, None)
    await _links(conn, event)
    await _shown(conn, event)
    await _allocated(
        conn, event, d["document_id"], d["index_number"], d["agency_code"], d["index_year"], d["index_seq"]
    )


async def _amended(conn: asyncpg.Connection, event: StoredEvent) -> None:
    d = event.envelope.data
    m = d["metadata"]
    await conn.execute(
        "UPDATE catalog_items SET title=$2, body=$3, document_version=$4, summary=$5, doc_number=$6,"
        " issuing_body=$7, formed_on=$8, category=$9, keywords=$10, attribute=$11, files=$12,"
        " updated_on=$13, updated_seq=$14 WHERE document_id=$1",
        d["document_id"], m["title"], m.get("body") or "", d["document_version"], m["summary"],
        m.get("doc_number"), m["issuing_body"], _day(m["formed_on"]), m["category"],
        m.get("keywords") or [], m["attribute"], json.dumps(m.get("files") or []),
        _day(d["amended_on"]), event.seq,
    )  # fmt: skip
    await _item_version(conn, event, d["reason"])
    await conn.execute("DELETE FROM catalog_links WHERE from_document=$1", d["document_id"])
    await _links(conn, event)
    await _shown(conn, event)


async def _item_version(conn: asyncpg.Connection, event: StoredEvent, reason: str | None) -> None:
    d = event.envelope.data
    on = d.get("amended_on") or d["published_on"]
    await conn.execute(
        "INSERT INTO catalog_versions(document_id, document_version, index_number, metadata,"
        " published_on, reason, seq) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
        d["document_id"], d["document_version"], d["index_number"],
        json.dumps(d["metadata"], ensure_ascii=False), _day(on), reason, event.seq,
    )  # fmt: skip


async def _links(conn: asyncpg.Connection, event: StoredEvent) -> None:
    """Links by document, both ways readable (catalog_links_to): an interpretation names its
    policy; a policy's interpretations name it; a document names those it replaces."""
    d = event.envelope.data
    rows: list[tuple[str, str, str]] = []
    if d.get("interprets"):
        rows.append((d["document_id"], d["interprets"]["document_id"], "interprets"))
    rows += [(i["document_id"], d["document_id"], "interprets") for i in d.get("interpretations") or []]
    rows += [(d["document_id"], r["document_id"], "replaces") for r in d.get("replaces") or []]
    for a, b, kind in rows:
        await conn.execute(
            "INSERT INTO catalog_links(from_document, to_document, kind, seq) VALUES ($1,$2,$3,$4)"
            " ON CONFLICT DO NOTHING",
            a, b, kind, event.seq,
        )  # fmt: skip


async def _shown(conn: asyncpg.Connection, event: StoredEvent) -> None:
    d = event.envelope.data
    await conn.execute(
        "UPDATE documents SET published_version=$2, index_number=$3, last_seq=$4 WHERE document_id=$1",
        d["document_id"], d["document_version"], d["index_number"], event.seq,
    )  # fmt: skip


async def _published_v1(conn: asyncpg.Connection, event: StoredEvent) -> None:
    """Before issue 10: an approval's catalogue item (no document)."""
    d: dict[str, Any] = event.envelope.data
    await conn.execute(
        "INSERT INTO catalog_items(index_number, item_id, title, body, agency_code,"
        " published_on, source_case_id, event_id, seq, index_year, index_seq, updated_seq)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$9)",
        d["index_number"], d["item_id"], d["title"], d["content"], d["agency_code"],
        _day(d["published_on"]), d.get("source_case_id"), event.id, event.seq, d["index_year"],
        d["index_seq"],
    )  # fmt: skip
    await _allocated(
        conn, event, d["item_id"], d["index_number"], d["agency_code"], d["index_year"], d["index_seq"]
    )


_HANDLERS = {
    "document-registered": _registered,
    "document-amended": _amended_document,
    "document-reviewed": _reviewed,
    "document-signed": _signed,
    "repealed": _repealed,
    "publication-refused": _refused,
    "index-number-assigned": _assigned,
    "published": _published,
    "amended": _amended,
}
