"""Rule profiles as data (DOMAIN.md §3): the national 2019 rules and a stricter local profile.

A local profile may shorten the office's own periods; it cannot change what the 条例 says a
party's silence means (Art. 32: a silent third party leaves the decision to the agency).

A case records the profile (name and version) it runs under; changing a profile is a new version.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal


@dataclass(frozen=True)
class RuleProfile:
    name: str
    version: int
    answer_days: int  # 答复期限, working days from receipt
    extension_max_days: int  # 延期, at most, approved by the office head
    clarification_notice_days: int  # 补正告知 within this many working days of receipt
    clarification_period_days: int  # default period given to the applicant to correct
    department_feedback_days: int | None  # 部门反馈 (local practice)
    third_party_reply_days: int  # 第三方 has this many working days; not counted
    co_producer_reply_days: int
    # Art. 32 (2019): the agency decides; a local measure cannot read silence as refusal
    silent_third_party: Literal["agency_decides"]
    silent_co_producer: Literal["deemed_consent", "agency_decides"]
    proactive_publication_days: int  # 主动公开 within this many working days of forming
    count_receipt_day: bool  # whether the day of receipt counts
    fee_payment_days: int
    # 送达: calendar days after issue at which a notice is presumed received, per channel, until
    # the delivery record (or a registrar, for post) gives the day (Art. 30, 32, 34 periods run
    # from receipt; 109号 the fee's payment period). Office practice, not the 条例: e-mail, online
    # and by hand the same day, post 3 days.
    presumed_delivery_days: tuple[tuple[str, int], ...] = (
        ("email", 0), ("webhook", 0), ("online", 0), ("in_person", 0), ("post", 3),
    )  # fmt: skip

    def presumed_delivery(self, channel: str) -> int:
        """Calendar days from issue to presumed receipt on ``channel`` (unknown channels: post's)."""
        days = dict(self.presumed_delivery_days)
        return days.get(channel, days["post"])

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def as_dict(self) -> dict:
        return asdict(self)


NATIONAL_2019 = RuleProfile(
    name="national-2019",
    version=1,
    answer_days=20,
    extension_max_days=20,
    clarification_notice_days=7,
    clarification_period_days=15,
    department_feedback_days=None,
    third_party_reply_days=15,
    co_producer_reply_days=15,
    silent_third_party="agency_decides",
    silent_co_producer="deemed_consent",
    proactive_publication_days=20,
    count_receipt_day=False,
    fee_payment_days=20,
)

LOCAL_2008 = RuleProfile(
    name="local-2008",
    version=1,
    answer_days=15,
    extension_max_days=15,
    clarification_notice_days=7,
    clarification_period_days=15,
    department_feedback_days=10,
    third_party_reply_days=15,
    co_producer_reply_days=15,
    # the seeds say "deemed to refuse" (2008); Art. 32 (2019) governs: the agency decides
    silent_third_party="agency_decides",
    silent_co_producer="deemed_consent",
    proactive_publication_days=20,
    count_receipt_day=False,
    fee_payment_days=20,
)

PROFILES: dict[str, RuleProfile] = {p.name: p for p in (NATIONAL_2019, LOCAL_2008)}


def profile(ref: str) -> RuleProfile:
    """A profile by ``name`` or ``name@version``."""
    name = ref.split("@", 1)[0]
    return PROFILES[name]
