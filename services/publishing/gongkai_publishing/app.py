"""Publishing's composition root: the catalogue projection and the reaction to approvals."""

from __future__ import annotations

from fastapi import FastAPI

from gongkai_shared.app import build_app
from gongkai_shared.clock import Clock
from gongkai_shared.reactions import run_reactions
from gongkai_shared.runtime import Runtime

from .api import router
from .projection import CatalogProjection
from .settings import PublishingSettings
from .subscribers import approvals


def create_app(settings: PublishingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or PublishingSettings()
    clock = clock or Clock()

    async def start_reactions(rt: Runtime, app: FastAPI) -> None:
        rt.supervise("reactions", lambda: run_reactions(rt, [approvals(rt, settings, clock)]))

    return build_app(
        service="publishing",
        title="Gongkai publishing 主动公开与公开目录",
        settings=settings,
        routers=[router],
        projections=lambda rt: [CatalogProjection()],
        clock=clock,
        on_start=start_reactions,
    )
