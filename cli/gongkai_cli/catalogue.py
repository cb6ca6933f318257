"""The event catalogue as AsyncAPI 3.0, generated from the schema registry.

Other agencies and auditors read ``docs/events/asyncapi.json``; a test keeps it equal to what
the code registers, so the published contract is never stale.
"""

from __future__ import annotations

import json
from typing import Any

from gongkai_shared import staff, trust  # noqa: F401 — their event types register themselves in REGISTRY
from gongkai_shared.envelope import Envelope
from gongkai_shared.events import REGISTRY


def asyncapi() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for type_name, cls in sorted(REGISTRY.items()):
        key = f"{cls.name}.v{cls.version}"
        schema = cls.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            messages.setdefault("_defs", {})[name] = sub
        messages[key] = {
            "name": cls.name,
            "title": cls.name,
            "summary": ((cls.__doc__ or "").strip().splitlines() or [cls.name])[0],
            "contentType": "application/cloudevents+json",
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/CloudEvent"},
                    {"type": "object", "properties": {"type": {"const": type_name}, "data": schema}},
                ]
            },
        }
        channel = f"{cls.context}.{cls.name}"
        channels[channel] = {
            "address": f"foi.{cls.context}.{{aggregate}}.{cls.name}",
            "parameters": {"aggregate": {"description": "case id (or catalogue item id)"}},
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
        }
        operations[f"{cls.context}-sends-{cls.name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": f"only the {cls.context} service writes this subject",
        }
    defs = messages.pop("_defs", {})
    envelope = Envelope.model_json_schema()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Gongkai events (政府信息公开 事件目录)",
            "version": "1",
            "description": "Every event on the immutable JetStream stream FOI (subjects foi.>). "
            "The history of a case is the filter foi.*.<case>.>.",
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": {"CloudEvent": envelope, **defs}},
    }


def asyncapi_json() -> str:
    return json.dumps(asyncapi(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
