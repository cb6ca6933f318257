"""The CloudEvents envelope: canonical bytes (what is stored and hashed), ids, event schemas."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from gongkai_shared.envelope import TYPE_PREFIX, Actor, Envelope, derived_id, new_id, sha256_hex
from gongkai_shared.events import (
    CONTEXTS,
    REGISTRY,
    DecisionRecorded,
    Outcome,
    json_schemas,
    make_event,
    parse_body,
    type_of,
)
from tests.events import deadline_set

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)

json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
) | st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.just(timezone(timedelta(hours=8))),
)
words = st.text(min_size=1, max_size=30)


@st.composite
def envelopes(draw: st.DrawFn) -> Envelope:
    extra = draw(st.dictionaries(st.from_regex(r"\A[a-z]{3,12}\Z"), st.text(max_size=20), max_size=2))
    fields = {
        "id": new_id(),
        "source": "/gongkai/" + draw(st.sampled_from(CONTEXTS)),
        "type": type_of(draw(st.from_regex(r"\A[a-z]+(-[a-z]+)*\Z")), draw(st.integers(1, 9))),
        "subject": draw(words),
        "time": draw(times),
        "actor": draw(words),
        "actorrole": draw(words),
        "correlationid": new_id(),
        "causationid": new_id(),
        "prevhash": draw(st.sampled_from(["", sha256_hex(b"x")])),
        "data": draw(st.dictionaries(st.text(), json_value, max_size=5)),
        "dataschema": draw(st.none() | words),
    }
    return Envelope(**{**extra, **fields})


@settings(max_examples=120, deadline=None)
@given(env=envelopes())
def test_to_bytes_round_trips_and_is_canonical(env: Envelope) -> None:
    """Rule: the stored bytes parse back to an equal envelope whose bytes are identical, so the
    hash of an event (its successor's prevhash) can be recomputed from what was read."""
    raw = env.to_bytes()
    back = Envelope.from_bytes(raw)
    assert back == env
    assert back.to_bytes() == raw
    assert sha256_hex(back.to_bytes()) == sha256_hex(raw)
    assert env.to_bytes() == raw  # deterministic


@settings(max_examples=100, deadline=None)
@given(env=envelopes())
def test_canonical_bytes_do_not_depend_on_field_order(env: Envelope) -> None:
    """Rule: canonical JSON: sorted keys, no whitespace, UTF-8 unescaped, strict JSON, so the
    same event built with its fields (and data keys) in another order has the same bytes."""
    raw = env.to_bytes()
    dumped = env.model_dump(mode="python")
    dumped["data"] = dict(reversed(list(dumped["data"].items())))
    rebuilt = Envelope(**dict(reversed(list(dumped.items()))))
    assert rebuilt.to_bytes() == raw
    parsed = json.loads(raw, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert raw == json.dumps(parsed, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )
    assert "dataschema" in parsed or env.dataschema is None  # None fields are left out


def test_non_ascii_is_stored_as_utf8_not_escaped() -> None:
    """Rule: Chinese text is stored as UTF-8 (the bytes are readable, and hashing is stable)."""
    env = make_event(
        DecisionRecorded(
            case_id="c1", outcome=Outcome.withhold, reasons=["国家秘密"], legal_basis="第十四条"
        ),
        aggregate_id="c1",
        actor=Actor(id="审核员", role="reviewer"),
        time=datetime(2026, 2, 10, 2, 0, tzinfo=UTC),
    )
    raw = env.to_bytes()
    assert "国家秘密".encode() in raw and b"\\u" not in raw
    assert b" " not in raw.replace("国家秘密".encode(), b"")


def test_derived_id_is_stable_and_distinct() -> None:
    """Rule: a reaction's id derives from its cause, the same in every process and release
    (it is a UUIDv5 of ``gongkai:<cause>:<purpose>``), and differs by cause and by purpose."""
    cause = "0190a5b2-7c3e-7000-8000-000000000001"
    a = derived_id(cause, "deadline:answer")
    assert a == derived_id(cause, "deadline:answer")
    assert a == str(uuid.uuid5(uuid.NAMESPACE_URL, f"gongkai:{cause}:deadline:answer"))
    assert a == "47bb1dbf-515c-5787-93b7-ab564d1eb073"  # pinned: changing it re-fires reactions
    assert a != derived_id(cause, "deadline:other")
    assert a != derived_id("0190a5b2-7c3e-7000-8000-000000000002", "deadline:answer")


def test_new_ids_are_uuid7_and_sort_by_creation() -> None:
    """Rule: event ids are UUIDv7: unique, and later ids sort after earlier ones."""
    ids = [new_id() for _ in range(200)]
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_make_event_fills_the_envelope_and_the_body_round_trips() -> None:
    """Rule: make_event builds a CloudEvents 1.0 envelope whose type carries name and version
    and whose data parses back (through stored bytes) to the same body."""
    env = deadline_set("c1", calendar_version="v")
    body = parse_body(env)
    assert env.specversion == "1.0"
    assert env.type == f"{TYPE_PREFIX}deadline-set.v1"
    assert env.name == "deadline-set" and env.version == 1
    assert env.source == "/gongkai/notify" and env.subject == "c1"
    assert env.actor == "system:notify" and env.actorrole == "system"
    assert env.correlationid == env.causationid == env.id  # a first cause is its own origin
    assert parse_body(Envelope.from_bytes(env.to_bytes())) == body


def test_every_registered_event_type_has_a_json_schema() -> None:
    """Rule: every event body in the registry exports a JSON Schema (the published contract),
    under a ``cn.gov.gongkai.<name>.v<version>`` type written by one known context."""
    schemas = json_schemas()
    assert set(schemas) == set(REGISTRY)
    assert {"cn.gov.gongkai.request-received.v1", "cn.gov.gongkai.review-approved.v1"} <= set(schemas)
    for type_, cls in REGISTRY.items():
        assert re.fullmatch(rf"{re.escape(TYPE_PREFIX)}[a-z]+(-[a-z]+)*\.v\d+", type_), type_
        assert type_ == type_of(cls.name, cls.version)
        assert cls.context in CONTEXTS
        schema = schemas[type_]
        assert schema["type"] == "object" and schema["properties"], type_
        assert schema.get("additionalProperties") is False, f"{type_} must forbid unknown fields"
        json.dumps(schema)  # serialisable as published
