"""The review workflow's rules, on the pure decision function (no I/O).

Property tests drive random command sequences by random people at random times through
``decide``/``evolve`` and check what must always hold.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gongkai_publishing.domain import refusal_key
from gongkai_review import domain as d
from gongkai_review.case import CLOSED, OPEN, STATES, WORKING
from gongkai_review.commands import BY_NAME, COMMANDS
from gongkai_review.machine import allowed, document
from gongkai_shared.decisions import CommandRejected
from gongkai_shared.outcomes import BY_CODE, ROWS, WITHHOLD_REASONS, Outcome
from tests.unit.review_model import Desk, received

DOC = Path(__file__).parents[2] / "docs" / "review-workflow.md"
PEOPLE = [("甲", "reviewer"), ("乙", "approver"), ("丙", "registrar")]
DRAFTS = [
    {"outcome": "disclose", "disclosed_content": "招生计划全文"},
    {"outcome": "partial", "disclosed_content": "招生计划总表",
     "withheld_parts": [{"part": "某公司的投标报价明细", "reason": "third_party_rights",
                         "explanation": "报价明细属于该公司的商业秘密，该公司不同意公开"}]},
    {"outcome": "withhold", "reasons": ["state_secret"], "reason_text": "该文件已定密为秘密级"},
    {"outcome": "withhold", "reasons": ["administrative_inquiry"], "responsible_agency": "市不动产登记中心"},
    {"outcome": "not_held", "reasons": ["does_not_exist"]},
    {"outcome": "not_held", "reasons": ["not_this_agency"], "responsible_agency": "市教育局",
     "responsible_agency_contact": "电话 010-12345678"},
    {"outcome": "not_held", "reasons": ["unclear"]},
    {"outcome": "not_processed", "reasons": ["repeat"]},
    {"outcome": "disclose", "reasons": ["already_published"], "published_at": "本局门户网站"},
]  # fmt: skip
ENDINGS = ("answer-sent", "application-abandoned", "application-withdrawn")


def command_for(name: str, desk: Desk, data: st.DataObject):  # noqa: ANN201
    s = desk.state
    pick = data.draw
    if name == "assign":
        return d.Assign(
            departments=pick(st.lists(st.sampled_from(["甲处", "乙处"]), min_size=1, unique=True))
        )
    if name == "give_feedback":
        return d.GiveFeedback(
            department=pick(st.sampled_from([*s.departments, "丙处"])),
            holds_information=pick(st.booleans()),
            summary="检索结果",
        )
    if name == "receive_clarification":
        return d.ReceiveClarification(
            received_on=desk.today, summary="已补正", corrected_request="2025年本市小学招生计划"
        )
    if name == "start_consultation":
        return d.StartConsultation(
            party_kind=pick(st.sampled_from(["third_party", "agency", "co_producer"])),
            party="某公司",
            matter="涉及商业秘密",
        )
    if name in ("record_reply", "override", "record_delivery"):
        cid = pick(st.sampled_from([*s.consultations, "nope"]))
        if name == "record_delivery":
            notice = pick(st.sampled_from(["consultation", "clarification", "fee"]))
            return d.RecordDelivery(
                notice=notice,
                consultation_id=cid if notice == "consultation" else None,
                delivered_on=desk.today,
            )
        if name == "override":
            return d.Override(consultation_id=cid, reason="公共安全", content="招生计划全文")
        reply = pick(st.sampled_from(["consent", "refuse", "silent"]))
        reasonable = reply != "refuse" or pick(st.booleans())
        return d.RecordReply(
            consultation_id=cid,
            reply=reply,
            grounds="涉及商业秘密" if reply == "refuse" else None,
            grounds_reasonable=reasonable,
            assessment=None if reasonable else "所称商业秘密已由该公司自行公开",
        )
    if name == "review_confidentiality":
        return d.ReviewConfidentiality(passed=pick(st.booleans()), notes="审查意见")
    if name == "draft":
        return d.Draft(**pick(st.sampled_from(DRAFTS)))
    if name == "attach_document":  # issue 9: a disclosed document, by its hash
        ref = {"sha256": "ab" * 32, "size": 100, "media_type": "application/pdf"}
        return d.AttachDocument(document=ref, title="划片方案")
    if name == "extend":
        return d.Extend(working_days=pick(st.integers(1, 25)), reason="需要协调多个部门")
    if name == "issue_fee_notice":  # 109号: by volume here (per application needs the caseload)
        return d.IssueFeeNotice(basis="per_volume", pages=pick(st.integers(1, 300)))
    if name == "record_payment":
        amount = s.fee.amount_yuan if s.fee else 100
        return d.RecordPayment(amount_yuan=pick(st.sampled_from([amount, amount + 10])), paid_on=desk.today)
    if name == "assess_reasons":  # Art. 35
        if pick(st.booleans()):
            later = desk.today + timedelta(40)
            return d.AssessReasons(reasonable=True, assessment="理由合理", answer_by=later)
        return d.AssessReasons(reasonable=False, assessment="理由不合理")
    if name == "arrange_provision":
        form = pick(st.sampled_from(["paper", "electronic", "inspection"]))
        at = desk.now + timedelta(days=pick(st.integers(1, 10))) if form == "inspection" else None
        reason = pick(st.sampled_from([None, "原件易损"]))
        place = "本局政务服务大厅" if at else None
        return d.ArrangeProvision(form=form, reason=reason, inspection_at=at, inspection_place=place)
    if name == "request_correction":
        return d.RequestCorrection(
            record="学籍记录", inaccuracy="出生日期有误", evidence="户口簿", received_on=desk.today
        )
    if name in ("correct_record", "refuse_correction", "refer_correction"):
        cid = pick(st.sampled_from([*s.corrections, "nope"]))
        if name == "correct_record":
            return d.CorrectRecord(correction_id=cid, correction="出生日期已更正")
        if name == "refuse_correction":
            return d.RefuseCorrection(correction_id=cid, reason="证据不足")
        return d.ReferCorrection(correction_id=cid, agency="市公安局", transferred=pick(st.booleans()))
    if name == "file_appeal":
        kind = pick(st.sampled_from(["reconsideration", "lawsuit", "lawsuit_after_reconsideration"]))
        after = (
            pick(st.sampled_from([*s.appeals, "nope"])) if kind == "lawsuit_after_reconsideration" else None
        )
        return d.FileAppeal(kind=kind, body="市人民政府", filed_on=desk.today, after=after)
    if name == "record_appeal_result":
        aid = pick(st.sampled_from([*s.appeals, "nope"]))
        result = pick(st.sampled_from(["upheld", "corrected", "other"]))
        return d.RecordAppealResult(appeal_id=aid, result=result, decided_on=desk.today)
    simple = {
        "abandon_unpaid": d.AbandonUnpaid(),
        "ask_reasons": d.AskReasons(matter="本月已提交50件申请"),
        "register": d.Register(),
        "request_clarification": d.RequestClarification(items=["请提供文号"]),
        "abandon": d.Abandon(),
        "reject_draft": d.RejectDraft(reason="理由不充分"),
        "sign_off": d.SignOff(),
        "send_answer": d.SendAnswer(),
        "withdraw": d.Withdraw(reason="不再需要"),
        "archive": d.Archive(),
    }
    return simple[name]


def run_case(data: st.DataObject, case_id: str, profile: str, steps: int) -> Desk:
    state, _ = received(case_id=case_id)
    desk = Desk(state, profile=profile)
    for _ in range(steps):
        desk.wait(data.draw(st.integers(0, 12)))
        # mostly what the state allows (so cases get far), sometimes anything (so refusals are tried)
        pool = allowed(desk.state.status) if data.draw(st.integers(0, 9)) else list(BY_NAME)
        name = data.draw(st.sampled_from(pool or list(BY_NAME)))
        cmd = command_for(name, desk, data)
        who, role = data.draw(st.sampled_from(PEOPLE))
        before = desk.state
        try:
            desk.do(cmd, who, role)
        except CommandRejected:
            assert desk.state == before  # a refused command changes nothing
            continue
        # the command table allowed it, and the fold led where the table says
        command = BY_NAME[name]
        assert before.status in command.allowed_in, f"{name} ran in {before.status}"
        after = desk.state.status
        if command.leads_to == "=":
            assert after == before.status, name
        elif command.leads_to == "<resume>":
            assert after in (*WORKING, "consulting"), after
        elif name == "give_feedback":  # searched once every assigned department has answered
            assert after in (before.status, command.leads_to), after
        else:
            assert after == command.leads_to, (name, after)
    return desk


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from(["national-2019", "local-2008"]), st.integers(10, 60))
def test_random_command_sequences_keep_the_rules(data: st.DataObject, profile: str, steps: int) -> None:
    desk = run_case(data, "case-1", profile, steps)
    answers = [e for e in desk.events if e.name == "answer-sent"]
    assert len(answers) <= 1
    if answers:
        # no answer without a sign-off by someone other than the drafter
        signed = [e for e in desk.events if e.name in ("review-approved", "decision-recorded")]
        assert signed and signed[-1].actor != signed[-1].data["drafted_by"]
        # exactly one outcome code, a row of the annual report
        assert answers[0].data["outcome_code"] in BY_CODE
        assert desk.state.outcome_code == answers[0].data["outcome_code"]
    # exactly one outcome code per ended case (table 三: 一 + 二 = 三（总计） + 四): a case that
    # ended (answered, abandoned, withdrawn; archived after) has one ending event with a code of
    # the closed set and the report row of that code; an open case has none
    endings = [e for e in desk.events if e.name in ENDINGS]
    if desk.state.status in CLOSED:
        assert len(endings) == 1, [e.name for e in endings]
        ending = endings[0].data
        assert ending["outcome_code"] in BY_CODE and desk.state.outcome_code == ending["outcome_code"]
        assert ending["report_row"] == BY_CODE[ending["outcome_code"]].report_row
        event(f"ended {BY_CODE[ending['outcome_code']].report_row}")
    else:
        assert not endings and desk.state.status in OPEN
    for e in desk.events:  # Art. 30: "still unclear after correction" only after a correction
        if e.name == "decision-drafted" and e.data["outcome_code"] == "not_held.unclear":
            assert any(x.name == "clarification-received" for x in desk.events[: desk.events.index(e)])
        if e.name == "decision-recorded" and e.data["outcome_code"] == "withhold.administrative_inquiry":
            assert e.data.get("description") is None  # 36(7): a referral, not in the refusal register
    for e in desk.events:
        if e.name == "review-approved":  # only disclosing outcomes reach publishing
            assert e.data["outcome"] in (Outcome.disclose, Outcome.partial)
            for part in e.data.get("withheld_parts", []):
                assert refusal_key(part["part"]) not in refusal_key(e.data["disclosed_content"])
    # appeals (table 四): one result each; a lawsuit after reconsideration follows one of this case
    decided = [e.data["appeal_id"] for e in desk.events if e.name == "appeal-decided"]
    assert len(decided) == len(set(decided))
    for a in desk.state.appeals.values():
        if a.kind == "lawsuit_after_reconsideration":
            assert desk.state.appeals[a.after or ""].kind == "reconsideration"
    # corrections (Art. 41): only of information the case provided, answered once each
    answered = [e.data["correction_id"] for e in desk.events if e.name.startswith("record-correct")]
    assert len(answered) == len(set(answered))
    if desk.state.corrections:
        assert (desk.state.outcome_code or "").split(".")[0] in ("disclose", "partial")
    event("answered" if answers else "not answered")


@pytest.mark.parametrize("status", STATES)
def test_every_state_allows_exactly_the_commands_of_the_table(status: str) -> None:
    state, _ = received()
    desk = Desk(state.model_copy(update={"status": status, "received_on": state.received_on}))
    for name, command in BY_NAME.items():
        if status in command.allowed_in:
            continue
        cmd = command_for(name, desk, _FixedData())
        with pytest.raises(CommandRejected):
            desk.do(cmd, "甲", "reviewer")


class _FixedData:
    """Stands in for hypothesis' data in example tests: always the first choice."""

    def draw(self, strategy):  # noqa: ANN001, ANN201
        return strategy.example() if not hasattr(strategy, "elements") else list(strategy.elements)[0]


def test_the_command_table_names_known_states_one_route_and_one_model_per_command() -> None:
    """What api.py and decide() rely on: a route path answers one command, a model is one
    command's input, every state named is a state of the case, every rule is in domain/."""
    paths = [p for c in COMMANDS for p in (c.path, *c.aliases)]
    assert len(paths) == len(set(paths))
    assert len({c.model for c in COMMANDS}) == len({c.name for c in COMMANDS}) == len(COMMANDS)
    for c in COMMANDS:
        assert set(c.allowed_in) <= set(STATES) and c.leads_to in (*STATES, "=", "<resume>"), c.name
        assert c.rule.__module__.startswith("gongkai_review.domain."), c.name
        assert c.roles, c.name


def test_the_workflow_page_is_generated_from_the_table() -> None:
    assert DOC.read_text(encoding="utf-8") == document()
    for c in COMMANDS:
        assert f"`{c.name}`" in DOC.read_text(encoding="utf-8")


def test_outcome_codes_are_a_closed_set_with_one_report_row_and_a_legal_basis_each() -> None:
    assert len({r.code for r in ROWS}) == len(ROWS)
    # every answer cites the 条例; a withdrawal is the applicant's act, under no article
    assert all(
        r.legal_basis.startswith("《中华人民共和国政府信息公开条例》")
        for r in ROWS
        if r.code != "other.withdrawn"
    )
    assert len(WITHHOLD_REASONS) == 8  # 不予公开 rows 1-8
    assert {r.report_row for r in ROWS if r.outcome == Outcome.not_processed} == {
        f"三.（五）.{i}" for i in range(1, 6)
    }
