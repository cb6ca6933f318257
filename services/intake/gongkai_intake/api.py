"""Intake's HTTP API: applications from the public and tracking by code."""

from __future__ import annotations

import hmac
import secrets
import uuid
from base64 import b32encode
from datetime import date, datetime

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from gongkai_shared.clock import Clock
from gongkai_shared.commands import CommandRejected, execute
from gongkai_shared.envelope import Actor, Envelope, derived_id, sha256_hex
from gongkai_shared.eventstore import ConcurrencyConflict
from gongkai_shared.runtime import Runtime
from gongkai_shared.text import paragraph
from gongkai_shared.web import error_body

from . import queries
from .domain import Apply, InvalidApplication, receive, request_withdrawal

router = APIRouter(prefix="/api/v1/applications", tags=["applications 申请"])

APPLICANT = Actor(id="applicant", role="applicant")


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


@router.post("", status_code=201, response_model=Accepted, summary="提交政府信息公开申请")
async def apply(
    cmd: Apply,
    request: Request,
    idempotency_key: str | None = Header(default=None, max_length=200),
) -> Accepted | JSONResponse:
    """Submit an application. ``Idempotency-Key`` makes a retried submission one case."""
    try:
        return await submit(_runtime(request), request.app.state.clock, cmd, idempotency_key)
    except InvalidApplication as e:
        body = error_body(
            422, "申请内容不符合要求 (invalid application)", [{"field": e.field, "message": str(e)}]
        )
        return JSONResponse(body, 422)


async def submit(rt: Runtime, clock: Clock, cmd: Apply, idempotency_key: str | None) -> Accepted:
    """Append ``request-received`` for a new case (raises InvalidApplication, HTTPException 409)."""
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
        actor=APPLICANT,
        event_id=event_id,
    )
    try:
        stored = await rt.store.append(event, "intake", expected_seq=0)
    except ConcurrencyConflict:
        raise HTTPException(409, "该幂等键已用于另一份申请 (idempotency key already used)") from None
    env = stored.envelope
    return Accepted(
        case_id=case_id,
        tracking_code=code,
        received_at=env.time,
        received_on=date.fromisoformat(env.data["received_on"]),
        sequence=stored.seq,
    )


@router.get("/{tracking_code}", summary="查询申请办理进度")
async def track(
    tracking_code: str,
    request: Request,
    min_seq: int | None = Query(default=None, ge=0, description="wait until this sequence is applied"),
) -> dict:
    """The applicant-safe status of a case, its answer deadline and its history."""
    rt = _runtime(request)
    await rt.wait_for(min_seq)
    found = await queries.application_by_tracking_hash(rt.pool, tracking_hash(tracking_code))
    if found is None:
        raise HTTPException(404, "未找到该查询码对应的申请 (no application with this tracking code)")
    return found


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: paragraph(2000, min_length=1) = Field(description="撤回理由")


@router.post("/{tracking_code}/withdrawal", status_code=202, summary="撤回申请")
async def withdraw(tracking_code: str, body: Withdrawal, request: Request) -> dict:
    """The applicant withdraws; the office's review closes the case (a reaction)."""
    rt = _runtime(request)
    found = await queries.case_by_tracking_hash(rt.pool, tracking_hash(tracking_code))
    if found is None:
        raise HTTPException(404, "未找到该查询码对应的申请 (no application with this tracking code)")
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
