"""Staff routes of publishing: documents (``/api/v1/information``) and Art. 44 decisions
(``/api/v1/publications``).

A document's files are uploaded first (``POST /api/v1/information/files``: the shared upload
rules of ``gongkai_shared.files``, stored as they are, public) and named by their references in
``metadata.files``; registration and amendment check that each is stored (``domain.check_files``).

Each command loads its aggregate from the projection, decides one event with a rule of
``domain.py`` and appends it expecting the aggregate's last sequence (gongkai_shared.commands
.execute: a lost race reloads and decides again, then ``409``). A state that does not allow it
is ``409`` with the reason (a refusal names the register entry); bad input is ``422`` naming the
field. ``Idempotency-Key``: a retried command with the same key and the same body answers the
event it already appended; the same key with another body is ``409``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Header, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gongkai_shared.auth import Role
from gongkai_shared.commands import CommandRejected, execute
from gongkai_shared.envelope import Actor, Envelope, derived_id, new_id
from gongkai_shared.events import REGISTRY, DocumentMetadata, EventBody, make_event
from gongkai_shared.files import BadUpload, FileRef, read_upload, store_of
from gongkai_shared.information import RegisterEntry
from gongkai_shared.runtime import Runtime
from gongkai_shared.text import line
from gongkai_shared.web import error_body, error_responses, staff

from . import domain, records
from .domain import (
    AmendDocument,
    DecidePublication,
    DocumentState,
    Input,
    Invalid,
    RegisterDocument,
    RepealDocument,
    ReviewDocument,
    SignDocument,
)

information = APIRouter(prefix="/api/v1/information", tags=["information 政府信息（文件）"])
publications = APIRouter(prefix="/api/v1/publications", tags=["publications 依申请公开信息的主动公开"])

H, V, A = Role.handler, Role.reviewer, Role.approver
READERS = staff(H, V, A, Role.auditor)
DocumentId = Annotated[str, line(200, min_length=1)]
NOT_A_SUBJECT_TOKEN = re.compile(r"[\s.*>]")
COMMAND_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422)
KEY_REUSED = "该幂等键已用于另一项操作 (idempotency key already used for a different request)"
NO_DOCUMENT = "文件不存在 (no such document)"

IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=200,
        description="a retried command with the same key and body answers the event already appended;"
        " the same key with another body is a 409",
    ),
]


class CommandResult(BaseModel):
    aggregate_id: str
    event: str
    event_id: str
    sequence: int


class _Done(Exception):
    """The key's event is already in the log: answer it."""

    def __init__(self, result: CommandResult) -> None:
        self.result = result


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


async def _document(rt: Runtime, document_id: str) -> tuple[DocumentState | None, int]:
    """The document and the sequence a command on it must expect: its aggregate's last event in
    the log, whichever service wrote it (notify writes the Art. 26 deadline on the document),
    never only publishing's own last event; the projection has applied it before the state is
    read."""
    last = await rt.store.last_event(document_id)
    if last is not None:
        await rt.wait_for(last.seq)
    state, _ = await records.load_document(rt.pool, document_id)
    return state, last.seq if last else 0


def _invalid(e: Invalid) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", *e.field.split(".")), "msg": str(e), "type": "invalid"}])


def _same(cmd: Input, name: str, data: dict[str, Any]) -> bool:
    """The earlier event was made from the same command: its fields as this command gives them."""
    cls = next((c for c in REGISTRY.values() if c.name == name and c.context == "publishing"), None)
    if cls is None:
        return False
    body = cls.model_validate(data) if "item_id" not in data else None
    for f in type(cmd).model_fields:
        if body is None or f not in type(body).model_fields:
            continue
        mine, theirs = getattr(cmd, f), getattr(body, f)
        if f == "replaced_by" and theirs is not None:
            theirs = theirs.document_id
        if mine != theirs:
            return False
    return True


async def run(
    request: Request,
    aggregate_id: str,
    cmd: Input,
    key: str | None,
    load: Callable[[], Awaitable[tuple[Any, int]]],
    decide: Callable[[Any], EventBody],
    actor: Actor,
) -> CommandResult:
    """Decide and append one event on ``aggregate_id`` (see the module's docstring)."""
    rt, clock = _rt(request), request.app.state.clock
    event_id = derived_id(key, f"{aggregate_id}:{type(cmd).__name__}") if key else new_id()

    async def loaded() -> tuple[Any, int]:
        if key:  # the projection has caught up with the aggregate (execute waited): is it there?
            earlier = await records.event_by_id(rt.pool, event_id)
            if earlier is not None:
                if not _same(cmd, earlier["name"], json.loads(earlier["data"])):
                    raise CommandRejected(KEY_REUSED)
                raise _Done(CommandResult(aggregate_id=aggregate_id, event=earlier["name"],
                                          event_id=event_id, sequence=earlier["seq"]))  # fmt: skip
        return await load()

    def decided(state: Any) -> Envelope:
        return make_event(
            decide(state), aggregate_id=aggregate_id, actor=actor, event_id=event_id, time=clock.now()
        )

    try:
        stored = await execute(rt, aggregate_id, loaded, decided)
    except _Done as done:
        return done.result
    except Invalid as e:
        raise _invalid(e) from None
    except CommandRejected as e:
        raise HTTPException(409, str(e)) from None
    return CommandResult(
        aggregate_id=aggregate_id, event=stored.name, event_id=stored.id, sequence=stored.seq
    )


async def _caught_up(rt: Runtime, ids: list[str]) -> dict[str, DocumentState]:
    """The documents a command names besides its own, as the log has them (each one's last event
    applied: a document registered a moment ago is found)."""
    ids = [i for i in dict.fromkeys(ids) if not NOT_A_SUBJECT_TOKEN.search(i)]
    for i in ids:
        last = await rt.store.last_event(i)
        if last is not None:
            await rt.wait_for(last.seq)
    return await records.load_documents(rt.pool, ids)


async def _standing(rt: Runtime, ids: list[str]) -> list[RegisterEntry]:
    """The standing register entries naming these documents, each as the log has it now (a
    ``refusal-lifted`` appended a moment ago is applied before it is read)."""
    entries = await records.standing_entries(rt.pool, ids)
    for e in entries:
        last = await rt.store.last_event(e.entry_id)
        if last is not None:
            await rt.wait_for(last.seq)
    return await records.standing_entries(rt.pool, ids) if entries else entries


def _doc_id(document_id: str) -> str:
    if NOT_A_SUBJECT_TOKEN.search(document_id):
        raise HTTPException(404, NO_DOCUMENT)
    return document_id


async def _policy_and_known(
    rt: Runtime, cmd: RegisterDocument | AmendDocument
) -> tuple[DocumentState | None, set[str]]:
    m = cmd.metadata
    ids = [*m.replaces, *([m.interprets] if m.interprets else [])]
    found = await _caught_up(rt, ids)
    return (found.get(m.interprets) if m.interprets else None), set(found)


async def _files_stored(request: Request, m: DocumentMetadata) -> None:
    """``metadata.files`` name files in the object store (422 naming the file otherwise)."""
    if not m.files:
        return
    store = store_of(request.app.state)
    stored = {f.sha256: await store.stored_size(f.sha256) for f in m.files}
    try:
        domain.check_files(m.files, stored)
    except Invalid as e:
        raise _invalid(e) from None


# --- documents ---------------------------------------------------------------------------


@information.post(
    "/files",
    status_code=201,
    response_model=FileRef,
    summary="上传文件的附件（承办部门）",
    responses=error_responses(401, 403, 413, 422),
)
async def upload_file(
    request: Request, file: UploadFile = File(...), _: Actor = Depends(staff(H))
) -> FileRef | JSONResponse:
    """A file of a document (PDF, JPEG, PNG, at most ``GONGKAI_PUBLISHING_UPLOAD_MAX_BYTES``),
    stored as it is (public, never encrypted) and named by its SHA-256; the answer is the
    reference to put in ``metadata.files``. A bad file is a 422 naming ``file``, nothing stored."""
    try:
        data, media_type = await read_upload(file, request.app.state.settings.upload_max_bytes, "file")
    except BadUpload as e:
        body = error_body(422, "上传文件不符合要求 (invalid upload)", [{"field": e.field, "message": str(e)}])
        return JSONResponse(body, 422)
    return await store_of(request.app.state).put_public(data, media_type)


@information.post("/documents", status_code=201, summary="登记文件（承办部门）", responses=COMMAND_ERRORS)
async def register_document(
    request: Request,
    body: RegisterDocument,
    idempotency_key: IdempotencyKey = None,
    actor: Actor = Depends(staff(H)),
) -> CommandResult:
    """A department registers a document (version 1) with its attribute (公开属性) and its category
    (条例 Art. 20). The document's id is in the answer (``aggregate_id``); with an
    ``Idempotency-Key`` it derives from the key, so a retry registers it once."""
    rt = _rt(request)
    document_id = derived_id(idempotency_key, "document") if idempotency_key else new_id()
    policy, known = await _policy_and_known(rt, body)
    await _files_stored(request, body.metadata)

    async def load() -> tuple[DocumentState | None, int]:
        return await _document(rt, document_id)

    def decide(state: DocumentState | None) -> EventBody:
        if state is not None:
            raise CommandRejected(KEY_REUSED)
        return domain.register_document(body, document_id=document_id, policy=policy, known=known)

    return await run(request, document_id, body, idempotency_key, load, decide, actor)


@information.get(
    "/documents/{document_id}",
    summary="文件详情：各版本与处理过程",
    responses=error_responses(401, 403, 404, 422),
)
async def get_document(
    document_id: DocumentId,
    request: Request,
    _: Actor = Depends(READERS),
    min_seq: int | None = Query(None, ge=0, description="wait until this sequence is applied"),
) -> dict:
    rt = _rt(request)
    await rt.wait_for(min_seq)
    found = await records.document_view(rt.pool, _doc_id(document_id))
    if found is None:
        raise HTTPException(404, NO_DOCUMENT)
    return found


async def _on_document(
    request: Request,
    document_id: str,
    cmd: Input,
    key: str | None,
    actor: Actor,
    rule: Callable[[DocumentState], EventBody],
) -> CommandResult:
    rt = _rt(request)
    document_id = _doc_id(document_id)

    async def load() -> tuple[DocumentState | None, int]:
        return await _document(rt, document_id)

    def decide(state: DocumentState | None) -> EventBody:
        if state is None:
            raise HTTPException(404, NO_DOCUMENT)
        return rule(state)

    return await run(request, document_id, cmd, key, load, decide, actor)


@information.post(
    "/documents/{document_id}/review",
    status_code=201,
    summary="保密审查（公开审核人）",
    responses=COMMAND_ERRORS,
)
async def review_document(
    document_id: DocumentId,
    request: Request,
    body: ReviewDocument,
    idempotency_key: IdempotencyKey = None,
    actor: Actor = Depends(staff(V)),
) -> CommandResult:
    """Art. 17: the confidentiality review of one version."""
    return await _on_document(
        request, document_id, body, idempotency_key, actor, lambda s: domain.review_document(s, body)
    )


@information.post(
    "/documents/{document_id}/sign",
    status_code=201,
    summary="签发（审批人，非提交人）",
    responses=COMMAND_ERRORS,
)
async def sign_document(
    document_id: DocumentId,
    request: Request,
    body: SignDocument,
    idempotency_key: IdempotencyKey = None,
    actor: Actor = Depends(staff(A)),
) -> CommandResult:
    """签发 of a reviewed version by an approver other than its submitter; a proactive document
    is then published (with its policy or interpretation). A document the refusal register
    forbids is refused (409 naming the entry)."""
    entries = await _standing(_rt(request), [_doc_id(document_id)])
    return await _on_document(
        request, document_id, body, idempotency_key, actor,
        lambda s: domain.sign_document(s, body, actor=actor, entries=entries),
    )  # fmt: skip


@information.post(
    "/documents/{document_id}/amendment",
    status_code=201,
    summary="修改文件（新版本）",
    responses=COMMAND_ERRORS,
)
async def amend_document(
    document_id: DocumentId,
    request: Request,
    body: AmendDocument,
    idempotency_key: IdempotencyKey = None,
    actor: Actor = Depends(staff(H)),
) -> CommandResult:
    """A new version with its reason and the day it changed (Art. 26); reviewed and signed again
    before the catalogue shows it (same index number, history kept)."""
    policy, known = await _policy_and_known(_rt(request), body)
    await _files_stored(request, body.metadata)
    return await _on_document(
        request, document_id, body, idempotency_key, actor,
        lambda s: domain.amend_document(s, body, policy=policy, known=known),
    )  # fmt: skip


@information.post(
    "/documents/{document_id}/repeal", status_code=201, summary="废止文件", responses=COMMAND_ERRORS
)
async def repeal_document(
    document_id: DocumentId,
    request: Request,
    body: RepealDocument,
    idempotency_key: IdempotencyKey = None,
    actor: Actor = Depends(staff(H, A)),
) -> CommandResult:
    """废止: validity ends on ``repealed_on``; a published item shows 废止 and the date."""
    rt = _rt(request)
    by = body.replaced_by
    replaced_by = (await _caught_up(rt, [by])).get(by) if by else None
    return await _on_document(
        request, document_id, body, idempotency_key, actor,
        lambda s: domain.repeal_document(s, body, replaced_by=replaced_by),
    )  # fmt: skip


# --- Art. 44 --------------------------------------------------------------------------


@publications.post(
    "", status_code=201, summary="决定主动公开依申请公开的信息（第四十四条）", responses=COMMAND_ERRORS
)
async def decide_publication(
    request: Request,
    body: DecidePublication = Body(...),
    idempotency_key: IdempotencyKey = None,
    actor: Actor = Depends(staff(V, A)),
) -> CommandResult:
    """Art. 44: the office publishes documents a case disclosed (several applicants asked, or the
    public interest), after the answer was sent: ``publication-decided`` on the case, then each
    document is published with its registered title and summary."""
    rt = _rt(request)
    case_id = body.case_id
    if NOT_A_SUBJECT_TOKEN.search(case_id):
        raise HTTPException(404, "案件不存在 (no such case)")

    async def load() -> tuple[tuple[Any, ...], int]:
        last = await rt.store.last_event(case_id)
        if last is not None:  # the case as the log has it, then the documents and the register
            await rt.wait_for(last.seq)
        case = await records.case_disclosure(rt.pool, case_id)
        documents = await _caught_up(rt, body.document_ids)
        entries = await _standing(rt, body.document_ids)
        return (case, documents, entries), last.seq if last else 0

    def decide(loaded: tuple[Any, ...]) -> EventBody:
        case, documents, entries = loaded
        docs: dict[str, DocumentState | None] = {d: documents.get(d) for d in body.document_ids}
        return domain.decide_publication(case, body, documents=docs, entries=entries)

    return await run(request, case_id, body, idempotency_key, load, decide, actor)
