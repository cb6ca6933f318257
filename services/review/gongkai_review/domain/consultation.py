"""Consultation (征求意见): third parties, co-producing agencies, other agencies.

条例 (2019):

- Art. 32: disclosure that may harm a third party's lawful rights needs the third party's
  opinion, asked in writing (征求意见书); it has 15 working days from receiving the letter. A
  silent third party: the office decides itself (a local profile may read silence as refusal). A
  refusal with reasonable grounds binds (不予公开), unless the office decides that withholding
  would gravely affect the public interest: it may then disclose, and tells the third party in
  writing what it discloses and why (公共利益决定公开, ``override``).
- Art. 34: information produced by several agencies: the leading one may consult the others,
  who have 15 working days; a silent co-producer is deemed to consent (视为同意公开).
- Art. 33 ¶2: the time taken by consultations is not counted in the answer period (notify's
  clock pauses while any consultation is open).
"""

from __future__ import annotations

from typing import Annotated

from gongkai_shared.events import (
    ConsultationReplied,
    ConsultationStarted,
    Day,
    NoticeDelivered,
    PartyKind,
    PublicInterestOverride,
    Reply,
)
from gongkai_shared.periods import notice_channel, period_end
from gongkai_shared.text import line, paragraph

from .. import letters
from ..case import CaseState
from .common import ConsultationId, Context, Input, Text, profile_of, reject


class StartConsultation(Input):
    party_kind: PartyKind
    party: Annotated[str, line(300, min_length=1)]
    matter: Text


class RecordReply(Input):
    consultation_id: ConsultationId
    reply: Reply
    grounds: Annotated[str, paragraph(5000)] | None = None


class RecordDelivery(Input):
    consultation_id: ConsultationId
    delivered_on: Day


class Override(Input):
    consultation_id: ConsultationId
    reason: Text


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
        silent=p.silent_third_party,
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
    """One reply per open consultation. Silence only once the period is over, read per profile
    (third party: the office decides, or deemed refusal; co-producer: deemed consent, Art. 34).
    A refusal records its grounds (a refusal binds only with reasonable grounds, Art. 32)."""
    con = s.consultations.get(c.consultation_id)
    if con is None or con.reply is not None:
        raise reject(f"no open consultation {c.consultation_id}")
    effective = c.reply
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
        if con.party_kind == PartyKind.third_party:
            effective = Reply.refuse if p.silent_third_party == "deemed_refusal" else Reply.silent
        else:
            effective = Reply.consent if p.silent_co_producer == "deemed_consent" else Reply.silent
    if c.reply == Reply.refuse and not c.grounds:
        raise reject("a refusal records the party's grounds")
    return ConsultationReplied(
        case_id=s.case_id,
        consultation_id=c.consultation_id,
        reply=c.reply,
        effective=effective,
        grounds=c.grounds,
        replied_on=ctx.today,
    )


def record_delivery(s: CaseState, c: RecordDelivery, ctx: Context) -> NoticeDelivered:
    """送达 (Art. 32, 34: the party's 15 working days run from the day it received the letter): a
    registrar enters the day from the post's return receipt, between the letter and today."""
    con = s.consultations.get(c.consultation_id)
    if con is None:
        raise reject(f"no consultation {c.consultation_id}")
    if not con.started_on <= c.delivered_on <= ctx.today:
        raise reject(f"送达日期须在{con.started_on}（发出）至今天之间 (between the letter and today)")
    return NoticeDelivered(case_id=s.case_id, consultation_id=c.consultation_id, delivered_on=c.delivered_on)


def override(s: CaseState, c: Override, ctx: Context) -> PublicInterestOverride:
    """Art. 32: only a third party's (effective) refusal, once, with the written notice to it."""
    con = s.consultations.get(c.consultation_id)
    if con is None or con.party_kind != "third_party" or con.effective != "refuse" or con.overridden:
        raise reject("only a third party's refusal can be overridden, once")
    letter = letters.render(
        "override_notice",
        con.party,
        office=ctx.office,
        today=ctx.today,
        party=con.party,
        description=s.description,
        reason=c.reason,
    )
    return PublicInterestOverride(
        case_id=s.case_id, consultation_id=c.consultation_id, reason=c.reason, letter=letter
    )
