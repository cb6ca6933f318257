"""Intake's HTTP API: applications from the public and tracking by code."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Header, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from gongkai_shared.auth import Role
from gongkai_shared.clock import Clock
from gongkai_shared.commands import CommandRejected, execute
from gongkai_shared.envelope import Actor, Envelope
from gongkai_shared.eventstore import AppendUnresolved, ConcurrencyConflict
from gongkai_shared.files import BadUpload, FileRef, FileStore, read_upload, store_of
from gongkai_shared.runtime import Runtime
from gongkai_shared.text import paragraph
from gongkai_shared.web import error_body, error_responses, staff

from . import queries
from .domain import (
    Apply,
    InvalidApplication,
    Registration,
    case_for_key,
    check_identity_proof,
    code_for_key,
    new_key,
    receive,
    request_withdrawal,
    same_request,
    tracking_hash,
)
from .ratelimit import RateLimits
from .settings import IntakeSettings

router = APIRouter(prefix="/api/v1/applications", tags=["applications 申请"])

APPLICANT = Actor(id="applicant", role="applicant")
KEY_REUSED = "该幂等键已用于另一份申请 (idempotency key already used for a different request)"
NOT_FOUND = "未找到该查询码对应的申请 (no application with this tracking code)"
# 24 characters of base32; compared case-insensitively (only its hash is ever looked up)
TrackingCode = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z2-7]{24}$",
        description="查询码: 24 letters A-Z and digits 2-7, as given when the application was received",
    ),
]
INT64 = 2**63 - 1


class Accepted(BaseModel):
    case_id: str
    tracking_code: str
    received_at: datetime
    received_on: date
    sequence: int


class RetryWithKey(BaseModel):
    """503: whether the application was stored could not be told in time (the event log did not
    answer). Sending the same body again with ``Idempotency-Key: <idempotency_key>`` gives the
    same case and the same tracking code, whether or not this attempt was stored."""

    status: int = Field(description="503")
    message: str
    idempotency_key: str = Field(description="the key to retry with (the client's own, or one assigned)")


RETRY_AFTER = 5  # seconds: NATS answers again, or the retry is resolved the same way
UNRESOLVED = (
    "暂时无法确认申请是否已保存，请稍后使用同一幂等键重新提交，不会重复受理"
    " (could not confirm whether the application was stored; retry with the same Idempotency-Key)"
)


class Unresolved(Exception):
    """A submission whose append could not be resolved; the client retries with ``key``."""

    def __init__(self, key: str) -> None:
        super().__init__(f"unresolved submission, key {key}")
        self.key = key


def retry_with_key(e: Unresolved) -> JSONResponse:
    body = RetryWithKey(status=503, message=UNRESOLVED, idempotency_key=e.key).model_dump()
    headers = {"Retry-After": str(RETRY_AFTER), "Idempotency-Key": e.key}
    return JSONResponse(body, 503, headers=headers)


RESPONSE_503: dict[int | str, dict[str, Any]] = {
    503: {
        "model": RetryWithKey,
        "description": "无法确认是否已保存：以同一幂等键重试 (unresolved: retry with the same key)",
        "headers": {
            "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}},
            "Idempotency-Key": {"description": "the key to retry with", "schema": {"type": "string"}},
        },
    }
}


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _secret(request: Request) -> str:
    settings: IntakeSettings = request.app.state.settings
    return settings.tracking_secret


def rate_limited(kind: str):  # noqa: ANN201 — a FastAPI dependency
    """429 with Retry-After when this client has used its budget of ``kind`` (ratelimit.py)."""

    async def _dep(request: Request) -> None:
        limits: RateLimits = request.app.state.rate_limits
        wait = limits.retry_after(request, kind)
        if wait is not None:
            raise HTTPException(
                429, "请求过于频繁，请稍后再试 (too many requests)", {"Retry-After": str(wait)}
            )

    return Depends(_dep)


def _invalid(e: InvalidApplication) -> JSONResponse:
    body = error_body(
        422, "申请内容不符合要求 (invalid application)", [{"field": e.field, "message": str(e)}]
    )
    return JSONResponse(body, 422)


IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=200,
        description="a retried request with the same key and the same body is the same case;"
        " the same key with another body is a 409",
    ),
]


def bad_upload(e: BadUpload) -> JSONResponse:
    body = error_body(422, "上传文件不符合要求 (invalid upload)", [{"field": e.field, "message": str(e)}])
    return JSONResponse(body, 422)


# uploads have a prefix of their own: the edge gives them a larger body limit (routes.py)
uploads = APIRouter(prefix="/api/v1/identity-proofs", tags=["applications 申请"])


@uploads.post(
    "",
    status_code=201,
    response_model=FileRef,
    summary="上传身份证明（PDF、JPEG、PNG）",
    responses=error_responses(400, 413, 422, 429),
    dependencies=[rate_limited("applications")],
)
async def upload_identity_proof(request: Request, file: UploadFile = File(...)) -> FileRef | JSONResponse:
    """Upload the applicant's proof of identity (Art. 29) before submitting: a PDF, JPEG or PNG
    of at most ``GONGKAI_INTAKE_UPLOAD_MAX_BYTES`` (10 MiB). It is stored encrypted; the answer
    is its reference, which the application carries as ``identity_proof``. A bad file is a 422
    naming ``file`` and nothing is stored."""
    settings: IntakeSettings = request.app.state.settings
    try:
        data, media_type = await read_upload(file, settings.upload_max_bytes, "file")
    except BadUpload as e:
        return bad_upload(e)
    return await store_of(request.app.state).put_personal(data, media_type)


@router.post(
    "",
    status_code=201,
    response_model=Accepted,
    summary="提交政府信息公开申请",
    responses={**error_responses(400, 409, 413, 422, 429), **RESPONSE_503},
    dependencies=[rate_limited("applications")],
)
async def apply(
    cmd: Apply, request: Request, idempotency_key: IdempotencyKey = None
) -> Accepted | JSONResponse:
    """Submit an application online; it is received today (Beijing time). ``Idempotency-Key``
    makes a retried submission one case; the key is bound to the body. ``503`` (the log did not
    answer in time) names the key to retry with, also when the request had none."""
    try:
        return await submit(
            _runtime(request),
            request.app.state.clock,
            _secret(request),
            cmd,
            idempotency_key,
            files=store_of(request.app.state),
        )
    except InvalidApplication as e:
        return _invalid(e)
    except Unresolved as e:
        return retry_with_key(e)


@router.post(
    "/registered",
    status_code=201,
    response_model=Accepted,
    summary="登记信函、传真、当面提交的申请（登记人员）",
    responses={**error_responses(400, 401, 403, 409, 413, 422), **RESPONSE_503},
)
async def register(
    cmd: Registration,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    actor: Actor = Depends(staff(Role.registrar)),
) -> Accepted | JSONResponse:
    """A registrar enters an application that came by letter, fax or in person, with the day the
    office received it (not in the future, at most ``GONGKAI_INTAKE_RECEIPT_MAX_AGE_DAYS`` back).
    The tracking code in the answer is for the applicant (sent with the receipt notice)."""
    clock: Clock = request.app.state.clock
    earliest = clock.today() - timedelta(days=request.app.state.runtime.settings.receipt_max_age_days)
    rt, secret = _runtime(request), _secret(request)
    try:
        files = store_of(request.app.state)
        return await submit(
            rt, clock, secret, cmd, idempotency_key, actor=actor, earliest=earliest, files=files
        )
    except InvalidApplication as e:
        return _invalid(e)
    except Unresolved as e:
        return retry_with_key(e)


async def submit(
    rt: Runtime,
    clock: Clock,
    secret: str,
    cmd: Apply | Registration,
    idempotency_key: str | None,
    *,
    actor: Actor = APPLICANT,
    earliest: date | None = None,
    files: FileStore | None = None,
) -> Accepted:
    """Append ``request-received`` for a new case (raises InvalidApplication, HTTPException 409,
    Unresolved).

    The case, its event and its tracking code derive from the key (one is assigned when the
    request has none); a key already used answers the earlier case only if that case was made
    from the same request (the same body, read back from its event); otherwise 409, saying
    nothing of it. A publish that timed out is resolved by the event store (was our event
    stored?); if it cannot be, Unresolved carries the key, so that no stored application is
    left without a way to its tracking code.
    """
    if cmd.identity_proof is not None:  # an uploaded proof: stored, and stored as one
        check_identity_proof(cmd.identity_proof, files is not None and await files.exists(cmd.identity_proof))
    key = idempotency_key or new_key()
    case_id, event_id = case_for_key(key)
    code = code_for_key(secret, key)
    event = receive(
        cmd,
        case_id=case_id,
        tracking_hash=tracking_hash(code),
        today=clock.today(),
        now=clock.now(),
        actor=actor,
        event_id=event_id,
        earliest=earliest,
    )
    try:
        stored = await rt.store.append(event, "intake", expected_seq=0)
    except ConcurrencyConflict:
        raise HTTPException(409, KEY_REUSED) from None
    except AppendUnresolved:
        raise Unresolved(key) from None
    env = stored.envelope
    if env.name != "request-received" or not same_request(cmd, env.data):
        raise HTTPException(409, KEY_REUSED)
    return Accepted(
        case_id=case_id,
        tracking_code=code,
        received_at=env.time,
        received_on=date.fromisoformat(env.data["received_on"]),
        sequence=stored.seq,
    )


@router.get(
    "/{tracking_code}",
    summary="查询申请办理进度",
    responses=error_responses(404, 422, 429),
    dependencies=[rate_limited("lookups")],
)
async def track(
    tracking_code: TrackingCode,
    request: Request,
    min_seq: int | None = Query(
        default=None,
        ge=0,
        le=INT64,
        description="wait until this sequence (one a command returned) is applied",
    ),
) -> dict:
    """The applicant-safe status of a case, its answer deadline and its history. The code is
    looked up by its hash only."""
    rt = _runtime(request)
    await rt.wait_for(min_seq)  # 503 if not applied in time, 422 if past the log (web.py)
    found = await queries.application_by_tracking_hash(rt.pool, tracking_hash(tracking_code))
    if found is None:
        raise HTTPException(404, NOT_FOUND)
    return found


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: Annotated[str, paragraph(2000, min_length=1)] = Field(description="撤回理由")


@router.post(
    "/{tracking_code}/withdrawal",
    status_code=202,
    summary="撤回申请",
    responses=error_responses(400, 404, 409, 413, 422, 429),
    dependencies=[rate_limited("lookups")],
)
async def withdraw(tracking_code: TrackingCode, body: Withdrawal, request: Request) -> dict:
    """The applicant withdraws; the office's review closes the case (a reaction)."""
    rt = _runtime(request)
    found = await queries.case_by_tracking_hash(rt.pool, tracking_hash(tracking_code))
    if found is None:
        raise HTTPException(404, NOT_FOUND)
    case_id = found["case_id"]

    def decide(status: str) -> Envelope:
        now = request.app.state.clock.now()
        return request_withdrawal(status, case_id=case_id, reason=body.reason, actor=APPLICANT, now=now)

    async def load() -> tuple[str, int]:
        row = await queries.case_by_tracking_hash(rt.pool, tracking_hash(tracking_code))
        assert row is not None  # found above; applications are never deleted
        return row["status"], row["last_seq"]

    try:
        stored = await execute(rt, case_id, load, decide)
    except CommandRejected as e:
        raise HTTPException(409, str(e)) from None
    return {"case_id": case_id, "event": stored.name, "event_id": stored.id, "sequence": stored.seq}
