"""Reads over intake's own tables."""

from __future__ import annotations

import json

import asyncpg

from gongkai_shared.clock import OFFICE_TZ

STATUS_LABELS = {
    "received": "已收到",
    "registered": "已登记，办理中",
    "clarification_requested": "需补正",
    "processing": "办理中",
    "answered": "已答复",
    "abandoned": "视为放弃申请",
    "withdrawn": "已撤回",
}
EVENT_LABELS = {
    "request-received": "收到申请",
    "deadline-set": "确定答复期限",
    "review-approved": "决定予以公开",
    "decision-recorded": "作出答复决定",
    "published": "已在政府信息公开目录中发布",
    "deadline-breached": "已超过答复期限",
    "case-registered": "已登记",
    "clarification-requested": "补正告知",
    "clarification-received": "收到补正，答复期限重新计算",
    "consultation-started": "征求意见（期间不计入答复期限）",
    "consultation-replied": "征求意见结束",
    "extension-approved": "延长答复期限",
    "answer-sent": "已答复",
    "application-abandoned": "视为放弃申请",
    "application-withdrawn": "申请已撤回",
    "withdrawal-requested": "申请人撤回申请",
    "fee-notice-issued": "收费通知（缴费期间不计入答复期限）",
    "fee-paid": "已缴纳信息处理费",
    "excessive-reasons-requested": "请说明申请理由",
    "excessive-reasons-assessed": "申请理由审查结果",
    "record-correction-requested": "收到更正申请",
    "record-corrected": "已更正",
    "record-correction-refused": "不予更正",
    "record-correction-referred": "更正申请已转送或告知",
}


async def application_by_tracking_hash(pool: asyncpg.Pool, digest: str) -> dict | None:
    row = await pool.fetchrow("SELECT * FROM applications WHERE tracking_hash = $1", digest)
    if row is None:
        return None
    history = await pool.fetch(
        "SELECT seq, at, event, detail FROM application_history WHERE case_id = $1 ORDER BY seq",
        row["case_id"],
    )
    return {
        "case_id": row["case_id"],
        "status": row["status"],
        "status_label": STATUS_LABELS.get(row["status"], row["status"]),
        "channel": row["channel"],
        "received_on": row["received_on"].isoformat(),
        "corrected_on": row["corrected_on"].isoformat() if row["corrected_on"] else None,
        "answer_due": row["answer_due"].isoformat() if row["answer_due"] else None,
        "answer_due_provisional": row["due_provisional"],
        "overdue": row["overdue"],
        "outcome": row["outcome"],
        "history": [
            {
                "sequence": h["seq"],
                "at": h["at"].astimezone(OFFICE_TZ).isoformat(),  # its day is a Beijing day
                "event": h["event"],
                "label": EVENT_LABELS.get(h["event"], h["event"]),
                "detail": json.loads(h["detail"]),
            }
            for h in history
        ],
    }


async def case_by_tracking_hash(pool: asyncpg.Pool, digest: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT case_id, status, last_seq FROM applications WHERE tracking_hash = $1", digest
    )


async def applicant_files(pool: asyncpg.Pool, digest: str) -> dict | None:
    """What the office sent the applicant of the case with this tracking hash: its letters (each
    by the stream sequence of the event that sent it) and the documents disclosed with the answer
    (``answer-sent``'s references; never an identity proof, never another case's). None: no such
    case."""
    case_id = await pool.fetchval("SELECT case_id FROM applications WHERE tracking_hash = $1", digest)
    if case_id is None:
        return None
    rows = await pool.fetch(
        "SELECT seq, event, detail FROM application_history WHERE case_id = $1"
        " AND (detail ? 'letter' OR (event = 'answer-sent' AND detail ? 'documents')) ORDER BY seq",
        case_id,
    )
    letters: list[dict] = []
    documents: list[dict] = []
    for r in rows:
        detail = json.loads(r["detail"])
        if "letter" in detail:
            letters.append({"sequence": r["seq"], "event": r["event"], "letter": detail["letter"]})
        if r["event"] == "answer-sent":
            documents.extend(detail.get("documents") or [])
    return {"case_id": case_id, "letters": letters, "documents": documents}
