"""Intake's decisions: an application becomes a ``request-received`` event. No I/O here.

收到申请之日 (the receipt date) starts the clock (DOMAIN.md §2): for an online application it
is the day it is submitted; for a letter, a fax or an in-person application the registrar
enters the date the office actually received it, which may differ from the entry time.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gongkai_shared.decisions import CommandRejected
from gongkai_shared.envelope import Actor, Envelope
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
from gongkai_shared.text import paragraph


class Apply(BaseModel):
    """The application (政府信息公开申请表), as submitted."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    applicant: Applicant
    description: paragraph(5000, min_length=2) = Field(description="所需政府信息的名称、文号或特征描述")
    form: Form
    delivery: Delivery
    channel: Channel
    purpose: paragraph(2000) | None = None
    received_on: Day | None = Field(
        default=None, description="收到申请之日; letters, fax and in-person only (entered by staff)"
    )

    @model_validator(mode="after")
    def _contact_reachable(self) -> Apply:
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


class InvalidApplication(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def receive(
    cmd: Apply,
    *,
    case_id: str,
    tracking_hash: str,
    today: date,
    now: datetime,
    actor: Actor,
    event_id: str | None = None,
) -> Envelope:
    """Decide the ``request-received`` event for a new case."""
    if cmd.received_on is not None:
        if cmd.channel == Channel.online:
            raise InvalidApplication(
                "received_on",
                "网上申请以提交之日为收到之日 (online applications are received when submitted)",
            )
        if cmd.received_on > today:
            raise InvalidApplication(
                "received_on", "收到申请之日不能晚于今天 (the receipt date cannot be in the future)"
            )
    body = RequestReceived(
        case_id=case_id,
        tracking_hash=tracking_hash,
        applicant=cmd.applicant,
        description=cmd.description,
        form=cmd.form,
        delivery=cmd.delivery,
        channel=cmd.channel,
        purpose=cmd.purpose,
        received_on=cmd.received_on or today,
        entered_at=now,
    )
    return make_event(body, aggregate_id=case_id, actor=actor, event_id=event_id, time=now)


CLOSED = {"answered", "abandoned", "withdrawn"}


def request_withdrawal(status: str, *, case_id: str, reason: str, actor: Actor, now: datetime) -> Envelope:
    """撤回申请: possible until the case is closed."""
    if status in CLOSED:
        raise CommandRejected(f"申请已办结，不能撤回 (the application is {status})")
    body = WithdrawalRequested(case_id=case_id, reason=reason)
    return make_event(body, aggregate_id=case_id, actor=actor, time=now)
