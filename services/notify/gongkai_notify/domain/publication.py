"""A document's publication deadlines from its events, pure (主动公开, 条例 第二十六条).

Information to be published proactively is published within 20 working days of being formed
or changed (``rules.proactive_publication_due``: the start day not counted, as for every period
of the profile). A document (publishing's aggregate, id = the document id) gets one deadline per
version whose attribute is 主动公开:

- ``document-registered`` (version 1): from ``metadata.formed_on`` (成文日期);
- ``document-amended`` (version n): from ``changed_on``;
- ``published`` (v2) or ``amended`` of version n **meets** the deadlines of versions up to n
  (the newest text is public, so the earlier one is too, superseded);
- an amendment does **not** stop an earlier version's deadline: what was formed had to be public
  within its 20 days, whatever came later (docs/decisions.md);
- a version whose latest attribute is no longer 主动公开 (依申请公开, 不予公开) closes the open
  deadlines, and ``repealed`` (废止) closes them too: there is nothing left to publish.

The deadlines are recorded, warned and breached like a case's (``recording.py``), on the
document's aggregate, with ``case_id`` = the document id and ``kind`` = ``publication``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from gongkai_shared.calendar import WorkingCalendar
from gongkai_shared.profiles import RuleProfile

from .deadlines import (
    CLOSED,
    DOCUMENT_EVENTS,
    MET,
    RUNNING,
    Cause,
    ClockEvent,
    Deadline,
    compute_case,
    deadline_id,
)
from .rules import proactive_publication_due

KIND = "publication"
PROACTIVE = "proactive"
# a document's events the clock folds; the first starts its clock
STARTS = "document-registered"
assert STARTS in DOCUMENT_EVENTS
DOCUMENT_CLOSING = frozenset({"repealed"})


def holder(kind: str) -> str:
    """What a notice calls the deadline's aggregate: 文件 (a document) or 案件 (a case)."""
    return "文件" if kind == KIND else "案件"


def document_data(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """The part of a document's event the clock needs: versions, dates, the attribute (never the
    text, which can be 200,000 characters)."""
    if name == STARTS:
        m = data["metadata"]
        return {"document_version": 1, "start_on": m["formed_on"], "attribute": m["attribute"]}
    if name == "document-amended":
        m = data["metadata"]
        return {"document_version": data["document_version"], "start_on": data["changed_on"],
                "attribute": m["attribute"]}  # fmt: skip
    if name in ("published", "amended"):
        return {"document_version": data.get("document_version", 1)}
    return {"repealed_on": data.get("repealed_on")}


@dataclass
class _Version:
    n: int
    start_on: date
    cause: Cause
    met_by: Cause | None = None


def compute_document(
    document_id: str, events: Iterable[ClockEvent], p: RuleProfile, calendar: WorkingCalendar
) -> list[Deadline]:
    """Every publication deadline of the document, as of its events (in log order)."""
    versions: dict[int, _Version] = {}
    proactive = False
    closed: Cause | None = None
    for e in events:
        c, d = Cause(e.id, e.name), e.data
        if e.name in (STARTS, "document-amended"):
            proactive = d["attribute"] == PROACTIVE
            n = d["document_version"]
            if proactive and n not in versions:
                versions[n] = _Version(n, date.fromisoformat(d["start_on"]), c)
        elif e.name in ("published", "amended"):
            for v in versions.values():
                if v.n <= d["document_version"] and v.met_by is None:
                    v.met_by = c
        elif e.name in DOCUMENT_CLOSING and closed is None:
            closed = c
    out: list[Deadline] = []
    for v in versions.values():
        due = proactive_publication_due(v.start_on, p, calendar)
        if v.met_by is not None:
            status, cause = MET, v.met_by
        elif closed is not None or not proactive:
            status, cause = CLOSED, closed or v.cause
        else:
            status, cause = RUNNING, v.cause
        out.append(
            Deadline(
                deadline_id=deadline_id(document_id, KIND, f"v{v.n}"),
                case_id=document_id,
                kind=KIND,
                subject=f"第{v.n}版",
                start_on=v.start_on,
                base_days=p.proactive_publication_days,
                extension_days=0,
                due_on=due.due,
                profile=p.ref,
                calendar_version=due.calendar_version,
                provisional=due.provisional,
                status=status,
                enforced=True,
                count_start=p.count_receipt_day,
                cause=cause,
                trace=due.trace,
                status_cause=cause if status != RUNNING else None,
            )
        )
    return out


def compute(
    aggregate_id: str, events: Iterable[ClockEvent], p: RuleProfile, calendar: WorkingCalendar
) -> list[Deadline]:
    """The deadlines of a case or of a document: a document's clock starts at its registration."""
    events = list(events)
    if events and events[0].name == STARTS:
        return compute_document(aggregate_id, events, p, calendar)
    return compute_case(aggregate_id, events, p, calendar)
