"""Building a service's FastAPI app: one composition root shape for all four services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from .clock import Clock
from .projection import Projection
from .runtime import Runtime
from .settings import ServiceSettings
from .web import install_error_handlers, install_ops_routes


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
        try:
            for projection in projections(runtime):
                runtime.project(projection)
            if on_start is not None:
                await on_start(runtime, app)
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, version="1", lifespan=lifespan)
    app.state.runtime, app.state.clock = runtime, clock or Clock()
    app.state.auth_secret = settings.auth_secret
    install_error_handlers(app)
    install_ops_routes(app, runtime.checks)

    @app.get("/api/v1/status", tags=["operations 运维"], summary="projection positions and errors")
    async def status() -> dict:
        return {"service": service, "projections": runtime.status()}

    for router in routers:
        app.include_router(router)
    return app
