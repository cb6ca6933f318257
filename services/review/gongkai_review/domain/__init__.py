"""Review's rules, pure: each step of the on-request procedure (依申请公开办理) with its articles
of the 条例 (2019, 国务院令第711号). A rule is ``rule(case state, input, context) -> event body``;
it refuses with ``reject(message)``; it does no I/O (import-linter keeps it so).

- ``registration``: 登记、分办、检索反馈 (Art. 29, 31)
- ``clarification``: 补正 and deemed abandonment (Art. 30)
- ``consultation``: 征求意见 of third parties and other agencies (Art. 32, 33 ¶2, 34)
- ``decision``: 保密审查 and the draft answer: outcomes, partial disclosure (Art. 17, 32, 36-38)
- ``sign_off``: 审核签发 by someone other than the drafter, or 退回 (office procedure, Art. 17)
- ``extension``: 延期答复 (Art. 33)
- ``answer``: 答复 and the remedies it names (Art. 36, 37, 51)
- ``fees``: 收费通知、缴费、逾期未缴费 (国办函〔2020〕109号, Art. 42)
- ``excessive``: 说明理由 of excessive requests, 不予处理 or a later answer date (Art. 35)
- ``closing``: 撤回、归档 (office practice)
- ``provision``: 提供形式, inspection by appointment (Art. 40)
- ``corrections``: 更正政府信息记录 (Art. 41)
- ``appeals``: 行政复议、行政诉讼 on a case (行政复议法, 行政诉讼法; table 四)
- ``common``: what every rule uses: Context, Input, reject, the profile, working days

Which command runs which rule, in which states, for whom, at which route: ``..commands``.
"""

from .answer import SendAnswer
from .appeals import FileAppeal, RecordAppealResult
from .clarification import Abandon, ReceiveClarification, RequestClarification
from .closing import Archive, Withdraw
from .common import CaseNotFound, Context, Input, reject
from .consultation import Override, RecordDelivery, RecordReply, StartConsultation
from .corrections import CorrectRecord, ReferCorrection, RefuseCorrection, RequestCorrection
from .decision import Draft, PartWithheld, ReviewConfidentiality
from .documents import AttachDocument
from .excessive import AskReasons, AssessReasons
from .extension import Extend
from .fees import AbandonUnpaid, IssueFeeNotice, RecordPayment
from .provision import ArrangeProvision
from .registration import Assign, GiveFeedback, Register
from .sign_off import RejectDraft, SignOff

__all__ = [
    "Abandon", "AbandonUnpaid", "Archive", "ArrangeProvision", "AskReasons", "AssessReasons",
    "Assign", "AttachDocument", "CaseNotFound", "Context", "CorrectRecord", "Draft", "Extend",
    "FileAppeal", "GiveFeedback", "Input", "IssueFeeNotice", "Override", "PartWithheld",
    "ReceiveClarification", "RecordAppealResult", "RecordDelivery", "RecordPayment", "RecordReply",
    "ReferCorrection", "RefuseCorrection", "Register", "RejectDraft", "RequestClarification",
    "RequestCorrection", "ReviewConfidentiality", "SendAnswer", "SignOff", "StartConsultation",
    "Withdraw", "reject",
]  # fmt: skip
