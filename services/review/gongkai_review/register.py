"""Review's copy of the agency's documents and of the refusal register (issue 10), part of the
cases projection (``projection.py`` calls :func:`apply` for each of :data:`EVENTS`, in log order).

- ``review_documents``: publishing's ``document-registered``, ``document-amended`` and
  ``repealed`` (services talk only through events), so a decision names documents by id and copies
  their identity (``DocumentRef``: id, title, 文号, issuing body) into its events.
- ``refusal_register``: what every signed decision adds (``information.register_entries``, the one
  rule; publishing projects the same), reviewed (``refusal-reviewed``: kept, next review date)
  and lifted (``refusal-lifted``) on the entry's own subject ``foi.review.<entry-id>.*``; an entry
  is due for review ``REVIEW_EVERY_DAYS`` after its registration, then on each review's
  ``next_review_on`` (Art. 18). ``refusal_history``: the decision and each review and lifting.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import asyncpg

from gongkai_shared.clock import OFFICE_TZ
from gongkai_shared.eventstore import StoredEvent
from gongkai_shared.information import REGISTERING_EVENTS, REVIEW_EVERY_DAYS, register_entries

DOCUMENT_EVENTS = frozenset({"document-registered", "document-amended", "repealed"})
ENTRY_EVENTS = frozenset({"refusal-reviewed", "refusal-lifted"})
EVENTS = DOCUMENT_EVENTS | ENTRY_EVENTS | frozenset(REGISTERING_EVENTS)


async def apply(conn: asyncpg.Connection, event: StoredEvent) -> None:
    """One event's effect on the documents and the register (nothing for other events)."""
    env, name, d = event.envelope, event.name, event.envelope.data
    if name in DOCUMENT_EVENTS and event.context == "publishing":
        await _document(conn, event)
    elif name in REGISTERING_EVENTS and event.context == "review":
        day = env.time.astimezone(OFFICE_TZ).date()
        for e in register_entries(name, env.id, d):
            inserted = await conn.fetchval(
                "INSERT INTO refusal_register(entry_id, document_id, title, doc_number, issuing_body, part,"
                " reason, explanation, case_id, decision, registered_on, registered_seq, review_due_on)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT DO NOTHING RETURNING true",
                e.entry_id, e.document_id, e.title, e.doc_number, e.issuing_body, e.part, e.reason,
                e.explanation, e.case_id, name, day, event.seq, day + timedelta(days=REVIEW_EVERY_DAYS),
            )  # fmt: skip
            if inserted:  # the decision, without the application's wording
                slim = {k: d.get(k) for k in ("case_id", "outcome_code", "draft_id")}
                await _history(conn, e.entry_id, event, slim)
    elif name in ENTRY_EVENTS and event.context == "review":
        entry = env.subject
        if name == "refusal-reviewed":
            await conn.execute(
                "UPDATE refusal_register SET review_due_on=$2, last_reviewed_on=$3, last_review_reason=$4,"
                " last_seq=$5 WHERE entry_id=$1",
                entry, date.fromisoformat(d["next_review_on"]), env.time.astimezone(OFFICE_TZ).date(),
                d["reason"], event.seq,
            )  # fmt: skip
        else:
            await conn.execute(
                "UPDATE refusal_register SET lifted_on=$2, lifted_reason=$3, last_seq=$4 WHERE entry_id=$1",
                entry, date.fromisoformat(d["lifted_on"]), d["reason"], event.seq,
            )  # fmt: skip
        await _history(conn, entry, event, d)


async def _document(conn: asyncpg.Connection, event: StoredEvent) -> None:
    d = event.envelope.data
    if event.name == "repealed":
        await conn.execute(
            "UPDATE review_documents SET repealed_on=$2, updated_seq=$3 WHERE document_id=$1",
            d["document_id"], date.fromisoformat(d["repealed_on"]), event.seq,
        )  # fmt: skip
        return
    m = d["metadata"]
    version = d.get("document_version", 1)
    # a version older than the one known changes nothing (amendments are applied in log order)
    await conn.execute(
        "INSERT INTO review_documents(document_id, version, title, doc_number, issuing_body, department,"
        " attribute, formed_on, updated_seq) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
        " ON CONFLICT (document_id) DO UPDATE SET version=EXCLUDED.version, title=EXCLUDED.title,"
        " doc_number=EXCLUDED.doc_number, issuing_body=EXCLUDED.issuing_body, attribute=EXCLUDED.attribute,"
        " formed_on=EXCLUDED.formed_on, updated_seq=EXCLUDED.updated_seq"
        " WHERE review_documents.version < EXCLUDED.version",
        d["document_id"], version, m["title"], m.get("doc_number"), m["issuing_body"],
        d.get("department") or "", m["attribute"], date.fromisoformat(m["formed_on"]), event.seq,
    )  # fmt: skip


async def _history(conn: asyncpg.Connection, entry_id: str, event: StoredEvent, data: dict) -> None:
    env = event.envelope
    await conn.execute(
        "INSERT INTO refusal_history(entry_id, seq, at, event, actor, role, data)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
        entry_id, event.seq, env.time, event.name, env.actor, env.actorrole, json.dumps(data),
    )  # fmt: skip
