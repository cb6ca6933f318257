"""A compromised broker cannot make a service act, nor make the verifier pass (ARCHITECTURE.md §1).

The attacker holds the administrator's NATS credential (the broker lets it publish anything)
but not the services' signing keys. Its forged approvals of a case that was only registered
are parked, with their reason, by every projection and by publishing's reaction; nothing is
catalogued; the case is unchanged; ``gongkai audit verify`` names each forged sequence.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from gongkai_shared.checkpoint import Signer
from gongkai_shared.envelope import Actor, sha256_hex
from gongkai_shared.events import ReviewApproved, make_event, subject_for
from gongkai_shared.outcomes import Outcome
from gongkai_shared.trust import EventSigner
from tests.flow import apply, command
from tests.harness import SECRET, System
from tests.servers import NatsServer

pytestmark = pytest.mark.integration
PROJECTIONS = {"intake": "intake.applications", "review": "review.cases", "publishing": "publishing.catalog",
               "notify": "notify.clock"}  # fmt: skip


def approval(case_id: str, prevhash: str):  # noqa: ANN201
    body = ReviewApproved(
        case_id=case_id,
        outcome=Outcome.disclose,
        legal_basis="《条例》第三十六条第（二）项",
        title="伪造的批准",
        disclosed_content="不应公开的内容",
    )
    env = make_event(body, aggregate_id=case_id, actor=Actor(id="attacker", role="approver"))
    return env.model_copy(update={"prevhash": prevhash})


async def test_forged_approvals_are_parked_everywhere_and_fail_verification(
    nats_server: NatsServer, database_url: str
) -> None:
    system = await System(nats_server, database_url, notify={"tick_seconds": 0.1}).start()
    attacker = await nats_server.admin()  # the broker's own administrator credential
    try:
        case = await apply(system)
        case_id = case["case_id"]
        await command(system, case_id, "register", {}, "registrar")
        await system.settle()
        before = (await system.clients["review"].get(f"/api/v1/cases/{case_id}",
                                                     headers=System.token("reviewer"))).json()  # fmt: skip
        last = await attacker.last_event(case_id)
        assert last is not None
        prevhash = sha256_hex(last.data)

        async def publish(subject: str, env, signer: EventSigner | None) -> int:  # noqa: ANN001
            data = env.to_bytes()
            headers = signer.headers(subject, data) if signer else {}
            return (await attacker.js.publish(subject, data, stream="FOI", headers=headers)).seq

        review_subject = subject_for("review", case_id, "review-approved")
        forged = {
            "unsigned": await publish(review_subject, approval(case_id, prevhash), None),
            "unregistered key": await publish(
                review_subject, approval(case_id, prevhash), EventSigner("review", Signer.generate("rogue"))
            ),
            "intake's key on review's subject": await publish(
                review_subject, approval(case_id, prevhash), nats_server.signer("intake")
            ),
            "review's event on intake's subject": await publish(
                subject_for("intake", case_id, "review-approved"), approval(case_id, prevhash),
                nats_server.signer("intake"),
            ),
        }  # fmt: skip
        await system.settle()

        for service, projection in PROJECTIONS.items():
            rows = await system.runtime(service).pool.fetch(
                "SELECT seq, reason, error FROM parked_events WHERE projection = $1 ORDER BY seq", projection
            )
            assert [r["seq"] for r in rows] == sorted(forged.values()), service
            assert {r["reason"] for r in rows} == {"writer not proven"}
            errors = {r["seq"]: r["error"] for r in rows}
            assert "unsigned" in errors[forged["unsigned"]]
            assert "never registered" in errors[forged["unregistered key"]]
            assert "intake's key" in errors[forged["intake's key on review's subject"]]
            assert "belongs to review" in errors[forged["review's event on intake's subject"]]
            ready = (await system.clients[service].get("/readyz")).json()
            alert = [c for c in ready["checks"] if c["check"] == f"signatures:{projection}"]
            assert alert and "4 event(s) refused" in alert[0]["detail"]

        # publishing no longer reacts to review's approvals (Art. 44): nothing is published
        assert (await system.clients["publishing"].get("/api/v1/catalog")).json()["total"] == 0
        after = (await system.clients["review"].get(f"/api/v1/cases/{case_id}",
                                                    headers=System.token("reviewer"))).json()  # fmt: skip
        # the clock may move on meanwhile (a recomputed deadline); the decision must not
        assert after["state"]["status"] == before["state"]["status"] == "registered"
        assert after["outcome"] is None and after["decided_by"] is None
        assert "review-approved" not in [t["event"] for t in after["trail"]]
        tracked = (await system.clients["intake"].get(f"/api/v1/applications/{case['tracking_code']}")).json()
        assert "review-approved" not in str(tracked)

        env = {**os.environ, **nats_server.cli_env(), "GONGKAI_AUTH_SECRET": SECRET}
        verify = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "gongkai_cli", "audit", "verify"],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert verify.returncode != 0
        for seq in forged.values():
            assert f"seq {seq}, case {case_id}: writer not proven" in verify.stdout, verify.stdout
    finally:
        await attacker.nc.close()
        await system.stop()
