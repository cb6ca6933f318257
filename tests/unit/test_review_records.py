"""Art. 40 (form of provision), Art. 41 (corrections of records) and the appeals of table 四
(行政复议法, 行政诉讼法), each rule on review's pure decisions, with concrete dates.

The case is received on Monday 2026-03-02 (review_model.START, 10:00 Beijing) and registered.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from gongkai_review import domain as d
from gongkai_shared.decisions import CommandRejected
from tests.unit.review_model import Desk, received

BEIJING_0930_0310 = datetime(2026, 3, 10, 1, 30, tzinfo=UTC)  # Tuesday 09:30 in Beijing
DISCLOSE = d.Draft(outcome="disclose", disclosed_content="2025年学校招生计划全文")
REFUSE = d.Draft(
    outcome="withhold", reasons=["process_information"], reason_text="该信息为讨论记录，尚未形成正式决定"
)


def desk(form: str = "electronic") -> Desk:
    state, _ = received()
    dk = Desk(state.model_copy(update={"requested_form": form}))
    dk.do(d.Register(), "丙", "registrar")
    dk.do(d.ReviewConfidentiality(passed=True, notes="无涉密"), "甲")
    return dk


def signed(draft: d.Draft, form: str = "electronic") -> Desk:
    dk = desk(form)
    dk.do(draft, "甲")
    dk.do(d.SignOff(), "乙", "approver")
    return dk


def answered(draft: d.Draft = DISCLOSE) -> Desk:
    dk = signed(draft)
    dk.do(d.SendAnswer(), "丙", "registrar")
    return dk


def letter(dk: Desk) -> str:
    return dk.events[-1].data["letter"]["body"]


# --- Art. 40: the form of provision ---------------------------------------------------------


def test_art_40_the_answer_provides_in_the_form_the_applicant_asked_for() -> None:
    dk = signed(DISCLOSE, form="paper")
    dk.do(d.SendAnswer(), "丙", "registrar")
    assert "本机关以纸质文本形式向您提供上述政府信息" in letter(dk)


def test_art_40_an_inspection_needs_an_appointment_stated_in_the_letter() -> None:
    dk = signed(DISCLOSE, form="inspection")
    with pytest.raises(CommandRejected, match="查阅的时间和地点"):
        dk.do(d.SendAnswer(), "丙", "registrar")
    place = "市教育局政务服务大厅3号窗口"
    dk.do(
        d.ArrangeProvision(form="inspection", inspection_at=BEIJING_0930_0310, inspection_place=place),
        "丙",
        "registrar",
    )
    dk.do(d.SendAnswer(), "丙", "registrar")
    assert f"请于二〇二六年三月十日9时30分到{place}查阅" in letter(dk)  # dates in Chinese


def test_art_40_an_inspection_without_time_or_place_is_invalid_input() -> None:
    with pytest.raises(ValidationError, match="inspection_place"):
        d.ArrangeProvision(form="inspection", inspection_at=BEIJING_0930_0310)
    with pytest.raises(ValidationError, match="inspection_at"):
        d.ArrangeProvision(form="inspection", inspection_place="政务服务大厅")
    with pytest.raises(ValidationError, match="only with the form inspection"):
        d.ArrangeProvision(form="paper", inspection_place="政务服务大厅")


def test_art_40_the_appointment_is_on_a_future_working_day() -> None:
    dk = desk("inspection")
    saturday = datetime(2026, 3, 7, 1, 30, tzinfo=UTC)
    with pytest.raises(CommandRejected, match="不是工作日"):
        dk.do(
            d.ArrangeProvision(form="inspection", inspection_at=saturday, inspection_place="大厅"),
            "丙",
            "registrar",
        )
    past = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # an hour before "now" (10:00 on 03-02)
    with pytest.raises(CommandRejected, match="晚于当前时间"):
        dk.do(
            d.ArrangeProvision(form="inspection", inspection_at=past, inspection_place="大厅"),
            "丙",
            "registrar",
        )


def test_art_40_a_passed_appointment_must_be_made_again_before_the_answer() -> None:
    dk = desk("inspection")
    dk.do(
        d.ArrangeProvision(form="inspection", inspection_at=BEIJING_0930_0310, inspection_place="大厅"),
        "丙",
        "registrar",
    )
    dk.do(DISCLOSE, "甲")
    dk.do(d.SignOff(), "乙", "approver")
    dk.wait(9)  # 2026-03-11: the appointment of 03-10 has passed
    with pytest.raises(CommandRejected, match="查阅时间已过"):
        dk.do(d.SendAnswer(), "丙", "registrar")


def test_art_40_another_form_needs_a_reason_which_the_letter_gives() -> None:
    dk = desk("paper")
    with pytest.raises(CommandRejected, match="第四十条"):
        dk.do(d.ArrangeProvision(form="electronic"), "丙", "registrar")
    dk.do(d.ArrangeProvision(form="electronic", reason="图纸数量大，复制成本过高"), "丙", "registrar")
    dk.do(DISCLOSE, "甲")
    dk.do(d.SignOff(), "乙", "approver")
    dk.do(d.SendAnswer(), "丙", "registrar")
    assert "以电子文件形式" in letter(dk) and "因图纸数量大，复制成本过高" in letter(dk)


def test_art_40_an_answer_that_provides_nothing_states_no_form() -> None:
    dk = signed(REFUSE, form="inspection")  # asked to inspect, refused: no appointment needed
    dk.do(d.SendAnswer(), "丙", "registrar")
    assert "查阅" not in letter(dk) and "形式向您提供" not in letter(dk)


# --- Art. 41: corrections of records ---------------------------------------------------------

ASK = d.RequestCorrection(
    record="2025年学校招生计划中本人子女的录取记录",
    inaccuracy="姓名“张珊”有误，应为“张三”",
    evidence="户口簿复印件",
    received_on=date(2026, 3, 5),
)


def asked() -> tuple[Desk, str]:
    dk = answered()  # answered on 2026-03-02
    dk.wait(3)  # 2026-03-05
    dk.do(ASK, "丙", "registrar")
    return dk, dk.events[-1].data["correction_id"]


def test_art_41_only_a_record_the_agency_provided_can_be_corrected() -> None:
    dk = answered(REFUSE)
    dk.wait(3)
    with pytest.raises(CommandRejected, match="第四十一条"):
        dk.do(ASK, "丙", "registrar")
    early = answered()
    with pytest.raises(CommandRejected, match="received_on"):  # 03-05 is after today, 03-02
        early.do(ASK, "丙", "registrar")


def test_art_41_corrected_and_told_once() -> None:
    dk, cid = asked()
    dk.do(d.CorrectRecord(correction_id=cid, correction="已将姓名更正为“张三”"), "乙", "approver")
    assert "第四十一条" in letter(dk) and "已予以更正：已将姓名更正为“张三”" in letter(dk)
    assert dk.state.status == "answered" and dk.state.corrections[cid].outcome == "corrected"
    with pytest.raises(CommandRejected, match="已答复"):
        dk.do(d.RefuseCorrection(correction_id=cid, reason="x"), "乙", "approver")


def test_art_41_a_refusal_gives_reasons_and_the_applicants_remedies() -> None:
    dk, cid = asked()
    dk.do(d.RefuseCorrection(correction_id=cid, reason="户口簿记载的姓名与录取记录一致"), "乙", "approver")
    body = letter(dk)
    assert "不予更正。理由如下：户口簿记载的姓名与录取记录一致" in body
    assert "六个月内向人民法院提起行政诉讼" in body  # the applicant chooses (行政复议法 Art. 23)


def test_art_41_not_this_agencys_record_is_transferred_or_the_applicant_told() -> None:
    dk, cid = asked()
    dk.do(d.ReferCorrection(correction_id=cid, agency="市公安局", transferred=True), "乙", "approver")
    assert "已将您的申请转送市公安局处理" in letter(dk)
    dk2, cid2 = asked()
    dk2.do(
        d.ReferCorrection(
            correction_id=cid2, agency="市公安局", agency_contact="010-12345678", transferred=False
        ),
        "乙",
        "approver",
    )
    assert "请您向有权更正的市公安局提出（联系方式：010-12345678）" in letter(dk2)


def test_art_41_a_correction_may_be_asked_on_an_archived_case() -> None:
    dk = answered()
    dk.do(d.Archive(), "丙", "registrar")
    dk.wait(3)
    dk.do(ASK, "丙", "registrar")
    assert dk.state.status == "archived" and len(dk.state.corrections) == 1


# --- appeals: 行政复议法 (2023), 行政诉讼法 -------------------------------------------------------


def appeal(dk: Desk, kind: str, filed_on: date, after: str | None = None) -> str:
    dk.now = datetime(filed_on.year, filed_on.month, filed_on.day, 2, tzinfo=UTC)
    dk.do(
        d.FileAppeal(
            kind=kind,
            body="市人民政府" if kind == "reconsideration" else "市中级人民法院",
            filed_on=filed_on,
            after=after,
        ),
        "丙",
        "registrar",
    )
    return dk.events[-1].data["appeal_id"]


def test_appeals_are_recorded_only_after_the_office_acted() -> None:
    dk = signed(REFUSE)
    with pytest.raises(CommandRejected, match="not allowed in state signed"):
        dk.do(
            d.FileAppeal(kind="reconsideration", body="市人民政府", filed_on=date(2026, 3, 2)),
            "丙",
            "registrar",
        )


def test_xingzheng_fuyi_fa_reconsideration_recorded_on_an_archived_case_without_reopening_it() -> None:
    dk = answered(REFUSE)
    dk.do(d.Archive(), "丙", "registrar")
    rid = appeal(dk, "reconsideration", date(2026, 3, 20))
    assert dk.state.status == "archived" and dk.state.appeals[rid].result is None  # 尚未审结
    with pytest.raises(CommandRejected, match="filed_on"):  # not before the answer of 03-02
        dk.do(
            d.FileAppeal(kind="reconsideration", body="市人民政府", filed_on=date(2026, 3, 1)),
            "丙",
            "registrar",
        )


def test_xingzheng_susong_fa_art_45_a_lawsuit_after_reconsideration_follows_one() -> None:
    dk = answered(REFUSE)
    with pytest.raises(CommandRejected, match="第四十五条"):
        appeal(dk, "lawsuit_after_reconsideration", date(2026, 4, 1), after="no-such")
    rid = appeal(dk, "reconsideration", date(2026, 3, 20))
    # 行政复议法 Art. 62: the body has 60 days; before they pass and without a decision, no lawsuit
    with pytest.raises(CommandRejected, match="第六十二条"):
        appeal(dk, "lawsuit_after_reconsideration", date(2026, 5, 19), after=rid)
    late = appeal(dk, "lawsuit_after_reconsideration", date(2026, 5, 20), after=rid)  # 61 days
    assert dk.state.appeals[late].after == rid
    with pytest.raises(ValidationError, match="after"):
        d.FileAppeal(kind="lawsuit_after_reconsideration", body="市中级人民法院", filed_on=date(2026, 5, 20))


def test_xingzheng_susong_fa_art_45_a_lawsuit_after_a_decision_is_not_filed_before_it() -> None:
    dk = answered(REFUSE)
    rid = appeal(dk, "reconsideration", date(2026, 3, 20))
    dk.now = datetime(2026, 5, 6, 2, tzinfo=UTC)
    dk.do(
        d.RecordAppealResult(appeal_id=rid, result="upheld", decided_on=date(2026, 5, 6)), "丙", "registrar"
    )
    with pytest.raises(CommandRejected, match="不能早于"):
        appeal(dk, "lawsuit_after_reconsideration", date(2026, 5, 5), after=rid)
    appeal(dk, "lawsuit_after_reconsideration", date(2026, 5, 15), after=rid)


def test_an_appeal_has_one_result_decided_after_it_was_filed() -> None:
    dk = answered(REFUSE)
    rid = appeal(dk, "lawsuit", date(2026, 3, 20))
    dk.now = datetime(2026, 6, 1, 2, tzinfo=UTC)
    with pytest.raises(CommandRejected, match="decided_on"):
        dk.do(
            d.RecordAppealResult(appeal_id=rid, result="corrected", decided_on=date(2026, 3, 19)),
            "丙",
            "registrar",
        )
    dk.do(
        d.RecordAppealResult(appeal_id=rid, result="corrected", decided_on=date(2026, 5, 29)),
        "丙",
        "registrar",
    )
    assert dk.state.appeals[rid].result == "corrected" and dk.state.status == "answered"
    with pytest.raises(CommandRejected, match="已有结果"):
        dk.do(
            d.RecordAppealResult(appeal_id=rid, result="other", decided_on=date(2026, 5, 30)),
            "丙",
            "registrar",
        )


def test_every_letter_review_writes_reaches_its_recipient_and_the_applicants_is_tracked() -> None:
    """DOMAIN §9: each notice is delivered (notify) and the applicant's show on the tracking page
    (intake): the correction letters of Art. 41 as much as the others."""
    from gongkai_intake.projection import VISIBLE
    from gongkai_notify.notices import LETTER_EVENTS
    from gongkai_shared.events import REGISTRY

    with_letter = {c.name for c in REGISTRY.values() if c.context == "review" and "letter" in c.model_fields}
    assert with_letter <= set(LETTER_EVENTS), with_letter - set(LETTER_EVENTS)
    to_applicant = {n for n in with_letter if LETTER_EVENTS[n] == "applicant"}
    assert to_applicant <= set(VISIBLE), to_applicant - set(VISIBLE)
    assert {"record-corrected", "record-correction-refused", "record-correction-referred"} <= to_applicant
