"""The public events' contract for other agencies (公开事件): the AsyncAPI document of the public
channels and each event's JSON Schema (gongkai_shared.public_events). Public, no sign-in."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse

from gongkai_shared.checkpoint import ED25519
from gongkai_shared.public_events import event_schema, public_asyncapi, public_types
from gongkai_shared.runtime import Runtime
from gongkai_shared.trust import SIGNATURE
from gongkai_shared.web import error_responses

router = APIRouter(prefix="/api/v1/events", tags=["events 公开事件"])

_CACHE = "public, max-age=300"


@router.get("/asyncapi.json", summary="公开事件的 AsyncAPI 文档 (the public channels)")
async def get_asyncapi() -> JSONResponse:
    return JSONResponse(public_asyncapi(), headers={"Cache-Control": _CACHE})


@router.get("/schemas", summary="公开事件的 JSON Schema 列表")
async def list_schemas() -> dict:
    return {"schemas": [f"{key}.json" for key in public_types()]}


@router.get(
    "/schemas/{name}.json", summary="一个公开事件版本的 JSON Schema", responses=error_responses(404, 422)
)
async def get_schema(
    name: Annotated[str, Path(max_length=100, pattern=r"^[a-z-]+\.v[0-9]{1,4}$", examples=["published.v2"])],
) -> JSONResponse:
    cls = public_types().get(name)
    if cls is None:
        known = ", ".join(public_types())
        raise HTTPException(404, f"没有该公开事件的 Schema (no public event {name!r}; known: {known})")
    return JSONResponse(event_schema(cls), headers={"Cache-Control": _CACHE})


@router.get(
    "/keys", summary="发布服务的验签公钥 (publishing's verifier keys)", responses=error_responses(503)
)
async def list_keys(request: Request) -> dict:
    """The keys that sign the public events, as registered on the log with the operator's root key
    (``signing-key-registered``): an agency verifies each event's ``Gongkai-Signature`` with the
    key it names, valid between ``registered_at_seq`` and ``revoked_at_seq`` (stream sequences)."""
    rt: Runtime = request.app.state.runtime
    await rt.keyring.ensure(rt.store, await rt.store.last_seq() + 1)
    keys = [k for k in rt.keyring.keys.values() if k.service == "publishing"]
    return {
        "header": SIGNATURE,
        "signature": "<key> <base64 Ed25519 signature>",
        "signed": "b'gongkai-event-v1\\n' + subject + b'\\n' + message bytes",
        "keys": [
            {**k.describe(), "vkey": f"{k.ref}+{base64.b64encode(bytes([ED25519]) + k.raw).decode()}"}
            for k in sorted(keys, key=lambda k: k.registered_seq)
        ],
    }
