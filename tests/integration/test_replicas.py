"""Two replicas of a service (two app instances on one database and one NATS): positions are
facts on both, a wait that cannot be satisfied is an error (503), never stale data, and an
operator parks a stopped projection's event through either replica."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from gongkai_publishing.subscribers import ON_SIGNED
from gongkai_shared.auth import Role
from gongkai_shared.envelope import Actor
from gongkai_shared.events import DecisionRecorded, EventBody, make_event
from gongkai_shared.information import DocumentRef, WithheldDocument
from gongkai_shared.outcomes import Outcome
from gongkai_shared.reactions import REACTION_FAILURES
from tests.flow import APPLICATION, events_named, publishing_command, register_document, wait_for_count
from tests.harness import System
from tests.servers import NatsServer

APPROVER = Actor(id="approver-1", role="approver")
FAULT = "申请历史表故障（测试制造） (a fault the test made)"


async def replicas(nats_server: NatsServer, database_url: str, *services: str, **extra: dict) -> list[System]:
    """The first started is active for every projection; the second stands by."""
    active = await System(nats_server, database_url, **extra).start(*services)
    standby = await System(nats_server, database_url, **extra).start(*services)
    runners = [r for service in services for r in standby.runtime(service).runners.values()]
    async with asyncio.timeout(5):
        while any(r.state != "standby" for r in runners):  # noqa: ASYNC110 — its first lock attempt
            await asyncio.sleep(0.02)
    return [active, standby]


@asynccontextmanager
async def row_locked(database_url: str, schema: str, projection: str) -> AsyncIterator[None]:
    """Hold the projection's position row: its runner's next batch waits (a lagging projection)."""
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute(
                f"SELECT 1 FROM {schema}.projection_position WHERE name = $1 FOR UPDATE", projection
            )
            yield
    finally:
        await conn.close()


async def test_a_standby_answers_a_min_seq_read_and_a_command_as_fast_as_the_active_one(
    nats_server: NatsServer, database_url: str
) -> None:
    """Rule: the standby knows the stored position (it applies nothing itself), so it answers a
    read of a sequence just written, and a command on that case, without waiting it out."""
    active, standby = await replicas(nats_server, database_url, "intake")
    try:
        for system in (active, standby):
            accepted = (await system.clients["intake"].post("/api/v1/applications", json=APPLICATION)).json()
            code, seq = accepted["tracking_code"], accepted["sequence"]
            for replica in (active, standby):
                client = replica.clients["intake"]
                began = time.monotonic()
                r = await client.get(f"/api/v1/applications/{code}", params={"min_seq": seq})
                read = time.monotonic() - began
                assert r.status_code == 200 and r.json()["status"] == "received", r.text
                assert read < 1.0, f"a min_seq read took {read:.2f} s"
            began = time.monotonic()
            r = await standby.clients["intake"].post(
                f"/api/v1/applications/{code}/withdrawal", json={"reason": "不再需要"}
            )
            command = time.monotonic() - began
            assert r.status_code == 202, r.text
            assert command < 1.0, f"a command on the standby took {command:.2f} s"
    finally:
        await standby.stop()
        await active.stop()


async def test_a_min_seq_read_not_yet_applied_is_503_with_retry_after_and_past_the_log_is_422(
    nats_server: NatsServer, database_url: str
) -> None:
    """Rule: a read that asked for ``min_seq`` never gets stale data with 200: 503 naming the
    projection behind, with Retry-After; a ``min_seq`` no command returned (past the log's last
    sequence) is 422 naming the field, the same in every service."""
    system = await System(
        nats_server, database_url, intake={"wait_seconds": 0.3}, publishing={"wait_seconds": 0.3}
    ).start("intake", "publishing")
    try:
        client = system.clients["intake"]
        await system.settle()
        async with row_locked(database_url, "intake", "intake.applications"):
            accepted = (await client.post("/api/v1/applications", json=APPLICATION)).json()
            path = f"/api/v1/applications/{accepted['tracking_code']}"
            r = await client.get(path, params={"min_seq": accepted["sequence"]})
            assert r.status_code == 503, r.text
            assert int(r.headers["Retry-After"]) >= 1
            assert "intake.applications" in r.json()["message"]
        r = await client.get(path, params={"min_seq": accepted["sequence"]})
        assert r.status_code == 200, r.text

        beyond = await system.runtime("intake").store.last_seq() + 1000
        for service, route in (("intake", path), ("publishing", "/api/v1/catalog")):
            r = await system.clients[service].get(route, params={"min_seq": beyond})
            assert r.status_code == 422, (service, r.text)
            assert [e["field"] for e in r.json()["errors"]] == ["min_seq"]
    finally:
        await system.stop()


async def test_a_stopped_projection_fails_commands_at_once_everywhere_and_is_parked_through_the_standby(
    nats_server: NatsServer, database_url: str
) -> None:
    """Rule: a command whose projection is stopped on an event fails at once with 503 naming the
    projection and its error, on the replica running it and on the standby; the pod stays ready
    (the stop is reported as health, not readiness); the operator parks the event through the
    replica that does NOT run the projection, and the active one resumes past it."""
    active, standby = await replicas(nats_server, database_url, "intake")
    su = await asyncpg.connect(database_url)
    try:
        client = active.clients["intake"]
        accepted = (await client.post("/api/v1/applications", json=APPLICATION)).json()
        code = accepted["tracking_code"]
        await client.get(f"/api/v1/applications/{code}", params={"min_seq": accepted["sequence"]})
        await su.execute(f"""
            CREATE FUNCTION intake.broken_history() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{FAULT}'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER broken BEFORE INSERT ON intake.application_history FOR EACH ROW
                WHEN (NEW.event = 'withdrawal-requested') EXECUTE FUNCTION intake.broken_history();
        """)  # fmt: skip
        r = await client.post(f"/api/v1/applications/{code}/withdrawal", json={"reason": "不再需要"})
        assert r.status_code == 202, r.text
        stuck = r.json()["sequence"]
        # five failures in a row stop it; the replica running it keeps it (the other stands by)
        runners = [s.runtime("intake").runners["intake.applications"] for s in (active, standby)]
        async with asyncio.timeout(15):
            while not all(r.stopped for r in runners):  # noqa: ASYNC110 — with backoff, bounded
                await asyncio.sleep(0.05)
        assert runners[1].state == "standby"
        for replica in (active, standby):
            began = time.monotonic()
            r = await replica.clients["intake"].post(
                f"/api/v1/applications/{code}/withdrawal", json={"reason": "再次撤回"}
            )
            took = time.monotonic() - began
            assert r.status_code == 503, r.text
            assert took < 1.0, f"{took:.2f} s"
            message = r.json()["message"]
            assert "intake.applications" in message and f"stopped at {stuck}" in message and FAULT in message
            ready = await replica.clients["intake"].get("/readyz")
            assert ready.status_code == 200 and ready.json()["ready"] is True
            [check] = [c for c in ready.json()["checks"] if c["check"] == "projection:intake.applications"]
            assert check["ok"] is False and check["readiness"] is False
            page = await replica.clients["intake"].get("/api/v1/status/page")
            assert "已停止" in page.text and "intake.applications" in page.text, page.text

        await su.execute("DROP TRIGGER broken ON intake.application_history")
        r = await standby.clients["intake"].post(
            "/api/v1/status/projections/intake.applications/park",
            json={"seq": stuck, "reason": "撤回事件无法写入历史，已人工核实后跳过"},
            headers=System.token(Role.admin, "运维甲"),
        )
        assert r.status_code == 200, r.text
        await active.runtime("intake").wait_for(stuck, timeout=5)
        await standby.runtime("intake").wait_for(stuck, timeout=5)
        row = await su.fetchrow("SELECT * FROM intake.parked_events WHERE seq = $1", stuck)
        assert row["reason"] == "撤回事件无法写入历史，已人工核实后跳过" and FAULT in row["error"]
        assert row["projection"] == "intake.applications" and row["parked_by"] != "system"
        status = (await standby.clients["intake"].get("/api/v1/status")).json()
        assert status["projections"]["intake.applications"]["stopped"] is False
    finally:
        await su.close()
        await standby.stop()
        await active.stop()


@pytest.fixture
async def publishing(nats_server: NatsServer, database_url: str) -> AsyncIterator[System]:
    extra = {"publishing": {"wait_seconds": 0.2, "reaction_max_backoff": 0.5}}
    system = await System(nats_server, database_url, **extra).start("publishing")
    yield system
    await system.stop()


SECRET_TEXT = "某重点工程选址的内部评估报告"


async def write_review(nats_server: NatsServer, body: EventBody) -> int:
    """Review's event on a fresh case, signed with review's key: its stream sequence."""
    store = await nats_server.writer("review")
    try:
        case_id = str(uuid.uuid4())
        env = make_event(body.model_copy(update={"case_id": case_id}), aggregate_id=case_id, actor=APPROVER)
        return (await store.append(env, "review", 0)).seq
    finally:
        await store.nc.close()


def withheld(document_id: str) -> DecisionRecorded:
    """A signed refusal of the whole document (the refusal register holds it, seed Art. 25)."""
    ref = DocumentRef(document_id=document_id, title=SECRET_TEXT, issuing_body="某市发展改革委")
    secret = WithheldDocument(document=ref, reason="state_secret", explanation="已定密为秘密级")
    return DecisionRecorded(
        case_id="x", outcome=Outcome.withhold, reasons=["state_secret"], legal_basis="《条例》第十四条",
        withheld_documents=[secret],
    )  # fmt: skip


def reaction_detail(system: System) -> tuple[bool, str]:
    [(ok, detail)] = [
        (ok, d) for n, ok, d in system.runtime("publishing").health() if n == f"reaction:{ON_SIGNED}"
    ]
    return ok, detail


async def until(predicate, what: str, within: float = 15.0) -> None:  # noqa: ANN001
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 — bounded
            await asyncio.sleep(0.05)


async def reviewed_document(system: System, title: str) -> str:
    """A 主动公开 document registered and through 保密审查, the approver's account known: its id."""
    document_id = await register_document(system, title, attribute="proactive")
    base = f"/api/v1/information/documents/{document_id}"
    review = {"document_version": 1, "passed": True, "notes": "无涉密内容"}
    await publishing_command(system, f"{base}/review", review, "reviewer")
    await system.clients["publishing"].get(base, headers=System.token("approver", "乙"))
    await system.settle()
    return document_id


async def sign(system: System, document_id: str) -> None:
    base = f"/api/v1/information/documents/{document_id}"
    await publishing_command(system, f"{base}/sign", {"document_version": 1}, "approver", "乙")


async def test_a_lagging_refusal_register_delays_publication_instead_of_allowing_it(
    publishing: System, nats_server: NatsServer, database_url: str
) -> None:
    """Rule: publishing never acts on a partial refusal register: while the register has not
    applied the events before a signature (签发), the reaction retries later; once it catches up,
    the refused document is refused, never published."""
    document_id = await reviewed_document(publishing, f"关于{SECRET_TEXT}的公开")
    async with row_locked(database_url, "publishing", "publishing.catalog"):
        refused_seq = await write_review(nats_server, withheld(document_id))
        await sign(publishing, document_id)  # the command saw no entry yet: the reaction decides
        signed_seq = await publishing.runtime("publishing").store.last_seq()
        # retried at least twice while behind, each time naming the register it waits for
        await until(lambda: "attempts': 2" in reaction_detail(publishing)[1], "the reaction to retry")
        assert "publishing.catalog" in reaction_detail(publishing)[1]
        assert await events_named(publishing, "published") == []
        assert await events_named(publishing, "publication-refused") == []
        assert await stored_position(database_url) < refused_seq
    [refused] = await wait_for_count(publishing, "publication-refused", 1)
    assert refused.seq > signed_seq and await events_named(publishing, "published") == []
    await until(lambda: reaction_detail(publishing) == (True, ""), "the reaction to be healthy again")


async def stored_position(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        query = "SELECT position FROM publishing.projection_position WHERE name = 'publishing.catalog'"
        return await conn.fetchval(query)
    finally:
        await conn.close()


async def test_a_failing_reaction_is_retried_and_never_skipped(
    publishing: System, nats_server: NatsServer, database_url: str
) -> None:
    """Rule: a reaction that fails is retried with bounded backoff, counted, and shown as stuck
    after five attempts; it is never skipped: once the fault is gone the signed document is
    published, exactly once, and so is the one signed behind it."""
    budget = await reviewed_document(publishing, "本局2025年部门预算")
    accounts = await reviewed_document(publishing, "本局2025年部门决算")
    su = await asyncpg.connect(database_url)
    owner = await su.fetchval(
        "SELECT tableowner FROM pg_tables WHERE schemaname='publishing' AND tablename='index_counters'"
    )
    try:  # the reaction reads the year's counter before it takes a number: make that fail
        await su.execute(f'REVOKE SELECT ON publishing.index_counters FROM "{owner}"')
        before = REACTION_FAILURES.labels(ON_SIGNED, "error")._value.get()
        await sign(publishing, budget)
        await until(lambda: not reaction_detail(publishing)[0], "the reaction to be stuck", within=20)
        assert "index_counters" in reaction_detail(publishing)[1]
        assert REACTION_FAILURES.labels(ON_SIGNED, "error")._value.get() - before >= 5
        status = (await publishing.clients["publishing"].get("/api/v1/status")).json()
        assert any(h["check"] == f"reaction:{ON_SIGNED}" and not h["ok"] for h in status["health"])
        assert (await publishing.clients["publishing"].get("/readyz")).json()["ready"] is True
        await sign(publishing, accounts)
        assert await events_named(publishing, "published") == []
        await su.execute(f'GRANT SELECT ON publishing.index_counters TO "{owner}"')
    finally:
        await su.close()
    published = await wait_for_count(publishing, "published", 2, timeout=20)
    titles = sorted(p.envelope.data["metadata"]["title"] for p in published)
    assert titles == ["本局2025年部门决算", "本局2025年部门预算"]
    await until(lambda: reaction_detail(publishing) == (True, ""), "the reaction to be healthy again")
