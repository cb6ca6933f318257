"""A case's letters as official documents (issue 9): the list, and each letter as PDF (GB/T 9704
layout, ``pdf.py``) or as text, exactly as its event keeps it.

Whoever may read the case may read its letters (``READERS``): a department handler only on cases
assigned to their department (letters carry no contact or identity details to mask); any other
role's read is recorded in the log first (``personal-data-viewed``), as for the case itself.
Applicants are sent their letters by notify and download them, with the answer's disclosed
documents, by tracking code from intake (``gongkai_intake.downloads``), which keeps its own copy of
each letter in its projection and renders the same PDF (``gongkai_shared.letterpdf``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from gongkai_shared import letterpdf as pdf
from gongkai_shared.envelope import Actor
from gongkai_shared.events import Letter
from gongkai_shared.runtime import Runtime

from .api import CASE_READ_ERRORS, READERS, CaseId
from .scope import check_department, handler_department, record_read

router = APIRouter(prefix="/api/v1/cases", tags=["cases 案件"])
FORMATS = {"pdf": "application/pdf", "txt": "text/plain; charset=utf-8"}


async def _letters(request: Request, actor: Actor, case_id: str) -> list[dict[str, Any]]:
    """The case's letters in order (each with the id of the event that sent it), once the reader
    is allowed to see them."""
    rt: Runtime = request.app.state.runtime
    departments = await rt.pool.fetchval("SELECT departments FROM cases WHERE case_id=$1", case_id)
    if departments is None:
        raise HTTPException(404, "案件不存在 (no such case)")
    department = handler_department(request, actor)
    if department is not None:
        check_department(department, list(departments))
    rows = await rt.pool.fetch(
        "SELECT seq, at, event, data FROM case_trail WHERE case_id=$1 AND data ? 'letter' ORDER BY seq",
        case_id,
    )
    stored = await asyncio.gather(*(rt.store.get(r["seq"]) for r in rows))
    if department is None:
        await record_read(rt, actor, case_id)  # the read is in the log before the data leaves
    return [
        {
            "event_id": s.id,
            "event": r["event"],
            "sequence": r["seq"],
            "at": r["at"].isoformat(),
            "letter": Letter.model_validate(json.loads(r["data"])["letter"]),
        }
        for r, s in zip(rows, stored, strict=True)
    ]


@router.get("/{case_id}/letters", summary="案件的文书（告知书、征求意见书等）", responses=CASE_READ_ERRORS)
async def list_letters(case_id: CaseId, request: Request, actor: Actor = Depends(READERS)) -> dict:
    items = await _letters(request, actor, case_id)
    return {
        "case_id": case_id,
        "items": [
            {
                "event_id": i["event_id"],
                "event": i["event"],
                "sequence": i["sequence"],
                "at": i["at"],
                "kind": i["letter"].kind,
                "title": i["letter"].title,
                "number": i["letter"].number,
                "issued_on": i["letter"].issued_on.isoformat() if i["letter"].issued_on else None,
                "recipient": i["letter"].recipient,
                "pdf": f"/api/v1/cases/{case_id}/letters/{i['event_id']}.pdf",
                "txt": f"/api/v1/cases/{case_id}/letters/{i['event_id']}.txt",
            }
            for i in items
        ],
    }


@router.get(
    "/{case_id}/letters/{filename}",
    summary="文书下载：{event_id}.pdf（GB/T 9704 版式）或 {event_id}.txt",
    responses={**CASE_READ_ERRORS, 200: {"content": {m: {} for m in FORMATS.values()}}},
    response_class=Response,
)
async def get_letter(
    case_id: CaseId, filename: str, request: Request, actor: Actor = Depends(READERS)
) -> Response:
    event_id, _, fmt = filename.rpartition(".")
    if fmt not in FORMATS or not event_id:
        raise HTTPException(404, "文书格式只有 .pdf 与 .txt (a letter is <event_id>.pdf or <event_id>.txt)")
    found = next((i for i in await _letters(request, actor, case_id) if i["event_id"] == event_id), None)
    if found is None:
        raise HTTPException(404, "该案件没有此文书 (no such letter in this case)")
    letter: Letter = found["letter"]
    content = pdf.render(letter) if fmt == "pdf" else f"{letter.title}\n\n{letter.body}".encode()
    name = f"{letter.number or letter.title}.{fmt}"
    return Response(
        content,
        media_type=FORMATS[fmt],
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(name, safe='')}"},
    )
