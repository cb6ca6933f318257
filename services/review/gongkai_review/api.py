"""Review's HTTP API: the case queue, a case's state and trail, and one route per row of the
command table (``commands.py``: path, input model, roles, label); a command the case's state
does not allow is ``409`` with a clear message; bad input is ``422``.
"""

import re
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from gongkai_shared.auth import Role
from gongkai_shared.commands import CommandRejected, execute
from gongkai_shared.envelope import Actor, Envelope, new_id
from gongkai_shared.events import Letter, make_event
from gongkai_shared.files import store_of
from gongkai_shared.runtime import Runtime
from gongkai_shared.text import line
from gongkai_shared.web import error_responses, staff

from . import numbering, queries, register_queries
from .case import STATES, CaseState
from .commands import COMMANDS, Command, decide
from .domain import CaseNotFound, Context, Draft, Input, IssueFeeNotice, Register
from .domain.documents import AttachDocument
from .letters import UNNUMBERED
from .scope import check_department, handler_department, masked, record_read

router = APIRouter(prefix="/api/v1/cases", tags=["cases 案件"])
READERS = staff(Role.registrar, Role.handler, Role.reviewer, Role.approver, Role.auditor)
CaseId = Annotated[str, line(200, min_length=1)]
# a case's id is one token of its events' subjects (foi.<context>.<case>.<event>): an id with white
# space, a dot or a wildcard names no case, and must never reach the event store as a filter
NOT_A_SUBJECT_TOKEN = re.compile(r"[\s.*>]")
# what each kind of operation can answer besides success (issue 8: every code is declared)
READ_ERRORS = error_responses(401, 403, 422)
CASE_READ_ERRORS = error_responses(401, 403, 404, 422)
COMMAND_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422)


class CommandResult(BaseModel):
    case_id: str
    event: str
    event_id: str
    sequence: int


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


@router.get("", summary="案件队列（经办人只见本部门的案件）", responses=READ_ERRORS)
async def list_cases(
    request: Request,
    actor: Actor = Depends(READERS),
    status: Literal[STATES] | None = None,  # type: ignore[valid-type]
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
    min_seq: int | None = Query(None, ge=0, description="wait until this sequence is applied"),
) -> dict:
    rt = _rt(request)
    await rt.wait_for(min_seq)
    department = handler_department(request, actor)
    return {"items": await queries.list_cases(rt.pool, status, limit, offset, department)}


@router.get(
    "/{case_id}",
    summary="案件详情：状态、待办步骤、规则、决定过程（查阅个人信息留痕）",
    responses=CASE_READ_ERRORS,
)
async def get_case(
    case_id: CaseId,
    request: Request,
    actor: Actor = Depends(READERS),
    min_seq: int | None = Query(None, ge=0),
) -> dict:
    rt = _rt(request)
    await rt.wait_for(min_seq)
    found = await queries.get_case(rt.pool, case_id)
    if found is None:
        raise HTTPException(404, "案件不存在 (no such case)")
    # issue 10: before drafting, the register's standing entries on the documents the case names
    state = CaseState.model_validate(found["state"])
    found["refusal_warnings"] = await register_queries.warnings(rt.pool, state)
    department = handler_department(request, actor)
    if department is not None:
        check_department(department, found["state"]["departments"])
        return masked(found)
    await record_read(rt, actor, case_id)  # the read is in the log before the data leaves
    return found


@router.get(
    "/{case_id}/information",
    summary="查找本机关已登记的政府信息（标题、文号），附不予公开登记的警示",
    responses=CASE_READ_ERRORS,
)
async def find_information(
    case_id: CaseId,
    request: Request,
    q: Annotated[str, line(100, min_length=1)],
    actor: Actor = Depends(READERS),
    limit: int = Query(20, ge=1, le=100),
    min_seq: int | None = Query(None, ge=0),
) -> dict:
    """The documents a feedback or a draft may name (by ``document_id``), found by a word of their
    title or 文号, each with the standing refusal register entries that name it."""
    rt = _rt(request)
    await rt.wait_for(min_seq)
    state, _ = await queries.load_case(rt.pool, case_id)
    if state is None:
        raise HTTPException(404, "案件不存在 (no such case)")
    department = handler_department(request, actor)
    if department is not None:
        check_department(department, state.departments)
    return {"items": await register_queries.search_documents(rt.pool, q, limit)}


@router.get("/{case_id}/personal-data-reads", summary="查阅个人信息记录（审计）", responses=READ_ERRORS)
async def personal_data_reads(
    case_id: CaseId, request: Request, _: Actor = Depends(staff(Role.auditor))
) -> dict:
    rows = await _rt(request).pool.fetch(
        "SELECT seq, user_id, role, at FROM personal_data_reads WHERE case_id = $1 ORDER BY seq", case_id
    )
    return {"case_id": case_id, "reads": [{**dict(r), "at": r["at"].isoformat()} for r in rows]}


async def run_command(request: Request, case_id: str, cmd: Input, actor: Actor) -> CommandResult:
    if NOT_A_SUBJECT_TOKEN.search(case_id):
        raise HTTPException(404, "案件不存在 (no such case)")
    rt = _rt(request)
    settings, clock = request.app.state.settings, request.app.state.clock
    calendars = request.app.state.calendars
    registering = type(cmd) is Register
    department = handler_department(request, actor)
    if department is not None:  # a handler acts for their own department, on its cases only
        state, _ = await queries.load_case(rt.pool, case_id)
        if state is not None:  # an unknown case is answered 404 by the decision, as for anyone
            check_department(department, state.departments)
        if getattr(cmd, "department", department) != department:
            raise HTTPException(403, "只能为本部门反馈 (feedback only for your own department)")

    taken: dict[tuple[str, int], str] = {}  # (letter type, year) -> the number this command took

    async def load() -> tuple[tuple[CaseState | None, Context], int]:
        """The case's state with what the decision may know besides it (fresh on each retry)."""
        state, seq = await queries.load_case(rt.pool, case_id)
        repeats = await queries.answered_repeats(rt.pool, state) if registering and state else []
        charging = type(cmd) is IssueFeeNotice and state is not None
        ordinal = await queries.month_ordinal(rt.pool, case_id) if charging else None
        calendar = await calendars.get(rt.pool)
        named = register_queries.named_by(state, cmd)  # issue 10: the documents, the register
        ctx = Context(
            actor=actor,
            now=clock.now(),
            today=clock.today(),
            calendar=calendar,
            new_id=new_id(),
            default_profile=settings.profile,
            office=settings.office().numbered(case_id, UNNUMBERED),
            reconsideration_body=settings.reconsideration_body,
            repeats=repeats,
            month_ordinal=ordinal,
            documents=await register_queries.documents(rt.pool, named) if named else {},
            refusals=await register_queries.standing_entries(rt.pool, named) if named else (),
            office_has_documents=type(cmd) is Draft and await register_queries.office_has_documents(rt.pool),
        )
        kind = _letter_kind(state, cmd, ctx)
        if kind is not None:  # the letter's number is taken now, once for all retries (numbering.py)
            key = (kind, ctx.today.year)
            if key not in taken:
                taken[key] = await numbering.take(
                    rt.store, rt.service, kind=kind, year=ctx.today.year, case_id=case_id, actor=actor,
                    formats=ctx.office.numbers,
                )  # fmt: skip
            ctx = replace(ctx, office=ctx.office.numbered(case_id, taken[key]))
        return (state, ctx), seq

    def decide_event(loaded: tuple[CaseState | None, Context]) -> Envelope:
        state, ctx = loaded
        return make_event(decide(state, cmd, ctx), aggregate_id=case_id, actor=actor, time=ctx.now)

    refs = [cmd.document] if isinstance(cmd, AttachDocument) else []  # issue 9: files exist first
    files = store_of(request.app.state) if refs else None
    for ref in refs:
        if files is None or not await files.exists(ref):
            raise RequestValidationError(
                [{"loc": ("body", "document"), "msg": "文件不存在，请先上传 (no such uploaded file)",
                  "type": "file_missing"}]
            )  # fmt: skip
    await _documents_exist(rt, cmd)
    try:
        stored = await execute(rt, case_id, load, decide_event)
    except CaseNotFound:
        raise HTTPException(404, "案件不存在 (no such case)") from None
    except CommandRejected as e:
        raise HTTPException(409, str(e)) from None
    except numbering.NumberingBusy as e:
        raise HTTPException(
            503, f"发文字号正被占用，请稍后重试 ({e})", headers={"Retry-After": "1"}
        ) from None
    return CommandResult(case_id=case_id, event=stored.name, event_id=stored.id, sequence=stored.seq)


async def _documents_exist(rt: Runtime, cmd: Input) -> None:
    """Issue 10: a document named by id is one the agency registered (422 naming the field)."""
    errors: list[dict[str, Any]] = []
    named = list(getattr(cmd, "documents", None) or [])
    withheld = [w.document_id for w in getattr(cmd, "withheld_documents", None) or []]
    if isinstance(cmd, AttachDocument) or not (named or withheld):
        return
    known = await register_queries.documents(rt.pool, [*named, *withheld])
    for field_name, ids in (("documents", named), ("withheld_documents", withheld)):
        for i, document_id in enumerate(ids):
            if document_id not in known:
                loc = (
                    ("body", field_name, i)
                    if field_name == "documents"
                    else ("body", field_name, i, "document_id")
                )
                errors.append({"loc": loc, "msg": f"政府信息 {document_id} 未登记 (no such document)",
                               "type": "document_unknown"})  # fmt: skip
    if errors:
        raise RequestValidationError(errors)


def _letter_kind(state: CaseState | None, cmd: Input, ctx: Context) -> str | None:
    """The type of letter the command's event would carry (decided once without a number), or
    None: no letter, or a refusal (which the real decision gives again)."""
    try:
        body = decide(state, cmd, ctx)
    except (CaseNotFound, CommandRejected):
        return None
    letter = getattr(body, "letter", None)
    return letter.kind if isinstance(letter, Letter) else None


def _add_command_route(command: Command[Any], path: str) -> None:
    model, roles = command.model, command.roles

    async def endpoint(
        case_id: CaseId,
        request: Request,
        # FastAPI reads the body's type at run time: the row's model (mypy cannot see a variable's
        # value as a type; the handler only needs an Input)
        body: model = Body(...),  # type: ignore[valid-type]
        actor: Actor = Depends(staff(*roles)),
    ) -> CommandResult:
        return await run_command(request, case_id, body, actor)

    endpoint.__name__ = command.name
    summary = f"{command.label} ({command.name}; roles: {', '.join(r.value for r in roles)})"
    router.add_api_route(
        f"/{{case_id}}/{path}",
        endpoint,
        methods=["POST"],
        status_code=201,
        response_model=CommandResult,
        summary=summary,
        responses=COMMAND_ERRORS,
    )


for _command in COMMANDS:
    for _path in (_command.path, *_command.aliases):  # "decision": the skeleton's name for the draft
        _add_command_route(_command, _path)
