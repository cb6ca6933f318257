"""Single rules of the review workflow, each stated and checked on the pure decision function."""

from __future__ import annotations

from datetime import date

import pytest

from gongkai_publishing.domain import legacy_refusals as refusals_of
from gongkai_review import domain as d
from gongkai_review.case import evolve
from gongkai_shared.decisions import CommandRejected
from gongkai_shared.envelope import Actor
from gongkai_shared.events import ApplicationWithdrawn, make_event
from gongkai_shared.outcomes import BY_CODE
from tests.unit.review_model import CALENDAR, Desk, received


def desk(profile: str = "national-2019", channel: str = "online") -> Desk:
    state, _ = received(channel=channel)
    dk = Desk(state, profile=profile)
    dk.do(d.Register(), "丙", "registrar")
    return dk


def consulted(profile: str, kind: str = "third_party") -> tuple[Desk, str]:
    dk = desk(profile)
    dk.do(d.StartConsultation(party_kind=kind, party="某科技公司", matter="投标文件"), "甲")
    return dk, next(iter(dk.state.consultations))


def test_clarification_is_one_consolidated_notice_within_7_working_days() -> None:
    dk = desk()
    dk.do(d.RequestClarification(items=["文号", "年份"]), "甲")
    assert "2. 年份" in dk.events[-1].data["letter"]["body"]
    dk.do(d.ReceiveClarification(received_on=dk.today, summary="已补正"), "丙", "registrar")
    with pytest.raises(CommandRejected, match="一次性"):
        dk.do(d.RequestClarification(items=["再补"]), "甲")
    late = desk()
    late.wait(12)  # 2026-03-02 + 12 calendar days is past 7 working days
    with pytest.raises(CommandRejected, match="7个工作日"):
        late.do(d.RequestClarification(items=["文号"]), "甲")


def test_abandonment_only_after_the_correction_period() -> None:
    dk = desk()
    dk.do(d.RequestClarification(items=["文号"], period_days=10), "甲")
    due = CALENDAR.add_working_days(dk.today, 10).due
    dk.now = dk.now.replace(year=due.year, month=due.month, day=due.day)
    with pytest.raises(CommandRejected, match="runs until"):
        dk.do(d.Abandon(), "丙", "registrar")
    dk.wait(1)
    body = dk.do(d.Abandon(), "丙", "registrar")
    assert body.outcome_code == "other.no_clarification" and body.report_row == "三.（六）.1"


@pytest.mark.parametrize("profile", ["national-2019", "local-2008"])
def test_a_silent_third_party_leaves_the_decision_to_the_agency_under_every_profile(profile: str) -> None:
    """Art. 32: a silent third party leaves the decision to the agency; the seeds' local profile
    (2008: "deemed to refuse") cannot override it. Consulted 2026-03-02, silent past 15 working days."""
    dk, cid = consulted(profile)
    with pytest.raises(CommandRejected, match="may still reply"):
        dk.do(d.RecordReply(consultation_id=cid, reply="silent"), "甲")
    letter = dk.events[-1].data["letter"]["body"]
    assert "第三十二条" in letter and "由本机关依照条例的规定决定是否公开" in letter
    assert "视为不同意公开" not in letter
    dk.wait(25)  # past 15 working days
    assert dk.do(d.RecordReply(consultation_id=cid, reply="silent"), "甲").effective == "silent"
    dk.do(d.ReviewConfidentiality(passed=True, notes="无涉密"), "甲")
    dk.do(d.Draft(outcome="disclose", disclosed_content="投标文件全文"), "甲")  # the agency decides


def test_art34_only_a_co_producer_is_deemed_to_consent_and_its_letter_cites_art34() -> None:
    """Art. 34: a silent co-producer is deemed to consent; another agency consulted about its
    duties is not a co-producer, and its silence leaves the decision to the office. The
    co-producer's letter cites 第三十四条 (not 第三十三条)."""
    dk, cid = consulted("national-2019", "co_producer")
    letter = dk.events[-1].data["letter"]["body"]
    assert "第三十四条" in letter and "第三十三条" not in letter and "共同制作" in letter
    assert "视为同意公开" in letter
    dk.wait(25)  # 2026-03-02 + 25 days: past 15 working days
    assert dk.do(d.RecordReply(consultation_id=cid, reply="silent"), "甲").effective == "consent"
    other, aid = consulted("national-2019", "agency")
    letter = other.events[-1].data["letter"]["body"]
    assert "视为同意公开" not in letter and "第三十四条" not in letter and "共同制作" not in letter
    other.wait(25)
    assert other.do(d.RecordReply(consultation_id=aid, reply="silent"), "甲").effective == "silent"


def test_public_interest_override_writes_to_the_third_party_and_allows_disclosure() -> None:
    """Art. 32: over a refusal with reasonable grounds, disclosure only in the public interest,
    with a written notice stating the content to be disclosed and the party's remedies."""
    dk, cid = consulted("national-2019")
    dk.do(d.RecordReply(consultation_id=cid, reply="refuse", grounds="商业秘密"), "甲")
    assert dk.state.third_party_objects
    body = dk.do(
        d.Override(consultation_id=cid, reason="涉及公共安全", content="投标文件全文"), "乙", "approver"
    )
    letter = body.letter.body
    assert body.letter.recipient == "某科技公司" and "第三十二条" in letter and "公共利益" in letter
    assert "决定公开的政府信息内容如下：\n投标文件全文" in letter  # the content to be disclosed
    assert "六十日内向某市人民政府申请行政复议" in letter and "六个月内向人民法院提起行政诉讼" in letter
    assert body.basis == "public_interest"
    with pytest.raises(CommandRejected, match="only a third party"):
        dk.do(d.Override(consultation_id=cid, reason="again", content="x"), "乙", "approver")
    dk.do(d.ReviewConfidentiality(passed=True, notes="无涉密"), "甲")
    dk.do(d.Draft(outcome="disclose", disclosed_content="投标文件全文"), "甲")


def test_art32_a_refusal_without_reasonable_grounds_does_not_bind_and_the_party_is_told() -> None:
    """Art. 32: a third party's refusal binds only with reasonable grounds. Grounds found not
    reasonable (with the office's reasons): the agency decides; before it discloses, the party is
    told in writing the content and its remedies."""
    dk, cid = consulted("national-2019")
    with pytest.raises(CommandRejected, match="assessment"):
        dk.do(
            d.RecordReply(consultation_id=cid, reply="refuse", grounds="不想公开", grounds_reasonable=False),
            "甲",
        )
    body = dk.do(
        d.RecordReply(
            consultation_id=cid,
            reply="refuse",
            grounds="不想公开",
            grounds_reasonable=False,
            assessment="未说明涉及何种商业秘密，所涉投标报价已在中标公告中公开",
        ),
        "甲",
    )
    assert body.effective == "grounds_unreasonable" and body.grounds_reasonable is False
    assert not dk.state.third_party_objects  # not a binding refusal
    dk.do(d.ReviewConfidentiality(passed=True, notes="无涉密"), "甲")
    with pytest.raises(CommandRejected, match="书面告知第三方"):
        dk.do(d.Draft(outcome="disclose", disclosed_content="投标文件全文"), "甲")
    notice = dk.do(
        d.Override(consultation_id=cid, reason="所称理由不成立", content="投标文件全文"), "乙", "approver"
    )
    assert notice.basis == "grounds_unreasonable" and "理由不合理" in notice.letter.body
    assert "投标文件全文" in notice.letter.body and "提起行政诉讼" in notice.letter.body
    dk.do(d.Draft(outcome="disclose", disclosed_content="投标文件全文"), "甲")
    # grounds are assessed only for a third party's refusal
    co, kid = consulted("national-2019", "co_producer")
    with pytest.raises(CommandRejected, match="only for a third party"):
        co.do(
            d.RecordReply(consultation_id=kid, reply="consent", grounds_reasonable=False, assessment="x"),
            "甲",
        )


@pytest.mark.parametrize(("profile", "limit"), [("national-2019", 20), ("local-2008", 15)])
def test_extension_at_most_the_profile_limit_and_once(profile: str, limit: int) -> None:
    dk = desk(profile)
    with pytest.raises(CommandRejected, match=f"{limit}个工作日"):
        dk.do(d.Extend(working_days=limit + 1, reason="复杂"), "乙", "approver")
    body = dk.do(d.Extend(working_days=limit, reason="需协调多个部门"), "乙", "approver")
    assert f"延长{limit}个工作日" in body.letter.body
    with pytest.raises(CommandRejected, match="already"):
        dk.do(d.Extend(working_days=1, reason="again"), "乙", "approver")


def to_answer(draft: d.Draft, passed: bool = True) -> Desk:
    dk = desk()
    dk.do(d.ReviewConfidentiality(passed=passed, notes="审查"), "甲")
    dk.do(draft, "甲")
    dk.do(d.SignOff(), "乙", "approver")
    dk.do(d.SendAnswer(), "丙", "registrar")
    return dk


def test_no_disclosure_without_a_passed_confidentiality_review() -> None:
    with pytest.raises(CommandRejected, match="保密审查"):
        to_answer(d.Draft(outcome="disclose", disclosed_content="x"), passed=False)
    to_answer(d.Draft(outcome="withhold", reasons=["state_secret"], reason_text="已定密"), passed=False)


def test_refusal_letter_states_the_basis_its_case_reasons_and_reconsideration_first() -> None:
    """Art. 36(3): a refusal states the case's own reasons, not only the category; 行政复议法
    Art. 23(1)(4): reconsideration first, before the named body (Art. 24)."""
    with pytest.raises(ValueError, match="reason_text"):
        d.Draft(outcome="withhold", reasons=["process_information"])
    letter = (
        to_answer(
            d.Draft(
                outcome="withhold",
                reasons=["process_information"],
                reason_text="该材料为2026年3月局务会议讨论记录，尚未形成正式决定",
            )
        )
        .events[-1]
        .data["letter"]
    )
    assert (
        "第十六条第二款" in letter["body"]
        and "讨论记录、过程稿、磋商信函、请示报告等过程性信息" in letter["body"]
    )
    assert "理由：该材料为2026年3月局务会议讨论记录，尚未形成正式决定" in letter["body"]
    assert "应当先申请行政复议" in letter["body"] and "六十日内向某市人民政府申请行政复议" in letter["body"]


def test_art36_5_not_this_agency_names_the_responsible_agency_and_its_contact() -> None:
    """Art. 36(5), Art. 10: not this agency's information: the letter names the agency that
    is responsible and how to reach it; row 三.（四）.1."""
    with pytest.raises(ValueError, match="responsible_agency_contact"):
        d.Draft(outcome="not_held", reasons=["not_this_agency"], responsible_agency="市自然资源局")
    dk = to_answer(
        d.Draft(
            outcome="not_held",
            reasons=["not_this_agency"],
            responsible_agency="市自然资源局",
            responsible_agency_contact="电话 010-87654321，地址 某市人民路1号",
        )
    )
    body = dk.events[-1].data["letter"]["body"]
    assert "第三十六条第（五）项" in body and "第十条" in body
    assert "由市自然资源局负责公开" in body and "010-87654321" in body
    assert (
        dk.state.outcome_code == "not_held.not_this_agency"
        and dk.events[-1].data["report_row"] == "三.（四）.1"
    )
    assert (
        "可以自知道该行政行为之日起六十日内" in body and "应当先申请行政复议" not in body
    )  # the applicant chooses


def test_art36_4_does_not_exist_is_its_own_answer_in_the_same_row() -> None:
    """Art. 36(4): the information does not exist: its own letter (no agency to name), same row
    三.（四）.1 as 36(5)."""
    dk = to_answer(d.Draft(outcome="not_held", reasons=["does_not_exist"]))
    body = dk.events[-1].data["letter"]["body"]
    assert "不存在" in body and "第三十六条第（四）项" in body and "第（五）项" not in body
    assert "负责公开" not in body
    assert dk.events[-1].data["report_row"] == "三.（四）.1"
    with pytest.raises(ValueError, match="reasons"):  # the merged code is no longer drafted
        d.Draft(outcome="not_held", reasons=["not_held"])


def test_art36_7_is_a_referral_not_a_refusal() -> None:
    """Art. 36(7) (工商、不动产登记 …): the letter refers the applicant to the special procedure;
    it names no refused information for the refusal register, and the applicant chooses the
    remedy (not a 不予公开, 行政复议法 Art. 23)."""
    dk = to_answer(
        d.Draft(outcome="withhold", reasons=["administrative_inquiry"], responsible_agency="市不动产登记中心")
    )
    recorded = next(e for e in dk.events if e.name == "decision-recorded")
    assert recorded.data.get("description") is None
    assert refusals_of(recorded.name, recorded.data) == []
    body = dk.events[-1].data["letter"]["body"]
    assert "依照有关法律、行政法规的规定办理" in body and "市不动产登记中心" in body
    assert "不予公开" not in body and "应当先申请行政复议" not in body
    assert dk.events[-1].data["report_row"] == "三.（三）.8"
    refused = to_answer(d.Draft(outcome="withhold", reasons=["state_secret"], reason_text="已定密为秘密级"))
    recorded = next(e for e in refused.events if e.name == "decision-recorded")
    assert refusals_of(recorded.name, recorded.data)  # a refusal does enter the register


def test_confirm_obtained_does_not_cite_art39_2() -> None:
    """Art. 39(2) is about publications; a request to confirm or re-issue information already
    obtained is not a request for government information (Art. 2)."""
    assert "第三十九条" not in BY_CODE["not_processed.confirm_obtained"].legal_basis
    dk = to_answer(d.Draft(outcome="not_processed", reasons=["confirm_obtained"]))
    assert "第三十九条" not in dk.events[-1].data["letter"]["body"]


def test_still_unclear_only_after_a_correction() -> None:
    """Art. 30: "still unclear after correction" (三.（四）.3) requires a correction first."""
    dk = desk()
    dk.do(d.ReviewConfidentiality(passed=True, notes="审查"), "甲")
    with pytest.raises(CommandRejected, match="补正"):
        dk.do(d.Draft(outcome="not_held", reasons=["unclear"]), "甲")
    corrected = desk()
    corrected.do(d.RequestClarification(items=["文号"]), "甲")
    corrected.wait(3)
    corrected.do(d.ReceiveClarification(received_on=corrected.today, summary="已补正"), "丙", "registrar")
    corrected.do(d.ReviewConfidentiality(passed=True, notes="审查"), "甲")
    corrected.do(d.Draft(outcome="not_held", reasons=["unclear"]), "甲")


@pytest.mark.parametrize(
    ("draft", "first", "choice"),
    [
        ({"outcome": "withhold", "reasons": ["state_secret"], "reason_text": "已定密"}, True, False),
        ({"outcome": "disclose", "disclosed_content": "全文"}, False, True),
        ({"outcome": "not_processed", "reasons": ["repeat"]}, False, True),
        ({"outcome": "not_held", "reasons": ["needs_creation"]}, False, True),
        ({"outcome": "partial", "disclosed_content": "总表", "withheld_parts": [
            {"part": "学生名单", "reason": "third_party_rights", "explanation": "含未成年人信息"}]},
         True, True),
    ],
)  # fmt: skip
def test_remedies_reconsideration_first_only_for_refusals_and_withheld_parts(
    draft: dict, first: bool, choice: bool
) -> None:
    """行政复议法 (2023) Art. 23(1)(4): reconsideration first only for 不予公开 and the withheld
    parts of 部分公开; otherwise the applicant chooses 60 days reconsideration or 6 months lawsuit."""
    body = to_answer(d.Draft(**draft)).events[-1].data["letter"]["body"]
    assert ("应当先申请行政复议" in body) == first
    assert ("六个月内向人民法院提起行政诉讼" in body) == choice
    assert "某市人民政府" in body


def test_art30_the_answer_states_the_original_receipt_the_correction_and_quotes_it() -> None:
    """Art. 30: received 2026-03-02, corrected 2026-03-05: the answer states both dates and
    quotes the corrected request; the case keeps 2026-03-02 as its receipt (本年新收)."""
    dk = desk()
    dk.do(d.RequestClarification(items=["请说明年份"]), "甲")
    dk.wait(3)
    dk.do(
        d.ReceiveClarification(
            received_on=dk.today, summary="申请人补正了年份", corrected_request="2025年本市小学招生计划"
        ),
        "丙",
        "registrar",
    )
    assert dk.state.received_on == date(2026, 3, 5)  # the answer period runs from here
    assert dk.state.original_received_on == date(2026, 3, 2) and dk.state.corrected_on == date(2026, 3, 5)
    dk.do(d.ReviewConfidentiality(passed=True, notes="审查"), "甲")
    dk.do(d.Draft(outcome="disclose", disclosed_content="招生计划全文"), "甲")
    dk.do(d.SignOff(), "乙", "approver")
    body = dk.do(d.SendAnswer(), "丙", "registrar").letter.body
    assert "二〇二六年三月二日收到" in body and "于二〇二六年三月五日提交了补正后的申请" in body
    assert "“2025年本市小学招生计划”" in body


def test_a_withdrawal_ends_in_row_6_3_and_old_withdrawals_are_read_so() -> None:
    """Table 三 (国办公开办函〔2021〕30号): a withdrawal lands in 三.（六）.3 其他, so that
    一 + 二 = 三（总计） + 四; an event written before the code existed is read the same."""
    dk = desk()
    body = dk.do(d.Withdraw(reason="不再需要"), "丙", "registrar")
    assert body.outcome_code == "other.withdrawn" and body.report_row == "三.（六）.3"
    assert dk.state.outcome_code == "other.withdrawn"
    old = desk()
    env = make_event(
        ApplicationWithdrawn(case_id=old.state.case_id, reason="不再需要"),
        aggregate_id=old.state.case_id,
        actor=Actor(id="丙", role="registrar"),
    )
    assert evolve(old.state, env).outcome_code == "other.withdrawn"
    assert ApplicationWithdrawn.model_validate({"case_id": "c", "reason": "x"}).outcome_code is None


def test_a_deployment_without_a_reconsideration_body_refuses_to_start() -> None:
    """行政复议法 Art. 24: the letters name the reconsideration body: review refuses to start
    without one (or with the ConfigMap's placeholder); gongkai-up names one for the local runtime."""
    from gongkai_local.up import RECONSIDERATION_BODY
    from gongkai_review.settings import ReviewSettings
    from gongkai_shared.runtime import missing_setting

    assert "GONGKAI_REVIEW_RECONSIDERATION_BODY" in (missing_setting(ReviewSettings()) or "")
    placeholder = ReviewSettings(reconsideration_body="CHANGE-ME: 行政复议机关名称")
    assert missing_setting(placeholder) is not None
    assert missing_setting(ReviewSettings(reconsideration_body="某市人民政府")) is None
    assert missing_setting(ReviewSettings(reconsideration_body=RECONSIDERATION_BODY)) is None


def test_partial_disclosure_records_each_withheld_part_and_keeps_it_out() -> None:
    parts = [
        {"part": "学生个人信息", "reason": "third_party_rights", "explanation": "含学生姓名和身份证号"},
        {"part": "内部讨论记录", "reason": "process_information", "explanation": "招生工作会议的讨论记录"},
    ]
    dk = to_answer(d.Draft(outcome="partial", disclosed_content="招生计划总表", withheld_parts=parts))
    approved = next(e for e in dk.events if e.name == "review-approved")
    assert [p["reason"] for p in approved.data["withheld_parts"]] == [
        "third_party_rights",
        "process_information",
    ]
    letter = dk.events[-1].data["letter"]["body"]
    assert "1. 学生个人信息：涉及商业秘密、个人隐私等，公开会对第三方合法权益造成损害（依据" in letter
    assert "2. 内部讨论记录：属于行政机关在履行行政管理职能过程中形成的讨论记录" in letter
    assert "理由：含学生姓名和身份证号" in letter  # Art. 36(3), 37: each part's own reasons
    with pytest.raises(ValueError, match="explanation"):
        d.PartWithheld(part="学生个人信息", reason="third_party_rights")
    with pytest.raises(CommandRejected, match="appears in the disclosed content"):
        to_answer(
            d.Draft(outcome="partial", disclosed_content="总表含学生个人信息", withheld_parts=parts[:1])
        )


def test_wrong_reason_for_an_outcome_is_invalid_input() -> None:
    with pytest.raises(ValueError, match="reasons"):
        d.Draft(outcome="withhold", reasons=["not_held"])
    with pytest.raises(ValueError, match="partial"):
        d.Draft(outcome="partial", disclosed_content="x")


def test_letters_receipt_date_for_letters_is_entered_online_is_not() -> None:
    online = desk()
    assert online.state.received_on == online.today
    state, _ = received(channel="letter")
    dk = Desk(state)
    dk.wait(3)
    earlier = dk.today.replace(day=dk.today.day - 1)
    dk.do(d.Register(received_on=earlier), "丙", "registrar")
    assert dk.state.received_on == earlier
    state, _ = received()
    with pytest.raises(CommandRejected, match="online"):
        Desk(state).do(d.Register(received_on=earlier), "丙", "registrar")
