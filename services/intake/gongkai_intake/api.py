"""Intake's HTTP API: applications from the public and tracking by code."""

from __future__ import annotations

import hmac
import secrets
import uuid
from base64 import b32encode
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from gongkai_shared.auth import Role
from gongkai_shared.clock import Clock
from gongkai_shared.commands import CommandRejected, execute
from gongkai_shared.envelope import Actor, Envelope, derived_id, sha256_hex
from gongkai_shared.eventstore import ConcurrencyConflict
from gongkai_shared.runtime import Runtime
from gongkai_shared.text import paragraph
from gongkai_shared.web import error_body, error_responses, staff

from . import queries
from .domain import Apply, InvalidApplication, Registration, receive, request_withdrawal, same_request
from .ratelimit import RateLimits

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


def new_tracking_code(secret: str, idempotency_key: str | None) -> str:
    """120 random bits in base32 (24 characters); derived from the key on a retried request."""
    if idempotency_key:
        raw = hmac.new(secret.encode(), f"tracking:{idempotency_key}".encode(), "sha256").digest()[:15]
    else:
        raw = secrets.token_bytes(15)
    return b32encode(raw).decode()


def tracking_hash(code: str) -> str:
    return sha256_hex(code.strip().upper().encode())


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


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


@router.post(
    "",
    status_code=201,
    response_model=Accepted,
    summary="提交政府信息公开申请",
    responses=error_responses(400, 409, 413, 422, 429),
    dependencies=[rate_limited("applications")],
)
async def apply(
    cmd: Apply, request: Request, idempotency_key: IdempotencyKey = None
) -> Accepted | JSONResponse:
    """Submit an application online; it is received today (Beijing time). ``Idempotency-Key``
    makes a retried submission one case; the key is bound to the body."""
    try:
        return await submit(_runtime(request), request.app.state.clock, cmd, idempotency_key)
    except InvalidApplication as e:
        return _invalid(e)


@router.post(
    "/registered",
    status_code=201,
    response_model=Accepted,
    summary="登记信函、传真、当面提交的申请（登记人员）",
    responses=error_responses(400, 401, 403, 409, 413, 422),
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
    try:
        return await submit(_runtime(request), clock, cmd, idempotency_key, actor=actor, earliest=earliest)
    except InvalidApplication as e:
        return _invalid(e)


async def submit(
    rt: Runtime,
    clock: Clock,
    cmd: Apply | Registration,
    idempotency_key: str | None,
    *,
    actor: Actor = APPLICANT,
    earliest: date | None = None,
) -> Accepted:
    """Append ``request-received`` for a new case (raises InvalidApplication, HTTPException 409).

    With a key, the case, its event and its tracking code derive from the key; a key already
    used answers the earlier case only if that case was made from the same request (the same
    body, read back from its event); otherwise 409, saying nothing of it.
    """
    if idempotency_key:
        case_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"gongkai:application:{idempotency_key}"))
        event_id = derived_id(case_id, "request-received")
    else:
        case_id, event_id = str(uuid.uuid4()), None
    code = new_tracking_code(rt.settings.tracking_secret, idempotency_key)  # type: ignore[attr-defined]
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
    env = stored.envelope
    if idempotency_key and (env.name != "request-received" or not same_request(cmd, env.data)):
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
        return row["status"], row["last_seq"]

    try:
        stored = await execute(rt, case_id, load, decide)
    except CommandRejected as e:
        raise HTTPException(409, str(e)) from None
    return {"case_id": case_id, "event": stored.name, "event_id": stored.id, "sequence": stored.seq}
