"""Single rules of the review workflow, each stated and checked on the pure decision function."""

from __future__ import annotations

import pytest

from gongkai_review import domain as d
from gongkai_shared.decisions import CommandRejected
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


@pytest.mark.parametrize(("profile", "effective"), [("national-2019", "silent"), ("local-2008", "refuse")])
def test_a_silent_third_party_is_read_per_profile(profile: str, effective: str) -> None:
    dk, cid = consulted(profile)
    with pytest.raises(CommandRejected, match="may still reply"):
        dk.do(d.RecordReply(consultation_id=cid, reply="silent"), "甲")
    dk.wait(25)  # past 15 working days
    assert dk.do(d.RecordReply(consultation_id=cid, reply="silent"), "甲").effective == effective
    dk.do(d.ReviewConfidentiality(passed=True, notes="无涉密"), "甲")
    disclose = d.Draft(outcome="disclose", disclosed_content="投标文件全文")
    if effective == "refuse":  # deemed refusal: no full disclosure without a public-interest decision
        with pytest.raises(CommandRejected, match="第三方不同意公开"):
            dk.do(disclose, "甲")
    else:  # the agency decides
        dk.do(disclose, "甲")


def test_silent_co_producer_is_deemed_to_consent() -> None:
    dk, cid = consulted("national-2019", "co_producer")
    dk.wait(25)
    assert dk.do(d.RecordReply(consultation_id=cid, reply="silent"), "甲").effective == "consent"


def test_public_interest_override_writes_to_the_third_party_and_allows_disclosure() -> None:
    dk, cid = consulted("national-2019")
    dk.do(d.RecordReply(consultation_id=cid, reply="refuse", grounds="商业秘密"), "甲")
    body = dk.do(d.Override(consultation_id=cid, reason="涉及公共安全"), "乙", "approver")
    assert body.letter.recipient == "某科技公司" and "第三十二条" in body.letter.body
    with pytest.raises(CommandRejected, match="only a third party"):
        dk.do(d.Override(consultation_id=cid, reason="again"), "乙", "approver")
    dk.do(d.ReviewConfidentiality(passed=True, notes="无涉密"), "甲")
    dk.do(d.Draft(outcome="disclose", disclosed_content="投标文件全文"), "甲")


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
    to_answer(d.Draft(outcome="withhold", reasons=["state_secret"]), passed=False)


def test_refusal_letter_states_the_basis_and_reconsideration_first() -> None:
    letter = to_answer(d.Draft(outcome="withhold", reasons=["process_information"])).events[-1].data["letter"]
    assert "第十六条第二款" in letter["body"] and "属于四类过程性信息" in letter["body"]
    assert "应当先申请行政复议" in letter["body"] and "六十日" in letter["body"]


def test_not_held_referral_names_the_responsible_agency() -> None:
    dk = to_answer(d.Draft(outcome="not_held", reasons=["not_held"], responsible_agency="市自然资源局"))
    body = dk.events[-1].data["letter"]["body"]
    assert "市自然资源局负责公开" in body
    assert dk.state.outcome_code == "not_held.not_held" and dk.events[-1].data["report_row"] == "三.（四）.1"


def test_partial_disclosure_records_each_withheld_part_and_keeps_it_out() -> None:
    parts = [
        {"part": "学生个人信息", "reason": "third_party_rights"},
        {"part": "内部讨论记录", "reason": "process_information"},
    ]
    dk = to_answer(d.Draft(outcome="partial", disclosed_content="招生计划总表", withheld_parts=parts))
    approved = next(e for e in dk.events if e.name == "review-approved")
    assert [p["reason"] for p in approved.data["withheld_parts"]] == [
        "third_party_rights",
        "process_information",
    ]
    letter = dk.events[-1].data["letter"]["body"]
    assert "1. 学生个人信息：保护第三方合法权益" in letter and "2. 内部讨论记录：属于四类过程性信息" in letter
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
