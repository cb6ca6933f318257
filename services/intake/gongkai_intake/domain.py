"""Intake's decisions: an application becomes a ``request-received`` event. No I/O here.

收到申请之日 (the receipt date) starts the clock (DOMAIN.md §2): for an online application it
is the day it is submitted; for a letter, a fax or an in-person application the registrar
enters the date the office actually received it, which may differ from the entry time.

Every submission has an idempotency key (the client's ``Idempotency-Key``, the form's token, or
one the server assigns): the case id, the event id and the tracking code all derive from it, so
a submission retried with its key is the same case and answers the same code.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from base64 import b32encode
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gongkai_shared.decisions import CommandRejected
from gongkai_shared.envelope import Actor, Envelope, derived_id, sha256_hex
from gongkai_shared.events import (
    Applicant,
    Channel,
    Day,
    Delivery,
    Form,
    RequestReceived,
    WithdrawalRequested,
    make_event,
)
from gongkai_shared.filerefs import FileRef
from gongkai_shared.text import paragraph


class ApplicationFields(BaseModel):
    """The application (政府信息公开申请表), as the applicant wrote it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    applicant: Applicant
    description: Annotated[str, paragraph(5000, min_length=2)] = Field(
        description="所需政府信息的名称、文号或特征描述"
    )
    form: Form
    delivery: Delivery
    purpose: Annotated[str, paragraph(2000)] | None = None
    identity_proof: FileRef | None = Field(
        default=None,
        description="身份证明 (Art. 29): the reference POST /api/v1/identity-proofs returned",
    )

    @model_validator(mode="after")
    def _contact_reachable(self) -> ApplicationFields:
        c = self.applicant.contact
        if not (c.email or c.phone or c.address):
            raise ValueError(
                "电子邮箱、联系电话、通信地址至少填写一项"
                " (applicant.contact needs at least one of email, phone, address)"
            )
        if self.delivery == Delivery.email and not c.email:
            raise ValueError("以电子邮件获取须填写电子邮箱 (delivery by email needs applicant.contact.email)")
        if self.delivery == Delivery.post and not c.address:
            raise ValueError("邮寄须填写通信地址 (delivery by post needs applicant.contact.address)")
        return self


class Apply(ApplicationFields):
    """An application the public submits online: received the day it is submitted (Beijing
    time). The public never sets a receipt date; there is no ``received_on`` here."""

    channel: Literal["online"] = Field(
        "online", description="网上申请 (online); 信函、传真、当面申请由登记人员录入 (entered by a registrar)"
    )


class Registration(ApplicationFields):
    """A letter, fax or in-person application, entered by a registrar with the day the office
    received it (DOMAIN.md §2): signed for, confirmed with the applicant, or handed in."""

    channel: Literal["letter", "fax", "in_person"] = Field(
        description="信函、传真、当面 (online: the applicant's own)"
    )
    received_on: Day = Field(
        description="收到申请之日: not in the future, at most a bounded number of days back"
    )
    identity_seen: Annotated[str, paragraph(2000, min_length=1)] | None = Field(
        default=None,
        description="当面申请: the registrar's note that the applicant's identity proof was seen"
        " (which document, by whom)",
    )

    @model_validator(mode="after")
    def _seen_in_person(self) -> Registration:
        if self.identity_seen is not None and self.channel != "in_person":
            raise ValueError(
                "只有当面申请才能记录已当面查验身份证明"
                " (identity_seen: only for an application made in person)"
            )
        return self


def new_key() -> str:
    """A key the server assigns to a submission that came without one (32 random characters)."""
    return secrets.token_urlsafe(24)


def case_for_key(key: str) -> tuple[str, str]:
    """The (case id, ``request-received`` event id) of the submission made with ``key``."""
    case_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"gongkai:application:{key}"))
    return case_id, derived_id(case_id, "request-received")


def code_for_key(secret: str, key: str) -> str:
    """查询码: 120 bits of HMAC(secret, key) in base32 (24 characters A-Z, 2-7). Whoever holds
    the key (the applicant) can have it again; without the secret nobody can compute it."""
    raw = hmac.new(secret.encode(), f"tracking:{key}".encode(), "sha256").digest()[:15]
    return b32encode(raw).decode()


def tracking_hash(code: str) -> str:
    """What the log and the projection hold of a code (compared case-insensitively)."""
    return sha256_hex(code.strip().upper().encode())


def check_identity_proof(ref: FileRef | None, stored: bool) -> None:
    """An application's identity proof must be one uploaded as such: stored, and encrypted
    (personal data, Art. 29; files.py)."""
    if ref is not None and (not ref.encrypted or not stored):
        raise InvalidApplication(
            "identity_proof",
            "身份证明文件不存在，请先上传 (no identity proof with this reference was uploaded)",
        )


class InvalidApplication(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def receive(
    cmd: Apply | Registration,
    *,
    case_id: str,
    tracking_hash: str,
    today: date,
    now: datetime,
    actor: Actor,
    event_id: str | None = None,
    earliest: date | None = None,
) -> Envelope:
    """Decide the ``request-received`` event for a new case: an online application is received
    ``today`` (the office's day); a registration on its ``received_on``, from ``earliest`` on."""
    received_on = today
    if isinstance(cmd, Registration):
        if cmd.received_on > today:
            raise InvalidApplication(
                "received_on", "收到申请之日不能晚于今天 (the receipt date cannot be in the future)"
            )
        if earliest is not None and cmd.received_on < earliest:
            raise InvalidApplication(
                "received_on",
                f"收到申请之日不能早于 {earliest.isoformat()}"
                f" (the receipt date cannot be before {earliest.isoformat()})",
            )
        received_on = cmd.received_on
    body = RequestReceived(
        case_id=case_id,
        tracking_hash=tracking_hash,
        applicant=cmd.applicant,
        description=cmd.description,
        form=cmd.form,
        delivery=cmd.delivery,
        channel=Channel(cmd.channel),
        purpose=cmd.purpose,
        received_on=received_on,
        entered_at=now,
        identity_proof=cmd.identity_proof,
        identity_seen=cmd.identity_seen if isinstance(cmd, Registration) else None,
    )
    return make_event(body, aggregate_id=case_id, actor=actor, event_id=event_id, time=now)


def same_request(cmd: Apply | Registration, earlier: dict) -> bool:
    """Whether ``earlier``, a stored ``request-received``, was made from this very request: the
    request read back from the event and written canonically is the same (what an
    Idempotency-Key is bound to). Online: the receipt date is the server's, not the request's."""
    kind = type(cmd)
    try:
        then = kind.model_validate({k: earlier[k] for k in kind.model_fields if k in earlier})
    except ValidationError:
        return False
    now = cmd.model_dump(mode="json")
    before = then.model_dump(mode="json")
    if now.get("identity_proof") and before.get("identity_proof"):
        # the form uploads its file anew at each submission (a fresh data key, other bytes): a
        # retried form is the same request if both carry a proof
        now.pop("identity_proof"), before.pop("identity_proof")
    return before == now


CLOSED = {"answered", "abandoned", "withdrawn"}


def request_withdrawal(status: str, *, case_id: str, reason: str, actor: Actor, now: datetime) -> Envelope:
    """撤回申请: possible until the case is closed."""
    if status in CLOSED:
        raise CommandRejected(f"申请已办结，不能撤回 (the application is {status})")
    body = WithdrawalRequested(case_id=case_id, reason=reason)
    return make_event(body, aggregate_id=case_id, actor=actor, time=now)
