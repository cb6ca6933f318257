"""An agency's subscriber to Gongkai's public events (政府信息公开 公开事件订阅示例).

Connects to Gongkai's NATS as the agency's own user (account AGENCIES), pulls from the agency's
durable consumer ``agency-<name>``, checks every event against the JSON Schema Gongkai serves
(``/api/v1/events/schemas/<name>.v<version>.json``), optionally verifies publishing's Ed25519
signature, prints each publication, and acknowledges it. ``--replay`` first resets the durable
to stream sequence 1, so every public event is delivered again, from the beginning.

Needs only ``nats-py`` and ``jsonschema`` (``cryptography`` too for ``--verify``). See README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import urllib.request
from typing import Any

import jsonschema
import nats
from nats.errors import TimeoutError as NatsTimeout

STREAM = "FOI"
TYPE_PREFIX = "cn.gov.gongkai."


class Schemas:
    """The served schemas, fetched once per event type and version."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.cache: dict[str, jsonschema.protocols.Validator] = {}

    def validator(self, event_type: str) -> jsonschema.protocols.Validator:
        key = event_type.removeprefix(TYPE_PREFIX)  # published.v2
        if key not in self.cache:
            with urllib.request.urlopen(f"{self.base_url}/schemas/{key}.json", timeout=10) as r:  # noqa: S310
                schema = json.load(r)
            self.cache[key] = jsonschema.Draft202012Validator(schema)
        return self.cache[key]


class Keys:
    """Publishing's verifier keys (``/api/v1/events/keys``): ``<name>+<hex id>`` -> Ed25519 key."""

    def __init__(self, base_url: str) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        with urllib.request.urlopen(f"{base_url.rstrip('/')}/keys", timeout=10) as r:  # noqa: S310
            served = json.load(r)
        self.keys = {}
        for k in served["keys"]:
            raw = base64.b64decode(k["vkey"].split("+", 2)[2])  # 0x01 then the 32-byte key
            self.keys[k["key"]] = Ed25519PublicKey.from_public_bytes(raw[1:])

    def verify(self, subject: str, data: bytes, header: str | None) -> None:
        if not header:
            raise ValueError("unsigned event")
        ref, signature = header.split(" ", 1)
        key = self.keys.get(ref)
        if key is None:
            raise ValueError(f"signed by an unknown key {ref}")
        signed = b"gongkai-event-v1\n" + subject.encode() + b"\n" + data
        key.verify(base64.b64decode(signature), signed)  # raises InvalidSignature


def describe(event: dict[str, Any]) -> str:
    """One line per publication, in the catalogue's words."""
    name, version = event["type"].removeprefix(TYPE_PREFIX).rsplit(".v", 1)
    d = event["data"]
    if name == "repealed":
        return f"废止 {d.get('index_number') or d['document_id']} 废止日期 {d['repealed_on']}"
    if (name, version) == ("published", "1"):  # before documents had metadata (issue 10)
        return f"发布 {d['index_number']} 《{d['title']}》 发布日期 {d['published_on']}"
    label = "发布" if name == "published" else "修订"
    m = d["metadata"]
    return f"{label} {d['index_number']} 《{m['title']}》 {m['issuing_body']} 发布日期 {d['published_on']}"


async def run(args: argparse.Namespace) -> int:
    user = f"agency-{args.agency}"
    nc = await nats.connect(args.nats_url, user=user, password=args.password, inbox_prefix=f"_INBOX_{user}",
                            name=f"{user}-subscriber", allow_reconnect=True)  # fmt: skip
    schemas = Schemas(args.events_url)
    keys = Keys(args.events_url) if args.verify else None
    durable = user
    try:
        if args.replay:  # back to the first public event; the filter stays what Gongkai set
            reply = json.loads((await nc.request(f"$JS.API.CONSUMER.RESET.{STREAM}.{durable}",
                                                 b'{"seq":1}', timeout=10)).data)  # fmt: skip
            if "error" in reply:
                print(f"replay refused: {reply['error']}", file=sys.stderr)
                return 1
        sub = await nc.jetstream().pull_subscribe_bind(durable, STREAM)
        seen = 0
        while args.count is None or seen < args.count:
            try:
                batch = await sub.fetch(20, timeout=args.wait)
            except NatsTimeout:
                if args.count is None:
                    continue
                print(f"waited {args.wait} s for more events ({seen} of {args.count})", file=sys.stderr)
                return 1
            for msg in batch:
                event = json.loads(msg.data)
                schemas.validator(event["type"]).validate(event)  # raises: a broken contract stops us
                if keys is not None:
                    keys.verify(msg.subject, msg.data, (msg.headers or {}).get("Gongkai-Signature"))
                print(f"{msg.metadata.sequence.stream} {describe(event)}", flush=True)
                await msg.ack()
                seen += 1
        return 0
    finally:
        await nc.close()


def main() -> int:
    p = argparse.ArgumentParser(description="Gongkai 公开事件订阅示例 (public events subscriber)")
    p.add_argument("--nats-url", default=os.environ.get("GONGKAI_NATS_URL", "nats://127.0.0.1:4222"))
    agency = os.environ.get("GONGKAI_AGENCY")
    p.add_argument("--agency", default=agency, required=agency is None,
                   help="the name given to `gongkai agencies add` (user agency-<name>)")  # fmt: skip
    events_url = os.environ.get("GONGKAI_EVENTS_URL", "http://127.0.0.1:8000/api/v1/events")
    p.add_argument("--events-url", default=events_url, help="where Gongkai serves the public events' schemas")
    p.add_argument("--replay", action="store_true", help="start again from the first public event")
    p.add_argument("--verify", action="store_true", help="verify publishing's signature (needs cryptography)")
    p.add_argument("--count", type=int, default=None, help="stop after this many events")
    p.add_argument(
        "--wait", type=float, default=30.0, help="seconds to wait for events when --count is given"
    )
    args = p.parse_args()
    args.password = os.environ.get("GONGKAI_AGENCY_PASSWORD")
    if not args.password:
        p.error("set GONGKAI_AGENCY_PASSWORD to the password `gongkai agencies add` printed")
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
