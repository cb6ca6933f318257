"""Confidentiality review and the decision draft (保密审查、拟定答复意见).

条例 (2019):

- Art. 17: information is reviewed before it is disclosed (保密审查, under the State Secrets
  Law): no disclosing draft without a **passed** review; refusals may follow a failed one.
- Art. 36: the kinds of answer (the closed set of outcome codes, ``gongkai_shared.outcomes``, one
  report row each): already published (say where), disclosed, withheld with a reason (Art. 14-16)
  **and the case's own reasons** (36(3): the category alone is not a reason), does not exist
  (36(4)), not this agency's (36(5), Art. 10: name the responsible agency and how to reach it),
  not processed ...; 36(7) (工商、不动产登记 …) refers the applicant to the special procedure.
- Art. 37: separable parts (区分处理): disclose the rest, and withhold each part with a reason
  and its explanation; a withheld part must not appear in the disclosed content.
- Art. 38: information that would have to be created or analysed need not be provided.
- Art. 30: "still unclear after correction" only once a correction was received.
- Art. 32: a third party's refusal with reasonable grounds bars full disclosure unless overridden
  in the public interest; an objection found unreasonable does not, but the party is told in
  writing before the information is disclosed.

Issue 10: the draft names the documents (政府信息) it discloses (``documents``) and those it
withholds (``withheld_documents``: whole, or a separable part with its reason and explanation,
Art. 37); the text fields stay for the letter. Once the office has registered documents, a
disclosing or partial draft names at least one disclosed document, a partial one the parts it
withholds, a 不予公开 one the documents it withholds (docs/decisions.md). Nothing with a standing
refusal register entry is disclosed (seed measures Art. 25; ``refusals.check_register``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from gongkai_shared.events import ConfidentialityReviewed, DecisionDrafted, WithheldPart
from gongkai_shared.information import DocumentId, DocumentRef, WithheldDocument
from gongkai_shared.outcomes import (
    BY_CODE,
    PART_REASONS,
    REFERRAL_CODES,
    Outcome,
    code,
    discloses,
    is_refusal,
    reasons_for,
)
from gongkai_shared.text import line, paragraph

from ..case import CaseState
from .common import Context, Input, Text, normal, reject
from .refusals import DocumentIds, check_register, refs


class ReviewConfidentiality(Input):
    passed: bool
    notes: Text


class PartWithheld(Input):
    part: Annotated[str, paragraph(2000, min_length=1)]
    reason: Annotated[str, line(100)]
    explanation: Annotated[str, paragraph(2000, min_length=1)]  # why, in this case (Art. 36(3), 37)


class DocumentWithheld(Input):
    """A document the draft withholds: whole (no ``part``) or one separable part (Art. 37)."""

    document_id: DocumentId
    part: Annotated[str, paragraph(2000, min_length=1)] | None = None
    reason: Annotated[str, line(100)]  # outcomes.PART_REASONS
    explanation: Annotated[str, paragraph(2000, min_length=1)]  # why, in this case (Art. 36(3))


class Draft(Input):
    """The decision draft (答复意见). Wire names as in the skeleton's decision body."""

    outcome: Outcome
    reasons: list[Annotated[str, line(100)]] = Field(default_factory=list, max_length=1)
    legal_basis: Annotated[str, paragraph(500)] | None = None
    disclosed_content: Annotated[str, paragraph(100_000, min_length=1)] | None = None
    title: Annotated[str, line(300, min_length=1)] | None = None
    withheld_parts: list[PartWithheld] = Field(default_factory=list, max_length=50)
    responsible_agency: Annotated[str, line(300)] | None = None
    responsible_agency_contact: Annotated[str, line(500)] | None = None
    published_at: Annotated[str, line(500)] | None = None
    note: Annotated[str, paragraph(5000)] | None = None
    reason_text: Annotated[str, paragraph(5000, min_length=1)] | None = None  # Art. 36(3)
    documents: DocumentIds  # issue 10: the documents it discloses, by id
    withheld_documents: list[DocumentWithheld] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _fits_outcome(self) -> Draft:
        """Art. 36/37: the reason fits the outcome; a partial disclosure withholds each part with
        a withholding reason; an already published disclosure says where."""
        allowed = reasons_for(self.outcome)
        reason = self.reasons[0] if self.reasons else None
        if self.outcome in (Outcome.withhold, Outcome.not_held, Outcome.not_processed, Outcome.other):
            if reason not in allowed:
                raise ValueError(f"reasons: exactly one of {list(allowed)}")
        elif reason is not None and reason not in allowed:
            raise ValueError(f"reasons: none or one of {list(allowed)}")
        if self.outcome == Outcome.partial:
            if not self.withheld_parts or not self.disclosed_content:
                raise ValueError("partial disclosure needs disclosed_content and withheld_parts")
            bad = [p.reason for p in self.withheld_parts if p.reason not in PART_REASONS]
            if bad:
                raise ValueError(f"withheld_parts: reasons {bad} not in {list(PART_REASONS)}")
        elif self.withheld_parts:
            raise ValueError("withheld_parts only with outcome partial")
        if self.outcome == Outcome.disclose:
            if reason == "already_published" and not self.published_at:
                raise ValueError("published_at: where the information was proactively published")
            if reason is None and not self.disclosed_content:
                raise ValueError("disclosed_content is required to disclose")
        if is_refusal(self.code) and not self.reason_text:
            raise ValueError("reason_text: the reasons of this refusal in this case (Art. 36(3))")
        if self.code == "other.other" and not self.reason_text:
            raise ValueError("reason_text: what the answer tells the applicant (其他处理, Art. 36)")
        if self.code == "not_held.not_this_agency" and not (
            self.responsible_agency and self.responsible_agency_contact
        ):
            raise ValueError(
                "responsible_agency, responsible_agency_contact: the agency that is responsible "
                "and how to reach it (Art. 36(5))"
            )
        self._names_documents()
        return self

    def _names_documents(self) -> None:
        """Art. 36, 37: documents are disclosed only by a disclosing answer; a partial one
        withholds parts of the documents it discloses or whole other documents; a refusal withholds
        whole documents; a 36(7) referral withholds nothing."""
        if self.documents and not discloses(self.outcome):
            raise ValueError("documents: only a disclosure (disclose, partial) discloses documents")
        if len(set(self.documents)) != len(self.documents):
            raise ValueError("documents: each document once")
        if self.withheld_documents and (
            self.outcome not in (Outcome.partial, Outcome.withhold) or self.code in REFERRAL_CODES
        ):
            raise ValueError(
                "withheld_documents: only with outcome partial or withhold (not a 36(7) referral)"
            )
        bad = [w.reason for w in self.withheld_documents if w.reason not in PART_REASONS]
        if bad:
            raise ValueError(f"withheld_documents: reasons {bad} not in {list(PART_REASONS)}")
        keys = [(w.document_id, w.part) for w in self.withheld_documents]
        if len(set(keys)) != len(keys):
            raise ValueError("withheld_documents: each document (or part of one) once")
        for w in self.withheld_documents:
            if w.part is not None and w.document_id not in self.documents:
                raise ValueError(
                    f"withheld_documents: a part of {w.document_id} is withheld, so {w.document_id} "
                    "is disclosed in part: name it in documents (Art. 37)"
                )
            if w.part is None and w.document_id in self.documents:
                raise ValueError(
                    f"withheld_documents: {w.document_id} cannot be both disclosed and withheld whole"
                )
            if w.part is not None and self.outcome == Outcome.withhold:
                raise ValueError("withheld_documents: a refusal withholds whole documents (no part)")

    @property
    def code(self) -> str:
        return code(self.outcome, self.reasons[0] if self.reasons else None)


def review_confidentiality(s: CaseState, c: ReviewConfidentiality, ctx: Context) -> ConfidentialityReviewed:
    """Art. 17: the review's result, passed or not, with notes."""
    return ConfidentialityReviewed(case_id=s.case_id, passed=c.passed, notes=c.notes)


def draft(s: CaseState, c: Draft, ctx: Context) -> DecisionDrafted:
    """No disclosure without a passed confidentiality review (Art. 17) or over a third party's
    standing refusal (Art. 32); withheld parts stay out of the disclosed content (Art. 37). The
    legal basis defaults to the outcome's article; the title to the application's description."""
    if discloses(c.outcome) and not s.confidentiality_passed:
        raise reject("保密审查未通过，不能公开 (no disclosure without a passed confidentiality review)")
    if c.outcome == Outcome.disclose and s.third_party_objects and c.code == "disclose":
        raise reject("第三方不同意公开：应部分公开、不予公开，或以公共利益决定公开")
    if discloses(c.outcome) and s.third_party_untold:
        raise reject(
            "第三方不同意公开的理由不合理：公开前应书面告知第三方 (Art. 32: tell the third party first)"
        )
    if c.code == "not_held.unclear" and s.corrected_on is None:
        raise reject("补正后申请内容仍不明确：须先收到补正 (Art. 30: only after a correction)")
    for p in c.withheld_parts:
        if normal(p.part) and normal(p.part) in normal(c.disclosed_content or ""):
            raise reject(f"withheld part {p.part!r} appears in the disclosed content")
    documents = refs(c.documents, ctx)
    withheld = _withheld(c, ctx)
    if ctx.office_has_documents:
        _names_what_it_decides(c, documents, withheld)
    parts: dict[str, set[str]] = {}
    for w in withheld:
        if w.part is not None:
            parts.setdefault(w.document.document_id, set()).add(w.part)
    check_register(documents, parts, ctx)
    r = BY_CODE[c.code]
    return DecisionDrafted(
        case_id=s.case_id,
        draft_id=ctx.new_id,
        outcome=c.outcome,
        outcome_code=r.code,
        legal_basis=c.legal_basis or r.legal_basis,
        title=c.title or " ".join(s.description.split())[:300],  # a title is one line
        disclosed_content=c.disclosed_content,
        withheld_parts=[
            WithheldPart(part=p.part, reason=p.reason, explanation=p.explanation) for p in c.withheld_parts
        ],
        responsible_agency=c.responsible_agency,
        published_at=c.published_at,
        note=c.note,
        responsible_agency_contact=c.responsible_agency_contact,
        reason_text=c.reason_text,
        documents=documents,
        withheld_documents=withheld,
    )


def _withheld(c: Draft, ctx: Context) -> list[WithheldDocument]:
    found = {d.document_id: d for d in refs([w.document_id for w in c.withheld_documents], ctx)}
    return [
        WithheldDocument(
            document=found[w.document_id], part=w.part, reason=w.reason, explanation=w.explanation
        )
        for w in c.withheld_documents
    ]


def _names_what_it_decides(c: Draft, documents: list[DocumentRef], withheld: list[WithheldDocument]) -> None:
    """Once the office registers its documents, a decision names what it decides on: the register
    holds documents, and a letter names what it discloses (docs/decisions.md)."""
    if c.outcome == Outcome.disclose and c.code != "disclose.already_published" and not documents:
        raise reject("documents: 公开答复须列明公开的政府信息 (name the documents disclosed)")
    if c.outcome == Outcome.partial and not (documents and withheld):
        raise reject(
            "documents, withheld_documents: 部分公开须列明公开的政府信息及不予公开的部分 "
            "(name the documents disclosed and what is withheld, Art. 37)"
        )
    if c.outcome == Outcome.withhold and c.code not in REFERRAL_CODES and not withheld:
        raise reject("withheld_documents: 不予公开须列明不予公开的政府信息 (name the documents withheld)")
