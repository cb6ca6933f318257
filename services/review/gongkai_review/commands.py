"""Review's table of contents: every command of the on-request procedure (依申请公开办理), one row
each, and ``decide``, which runs them.

A row says, for one command: its ``name``; its Chinese ``label`` (the step, in the docs and the
API's summaries); its input ``model`` (the HTTP body) and its ``rule`` (the pure decision,
``rule(case state, input, context) -> event body``), both in ``domain/<step>.py`` beside the
article of the 条例 they apply; the states it is ``allowed_in`` (any other: ``409``) and where it
``leads_to`` (a state; ``"="`` stays; ``"<resume>"``: back to the state the case was in before
its consultations, once the last reply is in, or before its fee notice, once paid); the
``roles`` that may give it (any other: ``403``; an administrator needs the role too); its route
``path``: ``POST /api/v1/cases/{case_id}/<path>`` (and any ``aliases``).

Everything else derives from this table: ``api.py`` makes one route per row, ``machine.py`` the
pending steps (``allowed``) and the diagram and table of ``docs/review-workflow.md``, ``decide``
the state check. ``leads_to`` states what ``case.evolve`` does with the command's event
(``tests/unit/test_review_workflow.py`` checks the two agree).

To add a command:

1. in the step's module of ``domain/`` (or a new one, listed in ``domain/__init__.py``), write its
   input model (a subclass of ``Input``) and its rule, with the article in the docstring; a new
   event body goes in ``gongkai_shared/events.py`` (the event contract);
2. add its row below (mypy checks that the rule takes the row's model);
3. fold its event in ``case.evolve`` if it changes the case, and regenerate the workflow page:
   ``.venv/bin/python -m gongkai_review.machine > docs/review-workflow.md``.

The refusal register's entries (issue 10) are aggregates of their own (the entry id, not a case):
their commands are the second, smaller table ``REGISTER_COMMANDS`` (``POST
/api/v1/refusals/{entry_id}/<path>``, ``refusals_api.py``); a rule there returns ``None`` when
the command was already given (nothing to append: idempotent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from gongkai_shared.auth import Role
from gongkai_shared.events import EventBody

from .case import OPEN, WORKING, CaseState
from .domain.answer import SendAnswer, send_answer
from .domain.appeals import FileAppeal, RecordAppealResult, file_appeal, record_appeal_result
from .domain.clarification import (
    Abandon,
    ReceiveClarification,
    RequestClarification,
    abandon,
    receive_clarification,
    request_clarification,
)
from .domain.closing import Archive, Withdraw, archive, withdraw
from .domain.common import CaseNotFound, Context, Input, reject
from .domain.consultation import (
    Override,
    RecordDelivery,
    RecordReply,
    StartConsultation,
    override,
    record_delivery,
    record_reply,
    start_consultation,
)
from .domain.corrections import (
    CorrectRecord,
    ReferCorrection,
    RefuseCorrection,
    RequestCorrection,
    correct_record,
    refer_correction,
    refuse_correction,
    request_correction,
)
from .domain.decision import Draft, ReviewConfidentiality, draft, review_confidentiality
from .domain.documents import AttachDocument, attach_document
from .domain.excessive import AskReasons, AssessReasons, ask_reasons, assess_reasons
from .domain.extension import Extend, extend
from .domain.fees import (
    AbandonUnpaid,
    IssueFeeNotice,
    RecordPayment,
    abandon_unpaid,
    issue_fee_notice,
    record_payment,
)
from .domain.provision import ArrangeProvision, arrange_provision
from .domain.refusals import EntryState, LiftRefusal, ReviewRefusal, lift_refusal, review_refusal
from .domain.registration import Assign, GiveFeedback, Register, assign, give_feedback, register
from .domain.sign_off import RejectDraft, SignOff, reject_draft, sign_off

M = TypeVar("M", bound=Input)


@dataclass(frozen=True)
class Command(Generic[M]):
    name: str
    label: str
    model: type[M]
    rule: Callable[[CaseState, M, Context], EventBody]
    allowed_in: tuple[str, ...]
    leads_to: str  # a state; "=" stays; "<resume>" returns to the state before consulting
    roles: tuple[Role, ...]
    path: str
    aliases: tuple[str, ...] = ()


R, H, V, A = Role.registrar, Role.handler, Role.reviewer, Role.approver
# an extension is approved before the decision is signed
UNSIGNED = ("registered", "assigned", "searched", "clarifying", "consulting", "reviewed", "drafted")
# after the answer: corrections (Art. 41) and appeals run without reopening the case
PROVIDED = ("answered", "archived")
APPEALABLE = ("answered", "abandoned", "archived")

# not annotated as Command[Any]: so mypy infers each row's model and checks its rule takes it
# fmt: off
COMMANDS = (
    # registration: 登记、分办、检索反馈 (Art. 29, 31)
    Command("register", "登记", Register, register,
            allowed_in=("received",), leads_to="registered", roles=(R,), path="register"),
    Command("assign", "分办", Assign, assign,
            allowed_in=("registered",), leads_to="assigned", roles=(R, V), path="assign"),
    Command("give_feedback", "部门反馈（全部反馈后）", GiveFeedback, give_feedback,
            allowed_in=("assigned",), leads_to="searched", roles=(H, V), path="feedback"),
    # clarification: 补正 (Art. 30)
    Command("request_clarification", "补正告知", RequestClarification, request_clarification,
            allowed_in=("registered", "assigned"), leads_to="clarifying", roles=(R, V), path="clarification"),
    Command("receive_clarification", "收到补正", ReceiveClarification, receive_clarification,
            allowed_in=("clarifying",), leads_to="registered", roles=(R,), path="clarification/received"),
    Command("abandon", "逾期未补正", Abandon, abandon,
            allowed_in=("clarifying",), leads_to="abandoned", roles=(R, V), path="abandon"),
    # consultation: 征求意见 (Art. 32, 34)
    Command("start_consultation", "征求意见", StartConsultation, start_consultation,
            allowed_in=(*WORKING, "consulting"), leads_to="consulting", roles=(V,), path="consultations"),
    Command("record_reply", "记录意见", RecordReply, record_reply,
            allowed_in=("consulting",), leads_to="<resume>", roles=(R, V), path="consultations/reply"),
    Command("record_delivery", "记录送达", RecordDelivery, record_delivery,
            allowed_in=("consulting", "clarifying", "fee_due"), leads_to="=", roles=(R,), path="delivery"),
    Command("override", "决定公开并书面告知第三方", Override, override,
            allowed_in=WORKING, leads_to="=", roles=(A,), path="consultations/override"),
    # decision: 保密审查、拟定答复 (Art. 17, 36-38); sign_off: 签发 or 退回
    Command("review_confidentiality", "保密审查", ReviewConfidentiality, review_confidentiality,
            allowed_in=("registered", "searched"), leads_to="reviewed", roles=(V,),
            path="confidentiality-review"),
    Command("draft", "拟定答复", Draft, draft,
            allowed_in=("reviewed",), leads_to="drafted", roles=(H, V), path="draft", aliases=("decision",)),
    Command("reject_draft", "退回", RejectDraft, reject_draft,
            allowed_in=("drafted",), leads_to="reviewed", roles=(A,), path="draft/reject"),
    Command("sign_off", "签发", SignOff, sign_off,
            allowed_in=("drafted",), leads_to="signed", roles=(A,), path="sign-off"),
    # documents: 附送公开的政府信息 (Art. 36, 40), before the draft is signed
    Command("attach_document", "附送公开文件", AttachDocument, attach_document,
            allowed_in=("registered", "assigned", "searched", "reviewed"), leads_to="=", roles=(H, V),
            path="documents"),
    # extension: 延期答复 (Art. 33)
    Command("extend", "延期答复", Extend, extend,
            allowed_in=UNSIGNED, leads_to="=", roles=(A,), path="extension"),
    # fees: 收费通知、缴费、逾期未缴费 (国办函〔2020〕109号, Art. 42)
    Command("issue_fee_notice", "收费通知", IssueFeeNotice, issue_fee_notice,
            allowed_in=WORKING, leads_to="fee_due", roles=(V,), path="fee"),
    Command("record_payment", "缴费登记", RecordPayment, record_payment,
            allowed_in=("fee_due",), leads_to="<resume>", roles=(R,), path="fee/paid"),
    Command("abandon_unpaid", "逾期未缴费", AbandonUnpaid, abandon_unpaid,
            allowed_in=("fee_due",), leads_to="abandoned", roles=(R, V), path="fee/unpaid"),
    # excessive requests: 要求说明理由、理由审核 (Art. 35)
    Command("ask_reasons", "要求说明理由", AskReasons, ask_reasons,
            allowed_in=WORKING, leads_to="=", roles=(V,), path="excessive"),
    Command("assess_reasons", "理由审核", AssessReasons, assess_reasons,
            allowed_in=WORKING, leads_to="=", roles=(A,), path="excessive/assessment"),
    # answer: 答复 with its remedies (Art. 36, 51)
    Command("send_answer", "答复", SendAnswer, send_answer,
            allowed_in=("signed",), leads_to="answered", roles=(R, V), path="answer"),
    # closing: 撤回、归档
    Command("withdraw", "申请人撤回", Withdraw, withdraw,
            allowed_in=OPEN, leads_to="withdrawn", roles=(R,), path="withdrawal"),
    Command("archive", "归档", Archive, archive,
            allowed_in=("answered", "abandoned", "withdrawn"), leads_to="archived", roles=(R,),
            path="archive"),
    # form of provision: 提供形式 (Art. 40), before the answer states it
    Command("arrange_provision", "确定提供形式（查阅预约）", ArrangeProvision, arrange_provision,
            allowed_in=("reviewed", "drafted", "signed"), leads_to="=", roles=(R, V), path="provision"),
    # corrections of records: 更正政府信息记录 (Art. 41)
    Command("request_correction", "收到更正申请", RequestCorrection, request_correction,
            allowed_in=PROVIDED, leads_to="=", roles=(R,), path="corrections"),
    Command("correct_record", "予以更正", CorrectRecord, correct_record,
            allowed_in=PROVIDED, leads_to="=", roles=(V, A), path="corrections/corrected"),
    Command("refuse_correction", "不予更正", RefuseCorrection, refuse_correction,
            allowed_in=PROVIDED, leads_to="=", roles=(V, A), path="corrections/refused"),
    Command("refer_correction", "转送或告知有权更正的机关", ReferCorrection, refer_correction,
            allowed_in=PROVIDED, leads_to="=", roles=(V, A), path="corrections/referred"),
    # appeals: 行政复议、行政诉讼 (table 四)
    Command("file_appeal", "记录复议或诉讼", FileAppeal, file_appeal,
            allowed_in=APPEALABLE, leads_to="=", roles=(R, V), path="appeals"),
    Command("record_appeal_result", "记录复议或诉讼结果", RecordAppealResult, record_appeal_result,
            allowed_in=APPEALABLE, leads_to="=", roles=(R, V), path="appeals/result"),
)
# fmt: on

E = TypeVar("E", bound=Input)


@dataclass(frozen=True)
class EntryCommand(Generic[E]):
    """A command on a refusal register entry (Art. 18): ``rule(entry, input, context)`` gives the
    event, or None when the command was already given."""

    name: str
    label: str
    model: type[E]
    rule: Callable[[EntryState, E, Context], EventBody | None]
    roles: tuple[Role, ...]
    path: str


# fmt: off
REGISTER_COMMANDS = (
    # 不予公开登记的定期复核与解除 (Art. 18; seed measures Art. 25)
    EntryCommand("review_refusal", "复核（继续不予公开）", ReviewRefusal, review_refusal,
                 roles=(V, A), path="review"),
    EntryCommand("lift_refusal", "解除登记", LiftRefusal, lift_refusal, roles=(A,), path="lift"),
)
# fmt: on

BY_NAME: dict[str, Command[Any]] = {c.name: c for c in COMMANDS}
BY_MODEL: dict[type[Input], Command[Any]] = {c.model: c for c in COMMANDS}


def decide(state: CaseState | None, cmd: Input, ctx: Context) -> EventBody:
    """The event ``cmd`` makes of the case, or ``CommandRejected`` (a state the table does not
    allow it in, or its rule refuses); ``CaseNotFound`` for no case."""
    if state is None:
        raise CaseNotFound("no such case")
    command = BY_MODEL[type(cmd)]
    if state.status not in command.allowed_in:
        raise reject(
            f"案件状态为 {state.status}，不能执行 {command.name} (not allowed in state {state.status})"
        )
    return command.rule(state, cmd, ctx)
