"""The published event catalogue (AsyncAPI) is exactly what the code registers."""

import json
from pathlib import Path

from gongkai_cli.catalogue import asyncapi, asyncapi_json
from gongkai_shared.events import REGISTRY

DOC = Path(__file__).parents[2] / "docs" / "events" / "asyncapi.json"


def test_committed_catalogue_matches_the_code() -> None:
    assert DOC.read_text(encoding="utf-8") == asyncapi_json(), (
        "regenerate: .venv/bin/gongkai events asyncapi > docs/events/asyncapi.json"
    )


def test_every_event_type_has_a_channel_on_its_writers_subject() -> None:
    doc = asyncapi()
    addresses = {c["address"] for c in doc["channels"].values()}
    for cls in REGISTRY.values():
        assert f"foi.{cls.context}.{{aggregate}}.{cls.name}" in addresses
    for name in ("request-received", "review-approved", "published", "deadline-breached"):
        assert any(a.endswith(f".{name}") for a in addresses)
    json.dumps(doc)  # serialisable
