"""Proofs for auditors (审计): the log as a transparency log, over HTTP (gongkai_shared.tlog).

- ``GET /api/v1/audit/checkpoints/latest``: the last published checkpoint (C2SP note, text).
- ``GET /api/v1/audit/keys``: the checkpoint keys the root key registered, with their validity.
- ``GET /api/v1/audit/proofs/inclusion?seq=&size=``: RFC 9162 inclusion proof of the event at
  ``seq`` in the tree of ``size`` events (default: the latest checkpoint's size).
- ``GET /api/v1/audit/proofs/consistency?first=&second=``: RFC 9162 consistency proof.

Hashes are base64; every proof is checked before it is served and carries the published
checkpoint of its tree size when there is one. Auditors only. A proof folds the first
``size`` events' 256-event tiles from this replica's tile cache and reads only the tiles its
boundaries cut (tlog.TileCache; the first proof after a start hashes the log once).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse

from gongkai_shared.auth import Role
from gongkai_shared.checkpoint import CheckpointError
from gongkai_shared.envelope import Actor
from gongkai_shared.eventstore import EventStore
from gongkai_shared.merkle import ProofError
from gongkai_shared.runtime import Runtime
from gongkai_shared.tlog import (
    CheckpointKeys,
    Read,
    TileCache,
    checkpoint_of_size,
    consistency,
    inclusion,
    latest_checkpoint,
    load_checkpoint_keys,
)
from gongkai_shared.web import error_responses, staff

router = APIRouter(prefix="/api/v1/audit", tags=["audit 审计"])
AUDITOR = staff(Role.auditor)
ERRORS = error_responses(401, 403, 404, 422)
MAX_SEQ = 1 << 53


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


def _reader(store: EventStore) -> Read:
    async def read(first: int, last: int) -> AsyncIterator[bytes]:
        async for raw in store.read_raw(first, "foi.>", until_seq=last):
            yield raw.data

    return read


async def _tiles(request: Request, size: int) -> TileCache:
    """This replica's tile hashes, brought up to ``size`` events (the first proof after a start
    hashes the log once; later ones only what was appended since)."""
    tiles: TileCache = request.app.state.proof_tiles
    await tiles.extend(_reader(_rt(request).store), size)
    return tiles


async def _keys(rt: Runtime) -> CheckpointKeys:
    return await load_checkpoint_keys(rt.store, rt.settings.root_key)


async def _size(rt: Runtime, size: int | None) -> int:
    if size is not None:
        return size
    note = await latest_checkpoint(rt.store.js)
    return int(note.splitlines()[1]) if note else await rt.store.last_seq()


async def _note(rt: Runtime, size: int, root_b64: str) -> str | None:
    """The published checkpoint of ``size``; a 500 if the log no longer has its root."""
    note = await checkpoint_of_size(rt.store.js, size)
    if note is None:
        return None
    checkpoint, _ = (await _keys(rt)).verify(note)
    if checkpoint.root != base64.b64decode(root_b64).hex():
        raise HTTPException(500, f"日志与已发布的检查点不一致 (the log's root at size {size} differs)")
    return note


@router.get("/checkpoints/latest", summary="最新的已签名检查点（C2SP 格式）", responses=ERRORS,
            response_class=PlainTextResponse)  # fmt: skip
async def latest(request: Request, _: Actor = Depends(AUDITOR)) -> PlainTextResponse:
    note = await latest_checkpoint(_rt(request).store.js)
    if note is None:
        raise HTTPException(404, "尚未发布检查点 (no checkpoint published yet)")
    return PlainTextResponse(note, media_type="text/plain; charset=utf-8")


@router.get("/keys", summary="检查点签名公钥及其有效期", responses=error_responses(401, 403))
async def keys(request: Request, _: Actor = Depends(AUDITOR)) -> dict[str, Any]:
    rt = _rt(request)
    return {"root_key": rt.settings.root_key, "keys": [k.describe() for k in (await _keys(rt)).keys.values()]}


@router.get("/proofs/inclusion", summary="包含证明（RFC 9162）", responses=ERRORS)
async def inclusion_proof(
    request: Request,
    _: Actor = Depends(AUDITOR),
    seq: int = Query(..., ge=1, le=MAX_SEQ, description="the event's stream sequence"),
    size: int | None = Query(None, ge=1, le=MAX_SEQ, description="tree size (default: latest checkpoint)"),
) -> dict[str, Any]:
    rt = _rt(request)
    size = await _size(rt, size)
    last = await rt.store.last_seq()
    if size > last or seq > size:
        raise HTTPException(404, f"没有该证明：需 seq <= size <= {last} (no such proof)")
    try:
        leaf = (await rt.store.get(seq)).data
        proof = await inclusion(_reader(rt.store), seq, size, leaf, await _tiles(request, size))
        return {**proof, "checkpoint": await _note(rt, size, proof["root_hash"])}
    except (ProofError, CheckpointError) as e:
        raise HTTPException(500, str(e)) from None


@router.get("/proofs/consistency", summary="一致性证明（RFC 9162）", responses=ERRORS)
async def consistency_proof(
    request: Request,
    _: Actor = Depends(AUDITOR),
    first: int = Query(..., ge=1, le=MAX_SEQ, description="the older tree size"),
    second: int | None = Query(None, ge=1, le=MAX_SEQ, description="the newer (default: latest checkpoint)"),
) -> dict[str, Any]:
    rt = _rt(request)
    second = await _size(rt, second)
    last = await rt.store.last_seq()
    if second > last or first > second:
        raise HTTPException(404, f"没有该证明：需 first <= second <= {last} (no such proof)")
    try:
        proof = await consistency(_reader(rt.store), first, second, await _tiles(request, second))
        return {
            **proof,
            "first_checkpoint": await _note(rt, first, proof["first_root_hash"]),
            "second_checkpoint": await _note(rt, second, proof["second_root_hash"]),
        }
    except (ProofError, CheckpointError) as e:
        raise HTTPException(500, str(e)) from None
