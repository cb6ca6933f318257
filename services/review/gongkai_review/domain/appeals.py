"""Administrative reconsideration and litigation on a case (行政复议、行政诉讼), the inputs of the
annual report's table 四 (条例 Art. 50; 国办公开办函〔2021〕30号).

Staff record what the applicant did after the office acted and what came of it; the case's
workflow is not reopened (its status stays answered, abandoned or archived):

- filed: 行政复议 (行政复议法 2023 Art. 11, 20: within 60 days; Art. 23: first for 不予公开), a
  lawsuit directly (行政诉讼法 Art. 44, 46: within 6 months), or a lawsuit after reconsideration
  (行政诉讼法 Art. 45: after the reconsideration decision, or once the body has let its period
  pass, 行政复议法 Art. 62: 60 days), with the body or court and the date filed. Late filings are
  recorded as filed: admissibility is the body's or court's to decide, and table 四 counts them;
- decided once: 维持 (upheld), 纠正 (corrected: revoked, changed, confirmed unlawful or ordered to
  act), 其他结果 (dismissed, withdrawn, settled …), on a date not before the filing; until then
  the appeal is 尚未审结.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from pydantic import model_validator

from gongkai_shared.events import AppealDecided, AppealFiled, AppealKind, AppealResult
from gongkai_shared.text import line

from ..case import CaseState
from .common import Context, Input, Text, reject

RECONSIDERATION_PERIOD = timedelta(days=60)  # 行政复议法 Art. 62: decided within 60 days
KIND_LABELS = {"reconsideration": "行政复议", "lawsuit": "行政诉讼（未经复议）",
               "lawsuit_after_reconsideration": "行政诉讼（复议后起诉）"}  # fmt: skip
AppealId = Annotated[str, line(200, min_length=1)]


class FileAppeal(Input):
    kind: AppealKind
    body: Annotated[str, line(300, min_length=1)]  # the reconsideration body or the court
    filed_on: date
    after: AppealId | None = None  # for a lawsuit after reconsideration: the reconsideration

    @model_validator(mode="after")
    def _after(self) -> FileAppeal:
        if self.kind == AppealKind.lawsuit_after_reconsideration and self.after is None:
            raise ValueError("after: the reconsideration this lawsuit follows (行政诉讼法 Art. 45)")
        if self.kind != AppealKind.lawsuit_after_reconsideration and self.after is not None:
            raise ValueError("after: only for a lawsuit after reconsideration")
        return self


class RecordAppealResult(Input):
    appeal_id: AppealId
    result: AppealResult
    decided_on: date
    summary: Text | None = None


def file_appeal(s: CaseState, c: FileAppeal, ctx: Context) -> AppealFiled:
    """Filed on a day between the office's act and today; a lawsuit after reconsideration follows a
    reconsideration of this case, decided or past its 60 days (行政诉讼法 Art. 45)."""
    since = s.answered_on or s.received_on
    if not since <= c.filed_on <= ctx.today:
        raise reject(f"提起日期须在 {since} 至今天 {ctx.today} 之间 (filed_on out of range)")
    if c.kind == AppealKind.lawsuit_after_reconsideration:
        r = s.appeals.get(c.after or "")
        if r is None or r.kind != AppealKind.reconsideration:
            raise reject(f"本案没有行政复议 {c.after}：复议后起诉须先有行政复议（行政诉讼法第四十五条）")
        if r.decided_on is not None and c.filed_on < r.decided_on:
            raise reject(f"复议决定于 {r.decided_on} 作出，起诉不能早于该日（行政诉讼法第四十五条）")
        if r.decided_on is None and c.filed_on <= r.filed_on + RECONSIDERATION_PERIOD:
            raise reject(
                f"行政复议尚未审结且未逾期（{r.filed_on} 起六十日），不能复议后起诉"
                "（行政诉讼法第四十五条，行政复议法第六十二条）"
            )
    return AppealFiled(
        case_id=s.case_id, appeal_id=ctx.new_id, kind=c.kind, body=c.body, filed_on=c.filed_on, after=c.after
    )


def record_appeal_result(s: CaseState, c: RecordAppealResult, ctx: Context) -> AppealDecided:
    """One result per appeal, decided between its filing and today."""
    a = s.appeals.get(c.appeal_id)
    if a is None:
        raise reject(f"本案没有复议或诉讼 {c.appeal_id} (no such appeal)")
    if a.result is not None:
        raise reject(f"{KIND_LABELS[a.kind]} {c.appeal_id} 已有结果 (already decided: {a.result})")
    if not a.filed_on <= c.decided_on <= ctx.today:
        raise reject(f"审结日期须在 {a.filed_on} 至今天 {ctx.today} 之间 (decided_on out of range)")
    return AppealDecided(
        case_id=s.case_id, appeal_id=a.appeal_id, result=c.result, decided_on=c.decided_on, summary=c.summary
    )
