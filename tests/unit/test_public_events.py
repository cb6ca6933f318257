"""The public events other agencies read (issue 10): versioned JSON Schemas of the whole
CloudEvent, an AsyncAPI document of the public channels only, and no field that could carry an
applicant's personal data (ARCHITECTURE.md §1: personal data never leaves the internal log)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gongkai_shared.access import PUBLIC_SUBJECTS
from gongkai_shared.envelope import Actor
from gongkai_shared.events import (
    REGISTRY,
    Amended,
    CatalogueLink,
    DocumentMetadata,
    PublishedV2,
    Repealed,
    RequestReceived,
    make_event,
)
from gongkai_shared.filerefs import FileRef
from gongkai_shared.information import Attribute
from gongkai_shared.public_events import PUBLIC_EVENTS, event_schema, public_asyncapi, public_asyncapi_json

DOC = Path(__file__).parents[2] / "docs" / "events" / "public-asyncapi.json"


def property_names(
    schema: dict[str, Any], defs: dict[str, Any] | None = None, seen: set[str] | None = None
) -> set[str]:
    """Every property name anywhere in a JSON Schema, following ``$ref`` into ``$defs``."""
    defs = {**(defs or {}), **schema.get("$defs", {})}
    seen = set() if seen is None else seen
    out: set[str] = set()
    for key, sub in schema.get("properties", {}).items():
        out.add(key)
        out |= property_names(sub, defs, seen)
    for key in ("items", "additionalProperties", "anyOf", "allOf", "oneOf"):
        value = schema.get(key)
        for sub in value if isinstance(value, list) else [value] if isinstance(value, dict) else []:
            out |= property_names(sub, defs, seen)
    ref = schema.get("$ref")
    if ref and ref not in seen:
        seen.add(ref)
        out |= property_names(defs[ref.rsplit("/", 1)[1]], defs, seen)
    return out


def personal_fields() -> set[str]:
    """What an application carries about its applicant: every field of ``request-received``
    except how and when it arrived, and except the shape of a file reference (a file's hash and
    size describe the file, not a person; the identity proof itself is the field ``identity_proof``)."""
    arrival = {"form", "delivery", "channel", "received_on"}
    file_shape = set(FileRef.model_json_schema()["properties"])
    return property_names(RequestReceived.model_json_schema()) - arrival - file_shape


def test_the_personal_fields_are_the_ones_an_application_carries() -> None:
    """The reference set is not empty by accident: it names the applicant, contact, identity
    number, description and tracking fields."""
    expected = {"applicant", "contact", "id_number", "email", "phone", "address", "description",
                "tracking_hash", "purpose", "identity_proof", "identity_seen", "case_id"}  # fmt: skip
    assert expected <= personal_fields()


@pytest.mark.parametrize("cls", [PublishedV2, Amended, Repealed], ids=lambda c: f"{c.name}.v{c.version}")
def test_no_public_event_has_a_field_that_could_carry_applicant_data(cls: Any) -> None:
    """Rule (ARCHITECTURE.md §1, issue 10): events exported to other agencies carry no personal
    data of an applicant: no field of their schema, at any depth, is one of the application's
    personal fields."""
    names = property_names(
        event_schema(cls)["properties"]["data"] | {"$defs": event_schema(cls).get("$defs", {})}
    )
    assert names, "the schema has fields"
    assert not names & personal_fields(), sorted(names & personal_fields())


def test_every_public_subject_has_its_schemas_and_every_version_is_kept() -> None:
    """The agencies' filter and the schemas agree; ``published`` keeps v1 beside v2 (readers
    accept every version ever written)."""
    served = {(cls.name, cls.version) for cls in PUBLIC_EVENTS}
    assert {("published", 1), ("published", 2), ("amended", 1), ("repealed", 1)} <= served
    for cls in PUBLIC_EVENTS:
        assert f"foi.{cls.context}.*.{cls.name}" in PUBLIC_SUBJECTS
        assert REGISTRY[f"cn.gov.gongkai.{cls.name}.v{cls.version}"] is cls
    assert {s.rsplit(".", 1)[1] for s in PUBLIC_SUBJECTS} == {cls.name for cls in PUBLIC_EVENTS}


def _metadata() -> DocumentMetadata:
    return DocumentMetadata(title="关于2026年义务教育招生工作的通知", issuing_body="市教育局",
                            formed_on=date(2026, 3, 2), attribute=Attribute.proactive, category="rules",
                            summary="招生范围与时间安排")  # fmt: skip


def _item() -> dict[str, Any]:
    return dict(document_id="doc-1", document_version=1, index_number="000014349/2026-00001", index_year=2026,
                index_seq=1, agency_code="000014349", metadata=_metadata(), published_on=date(2026, 3, 20),
                source="proactive")  # fmt: skip


def test_a_stored_public_event_validates_against_its_served_schema() -> None:
    """What the log holds is what the schema describes: envelope and body; another type fails."""
    publisher = Actor.system("publishing")
    events = [
        make_event(PublishedV2(**_item()), aggregate_id="doc-1", actor=publisher),
        make_event(
            Amended(**{**_item(), "document_version": 2}, reason="更正附件", amended_on=date(2026, 4, 1)),
            aggregate_id="doc-1",
            actor=publisher,
        ),  # fmt: skip
        make_event(
            Repealed(
                document_id="doc-1",
                index_number="000014349/2026-00001",
                repealed_on=date(2026, 5, 1),
                reason="被新文件替代",
                replaced_by=CatalogueLink(document_id="doc-2"),
            ),
            aggregate_id="doc-1",
            actor=publisher,
        ),  # fmt: skip
    ]
    for env in events:
        cls = REGISTRY[env.type]
        stored = env.model_dump(mode="json", exclude_none=True)
        jsonschema.Draft202012Validator(event_schema(cls)).validate(stored)
    wrong = events[0].model_dump(mode="json", exclude_none=True)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(event_schema(Repealed)).validate(wrong)
    leaked = {**wrong, "data": {**wrong["data"], "applicant": {"name": "张三"}}}
    with pytest.raises(jsonschema.ValidationError, match="applicant"):
        jsonschema.Draft202012Validator(event_schema(PublishedV2)).validate(leaked)


def test_the_public_asyncapi_lists_only_the_public_channels_and_is_committed() -> None:
    doc = public_asyncapi()
    assert {c["address"] for c in doc["channels"].values()} == {
        s.replace("*", "{document}") for s in PUBLIC_SUBJECTS
    }
    assert set(doc["channels"]["publishing.published"]["messages"]) == {"published.v1", "published.v2"}
    for schema in doc["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    assert DOC.read_text(encoding="utf-8") == public_asyncapi_json(), (
        "regenerate: .venv/bin/gongkai events asyncapi --public > docs/events/public-asyncapi.json"
    )
