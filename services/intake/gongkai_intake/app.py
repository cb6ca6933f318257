"""Intake's composition root. Nothing connects at import: the lifespan starts the runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gongkai_shared.clock import Clock
from gongkai_shared.runtime import Runtime
from gongkai_shared.web import install_error_handlers, install_ops_routes

from .api import router
from .projection import ApplicationsProjection
from .settings import IntakeSettings


def create_app(settings: IntakeSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    runtime = Runtime(settings, "intake")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        runtime.project(ApplicationsProjection())
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title="Gongkai intake 申请受理", version="1", lifespan=lifespan)
    app.state.runtime, app.state.clock = runtime, clock or Clock()
    app.state.auth_secret = settings.auth_secret
    install_error_handlers(app)
    install_ops_routes(app, runtime.checks)
    app.include_router(router)
    return app
