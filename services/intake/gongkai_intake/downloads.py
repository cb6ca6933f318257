"""The applicant's downloads, by tracking code (issue 9): the letters the office sent them, as PDF
(GB/T 9704 layout, ``gongkai_shared.letterpdf``) or text, and the documents disclosed with the
answer, from the object store.

Intake owns the applicant's view: its projection keeps each letter as the event that sent it
carried it, and the answer's document references (``answer-sent``'s ``documents``), so nothing
is asked of review. Only those references are served: never an identity proof, never another
case's file. An unknown code is 404 with no hint, as tracking is; the same rate limit applies.
"""

from __future__ import annotations

import mimetypes
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, Request, Response

from gongkai_shared import letterpdf
from gongkai_shared.events import Letter
from gongkai_shared.files import FileMissing, FileRef, store_of
from gongkai_shared.web import error_responses

from . import queries
from .api import NOT_FOUND, TrackingCode, rate_limited
from .domain import tracking_hash

router = APIRouter(prefix="/api/v1/applications", tags=["applications 申请"])
FORMATS = {"pdf": "application/pdf", "txt": "text/plain; charset=utf-8"}
FileName = Annotated[str, Path(max_length=100, pattern=r"^[0-9a-z]+\.[a-z0-9]+$")]


async def _files(request: Request, code: str) -> dict:
    found = await queries.applicant_files(request.app.state.runtime.pool, tracking_hash(code))
    if found is None:
        raise HTTPException(404, NOT_FOUND)
    return found


def extension(media_type: str) -> str:
    return (mimetypes.guess_extension(media_type) or ".bin").lstrip(".")


def listing(code: str, found: dict) -> dict:
    """The applicant's letters and documents with their download links."""
    base = f"/api/v1/applications/{code}"
    return {
        "letters": [
            {
                "sequence": x["sequence"],
                "event": x["event"],
                "kind": x["letter"]["kind"],
                "title": x["letter"]["title"],
                "number": x["letter"].get("number"),
                "issued_on": x["letter"].get("issued_on"),
                "pdf": f"{base}/letters/{x['sequence']}.pdf",
                "txt": f"{base}/letters/{x['sequence']}.txt",
            }
            for x in found["letters"]
        ],
        "documents": [
            {
                "number": n,
                "media_type": d["media_type"],
                "size": d["size"],
                "sha256": d["sha256"],
                "href": f"{base}/documents/{d['sha256']}.{extension(d['media_type'])}",
            }
            for n, d in enumerate(found["documents"], start=1)
        ],
    }


@router.get(
    "/{tracking_code}/letters",
    summary="申请人的文书与答复所附文件（凭查询码）",
    responses=error_responses(404, 422, 429),
    dependencies=[rate_limited("lookups")],
)
async def list_downloads(tracking_code: TrackingCode, request: Request) -> dict:
    return listing(tracking_code, await _files(request, tracking_code))


@router.get(
    "/{tracking_code}/letters/{filename}",
    summary="下载文书：{sequence}.pdf（GB/T 9704 版式）或 {sequence}.txt",
    responses={**error_responses(404, 422, 429), 200: {"content": {m: {} for m in FORMATS.values()}}},
    response_class=Response,
    dependencies=[rate_limited("lookups")],
)
async def get_letter(tracking_code: TrackingCode, filename: FileName, request: Request) -> Response:
    sequence, _, fmt = filename.partition(".")
    found = await _files(request, tracking_code)
    item = next((x for x in found["letters"] if str(x["sequence"]) == sequence), None)
    if item is None or fmt not in FORMATS:
        raise HTTPException(404, "没有此文书 (no such letter for this application)")
    letter = Letter.model_validate(item["letter"])
    content = letterpdf.render(letter) if fmt == "pdf" else f"{letter.title}\n\n{letter.body}".encode()
    return _download(content, FORMATS[fmt], f"{letter.number or letter.title}.{fmt}")


@router.get(
    "/{tracking_code}/documents/{filename}",
    summary="下载答复所附的政府信息文件",
    responses={**error_responses(404, 422, 429), 200: {"content": {"application/octet-stream": {}}}},
    response_class=Response,
    dependencies=[rate_limited("lookups")],
)
async def get_document(tracking_code: TrackingCode, filename: FileName, request: Request) -> Response:
    sha256 = filename.partition(".")[0]
    found = await _files(request, tracking_code)
    doc = next((d for d in found["documents"] if d["sha256"] == sha256), None)
    if doc is None:
        raise HTTPException(404, "没有此文件 (no such document in this answer)")
    ref = FileRef.model_validate(doc)
    try:
        data = await store_of(request.app.state).read(ref)
    except FileMissing:
        raise HTTPException(404, "文件已不存在 (the document is no longer stored)") from None
    return _download(data, ref.media_type, f"{found['case_id']}-{sha256[:12]}.{extension(ref.media_type)}")


def _download(content: bytes, media_type: str, name: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}"},
    )
