"""The public events other agencies read, as versioned JSON Schemas and an AsyncAPI document.

Other agencies subscribe through the ``AGENCIES`` account (``access.PUBLIC_SUBJECTS``) to the
events of the public catalogue: ``published`` (v1 before issue 10, v2 since), ``amended`` and
``repealed``. None carries personal data (tests/unit/test_public_events.py). Each schema
describes the whole stored message: the CloudEvents 1.0 envelope (structured JSON) with the
event's ``type`` fixed and its body as ``data``. Publishing serves them at ``/api/v1/events``
(``schemas/<name>.v<version>.json`` and ``asyncapi.json``); ``docs/events/public-asyncapi.json``
is the same document committed, kept equal by a test.

Versioning: a schema, once published, never changes in a way that rejects an event it accepted;
a breaking change is a new version (``published`` v2) served beside the old one, and the
publishing service keeps writing only the newest. Readers accept every version they know.
"""

from __future__ import annotations

import json
from typing import Any

from .access import PUBLIC_SUBJECTS
from .envelope import Envelope
from .events import Amended, EventBody, Published, PublishedV2, Repealed, type_of

# every public event type and version ever written, oldest first
PUBLIC_EVENTS: tuple[type[EventBody], ...] = (Published, PublishedV2, Amended, Repealed)
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_PATH = "/api/v1/events"


def schema_key(cls: type[EventBody]) -> str:
    """``published.v2``: the file name of the event's schema (without ``.json``)."""
    return f"{cls.name}.v{cls.version}"


def public_types() -> dict[str, type[EventBody]]:
    """``published.v2`` -> its body model, for every public event."""
    return {schema_key(cls): cls for cls in PUBLIC_EVENTS}


def _envelope_properties() -> tuple[dict[str, Any], list[str]]:
    schema = Envelope.model_json_schema()
    return schema["properties"], list(schema.get("required", []))


def event_schema(cls: type[EventBody]) -> dict[str, Any]:
    """One event as stored on the stream: the envelope, its ``type`` fixed, the body as ``data``."""
    body = cls.model_json_schema(ref_template="#/$defs/{model}")
    defs = body.pop("$defs", {})
    properties, required = _envelope_properties()
    key = schema_key(cls)
    schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{BASE_PATH}/schemas/{key}.json",
        "title": f"{cls.name} v{cls.version}",
        "description": " ".join((cls.__doc__ or cls.name).split()),
        "type": "object",
        "properties": {
            **properties,
            "specversion": {"const": "1.0"},
            "type": {"const": type_of(cls.name, cls.version)},
            "source": {"const": f"/gongkai/{cls.context}"},
            "data": body,
        },
        "required": sorted({*required, "data"}),
        "additionalProperties": True,  # CloudEvents extension attributes a later version may add
    }
    if defs:
        schema["$defs"] = defs
    return schema


def _subject(cls: type[EventBody]) -> str:
    address = f"foi.{cls.context}.{{document}}.{cls.name}"
    assert address.replace("{document}", "*") in PUBLIC_SUBJECTS, address
    return address


def public_asyncapi() -> dict[str, Any]:
    """AsyncAPI 3.0 of the public channels only: what an agency's durable consumer delivers."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for cls in PUBLIC_EVENTS:
        key = schema_key(cls)
        schemas[key] = event_schema(cls)  # inline: the document stands alone
        messages[key] = {
            "name": cls.name,
            "title": f"{cls.name} v{cls.version}",
            "summary": ((cls.__doc__ or "").strip().splitlines() or [cls.name])[0],
            "contentType": "application/cloudevents+json",
            "headers": {
                "type": "object",
                "properties": {
                    "Gongkai-Signature": {
                        "type": "string",
                        "description": "<key name>+<hex key id> <base64 Ed25519 signature> over "
                        "'gongkai-event-v1\\n' + subject + '\\n' + the message bytes",
                    }
                },
            },
            "payload": {
                "schemaFormat": "application/schema+json;version=draft-2020-12",
                "schema": {"$ref": f"#/components/schemas/{key}"},
            },
        }
        channel = f"{cls.context}.{cls.name}"
        entry = channels.setdefault(
            channel,
            {
                "address": _subject(cls),
                "parameters": {"document": {"description": "the document id (文件标识)"}},
                "messages": {},
            },
        )
        entry["messages"][key] = {"$ref": f"#/components/messages/{key}"}
        operations[f"agency-receives-{cls.name}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": "through the agency's durable consumer agency-<name> (account AGENCIES)",
        }
    for op in operations.values():  # every version of the channel's messages
        ch = op["channel"]["$ref"].split("/")[-1]
        op["messages"] = [{"$ref": f"#/channels/{ch}/messages/{k}"} for k in channels[ch]["messages"]]
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Gongkai public events (政府信息公开 公开事件)",
            "version": "1",
            "description": "The events of the public catalogue other agencies receive: published, "
            "amended, repealed. No personal data. Each message is a CloudEvents 1.0 structured JSON "
            "event, signed by the publishing service (header Gongkai-Signature). Schemas: "
            f"{BASE_PATH}/schemas/<name>.v<version>.json. How to connect: docs/agencies.md.",
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def public_asyncapi_json() -> str:
    return json.dumps(public_asyncapi(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
