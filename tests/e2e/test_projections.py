"""Projection rebuild and comparison (issue 11, ARCHITECTURE.md §2): `gongkai projections check`
rebuilds a service's projections aside from sequence 1 and reports every difference from the live
tables; `gongkai projections rebuild` swaps a rebuild in while the service keeps answering and
projecting, nothing applied twice or lost. Through the real command line, against the services'
own HTTP endpoints (their database roles, their projection code)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from gongkai_cli.main import main
from gongkai_shared.clock import FakeClock
from tests.e2e.test_rebuild import workflow
from tests.flow import apply, publish_proactive, wait_for_event
from tests.harness import SECRET, System
from tests.servers import NatsServer

SERVICES = ("intake", "review", "publishing", "notify")


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str, monkeypatch: pytest.MonkeyPatch):
    clock = FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Monday, 10:00 in Beijing
    monkeypatch.setenv("GONGKAI_AUTH_SECRET", SECRET)
    s = await System(
        nats_server,
        database_url,
        clock=clock,
        notify={"tick_seconds": 0.1},
        intake={"rate_applications": "off"},
    ).start()
    s.clock = clock
    s.urls = {}  # type: ignore[attr-defined]
    yield s
    await s.stop()


async def cli(system: System, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """``gongkai <argv> --url <the service's own HTTP address>``: exit status and output."""
    service = argv[2]
    if service not in system.urls:  # type: ignore[attr-defined]
        system.urls[service] = await system.serve_http(service)  # type: ignore[attr-defined]
    capsys.readouterr()
    code = await asyncio.to_thread(main, [*argv, "--url", system.urls[service]])  # type: ignore[attr-defined]
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def parsed(out: str) -> dict[str, Any]:
    """The command's JSON document (the services in this process log on the same stdout)."""
    value, _ = json.JSONDecoder().raw_decode(out, out.index('{\n  "service"'))
    return value


async def sql(system: System, query: str, *args: Any) -> Any:
    conn = await asyncpg.connect(system.database_url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def test_each_service_rebuilt_from_the_log_equals_its_live_projection(
    system: System, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every row of every service's tables follows from the log: a replay from sequence 1 gives
    exactly the live tables (answered, refused, consulted, partly withheld, withdrawn cases;
    the catalogue; the clock's deadlines and notices; the staff accounts)."""
    await workflow(system)
    for service in SERVICES:
        code, out = await cli(system, capsys, "projections", "check", service, "--json")
        result = parsed(out)
        assert code == 0 and result["equal"], out
        assert result["differing_rows"] == 0
        tables = result["tables"]
        assert tables["staff_users"]["rows"] >= 3  # staff accounts are in the log too
        position = system.runtime(service).runners[f"{service}.staff"].position
        assert result["positions"][f"{service}.staff"] == {"live": position, "rebuilt": position}
    # the tables that matter held rows, so the equality was about something
    code, out = await cli(system, capsys, "projections", "check", "review")
    assert code == 0 and "the rebuilt projections equal the live ones" in out
    assert "cases: 6 rows, 0 differ" in out
    counts = {
        "intake": "applications",
        "publishing": "catalog_items",
        "notify": "deadlines",
    }
    for service, table in counts.items():
        rows = (await sql(system, f"SELECT count(*) AS n FROM {service}.{table}"))[0]["n"]
        assert rows > 0, f"{service}.{table} is empty: the workflow did not reach it"
    leftovers = await sql(system, "SELECT nspname FROM pg_namespace WHERE nspname LIKE '%rebuild%'")
    assert leftovers == [], "check drops the schema it rebuilt into"


async def plant(system: System) -> tuple[str, str, int]:
    """Three differences in review's live tables: a changed status, a removed trail row, an
    invented case. Returns (changed case, case of the removed row, removed row's seq)."""
    conn = await asyncpg.connect(system.database_url)
    try:
        changed = await conn.fetchval("SELECT case_id FROM review.cases WHERE status = 'answered' LIMIT 1")
        await conn.execute("UPDATE review.cases SET status = 'archived' WHERE case_id = $1", changed)
        row = await conn.fetchrow(
            "SELECT case_id, seq FROM review.case_trail WHERE event = 'answer-sent' LIMIT 1"
        )
        await conn.execute(
            "DELETE FROM review.case_trail WHERE case_id = $1 AND seq = $2", row["case_id"], row["seq"]
        )
        await conn.execute(
            "INSERT INTO review.cases SELECT (jsonb_populate_record(NULL::review.cases,"
            ' to_jsonb(c) || \'{"case_id": "planted-case", "tracking_code": "PLANTED"}\')).*'
            " FROM review.cases c WHERE case_id = $1",
            changed,
        )
    finally:
        await conn.close()
    return changed, row["case_id"], row["seq"]


async def test_check_reports_every_difference_planted_in_the_live_projection(
    system: System, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row changed, a row deleted and a row inserted behind the projection's back are each
    named with table, key and column, with both values; exit status 1."""
    await workflow(system)
    changed, trail_case, trail_seq = await plant(system)
    code, out = await cli(system, capsys, "projections", "check", "review")
    assert code == 1, out
    assert "review: 3 row(s) differ" in out
    assert f'cases (case_id={changed}) status: live "archived", rebuilt "answered"' in out
    assert f"case_trail (case_id={trail_case}, seq={trail_seq}): missing from the live table" in out
    assert "cases (case_id=planted-case): only in the live table" in out
    assert "cases: 7 rows, 2 differ" in out and "case_trail:" in out

    code, out = await cli(system, capsys, "projections", "check", "review", "--json")
    result = parsed(out)
    assert code == 1 and not result["equal"] and result["differing_rows"] == 3
    cases = result["tables"]["cases"]
    assert cases["differing"] == 2
    kinds = {d["key"]["case_id"]: d for d in cases["differences"]}
    assert kinds[changed]["columns"] == [{"column": "status", "live": "archived", "rebuilt": "answered"}]
    assert kinds["planted-case"]["kind"] == "only_live" and kinds["planted-case"]["rebuilt"] is None
    [missing] = result["tables"]["case_trail"]["differences"]
    assert missing["kind"] == "only_rebuilt" and missing["key"] == {"case_id": trail_case, "seq": trail_seq}
    # another service's tables were not touched: still equal
    code, out = await cli(system, capsys, "projections", "check", "publishing")
    assert code == 0, out


async def test_rebuild_swaps_in_while_applications_keep_arriving_and_reads_keep_working(
    system: System, capsys: pytest.CaptureFixture[str]
) -> None:
    """`projections rebuild review` while a background task submits applications and another
    reads review's HTTP API: no read fails (no 5xx), every application becomes exactly one case,
    the planted difference is gone, a check afterwards finds the projection equal to the log,
    and the running service answers from the new tables and keeps projecting."""
    await workflow(system)
    changed, _, _ = await plant(system)
    url = system.urls["review"] = await system.serve_http("review")  # type: ignore[attr-defined]
    token = System.token("auditor")
    r = await system.clients["review"].get("/api/v1/cases", headers=token)  # the account, in the log
    assert r.status_code == 200, r.text

    stop = asyncio.Event()
    submitted: list[str] = []
    reads: list[int] = []
    errors: list[str] = []

    more = asyncio.Event()

    async def submit() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            submitted.append((await apply(system, description=f"并发申请 {n} 号"))["case_id"])
            more.set()

    async def arrived(count: int) -> None:
        while len(submitted) < count:
            more.clear()
            await asyncio.wait_for(more.wait(), 30)

    async def read() -> None:
        async with httpx.AsyncClient(base_url=url, headers=token, timeout=30) as client:
            while not stop.is_set():
                for path in ("/api/v1/cases", f"/api/v1/cases/{changed}"):
                    r = await client.get(path)
                    reads.append(r.status_code)
                    if r.status_code >= 500:
                        errors.append(f"{path}: {r.status_code} {r.text}")
                await asyncio.sleep(0)

    tasks = [asyncio.ensure_future(submit()), asyncio.ensure_future(read())]
    try:
        await arrived(3)  # the rebuild starts with events arriving
        code, out = await cli(system, capsys, "projections", "rebuild", "review", "--json")
        during = len(submitted)
        await arrived(during + 3)  # and they keep arriving after the swap
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert code == 0, out
    swap = parsed(out)
    assert errors == [], errors[:3]
    assert reads.count(200) >= 4
    assert swap["old_schema"].startswith("review_old_")

    await system.settle()
    rows = await sql(system, "SELECT case_id, status FROM review.cases")
    statuses = {r["case_id"]: r["status"] for r in rows}
    assert statuses[changed] == "answered", "the planted change is gone"
    assert "planted-case" not in statuses
    assert set(submitted) <= set(statuses) and len(statuses) == 6 + len(submitted)
    doubled = await sql(
        system,
        "SELECT case_id, count(*) AS n FROM review.case_trail WHERE event = 'request-received'"
        " GROUP BY case_id HAVING count(*) <> 1",
    )
    assert doubled == []
    # the replaced tables are kept, as they were, for a rollback
    old = swap["old_schema"]
    kept = await sql(system, f"SELECT status FROM {old}.cases WHERE case_id = $1", changed)
    assert kept[0]["status"] == "archived"

    # the running service answers from the new tables and keeps projecting new events
    last = await apply(system, description="交换之后的申请")
    seq = await system.runtime("intake").store.last_seq()
    async with httpx.AsyncClient(base_url=url, headers=token, timeout=30) as client:
        r = await client.get(f"/api/v1/cases/{last['case_id']}", params={"min_seq": seq})
        assert r.status_code == 200, r.text
        r = await client.get(f"/api/v1/cases/{changed}")
        assert r.status_code == 200 and r.json()["status"] == "answered", r.text

    # and nothing was applied twice or lost: a fresh replay equals the swapped-in projection
    await system.settle()
    code, out = await cli(system, capsys, "projections", "check", "review")
    assert code == 0, out

    code, out = await cli(system, capsys, "projections", "drop-old", "review")
    assert code == 0 and f"dropped {old}" in out
    assert await sql(system, "SELECT 1 FROM pg_namespace WHERE nspname = $1", old) == []


async def test_the_catalogue_is_searchable_after_a_rebuild_swapped_it_in(
    system: System, capsys: pytest.CaptureFixture[str]
) -> None:
    """The catalogue's search functions live in the projection's schema, which a rebuild creates
    under a temporary name and renames at the swap: search must work after the swap as before."""
    await publish_proactive(system, "2026年学校招生计划")
    await wait_for_event(system, "foi.publishing.*.published", "published")
    await system.settle()
    catalog = system.clients["publishing"]
    before = await catalog.get("/api/v1/catalog", params={"q": "招生"})
    assert before.status_code == 200 and before.json()["total"] == 1, before.text
    code, out = await cli(system, capsys, "projections", "rebuild", "publishing", "--drop-old")
    assert code == 0, out
    after = await catalog.get("/api/v1/catalog", params={"q": "招生"})
    assert after.status_code == 200, after.text
    assert [i["title"] for i in after.json()["items"]] == ["2026年学校招生计划"]
