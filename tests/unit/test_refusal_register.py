"""Decisions name documents, and the refusal register keeps refused documents from going out
(issue 10): review's pure rules, with the register folded from the decisions' events by the one
rule (``information.register_entries``) as review's projection does."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gongkai_review import domain as d
from gongkai_review.domain.decision import DocumentWithheld
from gongkai_review.domain.refusals import (
    EntryState,
    LiftRefusal,
    ReviewRefusal,
    lift_refusal,
    review_refusal,
)
from gongkai_shared.calendar import WorkingCalendar
from gongkai_shared.decisions import CommandRejected
from gongkai_shared.envelope import Actor
from gongkai_shared.information import REVIEW_EVERY_DAYS, DocumentRef, RegisterEntry, register_entries
from tests.unit.review_model import START, Desk, received

LEDGER = DocumentRef(
    document_id="doc-ledger",
    title="本局涉密档案管理台账",
    doc_number="某教〔2025〕3号",
    issuing_body="某市教育局",
)
PLAN = DocumentRef(document_id="doc-plan", title="2025年学校招生计划", issuing_body="某市教育局")
DOCUMENTS = {x.document_id: x for x in (LEDGER, PLAN)}
PART = "第三部分：涉密人员名单"


class Office:
    """The agency: its registered documents and its refusal register, shared by every case."""

    def __init__(self) -> None:
        self.entries: dict[str, RegisterEntry] = {}
        self.lifted: set[str] = set()

    @property
    def standing(self) -> tuple[RegisterEntry, ...]:
        return tuple(e for k, e in self.entries.items() if k not in self.lifted)

    def desk(self, case_id: str, description: str) -> OfficeDesk:
        state, _ = received(case_id=case_id, description=description)
        dk = OfficeDesk(state, self)
        dk.do(d.Register(), "丙", "registrar")
        dk.do(d.ReviewConfidentiality(passed=True, notes="无涉密"), "甲")
        return dk


class OfficeDesk(Desk):
    def __init__(self, state, office: Office) -> None:  # noqa: ANN001
        super().__init__(state)
        self.office = office

    def ctx(self, who: str, role: str) -> d.Context:
        return replace(
            super().ctx(who, role),
            documents=DOCUMENTS,
            refusals=self.office.standing,
            office_has_documents=True,
        )

    def do(self, cmd, who: str = "someone", role: str = "reviewer"):  # noqa: ANN001, ANN201
        body = super().do(cmd, who, role)
        env = self.events[-1]
        for e in register_entries(env.name, env.id, env.data):  # what the projection adds
            self.office.entries[e.entry_id] = e
        return body


def refuse_whole(
    office: Office, document: DocumentRef, description: str = "请公开本局涉密档案管理台账全文"
) -> str:
    dk = office.desk("case-a", description)
    dk.do(
        d.Draft(
            outcome="withhold",
            reasons=["state_secret"],
            reason_text="该台账已定密",
            withheld_documents=[
                DocumentWithheld(
                    document_id=document.document_id, reason="state_secret", explanation="已定密"
                )
            ],
        ),
        "甲",
    )
    recorded = dk.do(d.SignOff(), "乙", "approver")
    assert recorded.withheld_documents[0].document == document  # the decision names the document
    [entry] = [e for e in office.standing if e.case_id == "case-a"]
    return entry.entry_id


def disclose(*documents: str) -> d.Draft:
    return d.Draft(outcome="disclose", disclosed_content="全文见附件", documents=list(documents))


@settings(max_examples=25, deadline=None)
@given(wording=st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N"]), min_size=1, max_size=60))
def test_a_refused_document_is_refused_in_any_later_case_whatever_its_wording(wording: str) -> None:
    """Seed measures Art. 25: the register holds the document, not the applicant's words; case B
    asking in any words for a document refused in case A cannot disclose it."""
    office = Office()
    entry_id = refuse_whole(office, LEDGER)
    dk = office.desk("case-b", wording)
    with pytest.raises(CommandRejected, match=entry_id) as refused:
        dk.do(disclose(LEDGER.document_id), "甲")
    assert "《本局涉密档案管理台账》（某教〔2025〕3号）已决定不予公开" in str(refused.value)
    dk.do(disclose(PLAN.document_id), "甲")  # another document is not touched by it


def test_the_same_wording_for_another_document_is_not_blocked() -> None:
    """The register never matches words: case B, worded like case A, disclosing another document."""
    office = Office()
    refuse_whole(office, LEDGER, description="2025年学校招生计划")
    dk = office.desk("case-b", "2025年学校招生计划（正式印发稿）")
    assert dk.do(disclose(PLAN.document_id), "甲").documents == [PLAN]


def withhold_part(office: Office, case_id: str, part: str) -> None:
    dk = office.desk(case_id, "本局涉密档案管理台账")
    dk.do(partial(part), "甲")
    dk.do(d.SignOff(), "乙", "approver")


def partial(part: str) -> d.Draft:
    return d.Draft(
        outcome="partial",
        disclosed_content="台账第一、二部分",
        withheld_parts=[d.PartWithheld(part=part, reason="state_secret", explanation="已定密")],
        documents=[LEDGER.document_id],
        withheld_documents=[
            DocumentWithheld(
                document_id=LEDGER.document_id, part=part, reason="state_secret", explanation="已定密"
            )
        ],
    )


def test_art37_a_withheld_part_blocks_the_whole_but_not_a_partial_disclosure_withholding_it() -> None:
    office = Office()
    withhold_part(office, "case-a", PART)
    [entry] = office.standing
    assert (entry.document_id, entry.part) == (LEDGER.document_id, PART)
    dk = office.desk("case-b", "台账")
    with pytest.raises(CommandRejected, match=f"“{PART}”部分已决定不予公开"):
        dk.do(disclose(LEDGER.document_id), "甲")
    with pytest.raises(CommandRejected, match=entry.entry_id):  # withholding another part releases it
        dk.do(partial("第四部分：经费"), "甲")
    dk.do(partial(PART), "甲")
    dk.do(d.SignOff(), "乙", "approver")
    sent = dk.do(d.SendAnswer(), "丙", "registrar")
    assert sent.disclosed_documents == [LEDGER]
    assert "本机关向您公开的政府信息：《本局涉密档案管理台账》（某教〔2025〕3号）。" in sent.letter.body


def test_an_entry_registered_after_the_draft_stops_the_sign_off_and_after_it_the_answer() -> None:
    office = Office()
    signing = office.desk("case-b", "台账")
    signing.do(disclose(LEDGER.document_id), "甲")
    sending = office.desk("case-c", "台账")
    sending.do(disclose(LEDGER.document_id), "甲")
    sending.do(d.SignOff(), "乙", "approver")
    entry_id = refuse_whole(office, LEDGER)
    with pytest.raises(CommandRejected, match=entry_id):
        signing.do(d.SignOff(), "乙", "approver")
    with pytest.raises(CommandRejected, match=entry_id):
        sending.do(d.SendAnswer(), "丙", "registrar")
    office.lifted.add(entry_id)  # Art. 18: lifted with a reason, it no longer blocks
    assert sending.do(d.SendAnswer(), "丙", "registrar").disclosed_documents == [LEDGER]


def test_decisions_copy_the_documents_the_draft_names() -> None:
    office = Office()
    dk = office.desk("case-b", "招生计划")
    dk.do(disclose(PLAN.document_id, LEDGER.document_id), "甲")
    approved = dk.do(d.SignOff(), "乙", "approver")
    assert approved.documents == [PLAN, LEDGER] and approved.withheld_documents == []
    assert register_entries("review-approved", "e1", approved.model_dump(mode="json")) == []
    letter = dk.do(d.SendAnswer(), "丙", "registrar").letter.body
    assert "《2025年学校招生计划》；《本局涉密档案管理台账》（某教〔2025〕3号）。" in letter


def test_once_documents_are_registered_a_decision_names_what_it_decides_on() -> None:
    """docs/decisions.md: a disclosure names what it discloses, a partial one also what it
    withholds, a refusal (not a 36(7) referral) the documents it withholds."""
    office = Office()
    dk = office.desk("case-b", "招生计划")
    with pytest.raises(CommandRejected, match="documents"):
        dk.do(d.Draft(outcome="disclose", disclosed_content="全文"), "甲")
    with pytest.raises(CommandRejected, match="withheld_documents"):
        dk.do(d.Draft(outcome="withhold", reasons=["state_secret"], reason_text="已定密"), "甲")
    with pytest.raises(CommandRejected, match="部分公开"):
        dk.do(
            d.Draft(
                outcome="partial",
                disclosed_content="部分",
                documents=[PLAN.document_id],
                withheld_parts=[d.PartWithheld(part="附件", reason="state_secret", explanation="已定密")],
            ),
            "甲",
        )
    where = "本机关门户网站"
    dk.do(d.Draft(outcome="disclose", reasons=["already_published"], published_at=where), "甲")  # says where
    legacy = Desk(office.desk("case-c", "招生计划").state)  # an office that registers no documents
    legacy.do(d.Draft(outcome="disclose", disclosed_content="全文"), "甲")


def test_draft_input_refuses_documents_that_do_not_fit_the_outcome() -> None:
    whole = DocumentWithheld(document_id="doc-ledger", reason="state_secret", explanation="已定密")
    with pytest.raises(ValidationError, match="only a disclosure"):
        d.Draft(outcome="withhold", reasons=["state_secret"], reason_text="x", documents=["doc-ledger"])
    with pytest.raises(ValidationError, match="36\\(7\\)"):
        d.Draft(
            outcome="withhold",
            reasons=["administrative_inquiry"],
            reason_text="x",
            withheld_documents=[whole],
        )
    with pytest.raises(ValidationError, match="both disclosed and withheld whole"):
        d.Draft(
            outcome="partial",
            disclosed_content="x",
            documents=["doc-ledger"],
            withheld_documents=[whole],
            withheld_parts=[d.PartWithheld(part="p", reason="state_secret", explanation="e")],
        )
    part = whole.model_copy(update={"part": "附件"})
    with pytest.raises(ValidationError, match="name it in documents"):
        d.Draft(
            outcome="partial",
            disclosed_content="x",
            withheld_documents=[part],
            withheld_parts=[d.PartWithheld(part="p", reason="state_secret", explanation="e")],
        )
    with pytest.raises(ValidationError, match="not in"):
        d.Draft(
            outcome="withhold",
            reasons=["state_secret"],
            reason_text="x",
            withheld_documents=[whole.model_copy(update={"reason": "nonsense"})],
        )


def test_feedback_names_registered_documents_and_the_case_remembers_them() -> None:
    office = Office()
    state, _ = received(case_id="case-f", description="招生计划")
    dk = OfficeDesk(state, office)
    dk.do(d.Register(), "丙", "registrar")
    dk.do(d.Assign(departments=["基础教育处"]), "丙", "registrar")
    with pytest.raises(CommandRejected, match="未登记"):
        dk.do(
            d.GiveFeedback(
                department="基础教育处", holds_information=True, summary="找到", documents=["nope"]
            )
        )
    with pytest.raises(CommandRejected, match="未掌握"):
        dk.do(
            d.GiveFeedback(
                department="基础教育处", holds_information=False, summary="无", documents=["doc-plan"]
            )
        )
    body = dk.do(
        d.GiveFeedback(
            department="基础教育处", holds_information=True, summary="找到", documents=["doc-plan"]
        )
    )
    assert body.documents == [PLAN] and dk.state.found_documents == [PLAN] and dk.state.status == "searched"


# --- Art. 18: periodic review and lifting ---------------------------------------------------

REGISTERED = date(2026, 3, 2)


def entry_state(**changes: object) -> EntryState:
    entry = RegisterEntry(
        entry_id="entry-1",
        document_id=LEDGER.document_id,
        title=LEDGER.title,
        doc_number=LEDGER.doc_number,
        issuing_body=LEDGER.issuing_body,
        part=None,
        reason="state_secret",
        explanation="已定密",
        case_id="case-a",
    )
    base = EntryState(
        entry=entry, registered_on=REGISTERED, review_due_on=REGISTERED + timedelta(REVIEW_EVERY_DAYS)
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def ctx_on(day: date, role: str = "approver") -> d.Context:
    return d.Context(actor=Actor(id="乙", role=role), now=START, today=day, calendar=WorkingCalendar())


def test_art18_an_entry_is_due_for_review_365_days_after_registration() -> None:
    e = entry_state()
    assert e.review_due_on == date(2027, 3, 2)
    assert not e.due(date(2027, 3, 1)) and e.due(date(2027, 3, 2))
    assert not replace(e, lifted_on=date(2026, 6, 1)).due(date(2027, 3, 2))  # lifted: never due


@settings(max_examples=50, deadline=None)
@given(days=st.integers(min_value=-30, max_value=REVIEW_EVERY_DAYS + 30))
def test_art18_a_review_keeps_the_entry_until_a_next_date_within_the_period(days: int) -> None:
    today = date(2027, 3, 2)
    c = ReviewRefusal(reason="仍属国家秘密", next_review_on=today + timedelta(days))
    if 0 < days <= REVIEW_EVERY_DAYS:
        event = review_refusal(entry_state(), c, ctx_on(today))
        assert event is not None and event.next_review_on == today + timedelta(days)
    else:
        with pytest.raises(CommandRejected, match="next_review_on"):
            review_refusal(entry_state(), c, ctx_on(today))


def test_art18_commands_given_again_change_nothing_and_a_lifted_entry_is_not_reviewed() -> None:
    today = date(2027, 3, 2)
    c = ReviewRefusal(reason="仍属国家秘密", next_review_on=date(2028, 3, 1))
    reviewed = entry_state(
        last_reviewed_on=today, last_review_reason=c.reason, review_due_on=c.next_review_on
    )
    assert review_refusal(reviewed, c, ctx_on(today)) is None
    lifted = lift_refusal(entry_state(), LiftRefusal(reason="已解密"), ctx_on(today))
    assert lifted is not None and (lifted.lifted_on, lifted.reason) == (today, "已解密")
    gone = entry_state(lifted_on=today, lifted_reason="已解密")
    assert lift_refusal(gone, LiftRefusal(reason="已解密"), ctx_on(today)) is None
    with pytest.raises(CommandRejected, match="解除"):
        review_refusal(gone, c, ctx_on(today))
