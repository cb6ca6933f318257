"""The agency's information (政府信息) as documents with an identity, and the refusal register.

Pure: no I/O. The vocabulary both pipelines share (DOMAIN.md §1, §5, §7):

- A **document** has an id, title, 文号, issuing body, 成文日期, a disclosure attribute (公开属性:
  主动公开 / 依申请公开 / 不予公开 with reasons), a category of 条例 Art. 20 and its files. Publishing
  owns documents (``document-registered`` … on ``foi.publishing.<document-id>.*``).
- Review's decisions name the documents they disclose or withhold (:class:`DocumentRef`,
  :class:`WithheldDocument`), copied at the time of the decision so a letter and an auditor can
  name the document without a lookup.
- The **refusal register** (seed measures Art. 25; 条例 Art. 18) holds the documents a decision
  withheld, whole or in part, never the applicant's wording. Each entry is reviewed on a schedule
  and can be lifted with a recorded reason (``refusal-reviewed``, ``refusal-lifted`` on
  ``foi.review.<entry-id>.*``). :func:`register_entries` is the one rule of what a decision adds
  to it; review and publishing each project it with this function.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict

from .envelope import derived_id
from .text import line, paragraph


class Attribute(StrEnum):
    """公开属性, set by the department when it drafts the document."""

    proactive = "proactive"  # 主动公开
    on_request = "on_request"  # 依申请公开
    withheld = "withheld"  # 不予公开 (with reasons: the withhold reasons of outcomes.PART_REASONS)


ATTRIBUTE_LABELS: dict[Attribute, str] = {
    Attribute.proactive: "主动公开",
    Attribute.on_request: "依申请公开",
    Attribute.withheld: "不予公开",
}


class DocumentKind(StrEnum):
    """Which catalogue section a document belongs to, and whether it is a policy."""

    document = "document"  # 法定主动公开内容, by category
    policy = "policy"  # 政策文件: published together with its interpretation (政策解读)
    interpretation = "interpretation"  # 政策解读 of a policy document (``interprets``)
    disclosure_system = "disclosure_system"  # 政府信息公开制度 (the section 制度)
    annual_report = "annual_report"  # 政府信息公开年报 (the section 年报)


# 条例 (2019) Art. 20: what an agency publishes proactively, one code per item, in the Article's
# order; the catalogue's 法定主动公开内容 section is organised by these.
CATEGORIES: dict[str, str] = {
    "rules": "行政法规、规章和规范性文件",
    "organisation": "机关职能、机构设置、办公地址、办公时间、联系方式、负责人姓名",
    "plans": "国民经济和社会发展规划、专项规划、区域规划及相关政策",
    "statistics": "国民经济和社会发展统计信息",
    "licensing": "办理行政许可和其他对外管理服务事项的依据、条件、程序以及办理结果",
    "enforcement": "实施行政处罚、行政强制的依据、条件、程序以及本行政机关认为具有一定社会影响的行政处罚决定",
    "budget": "财政预算、决算信息",
    "charges": "行政事业性收费项目及其依据、标准",
    "procurement": "政府集中采购项目的目录、标准及实施情况",
    "construction": "重大建设项目的批准和实施情况",
    "social_policy": "扶贫、教育、医疗、社会保障、促进就业等方面的政策、措施及其实施情况",
    "emergencies": "突发公共事件的应急预案、预警信息及应对情况",
    "supervision": "环境保护、公共卫生、安全生产、食品药品、产品质量的监督检查情况",
    "civil_service": "公务员招考的职位、名额、报考条件等事项以及录用结果",
    "other": "法律、法规、规章和国家有关规定规定应当主动公开的其他政府信息",
}

# Art. 26: proactive information is published within 20 working days of being formed or changed
PUBLICATION_WORKING_DAYS = 20

DocumentId = Annotated[str, line(200, min_length=1)]


class DocumentRef(BaseModel):
    """A document as a decision, a letter or the register names it (its identity at that time)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    document_id: DocumentId
    title: Annotated[str, line(300, min_length=1)]
    doc_number: Annotated[str, line(100)] | None = None  # 文号
    issuing_body: Annotated[str, line(300, min_length=1)]


class WithheldDocument(BaseModel):
    """A document a decision withholds: whole (``part`` None) or one separable part (Art. 37)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    document: DocumentRef
    part: Annotated[str, paragraph(2000, min_length=1)] | None = None
    reason: Annotated[str, line(100, min_length=1)]  # a withhold reason of outcomes.PART_REASONS
    explanation: Annotated[str, paragraph(2000, min_length=1)]  # why, in this case (Art. 36(3))


# --- the refusal register -----------------------------------------------------------------

# Art. 18: each entry is reviewed at least this often; a review that keeps it sets the next date
REVIEW_EVERY_DAYS = 365

REGISTERING_EVENTS = ("decision-recorded", "review-approved")


@dataclass(frozen=True)
class RegisterEntry:
    """One document (or part of one) that a signed decision withheld."""

    entry_id: str  # derived from the decision event and the document (and part): stable on replay
    document_id: str
    title: str
    doc_number: str | None
    issuing_body: str
    part: str | None
    reason: str
    explanation: str
    case_id: str


def entry_id(decision_event_id: str, document_id: str, part: str | None) -> str:
    return derived_id(decision_event_id, f"refusal:{document_id}:{part or ''}")


def register_entries(event_name: str, event_id: str, data: dict[str, Any]) -> list[RegisterEntry]:
    """What a signed decision adds to the refusal register: every document it withholds, whole
    or in part (``withheld_documents`` of ``decision-recorded`` and ``review-approved``). A
    referral to the special procedure (36(7)) withholds nothing: its decision names no
    withheld documents. Events before issue 10 named no documents and add nothing."""
    if event_name not in REGISTERING_EVENTS:
        return []
    out = []
    for w in data.get("withheld_documents") or []:
        d = w["document"]
        out.append(
            RegisterEntry(
                entry_id=entry_id(event_id, d["document_id"], w.get("part")),
                document_id=d["document_id"],
                title=d["title"],
                doc_number=d.get("doc_number"),
                issuing_body=d["issuing_body"],
                part=w.get("part"),
                reason=w["reason"],
                explanation=w["explanation"],
                case_id=data["case_id"],
            )
        )
    return out


def blocks_publication(entry: RegisterEntry, document_id: str) -> bool:
    """A standing entry naming a document forbids publishing that document in any form: a
    withheld part forbids publishing the whole (it would release the part)."""
    return entry.document_id == document_id


def blocks_disclosure(entry: RegisterEntry, document_id: str, withheld_parts: set[str]) -> bool:
    """A standing entry forbids an answer that discloses the document, unless the entry is a part
    that this answer withholds too (a partial disclosure of the same document)."""
    if entry.document_id != document_id:
        return False
    return entry.part is None or entry.part not in withheld_parts


def refusal_message(entry: RegisterEntry) -> str:
    """The error naming the refusal (Chinese, English gloss)."""
    what = f"《{entry.title}》" + (f"（{entry.doc_number}）" if entry.doc_number else "")
    part = f"中的“{entry.part}”部分" if entry.part else ""
    return (
        f"{what}{part}已决定不予公开（案件 {entry.case_id}，登记 {entry.entry_id}），不得以任何形式公开；"
        f"如情况变化，须先解除登记并记录理由 (refusal register entry {entry.entry_id} forbids it)"
    )
