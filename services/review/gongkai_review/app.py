"""Review's composition root."""

from __future__ import annotations

from fastapi import FastAPI
from gongkai_shared.app import build_app
from gongkai_shared.clock import Clock

from .api import router
from .projection import CasesProjection
from .settings import ReviewSettings


def create_app(settings: ReviewSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return build_app(
        service="review",
        title="Gongkai review 依申请公开审核",
        settings=settings or ReviewSettings(),
        routers=[router],
        projections=lambda rt: [CasesProjection()],
        clock=clock,
    )
