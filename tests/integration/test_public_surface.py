"""The public surface of intake (issue 8): what the public may set, what a key is bound to, how
often a client may ask, and that every error speaks the one documented format.

- The public never sets a receipt date: online applications are dated by the server (Beijing
  time); a letter, fax or in-person application is entered by a registrar with its date.
- An ``Idempotency-Key`` is bound to the body: another body with a used key is a 409 that says
  nothing of the first application.
- Applications and tracking-code lookups are rate limited per client (429 with Retry-After).
- Malformed tracking codes are a 422 or a 404, never a 500.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, date, datetime, timedelta

import pytest

from gongkai_shared.clock import FakeClock
from tests.flow import events_named
from tests.harness import System, staff_id
from tests.servers import NatsServer

APPLICATION = {
    "applicant": {"name": "王五", "type": "natural_person", "contact": {"email": "wangwu@example.cn"}},
    "description": "2025年本区老旧小区改造项目清单",
    "form": "electronic",
    "delivery": "email",
    "channel": "online",
}
FORM = {"name": "赵六", "type": "natural_person", "email": "zhao@example.org",
        "description": "本区养老机构名单", "form": "electronic", "delivery": "email"}  # fmt: skip
# 16:30 UTC on 1 March is already 2 March in Beijing: the receipt day is Beijing's
NOW = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)  # 2026-03-02 00:30 in Beijing
TODAY = date(2026, 3, 2)


def body(**changes: object) -> dict:
    b = copy.deepcopy(APPLICATION)
    b.update(changes)
    return b


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str, clock: FakeClock):
    s = await System(nats_server, database_url, clock=clock).start("intake")
    yield s
    await s.stop()


def assert_error_format(r, status: int) -> dict:  # noqa: ANN001
    assert r.status_code == status, r.text
    payload = r.json()
    assert payload["status"] == status and set(payload) <= {"status", "message", "errors"}, payload
    message = payload["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message) and "(" in message, message  # 中文 (English)
    return payload


# --- 1. the receipt date -------------------------------------------------------------------


async def test_the_public_cannot_backdate_a_letter(system: System) -> None:
    store = system.runtime("intake").store
    before = await store.last_seq()
    client = system.clients["intake"]
    r = await client.post("/api/v1/applications", json=body(channel="letter", received_on="2020-01-02"))
    fields = [e["field"] for e in assert_error_format(r, 422)["errors"]]
    assert "received_on" in fields
    r = await client.post("/api/v1/applications", json=body(received_on="2026-03-02"))
    assert "received_on" in [e["field"] for e in assert_error_format(r, 422)["errors"]]
    r = await client.post("/api/v1/applications", json=body(channel="letter"))
    assert "channel" in [e["field"] for e in assert_error_format(r, 422)["errors"]]
    assert await store.last_seq() == before


async def test_an_online_application_is_dated_by_the_server_in_beijing_time(system: System) -> None:
    no_channel = body()
    del no_channel["channel"]  # online is what the public submits; it may be left out
    r = await system.clients["intake"].post("/api/v1/applications", json=no_channel)
    assert r.status_code == 201, r.text
    assert r.json()["received_on"] == TODAY.isoformat()
    [event] = await system.runtime("intake").store.history(r.json()["case_id"])
    assert event.envelope.data["channel"] == "online" and event.envelope.data["received_on"] == "2026-03-02"
    assert event.envelope.actor == "applicant"


async def test_a_registrar_enters_a_letter_with_its_receipt_date(system: System) -> None:
    client = system.clients["intake"]
    letter = body(channel="letter", received_on=(TODAY - timedelta(days=3)).isoformat())
    r = await client.post(
        "/api/v1/applications/registered", json=letter, headers=System.token("registrar", "登记员甲")
    )
    assert r.status_code == 201, r.text
    accepted = r.json()
    assert accepted["received_on"] == "2026-02-27"
    [event] = await system.runtime("intake").store.history(accepted["case_id"])
    env = event.envelope
    assert env.data["channel"] == "letter" and env.data["received_on"] == "2026-02-27"
    assert (env.actor, env.actorrole) == (staff_id("登记员甲"), "registrar")
    assert env.data["entered_at"].startswith("2026-03-01T16:30")  # the entry time, apart from the receipt
    tracked = await client.get(
        f"/api/v1/applications/{accepted['tracking_code']}", params={"min_seq": event.seq}
    )
    assert tracked.status_code == 200 and tracked.json()["received_on"] == "2026-02-27"
    assert tracked.json()["channel"] == "letter"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channel": "letter", "received_on": "2026-03-03"}, "received_on"),  # tomorrow in Beijing
        ({"channel": "fax", "received_on": "2025-03-01"}, "received_on"),  # more than a year ago
        ({"channel": "in_person"}, "received_on"),  # the date is required
        ({"channel": "online", "received_on": "2026-03-02"}, "channel"),  # online: the applicant's own
        ({"channel": "pigeon", "received_on": "2026-03-02"}, "channel"),
    ],
)
async def test_a_registration_with_a_bad_date_or_channel_is_422_naming_it(
    system: System, changes: dict, field: str
) -> None:
    r = await system.clients["intake"].post(
        "/api/v1/applications/registered", json=body(**changes), headers=System.token("registrar")
    )
    errors = assert_error_format(r, 422)["errors"]
    assert field in [e["field"] for e in errors], errors
    assert await events_named(system, "request-received") == []


async def test_only_a_registrar_registers(system: System) -> None:
    client = system.clients["intake"]
    letter = body(channel="letter", received_on="2026-02-27")
    assert_error_format(await client.post("/api/v1/applications/registered", json=letter), 401)
    r = await client.post("/api/v1/applications/registered", json=letter, headers=System.token("reviewer"))
    assert_error_format(r, 403)


async def test_a_letter_registered_at_intake_starts_the_clock_on_its_receipt_date(
    nats_server: NatsServer, database_url: str, clock: FakeClock
) -> None:
    """Review keeps the registrar's date when it registers the case; notify counts from it."""
    from tests.flow import command, wait_for_event

    system = await System(nats_server, database_url, clock=clock, notify={"tick_seconds": 0.1}).start(
        "intake", "review", "notify"
    )
    try:
        letter = body(channel="letter", received_on="2026-02-27")  # a Friday
        r = await system.clients["intake"].post(
            "/api/v1/applications/registered", json=letter, headers=System.token("registrar")
        )
        assert r.status_code == 201, r.text
        case_id = r.json()["case_id"]
        await system.settle()
        await command(system, case_id, "register", {}, "registrar")
        await system.settle()
        case = await system.clients["review"].get(f"/api/v1/cases/{case_id}", headers=System.token("auditor"))
        assert case.json()["state"]["received_on"] == "2026-02-27", case.text
        await wait_for_event(system, f"foi.*.{case_id}.>", "deadline-set")
        await system.settle()
        dues = [e.envelope.data for e in await system.runtime("intake").store.history(case_id)
                if e.name == "deadline-set" and e.envelope.data["kind"] == "answer"]  # fmt: skip
        # 20 working days after Friday 27 February, the receipt day not counted (Saturday 28
        # February 2026 is a working day, made up for the Spring Festival): 26 March
        assert dues and dues[-1]["due_on"] == "2026-03-26", dues
    finally:
        await system.stop()


# --- 2. the idempotency key is bound to the body --------------------------------------------


async def test_a_used_key_with_another_body_is_409_and_reveals_nothing(system: System) -> None:
    client = system.clients["intake"]
    key = {"Idempotency-Key": "shared-key-0001"}
    first = await client.post("/api/v1/applications", json=APPLICATION, headers=key)
    assert first.status_code == 201, first.text
    store = system.runtime("intake").store
    before = await store.last_seq()

    other = body(applicant={"name": "冒名者", "type": "natural_person", "contact": {"email": "x@example.cn"}})
    r = await client.post("/api/v1/applications", json=other, headers=key)
    assert_error_format(r, 409)
    for secret in (first.json()["case_id"], first.json()["tracking_code"], "王五", "wangwu"):
        assert secret not in r.text and secret not in str(r.headers)
    assert await store.last_seq() == before

    # the same body again (keys in another order, spaces around the text): the same answer
    same = {k: APPLICATION[k] for k in reversed(list(APPLICATION))}
    same["description"] = f"  {APPLICATION['description']} "
    again = await client.post("/api/v1/applications", json=same, headers=key)
    assert again.status_code == 201 and again.json() == first.json()
    assert await store.last_seq() == before


async def test_a_key_used_by_the_public_cannot_fetch_a_registered_case_or_back(system: System) -> None:
    client = system.clients["intake"]
    key = {"Idempotency-Key": "shared-key-0002"}
    letter = body(channel="letter", received_on="2026-02-27")
    r = await client.post(
        "/api/v1/applications/registered", json=letter, headers={**key, **System.token("registrar")}
    )
    assert r.status_code == 201, r.text
    public = await client.post("/api/v1/applications", json=APPLICATION, headers=key)
    assert_error_format(public, 409)
    assert r.json()["tracking_code"] not in public.text


# --- 3. rate limits ---------------------------------------------------------------------------


@pytest.fixture
async def limited(nats_server: NatsServer, database_url: str, clock: FakeClock):
    s = System(nats_server, database_url, clock=clock,
               intake={"rate_applications": "2/minute", "rate_lookups": "3/minute"})  # fmt: skip
    await s.start("intake")
    yield s
    await s.stop()


def assert_limited(r) -> None:  # noqa: ANN001
    assert r.status_code == 429, r.text
    assert 1 <= int(r.headers["retry-after"]) <= 60


async def test_applications_are_rate_limited_per_client(limited: System) -> None:
    client = limited.clients["intake"]
    for _ in range(2):
        assert (await client.post("/api/v1/applications", json=APPLICATION)).status_code == 201
    r = await client.post("/api/v1/applications", json=APPLICATION)
    assert_limited(r)
    assert_error_format(r, 429)
    # the form shares the budget, and says so in Chinese
    page = await client.post("/apply", data=FORM)
    assert_limited(page)
    assert "text/html" in page.headers["content-type"] and "请求过于频繁" in page.text
    # another client behind the trusted proxy (127.0.0.1) has a budget of its own
    other = {"X-Forwarded-For": "203.0.113.7"}
    assert (await client.post("/api/v1/applications", json=APPLICATION, headers=other)).status_code == 201


async def test_forwarded_for_counts_only_from_a_trusted_proxy(
    nats_server: NatsServer, database_url: str, clock: FakeClock
) -> None:
    s = System(nats_server, database_url, clock=clock,
               intake={"rate_applications": "1/minute", "trusted_proxies": "10.0.0.1"})  # fmt: skip
    await s.start("intake")
    try:
        client = s.clients["intake"]  # the test client's address, 127.0.0.1, is not trusted here
        first = await client.post(
            "/api/v1/applications", json=APPLICATION, headers={"X-Forwarded-For": "198.51.100.1"}
        )
        assert first.status_code == 201
        r = await client.post(
            "/api/v1/applications", json=APPLICATION, headers={"X-Forwarded-For": "198.51.100.2"}
        )
        assert_limited(r)
    finally:
        await s.stop()


async def test_tracking_lookups_are_rate_limited(limited: System) -> None:
    client = limited.clients["intake"]
    code = (await client.post("/api/v1/applications", json=APPLICATION)).json()["tracking_code"]
    assert (await client.get(f"/api/v1/applications/{code}", params={"min_seq": 1})).status_code == 200
    assert (await client.get("/track/AAAAAAAAAAAAAAAAAAAAAAAA")).status_code == 404
    assert (await client.get(f"/track/{code}")).status_code == 200
    assert_limited(await client.get(f"/api/v1/applications/{code}"))
    page = await client.get(f"/track/{code}")
    assert_limited(page)
    assert "请求过于频繁" in page.text
    assert_limited(await client.post(f"/api/v1/applications/{code}/withdrawal", json={"reason": "不再需要"}))


# --- 4. one error format ------------------------------------------------------------------------


async def test_the_frameworks_own_errors_use_the_documented_format(system: System) -> None:
    client = system.clients["intake"]
    assert_error_format(await client.get("/api/v1/no-such-thing"), 404)
    r = await client.delete("/api/v1/applications")
    assert_error_format(r, 405)
    assert "POST" in r.headers["allow"]
    r = await client.post(
        "/api/v1/applications", content=b'{"applicant": ', headers={"content-type": "application/json"}
    )
    [err] = assert_error_format(r, 422)["errors"]  # FastAPI's status for it, in our format
    assert err["field"] == "body" and "JSON" in err["message"], err
    # a validation message is in Chinese, with the English gloss
    r = await client.post("/api/v1/applications", json={**APPLICATION, "form": "carrier-pigeon"})
    [err] = assert_error_format(r, 422)["errors"]
    assert err["field"] == "form" and any("\u4e00" <= ch <= "\u9fff" for ch in err["message"]), err


async def test_each_intake_operation_declares_what_it_can_answer(system: System) -> None:
    spec = (await system.clients["intake"].get("/openapi.json")).json()
    paths = spec["paths"]
    expected = {
        ("/api/v1/applications", "post"): {"201", "400", "409", "413", "422", "429"},
        ("/api/v1/applications/registered", "post"): {"201", "400", "401", "403", "409", "413", "422"},
        ("/api/v1/applications/{tracking_code}", "get"): {"200", "404", "422", "429"},
        ("/api/v1/applications/{tracking_code}/withdrawal", "post"): {
            "202",
            "400",
            "404",
            "409",
            "413",
            "422",
            "429",
        },
    }
    for (path, method), codes in expected.items():
        responses = paths[path][method]["responses"]
        assert codes <= set(responses), (path, method, sorted(responses))
        for code in codes - {"200", "201", "202"}:
            schema = responses[code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, code, schema)
    assert "HTTPValidationError" not in str(paths["/api/v1/applications"])
    error = spec["components"]["schemas"]["ErrorBody"]
    assert {"status", "message"} <= set(error["required"])
    assert "Retry-After" in paths["/api/v1/applications"]["post"]["responses"]["429"].get("headers", {})


async def test_page_validation_messages_are_in_chinese(system: System) -> None:
    r = await system.clients["intake"].post("/apply", data={**FORM, "form": "carrier-pigeon", "type": ""})
    assert r.status_code == 422
    assert "Input should" not in r.text and "String should" not in r.text and "Field required" not in r.text


# --- 5. malformed tracking codes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "abc",
        "A" * 25,
        "A" * 23 + "1",
        "%00" * 24,
        "AAAA%0D%0ASet-Cookie:%20x=1",
        "%E4%B8%AD" * 24,
        "A" * 5000,
    ],
)
async def test_a_malformed_tracking_code_is_422_or_404_never_500(system: System, code: str) -> None:
    client = system.clients["intake"]
    for method, url, kwargs in [
        ("GET", f"/api/v1/applications/{code}", {}),
        ("POST", f"/api/v1/applications/{code}/withdrawal", {"json": {"reason": "不再需要"}}),
        ("GET", f"/track/{code}", {}),
        ("GET", f"/track?code={code}", {}),
    ]:
        r = await client.request(method, url, **kwargs)
        assert r.status_code in (404, 422) or (url.startswith("/track?") and r.status_code == 200), (
            url,
            r.text,
        )
        if r.headers["content-type"].startswith("application/json"):
            assert_error_format(r, r.status_code)
        assert "\r" not in r.headers.get("location", "") and "\n" not in r.headers.get("location", "")


async def test_a_lowercase_code_still_finds_the_case(system: System) -> None:
    client = system.clients["intake"]
    accepted = (await client.post("/api/v1/applications", json=APPLICATION)).json()
    r = await client.get(
        f"/api/v1/applications/{accepted['tracking_code'].lower()}", params={"min_seq": accepted["sequence"]}
    )
    assert r.status_code == 200 and r.json()["case_id"] == accepted["case_id"]


async def test_a_sequence_beyond_the_log_is_422_at_once(system: System) -> None:
    """``min_seq`` waits for a sequence a command returned; one past the log's end is refused
    at once instead of holding the request for the projections' timeout (found by fuzzing)."""
    client = system.clients["intake"]
    accepted = (await client.post("/api/v1/applications", json=APPLICATION)).json()
    started = asyncio.get_running_loop().time()
    r = await client.get(f"/api/v1/applications/{accepted['tracking_code']}", params={"min_seq": 12819391})
    assert asyncio.get_running_loop().time() - started < 2
    [err] = assert_error_format(r, 422)["errors"]
    assert err["field"] == "min_seq"
