"""Consultation (征求意见): third parties, co-producing agencies, other agencies.

条例 (2019):

- Art. 32: disclosure that may harm a third party's lawful rights needs the third party's
  opinion, asked in writing (征求意见书); it has 15 working days from receiving the letter. A
  silent third party: the office decides itself, under every profile (a local measure cannot
  override Art. 32). A refusal binds (不予公开) only with reasonable grounds: the office records
  whether they are (``grounds_reasonable``) and, if not, why (``assessment``; effective
  ``grounds_unreasonable``: the office decides). Over a binding refusal the office may still
  disclose if withholding would gravely affect the public interest (公共利益决定公开). Either
  way, before disclosing over the objection it tells the third party in writing the content it
  will disclose, why, and the party's remedies (``override``).
- Art. 34: information produced by several agencies (co-producers): the leading one consults the
  others, who have 15 working days; a silent **co-producer** is deemed to consent (视为同意公开).
  Another agency consulted about its duties (``agency``) is not a co-producer: its silence
  leaves the decision to the office.
- Art. 33 ¶2: the time taken by consultations is not counted in the answer period (notify's
  clock pauses while any consultation is open).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import model_validator

from gongkai_shared.events import (
    ConsultationReplied,
    ConsultationStarted,
    Day,
    DeliveredNotice,
    NoticeDelivered,
    PartyKind,
    PublicInterestOverride,
    Reply,
)
from gongkai_shared.periods import notice_channel, period_end
from gongkai_shared.text import line, paragraph

from .. import letters
from ..case import CaseState
from .common import ConsultationId, Context, Input, Text, on_record, profile_of, reject


class StartConsultation(Input):
    party_kind: PartyKind
    party: Annotated[str, line(300, min_length=1)]
    matter: Text


class RecordReply(Input):
    consultation_id: ConsultationId
    reply: Literal["consent", "refuse", "silent"]  # grounds_unreasonable is the office's reading, not a reply
    grounds: Annotated[str, paragraph(5000)] | None = None
    grounds_reasonable: bool = True  # Art. 32: a refusal binds only with reasonable grounds
    assessment: Annotated[str, paragraph(5000, min_length=1)] | None = None  # why they are not


class RecordDelivery(Input):
    """Which notice: a consultation letter (``consultation_id``), the clarification notice or the
    fee notice (the case has one of each)."""

    notice: DeliveredNotice = DeliveredNotice.consultation
    consultation_id: ConsultationId | None = None
    delivered_on: Day

    @model_validator(mode="after")
    def _names_its_letter(self) -> RecordDelivery:
        if (self.notice == DeliveredNotice.consultation) != (self.consultation_id is not None):
            raise ValueError("consultation_id: required for a consultation letter, and only for it")
        return self


class Override(Input):
    consultation_id: ConsultationId
    reason: Text
    content: Annotated[str, paragraph(100_000, min_length=1)]  # the information to be disclosed


def start_consultation(s: CaseState, c: StartConsultation, ctx: Context) -> ConsultationStarted:
    """The letter (征求意见书) and the party's period: a third party's (Art. 32) or an agency's
    (Art. 34), per profile."""
    p = profile_of(s, ctx)
    days = p.third_party_reply_days if c.party_kind == PartyKind.third_party else p.co_producer_reply_days
    letter = letters.render(
        "consultation",
        c.party,
        office=ctx.office,
        today=ctx.today,
        party=c.party,
        party_kind=c.party_kind.value,
        description=s.description,
        matter=c.matter,
        reply_days=days,
    )
    return ConsultationStarted(
        case_id=s.case_id,
        consultation_id=ctx.new_id,
        party_kind=c.party_kind,
        party=c.party,
        matter=c.matter,
        reply_days=days,
        started_on=ctx.today,
        letter=letter,
    )


def record_reply(s: CaseState, c: RecordReply, ctx: Context) -> ConsultationReplied:
    """One reply per open consultation. Silence only once the period is over (third party: the
    office decides, Art. 32; co-producer: deemed consent, Art. 34; another agency: the office
    decides). A refusal records its grounds, and whether they are reasonable: one that is not
    says why and leaves the decision to the office (Art. 32)."""
    con = s.consultations.get(c.consultation_id)
    if con is None or con.reply is not None:
        raise reject(f"no open consultation {c.consultation_id}")
    effective = Reply(c.reply)
    if c.reply == Reply.silent:
        # the party's period runs from the day it received the letter (Art. 32, 34): recorded,
        # else presumed per channel; notify's clock ends the answer's pause on the same day
        until = period_end(
            con.started_on, notice_channel(con.party), con.delivered_on, con.reply_days,
            profile_of(s, ctx), ctx.calendar,
        )  # fmt: skip
        if ctx.today <= until:
            raise reject(f"the party may still reply until {until}")
        p = profile_of(s, ctx)
        co_producer = con.party_kind == PartyKind.co_producer
        effective = (
            Reply.consent if co_producer and p.silent_co_producer == "deemed_consent" else Reply.silent
        )
    if c.reply == Reply.refuse and not c.grounds:
        raise reject("a refusal records the party's grounds")
    reasonable: bool | None = None
    if c.reply == Reply.refuse and con.party_kind == PartyKind.third_party:
        reasonable = c.grounds_reasonable
        if not reasonable:
            if not c.assessment:
                raise reject("assessment: why the third party's grounds are not reasonable (Art. 32)")
            effective = Reply.grounds_unreasonable
    elif not c.grounds_reasonable or c.assessment:
        raise reject("grounds_reasonable/assessment only for a third party's refusal (Art. 32)")
    return ConsultationReplied(
        case_id=s.case_id,
        consultation_id=c.consultation_id,
        reply=Reply(c.reply),
        effective=effective,
        grounds=c.grounds,
        replied_on=ctx.today,
        grounds_reasonable=reasonable,
        assessment=c.assessment if reasonable is False else None,
    )


def record_delivery(s: CaseState, c: RecordDelivery, ctx: Context) -> NoticeDelivered:
    """送达: a registrar enters the day a notice was received, from the post's return receipt,
    between the notice and today. The recipient's period runs from it: a party's 15 working days
    (Art. 32, 34), the applicant's correction period (Art. 30) or payment period (109号)."""
    if c.notice == DeliveredNotice.consultation:
        con = s.consultations.get(c.consultation_id or "")
        if con is None:
            raise reject(f"no consultation {c.consultation_id}")
        issued_on = con.started_on
    elif c.notice == DeliveredNotice.clarification:
        issued_on = on_record(s.clarification_requested_on, "补正告知")
    else:
        issued_on = on_record(s.fee, "收费通知").notified_on
    if not issued_on <= c.delivered_on <= ctx.today:
        raise reject(f"送达日期须在{issued_on}（发出）至今天之间 (between the notice and today)")
    return NoticeDelivered(
        case_id=s.case_id, consultation_id=c.consultation_id, delivered_on=c.delivered_on, notice=c.notice
    )


def override(s: CaseState, c: Override, ctx: Context) -> PublicInterestOverride:
    """Art. 32: only a third party's objection (a refusal with reasonable grounds: in the public
    interest; one found unreasonable: on the office's own decision), once, with the written notice
    of the content to be disclosed, the reasons and the party's remedies."""
    con = s.consultations.get(c.consultation_id)
    objects = con is not None and con.effective in ("refuse", "grounds_unreasonable")
    if con is None or con.party_kind != "third_party" or not objects or con.overridden:
        raise reject("only a third party's refusal can be overridden, once")
    basis = "public_interest" if con.effective == "refuse" else "grounds_unreasonable"
    letter = letters.render(
        "override_notice",
        con.party,
        office=ctx.office,
        today=ctx.today,
        party=con.party,
        description=s.description,
        reason=c.reason,
        content=c.content,
        basis=basis,
        reconsideration_body=ctx.reconsideration_body,
    )
    return PublicInterestOverride(
        case_id=s.case_id,
        consultation_id=c.consultation_id,
        reason=c.reason,
        letter=letter,
        content=c.content,
        basis=basis,
    )
