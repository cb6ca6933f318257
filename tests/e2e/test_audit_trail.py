"""Auditors (issue 11): a case's whole trail and the case as it stood, from the log alone.

One case is worked through the HTTP API: received and registered on Monday 2 March 2026,
reviewed, decided (disclose, naming a registered document), signed and answered on Wednesday 4
March; the office then decides to publish the document (Art. 44) and publishing puts it in the
catalogue; notify sets the answer deadline (Art. 33: 20 working days) and
delivers the receipt and the answer letter to a webhook, the first attempt failing."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from gongkai_shared.auth import Role
from gongkai_shared.clock import FakeClock
from tests.flow import DISCLOSE, apply, command, publish_on_request, register_document, wait_for_event
from tests.harness import SECRET, System, staff_id
from tests.servers import NatsServer
from tests.webhook import Webhook

MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
WEDNESDAY = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
BEFORE_THE_DECISION = "2026-03-03T12:00:00+08:00"
AUDITOR = System.token(Role.auditor, "审计员")


@pytest.fixture
async def answered(nats_server: NatsServer, database_url: str):
    hook = Webhook(fail_first=1)
    clock = FakeClock(MONDAY)
    system = System(
        nats_server,
        database_url,
        clock=clock,
        notify={
            "tick_seconds": 0.1,
            "webhook_urls": hook.url,
            "delivery_tick_seconds": 0.1,
            "retry_base_seconds": 0.05,
        },
    )
    await system.start()
    document = await register_document(system, "2025年义务教育学校划片方案")
    case = (await apply(system))["case_id"]
    await command(system, case, "register", {}, "registrar")
    await wait_for_event(system, f"foi.notify.{case}.>", "deadline-set")  # Monday's answer deadline
    clock.set(WEDNESDAY)
    await command(system, case, "confidentiality-review", {"passed": True, "notes": "无涉密内容"}, "reviewer")
    await command(system, case, "draft", {**DISCLOSE, "documents": [document]}, "reviewer", "甲")
    await command(system, case, "sign-off", {}, "approver", "乙")
    await command(system, case, "answer", {}, "registrar")
    await publish_on_request(system, case, [document])
    await wait_for_event(system, "foi.publishing.*.published", "published")
    store = system.runtime("review").store
    # the receipt's first attempt failed (to be retried); the answer letter was delivered
    async with asyncio.timeout(20):  # waits on the stream, a bounded time
        while True:
            attempts = [e async for e in store.read(1, f"foi.notify.{case}.notice-delivery-attempted")]
            done = {(e.envelope.data["kind"], e.envelope.data["status"]) for e in attempts}
            if {("receipt", "retrying"), ("answer", "sent")} <= done:
                break
            await asyncio.sleep(0.05)
    await system.settle()
    yield system, case
    await system.stop()
    hook.server.shutdown()


async def _get(system: System, path: str, headers: dict[str, str] = AUDITOR, expect: int = 200) -> dict:
    r = await system.clients["review"].get(path, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


async def test_trail_lists_what_followed_from_the_case_in_log_order_each_verified(answered) -> None:
    """The auditor's trail: the case's events and the events of other aggregates that name it or
    that it caused (the publication caused by the Art. 44 decision, the letter numbers), with the
    notices' delivery attempts and the deadline events, in log order; every writer's signature
    verifies and every hash link holds."""
    system, case = answered
    last = await system.runtime("review").store.last_seq()
    trail = await _get(system, f"/api/v1/audit/cases/{case}/trail?min_seq={last}")
    events = trail["events"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert trail["ok"] and all(e["signature"] == "ok" and e["hash_link"] == "ok" for e in events)
    names = [e["event"] for e in events]
    assert names[0] == "request-received"
    for name in ("deadline-set", "notice-delivery-attempted", "review-approved", "answer-sent"):
        assert name in names, name
    # Art. 44: the office's decision to publish is on the case (written by publishing), after the answer
    decided = next(e for e in events if e["event"] == "publication-decided")
    assert (
        decided["own"]
        and decided["aggregate_id"] == case
        and decided["subject"].startswith("foi.publishing.")
    )
    assert decided["seq"] > next(e["seq"] for e in events if e["event"] == "answer-sent")
    assert (decided["actor"], decided["role"]) == (staff_id("乙"), "approver")
    # and what it caused: the publication, on the document's aggregate (a public event names no case)
    published = next(e for e in events if e["event"] == "published")
    assert not published["own"] and published["seq"] > decided["seq"]
    assert published["causationid"] == decided["event_id"]
    numbers = [e for e in events if e["event"] == "letter-number-assigned"]
    assert numbers and all(not e["own"] and e["aggregate_id"].startswith("letter-numbers-") for e in numbers)
    approved_seq = next(e["seq"] for e in events if e["event"] == "review-approved")
    attempts = [e for e in events if e["event"] == "notice-delivery-attempted"]
    assert {(e["seq"] > approved_seq) for e in attempts} == {False, True}  # the receipt's, the answer's
    approved = next(e for e in events if e["event"] == "review-approved")
    assert (approved["actor"], approved["role"]) == (staff_id("乙"), "approver")
    # an own event's hash link names the case's previous event; the first has none
    own = [e for e in events if e["own"]]
    assert own[0]["previous_seq"] is None
    assert [e["previous_seq"] for e in own[1:]] == [e["seq"] for e in own[:-1]]


async def test_replay_before_the_decision_shows_the_case_without_it(answered) -> None:
    """Replay as of Tuesday 3 March (registered Monday, decided Wednesday): the case is
    registered, with its answer deadline (Art. 33: 20 working days from 2 March, 30 March) and
    no draft, sign-off, decision or answer; as of now it is answered, decided by 甲 and 乙."""
    system, case = answered
    before = await _get(system, f"/api/v1/audit/cases/{case}/replay?as_of={quote(BEFORE_THE_DECISION)}")
    assert before["status"] == "registered" and before["events_after"] > 0
    state = before["state"]
    assert state["draft"] is None and state["signed_by"] is None and state["outcome_code"] is None
    steps = [t["event"] for t in before["decision_trail"]]
    assert steps == ["request-received", "case-registered"]
    assert not any(letter["kind"] == "answer" for letter in before["letters"])
    answer_deadline = next(d for d in before["deadlines"] if d["kind"] == "answer")
    assert answer_deadline["due_on"] == "2026-03-30" and answer_deadline["status"] == "running"
    assert all(t["time"] <= "2026-03-03T04:00:00+00:00" for t in before["decision_trail"])

    now = await _get(system, f"/api/v1/audit/cases/{case}/replay")
    assert now["status"] == "answered" and now["events_after"] == 0
    steps = {t["event"]: t for t in now["decision_trail"]}
    assert steps["decision-drafted"]["actor"] == staff_id("甲")
    assert steps["review-approved"]["actor"] == staff_id("乙")
    assert now["state"]["signed_by"] == staff_id("乙") and now["state"]["outcome_code"]
    answer = next(letter for letter in now["letters"] if letter["kind"] == "answer")
    assert answer["body"] and answer["event"] == "answer-sent"
    assert any(n["kind"] == "answer" and n["status"] == "sent" for n in now["notices"])
    assert {(a["actor"], a["role"]) for a in now["actors"]} >= {(staff_id("甲"), "reviewer"),
                                                                (staff_id("乙"), "approver")}  # fmt: skip

    # by log position: up to the draft, the case is drafted and not signed
    drafted = steps["decision-drafted"]["seq"]
    at_draft = await _get(system, f"/api/v1/audit/cases/{case}/replay?seq={drafted}")
    assert at_draft["status"] == "drafted" and at_draft["position"] == drafted


async def test_the_auditors_views_refuse_others_and_bad_input(answered) -> None:
    """Only the auditor role reads them (403 for the office, an administrator included); an
    unknown case is 404; a malformed time or one before the case existed is 422 naming as_of."""
    system, case = answered
    for role in ("registrar", "reviewer", "approver", "admin"):
        for view in ("trail", "replay"):
            await _get(system, f"/api/v1/audit/cases/{case}/{view}", System.token(role), 403)
    for view in ("trail", "replay"):
        await _get(system, f"/api/v1/audit/cases/no-such-case/{view}", expect=404)
        await _get(system, f"/api/v1/audit/cases/{case}.*/{view}", expect=404)
    bad = await _get(system, f"/api/v1/audit/cases/{case}/replay?as_of=yesterday", expect=422)
    assert "as_of" in json.dumps(bad)
    early = await _get(system, f"/api/v1/audit/cases/{case}/replay?as_of=2026-03-01T09:00:00", expect=422)
    assert "as_of" in json.dumps(early, ensure_ascii=False) and "2026-03-02" in json.dumps(early)


async def test_cli_history_and_replay(answered, nats_server: NatsServer, tmp_path: Path) -> None:
    """``gongkai audit history`` reads and checks the whole trail from the log (review's index
    says where the correlated events are); ``audit replay`` shows the case as it stood."""
    system, case = answered
    await _get(system, f"/api/v1/audit/cases/{case}/trail")  # the auditor's account exists
    url = await system.serve_http("review")
    token = AUDITOR["Authorization"].removeprefix("Bearer ")

    async def cli(*args: str, auditor: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **nats_server.cli_env(), "GONGKAI_AUTH_SECRET": SECRET, "GONGKAI_URL": url,
               "GONGKAI_AUDITOR_TOKEN": token if auditor else ""}  # fmt: skip
        # in a thread: the review service answering the CLI runs on this event loop
        return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "gongkai_cli", "audit", *args],
                              capture_output=True, text=True, env=env, timeout=60)  # fmt: skip

    history = await cli("history", case)
    assert history.returncode == 0, history.stderr
    rows = history.stdout.splitlines()
    assert all("signature:ok" in r and "hash-link:ok" in r for r in rows)
    assert any(".publication-decided " in r and not r.endswith("+") for r in rows)
    assert any(".letter-number-assigned " in r and r.endswith("+") for r in rows)
    assert any("notice-delivery-attempted" in r for r in rows)
    seqs = [int(r.split()[0]) for r in rows]
    assert seqs == sorted(seqs)

    own_only = await cli("history", case, auditor=False)
    assert own_only.returncode == 0 and "GONGKAI_AUDITOR_TOKEN" in own_only.stderr
    assert not any(r.endswith("+") for r in own_only.stdout.splitlines())

    before = await cli("replay", case, "--as-of", BEFORE_THE_DECISION)
    assert before.returncode == 0, before.stderr
    assert "status: registered" in before.stdout and "review-approved" not in before.stdout
    now = json.loads((await cli("replay", case, "--json")).stdout)
    assert now["status"] == "answered"

    malformed = await cli("replay", case, "--as-of", "last tuesday")
    assert malformed.returncode == 2 and "--as-of" in malformed.stderr and "Traceback" not in malformed.stderr
    early = await cli("replay", case, "--as-of", "2026-01-01")
    assert early.returncode == 2 and "422" in early.stderr
    unknown = await cli("replay", "no-such-case")
    assert unknown.returncode == 2 and "404" in unknown.stderr
    assert (await cli("history", "no-such-case")).returncode == 2
    no_token = await cli("replay", case, auditor=False)
    assert no_token.returncode == 2 and "GONGKAI_AUDITOR_TOKEN" in no_token.stderr
