"""Intake's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from gongkai_shared.app import build_app
from gongkai_shared.clock import Clock

from .api import router
from .pages import router as pages
from .projection import ApplicationsProjection
from .settings import IntakeSettings


def create_app(settings: IntakeSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return build_app(
        service="intake",
        title="Gongkai intake 申请受理",
        settings=settings or IntakeSettings(),
        routers=[router, pages],
        projections=lambda rt: [ApplicationsProjection()],
        clock=clock,
    )
