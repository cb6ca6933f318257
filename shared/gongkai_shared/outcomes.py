"""The closed set of answer outcomes (Art. 35-39), each mapped to one row of the annual report's
table 三 (国办公开办函〔2021〕30号) and to its legal basis.

A decision names an outcome category (``Outcome``) and, where the category has several rows, a
reason; ``code(outcome, reason)`` is its code, and each code has one report row (several codes may
share a row: 36(4) and 36(5) are different answers, both in 三.（四）.1). Partial disclosure records
a withhold reason for each withheld part.

Which codes are refusals (不予公开: the refusal register, reconsideration first) is
``is_refusal``: 36(7) (行政查询事项) is counted in row 三.（三）.8 of the report form but is a
referral to the special procedure, not a refusal. A withdrawal by the applicant ends the case in
三.（六）.3 (其他), so that 一 + 二 = 三（总计） + 四 holds. Codes no longer offered to drafters
(``current=False``) stay readable: old events carry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

REGULATION = "《中华人民共和国政府信息公开条例》"


class Outcome(StrEnum):
    disclose = "disclose"  # 予以公开
    partial = "partial"  # 部分公开
    withhold = "withhold"  # 不予公开
    not_held = "not_held"  # 无法提供
    not_processed = "not_processed"  # 不予处理
    other = "other"  # 其他处理


@dataclass(frozen=True)
class Row:
    code: str
    outcome: Outcome
    reason: str | None
    label: str  # the report row's wording
    report_row: str  # e.g. "三.（三）.1"
    legal_basis: str  # empty where no article applies (a withdrawal)
    current: bool = True  # offered to drafters; False: only in old events


def _r(
    outcome: Outcome, reason: str | None, label: str, row: str, basis: str, *, current: bool = True
) -> Row:
    code = outcome.value if reason is None else f"{outcome.value}.{reason}"
    return Row(code, outcome, reason, label, row, f"{REGULATION}{basis}" if basis else "", current)


ROWS: tuple[Row, ...] = (
    _r(Outcome.disclose, None, "予以公开", "三.（一）", "第三十六条第（二）项"),
    _r(Outcome.disclose, "already_published", "予以公开（已主动公开）", "三.（一）", "第三十六条第（一）项"),
    _r(Outcome.partial, None, "部分公开", "三.（二）", "第三十七条"),
    _r(Outcome.withhold, "state_secret", "属于国家秘密", "三.（三）.1", "第十四条"),
    _r(Outcome.withhold, "prohibited_by_law", "其他法律行政法规禁止公开", "三.（三）.2", "第十四条"),
    _r(Outcome.withhold, "security_stability", "危及“三安全一稳定”", "三.（三）.3", "第十四条"),
    _r(Outcome.withhold, "third_party_rights", "保护第三方合法权益", "三.（三）.4", "第十五条"),
    _r(Outcome.withhold, "internal_affairs", "属于三类内部事务信息", "三.（三）.5", "第十六条第一款"),
    _r(Outcome.withhold, "process_information", "属于四类过程性信息", "三.（三）.6", "第十六条第二款"),
    _r(Outcome.withhold, "enforcement_file", "属于行政执法案卷", "三.（三）.7", "第十六条第二款"),
    _r(Outcome.withhold, "administrative_inquiry", "属于行政查询事项", "三.（三）.8", "第三十六条第（七）项"),
    _r(
        Outcome.not_held,
        "does_not_exist",
        "本机关不掌握相关政府信息（经检索不存在）",
        "三.（四）.1",
        "第三十六条第（四）项",
    ),
    _r(
        Outcome.not_held,
        "not_this_agency",
        "本机关不掌握相关政府信息（不属于本机关负责公开）",
        "三.（四）.1",
        "第三十六条第（五）项、第十条",
    ),
    # before issue 9 the two answers shared one code: old events still carry it
    _r(
        Outcome.not_held,
        "not_held",
        "本机关不掌握相关政府信息",
        "三.（四）.1",
        "第三十六条第（四）项、第（五）项",
        current=False,
    ),
    _r(Outcome.not_held, "needs_creation", "没有现成信息需要另行制作", "三.（四）.2", "第三十八条"),
    _r(Outcome.not_held, "unclear", "补正后申请内容仍不明确", "三.（四）.3", "第三十条"),
    _r(Outcome.not_processed, "petition", "信访举报投诉类申请", "三.（五）.1", "第三十九条第一款"),
    _r(Outcome.not_processed, "repeat", "重复申请", "三.（五）.2", "第三十六条第（六）项"),
    _r(Outcome.not_processed, "publication", "要求提供公开出版物", "三.（五）.3", "第三十九条第二款"),
    _r(Outcome.not_processed, "excessive", "无正当理由大量反复申请", "三.（五）.4", "第三十五条"),
    _r(
        Outcome.not_processed,
        "confirm_obtained",
        "要求行政机关确认或重新出具已获取信息",
        "三.（五）.5",
        "第二条",  # not a request for government information (Art. 2); 39(2) is publications
    ),
    _r(
        Outcome.other,
        "no_clarification",
        "申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        "三.（六）.1",
        "第三十条",
    ),
    _r(
        Outcome.other,
        "fee_unpaid",
        "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        "三.（六）.2",
        "第四十二条",
    ),
    _r(Outcome.other, "withdrawn", "申请人撤回申请", "三.（六）.3", ""),
    _r(Outcome.other, "other", "其他", "三.（六）.3", "第三十六条"),
)

BY_CODE: dict[str, Row] = {r.code: r for r in ROWS}
WITHHOLD_REASONS = tuple(r.reason for r in ROWS if r.outcome == Outcome.withhold)
# 36(7): a referral to the special procedure (工商、不动产登记 …), counted in 三.（三）.8, not a refusal
REFERRAL_CODES = frozenset({"withhold.administrative_inquiry"})
# reasons a withheld part of a partial disclosure may give: the refusals of 不予公开
PART_REASONS = tuple(r for r in WITHHOLD_REASONS if f"withhold.{r}" not in REFERRAL_CODES)
# ended by the applicant, not answered (Art. 30, 42, withdrawal): the review closes them itself
WITHDRAWN = BY_CODE["other.withdrawn"]


def code(outcome: Outcome, reason: str | None) -> str:
    return outcome.value if reason is None else f"{outcome.value}.{reason}"


def reasons_for(outcome: Outcome) -> tuple[str, ...]:
    """The reasons a drafter may give for ``outcome`` (a withdrawal is the applicant's, not drafted)."""
    ended = {"withdrawn"}
    return tuple(
        r.reason
        for r in ROWS
        if r.outcome == outcome and r.reason is not None and r.current and r.reason not in ended
    )


def is_refusal(outcome_code: str) -> bool:
    """不予公开 (Art. 36(3)): the refusal register and reconsideration first (行政复议法 Art. 23(1)(4)).
    36(7) is a referral, not a refusal."""
    return outcome_code.split(".", 1)[0] == Outcome.withhold.value and outcome_code not in REFERRAL_CODES


def row(outcome: Outcome, reason: str | None) -> Row:
    """The report row of a decision; raises KeyError for a combination outside the closed set."""
    return BY_CODE[code(outcome, reason)]


def discloses(outcome: Outcome) -> bool:
    """Whether anything of the information reaches the applicant (and may be published)."""
    return outcome in (Outcome.disclose, Outcome.partial)
