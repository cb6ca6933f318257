"""A realistic FOI stream, made fast: whole case workflows, every event properly signed.

Each case is the path an application takes (intake's receipt, registration, the answer
deadline, departments and their feedback, confidentiality review, a draft, the sign-off, the
answer letter): 10 events written by the service that owns each (intake, review, notify), in
canonical JSON with each case's hash chain, signed with that service's registered key. Events
are built from one template per type (no pydantic per event) and published pipelined
(``publish_async``), several cases interleaved as on a busy day.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from gongkai_shared.envelope import Actor, sha256_hex
from gongkai_shared.events import (
    AnswerSent,
    CaseRegistered,
    ConfidentialityReviewed,
    DeadlineSet,
    DecisionDrafted,
    DepartmentFeedbackGiven,
    DepartmentsAssigned,
    EventBody,
    Letter,
    RequestReceived,
    ReviewApproved,
    make_event,
    subject_for,
)
from gongkai_shared.eventstore import EventStore

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CASE = "00000000-0000-0000-0000-000000000000"
LETTER = Letter(
    kind="answer", title="政府信息公开申请答复书", body="经审查，现予以公开。" * 20, recipient="李四"
)

# (body, actor) of each step, in workflow order; CASE is replaced by each case's id
STEPS: list[tuple[EventBody, Actor]] = [
    (
        RequestReceived.model_validate(
            {
                "case_id": CASE,
                "tracking_hash": "0" * 64,
                "applicant": {
                    "name": "李四",
                    "type": "natural_person",
                    "id_number": "110101199001011234",
                    "contact": {"email": "lisi@example.cn", "address": "北京市海淀区某路1号"},
                },
                "description": "本局2025年义务教育学校划片方案及其制定依据",
                "form": "electronic",
                "delivery": "email",
                "channel": "online",
                "received_on": "2026-02-10",
                "entered_at": NOW.isoformat(),
            }
        ),
        Actor.system("intake"),
    ),
    (
        CaseRegistered(case_id=CASE, received_on=date(2026, 2, 10), profile="national-2019"),
        Actor(id="registrar", role="registrar"),
    ),
    (
        DeadlineSet(
            case_id=CASE,
            deadline_id=f"{CASE}:answer",
            kind="answer",
            start_on=date(2026, 2, 10),
            working_days=20,
            due_on=date(2026, 3, 10),
            profile="national-2019",
            calendar_version="2026",
            provisional=False,
        ),
        Actor.system("notify"),
    ),
    (
        DepartmentsAssigned(case_id=CASE, departments=["教育科", "办公室"]),
        Actor(id="registrar", role="registrar"),
    ),
    (
        DepartmentFeedbackGiven(case_id=CASE, department="教育科", holds_information=True, summary="有"),
        Actor(id="handler-1", role="handler"),
    ),
    (
        DepartmentFeedbackGiven(case_id=CASE, department="办公室", holds_information=False, summary="无"),
        Actor(id="handler-2", role="handler"),
    ),
    (
        ConfidentialityReviewed(case_id=CASE, passed=True, notes="无涉密内容"),
        Actor(id="reviewer", role="reviewer"),
    ),
    (
        DecisionDrafted(
            case_id=CASE,
            draft_id=f"{CASE}:d1",
            outcome="disclose",
            outcome_code="disclose",
            legal_basis="《中华人民共和国政府信息公开条例》第三十六条第（二）项",
            title="2025年义务教育学校划片方案",
            disclosed_content="2025年义务教育学校划片方案全文……" * 10,
        ),
        Actor(id="甲", role="reviewer"),
    ),
    (
        ReviewApproved(
            case_id=CASE,
            outcome="disclose",
            legal_basis="《中华人民共和国政府信息公开条例》第三十六条第（二）项",
            title="2025年义务教育学校划片方案",
            disclosed_content="2025年义务教育学校划片方案全文……" * 10,
            outcome_code="disclose",
            draft_id=f"{CASE}:d1",
            drafted_by="甲",
        ),
        Actor(id="乙", role="approver"),
    ),
    (
        AnswerSent(
            case_id=CASE,
            outcome="disclose",
            outcome_code="disclose",
            report_row="三.（二）",
            letter=LETTER,
            sent_on=date(2026, 3, 2),
        ),
        Actor(id="registrar", role="registrar"),
    ),
]
PER_CASE = len(STEPS)


def _template(body: EventBody, actor: Actor) -> tuple[str, str, dict[str, Any]]:
    env = make_event(body, aggregate_id=CASE, actor=actor, time=NOW)
    return body.context, body.name, env.model_dump(mode="json", exclude_none=True)


TEMPLATES = [_template(b, a) for b, a in STEPS]


def _swap(value: Any, case: str) -> Any:
    if isinstance(value, str):
        return value.replace(CASE, case)
    if isinstance(value, dict):
        return {k: _swap(v, case) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, case) for v in value]
    return value


def case_events(case: str) -> Iterator[tuple[str, str, str, bytes]]:
    """(context, subject, event id, canonical bytes) of one case's workflow, chained."""
    prev = ""
    for context, name, template in TEMPLATES:
        eid = str(uuid.uuid4())
        payload = {**template, "id": eid, "subject": case, "correlationid": eid, "causationid": eid}
        payload["data"] = _swap(template["data"], case)
        if prev:
            payload["prevhash"] = prev
        data = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        prev = sha256_hex(data)
        yield context, subject_for(context, case, name), eid, data


def interleaved(cases: int, width: int = 16) -> Iterator[tuple[str, str, str, bytes]]:
    """Every event of ``cases`` cases, ``width`` cases in flight at a time (each in its order)."""
    for start in range(0, cases, width):
        group = [case_events(str(uuid.uuid4())) for _ in range(min(width, cases - start))]
        for step in range(PER_CASE):
            del step
            for events in group:
                yield next(events)


async def publish(store: EventStore, events: int, *, progress: bool = False) -> tuple[int, int, float]:
    """Publish about ``events`` events (whole cases), pipelined; (first seq, last seq, seconds).

    ``store`` must sign for intake, review and notify (tests.servers.NatsServer.writer())."""
    cases = max(1, events // PER_CASE)
    first = await store.last_seq() + 1
    t = time.perf_counter()
    acks = []
    for i, (context, subject, eid, data) in enumerate(interleaved(cases)):
        headers = {"Nats-Msg-Id": eid, **store.signers[context].headers(subject, data)}
        acks.append(await store.js.publish_async(subject, data, stream=store.stream, headers=headers))
        if len(acks) >= 2000:
            for a in acks:
                await a
            acks.clear()
        if progress and i and i % 100_000 == 0:
            print(f"  published {i} events", flush=True)
    for a in acks:
        await a
    last = await store.last_seq()
    assert last == first + cases * PER_CASE - 1, (first, last, cases)
    return first, last, time.perf_counter() - t
