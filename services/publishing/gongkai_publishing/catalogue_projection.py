"""The public events into the catalogue's read model (migration 0004's tables).

``published`` v2 and ``amended`` (a :class:`CatalogueItem`) upsert the item, its version and its
links; ``repealed`` sets its validity. Written by the catalogue's read side (wt-catalogue) so its
tests run through events; the write side's projection (``projection.py``) is meant to call
:func:`apply_public_event` for these three events (or replace it with its own, same tables).
"""

from __future__ import annotations

import json
from datetime import date

import asyncpg

from gongkai_shared.events import Amended, CatalogueItem, PublishedV2, Repealed
from gongkai_shared.eventstore import StoredEvent

PUBLIC_EVENTS = ("published", "amended", "repealed")


async def _upsert(
    conn: asyncpg.Connection, item: CatalogueItem, event: StoredEvent, amended: tuple[str, date] | None
) -> None:
    reason, changed_on = amended if amended else (None, None)
    m = item.metadata
    await conn.execute(
        "INSERT INTO catalog_items(index_number, item_id, title, body, agency_code, published_on,"
        " event_id, seq, document_id, document_version, summary, doc_number, issuing_body,"
        " formed_on, category, kind, keywords, attribute, source, files, index_year, index_seq,"
        " updated_on, updated_seq)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$2,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$8)"
        " ON CONFLICT (index_number) DO UPDATE SET title=$3, body=$4, document_version=$9,"
        " summary=$10, doc_number=$11, issuing_body=$12, formed_on=$13, category=$14, kind=$15,"
        " keywords=$16, attribute=$17, files=$19, updated_on=$22, updated_seq=$8",
        item.index_number,
        item.document_id,
        m.title,
        m.body,
        item.agency_code,
        item.published_on,
        event.id,
        event.seq,
        item.document_version,
        m.summary,
        m.doc_number,
        m.issuing_body,
        m.formed_on,
        m.category,
        m.kind.value,
        list(m.keywords),
        m.attribute.value,
        item.source,
        json.dumps([f.model_dump(mode="json", include={"sha256", "size", "media_type"}) for f in m.files]),
        item.index_year,
        item.index_seq,
        changed_on,
    )
    await conn.execute(
        "INSERT INTO catalog_versions(document_id, document_version, index_number, metadata,"
        " published_on, reason, seq) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
        item.document_id,
        item.document_version,
        item.index_number,
        m.model_dump_json(),
        changed_on or item.published_on,
        reason,
        event.seq,
    )
    links = [(item.document_id, m.interprets, "interprets")] if m.interprets else []
    links += [(link.document_id, item.document_id, "interprets") for link in item.interpretations]
    links += [(item.document_id, old, "replaces") for old in m.replaces]
    for src, dst, kind in links:
        await conn.execute(
            "INSERT INTO catalog_links(from_document, to_document, kind, seq) VALUES ($1,$2,$3,$4)"
            " ON CONFLICT DO NOTHING",
            src,
            dst,
            kind,
            event.seq,
        )


async def apply_public_event(conn: asyncpg.Connection, event: StoredEvent) -> None:
    """Apply one ``published`` v2, ``amended`` or ``repealed`` event (others are ignored)."""
    if event.name not in PUBLIC_EVENTS:
        return
    body = event.body()
    if isinstance(body, Amended):
        await _upsert(conn, body, event, (body.reason, body.amended_on))
    elif isinstance(body, PublishedV2):
        await _upsert(conn, body, event, None)
    elif isinstance(body, Repealed):
        await conn.execute(
            "UPDATE catalog_items SET valid=false, repealed_on=$2, updated_seq=$3 WHERE document_id=$1",
            body.document_id,
            body.repealed_on,
            event.seq,
        )
        if body.replaced_by is not None:
            await conn.execute(
                "INSERT INTO catalog_links(from_document, to_document, kind, seq)"
                " VALUES ($1,$2,'replaces',$3) ON CONFLICT DO NOTHING",
                body.replaced_by.document_id,
                body.document_id,
                event.seq,
            )
