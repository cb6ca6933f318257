"""Building a service's FastAPI app: one composition root shape for all four services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from html import escape
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from .auth import Role
from .clock import Clock
from .docs import install_docs
from .envelope import Actor
from .projection import Projection
from .rebuild import drop_old, rebuild_and_compare, rebuild_and_swap
from .runtime import Runtime
from .settings import ServiceSettings
from .staff import StaffDirectory, StaffProjection
from .text import paragraph
from .web import declare_edge_errors, error_responses, install_error_handlers, install_ops_routes, staff


class Rebuild(BaseModel):
    model_config = ConfigDict(extra="forbid")
    drop_old: bool = False  # drop the replaced schema (and earlier ones): no rollback to them
    timeout: float = Field(default=600.0, gt=0, le=86400)  # seconds the replay may take


class Check(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timeout: float = Field(default=600.0, gt=0, le=86400)


class Park(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seq: int = Field(ge=1)
    reason: Annotated[str, paragraph(2000, min_length=3)]


def build_app(
    *,
    service: str,
    title: str,
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    projections: Callable[[Runtime], Sequence[Projection]],
    clock: Clock | None = None,
    on_start: Callable[[Runtime, FastAPI], Awaitable[None]] | None = None,
    migrations: Path | None = None,
    carry: Sequence[str] = (),
) -> FastAPI:
    """The app starts its runtime and projections in its lifespan; nothing connects at import.

    ``migrations`` (the service's SQL files) lets an operator rebuild the projections aside and
    compare or swap them in (rebuild.py); ``carry`` are the statements that bring over, at a
    swap, the state the log does not hold (``{old}`` and ``{new}`` name the two schemas)."""
    runtime = Runtime(settings, service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        staff_projection = StaffProjection(service)
        app.state.staff = StaffDirectory(runtime.pool, staff_projection)
        try:
            for projection in [staff_projection, *projections(runtime)]:
                runtime.project(projection)
            if on_start is not None:
                await on_start(runtime, app)
            yield
        finally:
            await runtime.stop()

    # docs_url=None: FastAPI's /docs loads Swagger UI from a CDN; ours serves it locally (docs.py)
    app = FastAPI(title=title, version="1", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.runtime, app.state.clock = runtime, clock or Clock()
    app.state.auth_secret = settings.auth_secret
    install_error_handlers(app)
    install_ops_routes(app, runtime.checks, runtime.health)
    install_docs(app)

    @app.get(
        "/api/v1/status", tags=["operations 运维"], summary="projection positions, errors, parked events"
    )
    async def status() -> dict:
        runtime.last_seq = await runtime.store.last_seq()  # the lag against the log as it is now
        rows = await runtime.pool.fetch(
            "SELECT projection, seq, subject, error, reason, parked_by, parked_at FROM parked_events"
            " ORDER BY parked_at DESC LIMIT 100"
        )
        parked = [{**dict(r), "parked_at": r["parked_at"].isoformat()} for r in rows]
        health = [{"check": n, "ok": ok, "detail": d} for n, ok, d in runtime.health()]
        return {
            "service": service,
            "last_seq": runtime.last_seq,
            "projections": runtime.status(),
            "tasks": runtime.task_status(),
            "health": health,
            "parked": parked,
        }

    @app.get("/api/v1/status/page", include_in_schema=False, response_class=HTMLResponse)
    async def status_page() -> HTMLResponse:
        """The operator's page: each projection's position, lag, state and last error."""
        return HTMLResponse(status_html(await status()))

    @app.post(
        "/api/v1/status/projections/{name}/park",
        tags=["operations 运维"],
        summary="pass over the event a stopped projection is stuck on, recording why (admin)",
        responses=error_responses(401, 403, 404, 409, 422),
    )
    async def park(name: str, body: Park, actor: Actor = Depends(staff(Role.admin))) -> dict:
        runner = runtime.runners.get(name)
        if runner is None:
            raise HTTPException(404, f"no projection {name}")
        try:
            await runner.park(body.seq, body.reason, actor.id)
        except ValueError as e:
            raise HTTPException(409, str(e)) from None
        return {"projection": name, "parked": body.seq}

    def replayed() -> list[Projection]:
        """Fresh instances of the service's projections, for a replay into another schema."""
        return [StaffProjection(service), *projections(runtime)]

    @asynccontextmanager
    async def exclusive() -> AsyncIterator[None]:
        """One check or rebuild at a time per service, whichever replica is asked."""
        if migrations is None:
            raise HTTPException(404, f"{service} has no projections to rebuild")
        async with runtime.pool.acquire() as conn:
            key = f"gongkai-rebuild-{runtime.schema}"
            if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", key):
                raise HTTPException(409, "另一次重建或核对正在进行 (a rebuild or check is already running)")
            try:
                yield
            except (TimeoutError, RuntimeError) as e:
                raise HTTPException(409, f"重建未完成 (the rebuild did not complete): {e}") from None
            finally:
                await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", key)

    @app.post(
        "/api/v1/status/projections/check",
        tags=["operations 运维"],
        summary="rebuild the projections aside from sequence 1 and report every difference (admin)",
        responses=error_responses(401, 403, 404, 409, 422),
    )
    async def check(body: Check, actor: Actor = Depends(staff(Role.admin))) -> dict:
        async with exclusive():
            assert migrations is not None
            comparison = await rebuild_and_compare(
                runtime.settings.database_url,
                runtime.store,
                replayed(),
                migrations,
                live_schema=runtime.schema,
                carry=carry,
                timeout=body.timeout,
            )
        return {"service": service, **comparison.to_json()}

    @app.post(
        "/api/v1/status/projections/rebuild",
        tags=["operations 运维"],
        summary="rebuild the projections from sequence 1 and swap them in without downtime (admin)",
        responses=error_responses(401, 403, 404, 409, 422),
    )
    async def rebuild(body: Rebuild, actor: Actor = Depends(staff(Role.admin))) -> dict:
        async with exclusive():
            assert migrations is not None
            swap = await rebuild_and_swap(
                runtime.settings.database_url,
                runtime.store,
                replayed(),
                migrations,
                live_schema=runtime.schema,
                carry=carry,
                drop_old_schemas=body.drop_old,
                timeout=body.timeout,
            )
        return {"service": service, **swap.to_json()}

    @app.delete(
        "/api/v1/status/projections/old",
        tags=["operations 运维"],
        summary="drop the schemas earlier rebuilds replaced (admin; no rollback to them afterwards)",
        responses=error_responses(401, 403, 404, 409),
    )
    async def drop_replaced(actor: Actor = Depends(staff(Role.admin))) -> dict:
        async with exclusive():
            dropped = await drop_old(runtime.settings.database_url, runtime.schema)
        return {"service": service, "dropped": dropped}

    for router in routers:
        app.include_router(router)
    declare_edge_errors(app)
    return app


STATE_ZH = {"running": "运行中", "failing": "重试中", "stopped": "已停止", "parked": "已跳过待恢复",
            "standby": "待命", "starting": "启动中", "restarting": "重启中"}  # fmt: skip


def _state_zh(state: str) -> str:
    """``standby (stopped)`` -> ``待命 (已停止)``: this replica's runner, then the active one's."""
    return " ".join(
        w.replace(w.strip("()"), STATE_ZH.get(w.strip("()"), w.strip("()"))) for w in state.split()
    )


def status_html(status: dict[str, Any]) -> str:
    """The status as a page in Chinese (运行状态); every value escaped."""

    def cell(value: object) -> str:
        return f"<td>{escape('' if value is None else str(value))}</td>"

    projections = "".join(
        "<tr>" + cell(name) + cell(_state_zh(p["state"])) + cell(p["position"]) + cell(p["lag"])
        + cell(p["stuck_at"]) + cell(p["last_error"]) + "</tr>"
        for name, p in status["projections"].items()
    )  # fmt: skip
    health = "".join(
        "<tr>" + cell(h["check"]) + cell("正常" if h["ok"] else "异常") + cell(h["detail"]) + "</tr>"
        for h in status["health"]
    )
    parked = "".join(
        "<tr>" + cell(p["projection"]) + cell(p["seq"]) + cell(p["reason"]) + cell(p["parked_by"])
        + cell(p["parked_at"]) + cell(p["error"]) + "</tr>"
        for p in status["parked"]
    )  # fmt: skip
    service = escape(status["service"])
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{service} 运行状态</title>'
        "</head><body>"
        f"<h1>{service} 运行状态</h1><p>日志最后序号：{status['last_seq']}</p>"
        "<h2>投影</h2><table><tr><th>投影</th><th>状态</th><th>已处理到</th><th>滞后（事件数）</th>"
        f"<th>停在序号</th><th>最近错误</th></tr>{projections}</table>"
        "<h2>投影、反应与后台任务的健康状况</h2><table><tr><th>项目</th><th>状况</th><th>详情</th></tr>"
        f"{health}</table>"
        "<h2>已跳过的事件</h2><table><tr><th>投影</th><th>序号</th><th>原因</th><th>操作人</th>"
        f"<th>时间</th><th>错误</th></tr>{parked}</table></body></html>"
    )
