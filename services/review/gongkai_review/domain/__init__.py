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
- ``closing``: 撤回、归档 (office practice)
- ``common``: what every rule uses: Context, Input, reject, the profile, working days

Which command runs which rule, in which states, for whom, at which route: ``..commands``.
"""

from .answer import SendAnswer
from .clarification import Abandon, ReceiveClarification, RequestClarification
from .closing import Archive, Withdraw
from .common import CaseNotFound, Context, Input, reject
from .consultation import Override, RecordDelivery, RecordReply, StartConsultation
from .decision import Draft, PartWithheld, ReviewConfidentiality
from .extension import Extend
from .registration import Assign, GiveFeedback, Register
from .sign_off import RejectDraft, SignOff

__all__ = [
    "Abandon", "Archive", "Assign", "CaseNotFound", "Context", "Draft", "Extend", "GiveFeedback",
    "Input", "Override", "PartWithheld", "ReceiveClarification", "RecordDelivery", "RecordReply", "Register",
    "RejectDraft", "RequestClarification", "ReviewConfidentiality", "SendAnswer", "SignOff",
    "StartConsultation", "Withdraw", "reject",
]  # fmt: skip
