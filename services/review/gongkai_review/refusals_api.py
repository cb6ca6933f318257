"""The refusal register (不予公开登记) for staff: the entries, those due for review (Art. 18), one
entry with its history, and one route per row of ``commands.REGISTER_COMMANDS`` (review, lift).

An entry is its own aggregate (``foi.review.<entry-id>.*``): a command loads it from review's
projection, runs its pure rule (``domain/refusals.py``) and appends with the concurrency check.
A command given again (the same review the same day, a lift of a lifted entry) appends nothing
and answers ``200`` with the entry's last event.
"""

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel

from gongkai_shared.auth import Role
from gongkai_shared.commands import CommandRejected, execute
from gongkai_shared.envelope import Actor, Envelope
from gongkai_shared.events import make_event
from gongkai_shared.runtime import Runtime
from gongkai_shared.text import line
from gongkai_shared.web import error_responses, staff

from . import register_queries
from .commands import REGISTER_COMMANDS, EntryCommand
from .domain.common import Context
from .domain.refusals import EntryState

router = APIRouter(prefix="/api/v1/refusals", tags=["refusals 不予公开登记"])
READERS = staff(Role.registrar, Role.reviewer, Role.approver, Role.auditor)
EntryId = Annotated[str, line(200, min_length=1)]
NOT_A_SUBJECT_TOKEN = re.compile(r"[\s.*>]")
ERRORS = error_responses(401, 403, 404, 409, 422)


class Unchanged(Exception):
    """The command was already given: nothing to append."""


class EntryCommandResult(BaseModel):
    entry_id: str
    event: str
    event_id: str
    sequence: int
    changed: bool  # False: the command had been given already (nothing appended)


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


@router.get(
    "", summary="不予公开登记列表（在册、已解除、到期待复核）", responses=error_responses(401, 403, 422)
)
async def list_refusals(
    request: Request,
    _: Actor = Depends(READERS),
    status: Literal["standing", "lifted"] | None = Query(None, description="在册 standing、已解除 lifted"),
    due: bool = Query(False, description="only standing entries due for review today (Art. 18)"),
    document_id: Annotated[str, line(200, min_length=1)] | None = None,
    case_id: Annotated[str, line(200, min_length=1)] | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
    min_seq: int | None = Query(None, ge=0, description="wait until this sequence is applied"),
) -> dict:
    rt = _rt(request)
    await rt.wait_for(min_seq)
    standing = None if status is None else status == "standing"
    items = await register_queries.list_entries(
        rt.pool, request.app.state.clock.today(), standing=standing, due=due, document_id=document_id,
        case_id=case_id, limit=limit, offset=offset,
    )  # fmt: skip
    return {"items": items}


@router.get(
    "/{entry_id}", summary="不予公开登记详情及复核、解除记录", responses=error_responses(401, 403, 404, 422)
)
async def get_refusal(
    entry_id: EntryId,
    request: Request,
    _: Actor = Depends(READERS),
    min_seq: int | None = Query(None, ge=0),
) -> dict:
    rt = _rt(request)
    await rt.wait_for(min_seq)
    found = await register_queries.get_entry(rt.pool, entry_id, request.app.state.clock.today())
    if found is None:
        raise HTTPException(404, "登记不存在 (no such register entry)")
    return found


async def run_entry_command(
    request: Request, response: Response, entry_id: str, command: EntryCommand[Any], body: Any, actor: Actor
) -> EntryCommandResult:
    if NOT_A_SUBJECT_TOKEN.search(entry_id):
        raise HTTPException(404, "登记不存在 (no such register entry)")
    rt, clock = _rt(request), request.app.state.clock
    calendars = request.app.state.calendars

    async def load() -> tuple[tuple[EntryState | None, Context], int]:
        entry, seq = await register_queries.load_entry(rt.pool, entry_id)
        ctx = Context(
            actor=actor, now=clock.now(), today=clock.today(), calendar=await calendars.get(rt.pool)
        )
        return (entry, ctx), seq

    def decide(loaded: tuple[EntryState | None, Context]) -> Envelope:
        entry, ctx = loaded
        if entry is None:
            raise LookupError(entry_id)
        event = command.rule(entry, body, ctx)
        if event is None:
            raise Unchanged
        return make_event(event, aggregate_id=entry_id, actor=actor, time=ctx.now)

    try:
        stored = await execute(rt, entry_id, load, decide)
    except LookupError:
        raise HTTPException(404, "登记不存在 (no such register entry)") from None
    except CommandRejected as e:
        raise HTTPException(409, str(e)) from None
    except Unchanged:
        last = await rt.store.last_event(entry_id)
        if last is None:  # an idempotent repeat follows an event of the entry's own
            raise HTTPException(409, "登记状态异常 (the entry has no event of its own)") from None
        response.status_code = 200
        return EntryCommandResult(entry_id=entry_id, event=last.name, event_id=last.id, sequence=last.seq,
                                  changed=False)  # fmt: skip
    return EntryCommandResult(entry_id=entry_id, event=stored.name, event_id=stored.id, sequence=stored.seq,
                              changed=True)  # fmt: skip


def _add_route(command: EntryCommand[Any]) -> None:
    model, roles = command.model, command.roles

    async def endpoint(
        entry_id: EntryId,
        request: Request,
        response: Response,
        body: model = Body(...),  # type: ignore[valid-type]
        actor: Actor = Depends(staff(*roles)),
    ) -> EntryCommandResult:
        return await run_entry_command(request, response, entry_id, command, body, actor)

    endpoint.__name__ = command.name
    router.add_api_route(
        f"/{{entry_id}}/{command.path}",
        endpoint,
        methods=["POST"],
        status_code=201,
        response_model=EntryCommandResult,
        summary=f"{command.label} ({command.name}; roles: {', '.join(r.value for r in roles)})",
        responses=ERRORS,
    )


for _command in REGISTER_COMMANDS:
    _add_route(_command)
