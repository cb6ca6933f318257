"""Publishing's rules: documents (政府信息) from registration to the catalogue. Pure, no I/O.

- **Documents** (DOMAIN §1): a department registers a document with its attribute (公开属性) and
  category (条例 Art. 20); a disclosure reviewer does the confidentiality review (保密审查, Art. 17);
  an approver other than the submitter signs it (签发); it can be amended (a new version, history
  kept) or repealed (废止, with its date).
- **Proactive publication** (主动公开, Art. 19-20, 26): a signed version of a proactive document is
  published with the next 索引号; a policy document (政策文件) and its interpretation (政策解读) are
  released together, once both are signed, and linked both ways; a published document's new
  signed version is ``amended`` (same index number).
- **Publication on request** (Art. 44): only when the office decides it, after the case's answer
  was sent, of documents that answer disclosed, with the document's own metadata.
- **The refusal register** (条例 Art. 18; seed measures Art. 25): a standing entry naming a
  document forbids publishing it (information.blocks_publication); entries made from the
  applicant's wording before issue 10 are listed but block nothing (docs/decisions.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from gongkai_shared.decisions import CommandRejected
from gongkai_shared.envelope import Actor
from gongkai_shared.events import (
    Amended,
    CatalogueLink,
    DocumentAmended,
    DocumentMetadata,
    DocumentRegistered,
    DocumentReviewed,
    DocumentSigned,
    PublicationDecided,
    PublicationRefusedV2,
    PublishedV2,
    Repealed,
)
from gongkai_shared.filerefs import FileRef
from gongkai_shared.information import (
    CATEGORIES,
    Attribute,
    DocumentKind,
    RegisterEntry,
    blocks_publication,
    refusal_message,
)
from gongkai_shared.outcomes import PART_REASONS, is_refusal
from gongkai_shared.text import line, paragraph

PUBLISHER = Actor.system("publishing")
PROACTIVE, ON_REQUEST = "proactive", "on_request"  # CatalogueItem.source
GROUNDS = ("several_applicants", "public_interest")  # Art. 44


class Invalid(Exception):
    """Bad input the state cannot tell: a 422 naming ``field``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def reject(message: str) -> CommandRejected:
    return CommandRejected(message)


# --- state (a fold of the document's events, as the projection stores it) ---------------


@dataclass(frozen=True)
class Version:
    number: int
    metadata: DocumentMetadata
    submitted_by: str  # the actor who registered or amended it
    reason: str | None = None  # an amendment's reason
    changed_on: date | None = None
    review_passed: bool | None = None  # 保密审查 (None: not reviewed)
    signed_by: str | None = None  # 签发


@dataclass(frozen=True)
class DocumentState:
    document_id: str
    department: str
    versions: dict[int, Version]
    published_version: int | None = None
    index_number: str | None = None
    repealed_on: date | None = None

    @property
    def current(self) -> Version:
        return self.versions[max(self.versions)]

    @property
    def metadata(self) -> DocumentMetadata:
        return self.current.metadata

    @property
    def published(self) -> bool:
        return self.index_number is not None

    @property
    def signed(self) -> bool:
        """The current version is signed (ready to publish)."""
        return self.current.signed_by is not None

    def ref(self) -> dict[str, str | None]:
        m = self.metadata
        return {"document_id": self.document_id, "title": m.title, "doc_number": m.doc_number}


# --- command inputs -----------------------------------------------------------------------


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RegisterDocument(Input):
    department: Annotated[str, line(200, min_length=1)] = Field(description="承办部门")
    metadata: DocumentMetadata


class ReviewDocument(Input):
    document_version: int = Field(ge=1, le=100_000, description="the version reviewed")
    passed: bool
    notes: Annotated[str, paragraph(5000)] = ""


class SignDocument(Input):
    document_version: int = Field(ge=1, le=100_000, description="the version signed")


class AmendDocument(Input):
    metadata: DocumentMetadata
    reason: Annotated[str, paragraph(5000, min_length=1)]
    changed_on: date


class RepealDocument(Input):
    repealed_on: date
    reason: Annotated[str, paragraph(5000, min_length=1)]
    replaced_by: Annotated[str, line(200, min_length=1)] | None = None


class DecidePublication(Input):
    case_id: Annotated[str, line(200, min_length=1)]
    document_ids: list[Annotated[str, line(200, min_length=1)]] = Field(min_length=1, max_length=50)
    grounds: Literal["several_applicants", "public_interest"]
    explanation: Annotated[str, paragraph(5000, min_length=1)]


# --- documents: registration, 保密审查, 签发, amendment, repeal ---------------------------


def check_metadata(
    m: DocumentMetadata, *, policy: DocumentState | None, known: set[str], document_id: str | None = None
) -> None:
    """A document's metadata is complete and consistent (DOMAIN §1, §7), else ``Invalid``:
    the category is one of Art. 20's; 不予公开 names its reasons (the withhold reasons of the
    条例, Art. 14-16) and explains them; an interpretation (政策解读) names an existing policy
    document; a document replaces only documents that exist. ``known``: the ids that exist."""
    if m.category not in CATEGORIES:
        raise Invalid(
            "metadata.category", f"类别不在《条例》第二十条所列范围 (unknown category {m.category!r})"
        )
    if m.attribute == Attribute.withheld:
        if not m.withheld_reasons:
            raise Invalid("metadata.withheld_reasons", "不予公开须说明理由 (withheld needs its reasons)")
        bad = [r for r in m.withheld_reasons if r not in PART_REASONS]
        if bad:
            raise Invalid(
                "metadata.withheld_reasons", f"不是不予公开的法定理由 (not a withhold reason: {bad})"
            )
        if not (m.withheld_explanation or "").strip():
            raise Invalid("metadata.withheld_explanation", "不予公开须说明具体理由 (explain the withholding)")
    elif m.withheld_reasons or m.withheld_explanation:
        raise Invalid(
            "metadata.withheld_reasons", "只有不予公开的信息才有不予公开理由 (reasons only for withheld)"
        )
    if m.kind == DocumentKind.interpretation:
        if m.interprets is None:
            raise Invalid("metadata.interprets", "政策解读须指明所解读的政策文件 (name the policy document)")
        if policy is None or policy.metadata.kind != DocumentKind.policy:
            raise Invalid("metadata.interprets", "所解读的政策文件不存在 (no such policy document)")
    elif m.interprets is not None:
        raise Invalid("metadata.interprets", "只有政策解读才解读政策文件 (only an interpretation interprets)")
    missing = [d for d in m.replaces if d not in known or d == document_id]
    if missing:
        raise Invalid("metadata.replaces", f"被替代的文件不存在 (no such documents: {missing})")
    _none_sealed(m.files)


def _none_sealed(files: list[FileRef]) -> None:
    """An encrypted file is an applicant's personal file (an identity proof, files.py): never a
    document's, whatever its attribute (an on-request document may be published under Art. 44,
    an amendment may make a document proactive)."""
    sealed = [i for i, f in enumerate(files) if f.encrypted]
    if sealed:
        raise Invalid(
            f"metadata.files.{sealed[0]}",
            "政府信息的附件不得是加密的个人文件 (a document's files are public: encrypted file refused)",
        )


def check_files(files: list[FileRef], stored: dict[str, int | None]) -> None:
    """A document's files (DOMAIN §1: its files are in the object store) were uploaded: each
    hash is stored, with the size its reference gives (``stored``: hash -> bytes stored, None
    when absent). Otherwise ``Invalid`` naming ``metadata.files``: a reference to nothing would
    publish a link that never downloads. An encrypted reference is refused first."""
    _none_sealed(files)
    for i, f in enumerate(files):
        if stored.get(f.sha256) != f.size:
            raise Invalid(
                f"metadata.files.{i}",
                f"附件未上传或大小不符，请先上传 (no stored file {f.sha256[:16]}… of {f.size} bytes;"
                " upload it with POST /api/v1/information/files)",
            )


def register_document(
    cmd: RegisterDocument, *, document_id: str, policy: DocumentState | None, known: set[str]
) -> DocumentRegistered:
    """A department registers a document (version 1) with its attribute and category."""
    check_metadata(cmd.metadata, policy=policy, known=known)
    return DocumentRegistered(document_id=document_id, department=cmd.department, metadata=cmd.metadata)


def _version(state: DocumentState, number: int) -> Version:
    if state.repealed_on is not None:
        raise reject(f"文件已于 {state.repealed_on} 废止 (the document is repealed)")
    if number != state.current.number:
        raise reject(f"只能审查、签发当前版本 {state.current.number} (only the current version)")
    return state.current


def review_document(state: DocumentState, cmd: ReviewDocument) -> DocumentReviewed:
    """Art. 17: every version is reviewed for confidentiality (保密审查) before it is signed;
    a version that passed is not reviewed again (a failed one may be, once corrected)."""
    v = _version(state, cmd.document_version)
    if v.review_passed:
        raise reject("该版本已通过保密审查 (this version already passed its review)")
    return DocumentReviewed(
        document_id=state.document_id, document_version=v.number, passed=cmd.passed, notes=cmd.notes
    )


def standing_blocks(entries: list[RegisterEntry], document_id: str) -> list[RegisterEntry]:
    """Seed Art. 25, 条例 Art. 18: the standing register entries that forbid publishing it."""
    return [e for e in entries if blocks_publication(e, document_id)]


def sign_document(
    state: DocumentState, cmd: SignDocument, *, actor: Actor, entries: list[RegisterEntry]
) -> DocumentSigned:
    """签发: an approver signs a reviewed version; never the one who submitted it (Art. 17: 审核
    and 签发 are two people). A proactive document whose publication the register forbids is not
    signed for publication: the error names the refusal."""
    v = _version(state, cmd.document_version)
    if not v.review_passed:
        raise reject("该版本尚未通过保密审查，不能签发 (not reviewed for confidentiality, or failed)")
    if v.signed_by is not None:
        raise reject("该版本已签发 (this version is already signed)")
    if actor.id == v.submitted_by:
        raise reject("签发人不能是该版本的提交人 (the approver cannot be the submitter of this version)")
    if v.metadata.attribute == Attribute.proactive:
        blocking = standing_blocks(entries, state.document_id)
        if blocking:
            raise reject(refusal_message(blocking[0]))
    return DocumentSigned(document_id=state.document_id, document_version=v.number)


def amend_document(
    state: DocumentState, cmd: AmendDocument, *, policy: DocumentState | None, known: set[str]
) -> DocumentAmended:
    """A new version (history kept). Art. 26: a changed proactive document is published within
    20 working days of ``changed_on``. Its kind stays (a policy stays a policy)."""
    if state.repealed_on is not None:
        raise reject(f"文件已于 {state.repealed_on} 废止，不能修改 (the document is repealed)")
    if cmd.metadata.kind != state.metadata.kind:
        raise Invalid("metadata.kind", "修改不能改变文件类型 (an amendment keeps the kind)")
    if cmd.changed_on < state.metadata.formed_on:
        raise Invalid("changed_on", "修改日期早于成文日期 (changed before the document was formed)")
    check_metadata(cmd.metadata, policy=policy, known=known, document_id=state.document_id)
    return DocumentAmended(
        document_id=state.document_id,
        document_version=state.current.number + 1,
        metadata=cmd.metadata,
        reason=cmd.reason,
        changed_on=cmd.changed_on,
    )


def repeal_document(
    state: DocumentState, cmd: RepealDocument, *, replaced_by: DocumentState | None
) -> Repealed:
    """废止: the document's validity ends on ``repealed_on``; public (with its index number) if
    it was published, so the catalogue shows 废止 and its date."""
    if state.repealed_on is not None:
        raise reject(f"文件已于 {state.repealed_on} 废止 (already repealed)")
    if cmd.repealed_on < state.metadata.formed_on:
        raise Invalid("repealed_on", "废止日期早于成文日期 (repealed before it was formed)")
    link = None
    if cmd.replaced_by is not None:
        if replaced_by is None or cmd.replaced_by == state.document_id:
            raise Invalid("replaced_by", "替代文件不存在 (no such document)")
        link = CatalogueLink(document_id=replaced_by.document_id, index_number=replaced_by.index_number)
    return Repealed(
        document_id=state.document_id,
        index_number=state.index_number,
        repealed_on=cmd.repealed_on,
        reason=cmd.reason,
        replaced_by=link,
    )


# --- Art. 44: publication of information disclosed on request ----------------------------


@dataclass(frozen=True)
class CaseDisclosure:
    """What publishing knows of a case from review's events: its answer and what it disclosed."""

    case_id: str
    answered_on: date | None
    disclosed: frozenset[str] = field(default_factory=frozenset)  # document ids


def decide_publication(
    case: CaseDisclosure | None,
    cmd: DecidePublication,
    *,
    documents: dict[str, DocumentState | None],
    entries: list[RegisterEntry],
) -> PublicationDecided:
    """Art. 44: the office may publish information it disclosed on request (several applicants
    asked for it, or the public interest), only after the answer was sent, only documents that
    answer disclosed, and only as the document registered by staff (its title and summary,
    never the applicant's words). A document the register forbids is refused, naming it."""
    if case is None or case.answered_on is None:
        raise reject("该申请尚未答复，不能决定公开 (Art. 44: only after the answer was sent)")
    ids = list(dict.fromkeys(cmd.document_ids))
    not_disclosed = [d for d in ids if d not in case.disclosed]
    if not_disclosed:
        raise Invalid("document_ids", f"答复未公开这些文件 (the answer did not disclose: {not_disclosed})")
    unregistered = [d for d in ids if documents.get(d) is None]
    if unregistered:
        raise Invalid(
            "document_ids",
            f"文件未登记标题和概述，请先登记 (register their title and summary first: {unregistered})",
        )
    for d in ids:
        state = documents[d]
        assert state is not None
        if state.repealed_on is not None:
            raise reject(f"文件 {d} 已废止 (repealed)")
        if state.metadata.attribute == Attribute.withheld:
            raise reject(f"文件 {d} 的公开属性为不予公开 (withheld)")
        if state.published:
            raise reject(f"文件 {d} 已公开，索引号 {state.index_number} (already published)")
        blocking = standing_blocks(entries, d)
        if blocking:
            raise reject(refusal_message(blocking[0]))
    return PublicationDecided(
        case_id=case.case_id, document_ids=ids, grounds=cmd.grounds, explanation=cmd.explanation
    )


# --- proactive publication: what a signature releases ------------------------------------


def release_group(
    signed: DocumentState, policy: DocumentState | None, interpretations: list[DocumentState]
) -> list[DocumentState]:
    """The documents a signature releases now (Art. 19-20; DOMAIN §5): a proactive document,
    once its current version is signed. A policy document and its interpretations are drafted,
    signed and released together: nothing is released until the policy and every registered
    interpretation of it are signed (a policy waits for at least one interpretation); then all
    of them at once. An interpretation of a policy already published is released alone.
    ``policy``: the policy of ``signed`` (an interpretation), or ``signed`` itself (a policy);
    ``interpretations``: that policy's (not repealed)."""
    if signed.repealed_on is not None or not signed.signed:
        return []
    if signed.metadata.attribute != Attribute.proactive:
        return []
    kind = signed.metadata.kind
    if kind not in (DocumentKind.policy, DocumentKind.interpretation):
        return [signed]
    if policy is None:
        return []
    if kind == DocumentKind.interpretation and policy.published and policy.published_version is not None:
        return [signed]
    live = [
        i for i in interpretations if i.repealed_on is None and i.metadata.attribute == Attribute.proactive
    ]
    if not live or not policy.signed or not all(i.signed for i in live):
        return []
    return [policy, *live]


def needs_release(state: DocumentState) -> bool:
    """Its signed current version is not yet what the catalogue shows."""
    return state.signed and state.published_version != state.current.number


def format_index(fmt: str, agency: str, year: int, seq: int) -> str:
    """索引号, e.g. ``000014349/2018-00222`` (the format is the agency's: settings)."""
    return fmt.format(agency=agency, year=year, seq=seq)


def check_index_format(fmt: str) -> str:
    """The format must number items apart: ``{seq}`` and ``{year}`` in it."""
    if "{seq" not in fmt or "{year" not in fmt:
        raise ValueError(f"index number format must contain {{year}} and {{seq}}: {fmt!r}")
    format_index(fmt, "000000000", 2026, 1)
    return fmt


def counter_aggregate(year: int) -> str:
    """The log's counter of index numbers for one year (``index-number-assigned`` events)."""
    return f"index-numbers-{year}"


def next_index_seq(last_in_log: int, last_in_catalogue: int) -> int:
    """The next number: after both the log's counter and any number the catalogue holds (items
    published before issue 10 took theirs from a database counter)."""
    return max(last_in_log, last_in_catalogue) + 1


@dataclass(frozen=True)
class Numbered:
    """A document with the index number it is (or will be) published under."""

    state: DocumentState
    index_number: str
    year: int
    seq: int


def _link(d: DocumentState, numbers: dict[str, str]) -> CatalogueLink:
    return CatalogueLink(document_id=d.document_id, index_number=numbers.get(d.document_id) or d.index_number)


def catalogue_item(
    n: Numbered,
    *,
    agency_code: str,
    today: date,
    source: str,
    related: dict[str, DocumentState],
    numbers: dict[str, str],
    interpretations: list[DocumentState] = (),  # type: ignore[assignment]
) -> dict:
    """The public fields of one item (events.CatalogueItem): no personal data, only the
    document's own metadata. ``numbers``: index numbers of documents published with it."""
    m = n.state.metadata
    policy = related.get(m.interprets) if m.interprets else None
    return {
        "document_id": n.state.document_id,
        "document_version": n.state.current.number,
        "index_number": n.index_number,
        "index_year": n.year,
        "index_seq": n.seq,
        "agency_code": agency_code,
        "metadata": m,
        "published_on": today,
        "source": source,
        "interprets": _link(policy, numbers) if policy is not None else None,
        "interpretations": [_link(i, numbers) for i in interpretations],
        "replaces": [_link(related[r], numbers) for r in m.replaces if r in related],
    }


def publish_body(item: dict) -> PublishedV2:
    return PublishedV2(**item)


def amend_body(item: dict, *, state: DocumentState, today: date) -> Amended:
    """A published document's new signed version: same index number, new version."""
    return Amended(**item, reason=state.current.reason or "修订", amended_on=today)


def refusal_body(
    document_id: str, blocking: list[RegisterEntry], case_id: str | None
) -> PublicationRefusedV2:
    return PublicationRefusedV2(
        document_id=document_id,
        entry_ids=[e.entry_id for e in blocking],
        reason=refusal_message(blocking[0]),
        case_id=case_id,
    )


# --- the register of before issue 10 (the applicant's wording; listed, blocks nothing) ------


def refusal_key(text: str) -> str:
    """How pre-issue-10 rows were keyed (kept for the old table's listing)."""
    return re.sub(r"[\s\W_]+", "", text).lower()


def legacy_refusals(event_name: str, data: dict) -> list[tuple[str, str, str]]:
    """What a decision that names no documents (before issue 10) listed in the old register:
    (kind, text, reason). Listed for the record; it blocks nothing (docs/decisions.md)."""
    if data.get("withheld_documents") or data.get("documents"):
        return []
    if event_name == "decision-recorded" and is_refusal(
        data.get("outcome_code") or data.get("outcome") or ""
    ):
        text = data.get("description") or ""
        return [("withheld_information", text, data.get("outcome_code") or "withhold")] if text else []
    if event_name == "review-approved":
        return [("withheld_part", p["part"], p["reason"]) for p in data.get("withheld_parts", [])]
    return []
