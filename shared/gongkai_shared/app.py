"""Building a service's FastAPI app: one composition root shape for all four services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from .auth import Role
from .clock import Clock
from .docs import install_docs
from .envelope import Actor
from .projection import Projection
from .runtime import Runtime
from .settings import ServiceSettings
from .staff import StaffDirectory, StaffProjection
from .text import paragraph
from .web import declare_edge_errors, error_responses, install_error_handlers, install_ops_routes, staff


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
) -> FastAPI:
    """The app starts its runtime and projections in its lifespan; nothing connects at import."""
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
    install_ops_routes(app, runtime.checks)
    install_docs(app)

    @app.get(
        "/api/v1/status", tags=["operations 运维"], summary="projection positions, errors, parked events"
    )
    async def status() -> dict:
        rows = await runtime.pool.fetch(
            "SELECT projection, seq, subject, error, reason, parked_by, parked_at FROM parked_events"
            " ORDER BY parked_at DESC LIMIT 100"
        )
        parked = [{**dict(r), "parked_at": r["parked_at"].isoformat()} for r in rows]
        return {"service": service, "projections": runtime.status(), "parked": parked}

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

    for router in routers:
        app.include_router(router)
    declare_edge_errors(app)
    return app
