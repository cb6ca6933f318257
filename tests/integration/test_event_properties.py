"""No single event can stop a projection (issue 7, point 4).

For every registered event type, hypothesis generates bodies from the type's own JSON Schema
(``hypothesis-jsonschema``); every body the schema accepts is wrapped in an envelope and applied
through every service's projection on the session's real PostgreSQL, in a transaction that is
rolled back. Each body is applied twice: to a case the projection never saw, and to a case it
received (after a ``request-received`` for the same case). The longest bodies a schema accepts
(every text and list at its maximum, in four-byte characters) are applied the same way, and a
short history of events of any types is applied to one received case. None of them may raise.
That the longest bodies are finite is checked too: every text and list of every event is bounded.

The tests are synchronous and drive their own event loop, so hypothesis can shrink a failure.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from pydantic import ValidationError

from gongkai_intake.projection import ApplicationsProjection
from gongkai_notify.projection import ClockProjection
from gongkai_notify.settings import NotifySettings
from gongkai_publishing.projection import CatalogProjection
from gongkai_review.projection import CasesProjection
from gongkai_shared.calendar_store import CalendarCache
from gongkai_shared.clock import FakeClock
from gongkai_shared.db import PROJECTION_TABLE, migrate
from gongkai_shared.envelope import Actor, Envelope
from gongkai_shared.events import REGISTRY, EventBody, make_event, parse_body, subject_for
from gongkai_shared.eventstore import StoredEvent
from gongkai_shared.projection import apply_events
from gongkai_shared.text import LINE_PATTERN, PARAGRAPH_PATTERN
from tests.harness import migrations_of

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ACTOR = Actor(id="property-test", role="system")


def _notify() -> ClockProjection:
    settings = NotifySettings(
        staff_email="office@example.cn",
        head_email="head@example.cn",
        smtp_host="smtp.invalid",
        webhook_urls="https://hooks.example.cn/notices",
        notice_max_age_hours=0,
    )
    return ClockProjection(settings, FakeClock(NOW), CalendarCache())


# every service's projections, as its app builds them
PROJECTIONS: dict[str, Callable[[], list[Any]]] = {
    "intake": lambda: [ApplicationsProjection()],
    "review": lambda: [CasesProjection()],
    "publishing": lambda: [CatalogProjection()],
    "notify": lambda: [_notify()],
}


def test_every_service_with_a_projection_is_covered() -> None:
    found = {p.parent.name.removeprefix("gongkai_") for p in ROOT.glob("services/*/gongkai_*/projection.py")}
    assert found == set(PROJECTIONS)


# --- the database: every service's schema in one database, once per module ---------------------


@dataclass
class Projections:
    loop: asyncio.AbstractEventLoop
    conns: dict[str, asyncpg.Connection]
    projections: dict[str, list[Any]]

    def apply(self, events: list[StoredEvent]) -> None:
        self.loop.run_until_complete(self._apply(events))

    async def _apply(self, events: list[StoredEvent]) -> None:
        for service, conn in self.conns.items():
            for projection in self.projections[service]:
                one_by_one = await self._tables_after(conn, service, projection, events, batch=False)
                if hasattr(projection, "apply_batch"):  # a batch has exactly the same effects
                    batched = await self._tables_after(conn, service, projection, events, batch=True)
                    assert batched == one_by_one, f"{projection.name}: apply_batch differs from apply"

    @staticmethod
    async def _tables_after(
        conn: asyncpg.Connection, service: str, projection: Any, events: list[StoredEvent], *, batch: bool
    ) -> dict[str, list[str]]:
        """Every table of the service's schema after ``events`` (rolled back afterwards)."""
        tr = conn.transaction()
        await tr.start()
        try:
            if batch:
                await apply_events(projection, conn, events)
            else:
                for event in events:
                    note(f"{projection.name} applies #{event.seq} {event.name}: {event.envelope.data}")
                    await projection.apply(conn, event)
            tables = [
                r["tablename"]
                for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", service)
            ]
            return {
                t: sorted(r[0] for r in await conn.fetch(f"SELECT to_jsonb(x)::text FROM {service}.{t} x"))
                for t in tables
            }
        finally:
            await tr.rollback()


def _database(dsn: str, name: str) -> str:
    base, _, query = dsn.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="module")
def projections(pg_dsn: str) -> Iterator[Projections]:
    loop = asyncio.new_event_loop()
    name = f"p_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(pg_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def setup() -> dict[str, asyncpg.Connection]:
        await admin(f"CREATE DATABASE {name}")
        url = _database(pg_dsn, name)
        conns = {}
        for service in PROJECTIONS:
            await migrate(url, service, migrations_of(service))
            conn = await asyncpg.connect(url, server_settings={"search_path": f"{service},public"})
            await conn.execute(PROJECTION_TABLE)
            conns[service] = conn
        return conns

    conns = loop.run_until_complete(setup())
    try:
        yield Projections(loop, conns, {s: make() for s, make in PROJECTIONS.items()})
    finally:
        for conn in conns.values():
            loop.run_until_complete(conn.close())
        loop.run_until_complete(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        loop.close()


# --- events from the schemas ---------------------------------------------------------------


def from_model_schema(schema: dict[str, Any], *, longest: bool = False) -> st.SearchStrategy[Any]:
    """Instances of a pydantic model's JSON Schema.

    Leaves (strings with their formats, patterns and lengths, numbers, enums) come from
    ``hypothesis_jsonschema.from_schema``; objects and arrays are built here, because its object
    strategy relies on a hypothesis internal (``many.more``) that current hypothesis removed.
    Pydantic's objects have fixed properties and no ``additionalProperties``, so
    ``fixed_dictionaries`` is exact for them. Dates keep to the schema's ``formatMinimum`` and
    ``formatMaximum``. ``longest``: every optional field present, every list as long and every
    text as long as its schema allows (text of four-byte characters), the bodies that would
    overflow a column or an index entry.
    """
    defs = schema.get("$defs", {})

    def walk(s: dict[str, Any]) -> st.SearchStrategy[Any]:
        if "$ref" in s:
            return walk(defs[s["$ref"].removeprefix("#/$defs/")])
        if "anyOf" in s:
            options = [x for x in s["anyOf"] if not (longest and x.get("type") == "null")]
            return st.one_of([walk(x) for x in options])
        if s.get("type") == "object":
            props = s.get("properties", {})
            required = set(props) if longest else set(s.get("required", ()))
            return st.fixed_dictionaries(
                {k: walk(v) for k, v in props.items() if k in required},
                optional={k: walk(v) for k, v in props.items() if k not in required},
            )
        if s.get("type") == "array":
            items, most = walk(s.get("items", {})), s.get("maxItems")
            if longest and most:
                return st.lists(items, min_size=most, max_size=most)
            return st.lists(items, min_size=s.get("minItems", 0), max_size=most)
        if s.get("format") in ("date", "date-time") and "formatMinimum" in s:
            return _moments(s)
        if longest and s.get("type") == "string" and s.get("pattern") in TEXT_PATTERNS and "format" not in s:
            return _longest_text(s["maxLength"])
        return from_schema({k: v for k, v in s.items() if k not in ("title", "description", "default")})

    return walk(schema)


TEXT_PATTERNS = {LINE_PATTERN, PARAGRAPH_PATTERN}
WIDE = [chr(c) for c in range(0x20000, 0x2A6E0)]  # CJK Ext. B: four UTF-8 bytes each, incompressible


def _longest_text(length: int) -> st.SearchStrategy[str]:
    """Text of exactly ``length`` characters that neither compresses nor fits an index entry."""
    return st.integers(0, 2**32).map(lambda seed: "".join(random.Random(seed).choices(WIDE, k=length)))


def _moments(s: dict[str, Any]) -> st.SearchStrategy[str]:
    """Dates or date-times within the schema's ``formatMinimum``/``formatMaximum``, as JSON."""
    if s["format"] == "date":
        low, high = date.fromisoformat(s["formatMinimum"]), date.fromisoformat(s["formatMaximum"])
        return st.dates(low, high).map(date.isoformat)
    low = datetime.fromisoformat(s["formatMinimum"]).astimezone(UTC).replace(tzinfo=None)
    high = datetime.fromisoformat(s["formatMaximum"]).astimezone(UTC).replace(tzinfo=None)
    offsets = st.integers(-12 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
    return st.builds(
        lambda utc, tz: utc.replace(tzinfo=UTC).astimezone(tz).isoformat(), st.datetimes(low, high), offsets
    )


@cache
def bodies(event_type: str, longest: bool = False) -> st.SearchStrategy[EventBody]:
    """Bodies of ``event_type`` that its schema accepts, generated from its JSON Schema."""
    cls = REGISTRY[event_type]

    def valid(raw: Any) -> EventBody | None:
        try:
            return cls.model_validate(raw)
        except ValidationError:
            return None

    generated = from_model_schema(cls.model_json_schema(), longest=longest)
    return generated.map(valid).filter(lambda b: b is not None)


def aggregate_of(body: EventBody) -> str:
    data = body.model_dump()
    for key in ("case_id", "item_id"):
        if isinstance(data.get(key), str):
            return data[key]
    if body.name == "calendar-loaded":
        return f"calendar-{data['year']}"
    return f"{body.name}-aggregate"


def stored(body: EventBody, seq: int, aggregate_id: str | None = None) -> StoredEvent:
    """As the runner sees it: the exact bytes parsed back, and the body valid against its schema."""
    aggregate_id = aggregate_id or aggregate_of(body)
    env = make_event(body, aggregate_id=aggregate_id, actor=ACTOR, time=NOW)
    raw = env.to_bytes()
    parsed = Envelope.from_bytes(raw)
    parse_body(parsed)  # what make_event wrote must pass the schema it was built from
    return StoredEvent(seq, subject_for(body.context, aggregate_id, body.name), {}, raw, parsed)


def received(case_id: str) -> EventBody:
    return REGISTRY["cn.gov.gongkai.request-received.v1"].model_validate(
        {
            "case_id": case_id,
            "tracking_hash": "0" * 64,
            "applicant": {"name": "张三", "type": "natural_person", "contact": {"email": "zs@example.cn"}},
            "description": "2025年本市义务教育招生计划",
            "form": "electronic",
            "delivery": "email",
            "channel": "online",
            "received_on": date(2026, 2, 10).isoformat(),
            "entered_at": NOW.isoformat(),
        }
    )


def case_of(body: EventBody) -> str | None:
    data = body.model_dump()
    for key in ("case_id", "source_case_id"):
        if isinstance(data.get(key), str):
            return data[key]
    return None


PER_TYPE = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("event_type", sorted(REGISTRY))
@PER_TYPE
@given(data=st.data())
def test_any_event_its_schema_accepts_applies_through_every_projection(
    projections: Projections, event_type: str, data: st.DataObject
) -> None:
    body = data.draw(bodies(event_type), label=event_type)
    projections.apply([stored(body, 1)])  # a case (or item) the projection never saw
    case_id = case_of(body)
    if case_id is not None:  # a case the projection received
        projections.apply([stored(received(case_id), 1), stored(body, 2)])


def subschemas(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema in ``schema`` with its path (``$ref`` resolved against ``$defs``)."""
    defs = schema.get("$defs", {})

    def walk(s: dict[str, Any], at: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if "$ref" in s:
            yield from walk(defs[s["$ref"].removeprefix("#/$defs/")], at)
            return
        yield at, s
        for x in s.get("anyOf", ()):
            yield from walk(x, at)
        for k, v in s.get("properties", {}).items():
            yield from walk(v, f"{at}.{k}".lstrip("."))
        if "items" in s:
            yield from walk(s["items"], f"{at}[]")

    yield from walk(schema, "")


@pytest.mark.parametrize("event_type", sorted(REGISTRY))
def test_every_text_and_list_of_every_event_is_bounded(event_type: str) -> None:
    """Texts are Lines or Paragraphs of a bounded length, lists are bounded: what the longest
    bodies below rely on, and what the event catalogue (AsyncAPI) tells every reader."""
    for path, s in subschemas(REGISTRY[event_type].model_json_schema()):
        if s.get("type") == "array":
            assert "maxItems" in s, f"{event_type} {path}: a list without maxItems"
        if s.get("type") != "string" or "enum" in s or s.get("format") in ("date", "date-time", "email"):
            continue
        assert "maxLength" in s, f"{event_type} {path}: a text without maxLength"
        assert "pattern" in s, f"{event_type} {path}: a str, neither Line nor Paragraph"


@pytest.mark.parametrize("event_type", sorted(REGISTRY))
@settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # shrinking a 100 000-character text is no help
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_the_longest_events_a_schema_accepts_apply_through_every_projection(
    projections: Projections, event_type: str, data: st.DataObject
) -> None:
    """Every text and list at its longest: no index entry or column may overflow."""
    body = data.draw(bodies(event_type, longest=True), label=event_type)
    projections.apply([stored(body, 1)])
    case_id = case_of(body)
    if case_id is not None:
        projections.apply([stored(received(case_id), 1), stored(body, 2)])


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_any_history_of_valid_events_applies_through_every_projection(
    projections: Projections, data: st.DataObject
) -> None:
    """Events of any registered types, in any order, on one received case."""
    case_id = str(uuid.uuid4())
    types = data.draw(st.lists(st.sampled_from(sorted(REGISTRY)), min_size=1, max_size=4), label="types")
    events = [stored(received(case_id), 1)]
    for seq, event_type in enumerate(types, start=2):
        body = data.draw(bodies(event_type), label=event_type)
        retarget = {k: case_id for k in ("case_id", "source_case_id") if k in type(body).model_fields}
        body = type(body).model_validate({**body.model_dump(mode="json"), **retarget})
        events.append(stored(body, seq, case_id if "case_id" in retarget else None))
    projections.apply(events)
