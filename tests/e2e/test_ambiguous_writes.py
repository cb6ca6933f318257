"""No ambiguous answers (issue 12): when NATS freezes, a submission is answered ``201`` with its
tracking code or ``503`` naming the key whose retry gives the same case and code, never a bare
error that leaves a stored application without its code.

The nats-server is really frozen (SIGSTOP, SIGCONT in a ``finally``), for a bounded time.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.flow import application
from tests.harness import System
from tests.servers import NatsServer

PER_WAVE = 12


@contextmanager
def frozen(nats_server: NatsServer) -> Iterator[None]:
    assert nats_server.proc is not None
    os.kill(nats_server.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(nats_server.proc.pid, signal.SIGCONT)


async def post(
    client: httpx.AsyncClient, body: dict[str, Any], key: str | None
) -> tuple[httpx.Response, float]:
    headers = {"Idempotency-Key": key} if key else {}
    started = time.monotonic()
    r = await client.post("/api/v1/applications", json=body, headers=headers, timeout=30)
    return r, time.monotonic() - started


async def wave(system: System, nats_server: NatsServer, name: str, freeze: float) -> list[dict[str, Any]]:
    """PER_WAVE applications (half without a key) sent while NATS is frozen for ``freeze`` s."""
    client = system.clients["intake"]
    sent = [
        (
            application(description=f"{name} 第{i}号申请：本区2025年道路养护合同"),
            None if i % 2 else f"{name}-key-{i}",
        )
        for i in range(PER_WAVE)
    ]
    with frozen(nats_server):
        tasks = [asyncio.ensure_future(post(client, body, key)) for body, key in sent]
        await asyncio.wait(tasks, timeout=freeze)  # the freeze lasts this long, answers or not
    answers = await asyncio.gather(*tasks)
    return [
        {"body": b, "key": k, "response": r, "seconds": s}
        for (b, k), (r, s) in zip(sent, answers, strict=True)
    ]


async def test_a_publish_timeout_never_leaves_a_stored_application_without_its_tracking_code(
    nats_server: NatsServer, database_url: str
) -> None:
    system = await System(nats_server, database_url, intake={"rate_applications": "off"}).start("intake")
    try:
        client, store = system.clients["intake"], system.runtime("intake").store
        store.resolve_within = 3.0

        # 6.5 s: every publish times out (5 s), the read that resolves it is answered after SIGCONT
        short = await wave(system, nats_server, "short", 6.5)
        # 10 s: the publish times out and the resolving read too (5 + 3 s): 503 with a key
        long = await wave(system, nats_server, "long", 10.0)

        accepted: dict[str, str] = {}  # case id -> tracking code, as the applicants hold them
        for a in short:
            r = a["response"]
            assert r.status_code == 201, r.text  # resolved by reading the case, not a guess
            assert a["seconds"] >= 5.0  # it did wait for the freeze: the ack came after SIGCONT
            accepted[r.json()["case_id"]] = r.json()["tracking_code"]
        unresolved = 0
        for a in long:
            r = a["response"]
            if r.status_code == 201:
                accepted[r.json()["case_id"]] = r.json()["tracking_code"]
                continue
            assert r.status_code == 503, r.text
            unresolved += 1
            key = r.json()["idempotency_key"]
            assert r.headers["Idempotency-Key"] == key and int(r.headers["Retry-After"]) > 0
            assert "同一幂等键" in r.json()["message"]
            if a["key"]:
                assert key == a["key"]  # the client's own key, not another
            retried = await client.post(
                "/api/v1/applications", json=a["body"], headers={"Idempotency-Key": key}
            )
            again = await client.post(
                "/api/v1/applications", json=a["body"], headers={"Idempotency-Key": key}
            )
            assert retried.status_code == again.status_code == 201, retried.text
            assert retried.json() == again.json()  # the same case, the same code
            accepted[retried.json()["case_id"]] = retried.json()["tracking_code"]
        assert unresolved > 0, "the 10 s freeze must have left some answers unresolved"

        # the log: exactly one request-received per application sent, each reachable by its code
        received = [e async for e in store.read(1, "foi.intake.>") if e.name == "request-received"]
        assert len(received) == len({e.aggregate_id for e in received}) == 2 * PER_WAVE
        assert set(accepted) == {e.aggregate_id for e in received}
        last = max(e.seq for e in received)
        for case_id, code in accepted.items():
            tracked = await client.get(f"/api/v1/applications/{code}", params={"min_seq": last})
            assert tracked.status_code == 200 and tracked.json()["case_id"] == case_id
    finally:
        await system.stop()
