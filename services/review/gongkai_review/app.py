"""Review's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from gongkai_shared.app import build_app
from gongkai_shared.calendar import WorkingCalendar
from gongkai_shared.clock import Clock

from .api import router
from .projection import CasesProjection
from .settings import ReviewSettings


def create_app(settings: ReviewSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or ReviewSettings()
    app = build_app(
        service="review",
        title="Gongkai review 依申请公开办理",
        settings=settings,
        routers=[router],
        projections=lambda rt: [CasesProjection()],
        clock=clock,
    )
    app.state.settings = settings
    app.state.calendar = WorkingCalendar()
    return app
