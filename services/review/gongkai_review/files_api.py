"""Files of a case (issue 9, Art. 29, 36, 40): the applicant's identity proof and the documents
disclosed with the answer, in the object store (``gongkai_shared.files``).

- ``POST /api/v1/documents``: staff upload a document to disclose (PDF, JPEG, PNG); it is
  stored as it is (public, not encrypted) and the answer is its reference, which
  ``POST /api/v1/cases/{id}/documents`` (the ``attach_document`` row) attaches to a case.
- ``GET /api/v1/cases/{id}/identity-proof``: registrars, reviewers and approvers read the
  applicant's proof, decrypted; the read is recorded (``personal-data-viewed``, item
  ``identity-proof``) before a byte leaves. Handlers see the applicant's identity details
  masked (``scope.py``): they are refused, whatever their department.
- ``GET /api/v1/cases/{id}/documents/{sha256}``: a document attached to the case, for staff
  who may read the case.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Path, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from gongkai_shared.auth import Role
from gongkai_shared.envelope import Actor
from gongkai_shared.files import BadUpload, FileMissing, FileRef, read_upload, store_of
from gongkai_shared.web import error_body, error_responses, staff

from . import queries
from .api import READERS, CaseId
from .scope import check_department, handler_department, record_read

router = APIRouter(tags=["files 文件"])
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the document (hex)")]
NO_CASE = "案件不存在 (no such case)"


def _file(data: bytes, ref: FileRef, name: str) -> Response:
    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[ref.media_type]
    headers = {
        "Content-Disposition": f'attachment; filename="{name}.{ext}"',
        "Cache-Control": "no-store",
        "X-Content-SHA256": ref.sha256,
    }
    return Response(data, media_type=ref.media_type, headers=headers)


@router.post(
    "/api/v1/documents",
    status_code=201,
    response_model=FileRef,
    summary="上传拟公开的文件（经办人、审核人）",
    responses=error_responses(401, 403, 413, 422),
)
async def upload_document(
    request: Request,
    file: UploadFile = File(...),
    _: Actor = Depends(staff(Role.handler, Role.reviewer)),
) -> FileRef | JSONResponse:
    """A document to disclose, stored as it is and named by its SHA-256; attach it to a case with
    ``POST /api/v1/cases/{id}/documents``. A bad file is a 422 naming ``file``, nothing stored."""
    try:
        data, media_type = await read_upload(file, request.app.state.settings.upload_max_bytes, "file")
    except BadUpload as e:
        body = error_body(422, "上传文件不符合要求 (invalid upload)", [{"field": e.field, "message": str(e)}])
        return JSONResponse(body, 422)
    return await store_of(request.app.state).put_public(data, media_type)


@router.get(
    "/api/v1/cases/{case_id}/identity-proof",
    summary="查阅申请人身份证明（登记、审核、签发人员；查阅留痕）",
    response_class=Response,
    responses={
        **error_responses(401, 403, 404, 422),
        200: {"content": {t: {} for t in ("application/pdf", "image/jpeg", "image/png")}},
    },
)
async def identity_proof(
    case_id: CaseId,
    request: Request,
    actor: Actor = Depends(staff(Role.registrar, Role.reviewer, Role.approver)),
) -> Response:
    rt = request.app.state.runtime
    state, _ = await queries.load_case(rt.pool, case_id)
    if state is None:
        raise HTTPException(404, NO_CASE)
    if state.identity_proof is None:
        raise HTTPException(404, "该申请未上传身份证明 (the application carries no identity proof)")
    ref = FileRef.model_validate(state.identity_proof)
    files = store_of(request.app.state)
    if not await files.exists(ref):
        raise HTTPException(404, "身份证明文件已不存在 (the file or its key is gone)")
    await record_read(rt, actor, case_id, item="identity-proof")  # in the log before the data leaves
    try:
        data = await files.read(ref)
    except FileMissing:
        raise HTTPException(404, "身份证明文件已不存在 (the file or its key is gone)") from None
    return _file(data, ref, "identity-proof")


@router.get(
    "/api/v1/cases/{case_id}/documents/{sha256}",
    summary="下载案件附送的公开文件",
    response_class=Response,
    responses=error_responses(401, 403, 404, 422),
)
async def document(
    case_id: CaseId, sha256: Sha256, request: Request, actor: Actor = Depends(READERS)
) -> Response:
    rt = request.app.state.runtime
    state, _ = await queries.load_case(rt.pool, case_id)
    if state is None:
        raise HTTPException(404, NO_CASE)
    check_department(handler_department(request, actor), state.departments)
    found = next((d for d in state.documents if d["sha256"] == sha256), None)
    if found is None:
        raise HTTPException(404, "该案件没有此文件 (no such document on this case)")
    ref = FileRef.model_validate({k: v for k, v in found.items() if k != "title"})
    try:
        data = await store_of(request.app.state).read(ref)
    except FileMissing:
        raise HTTPException(404, "文件已不存在 (the file is gone)") from None
    return _file(data, ref, sha256[:16])
