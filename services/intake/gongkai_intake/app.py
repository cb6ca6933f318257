"""Intake's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from gongkai_shared.app import build_app
from gongkai_shared.clock import Clock

from .api import router
from .pages import router as pages
from .projection import ApplicationsProjection
from .ratelimit import Rate, RateLimits
from .settings import IntakeSettings


def create_app(settings: IntakeSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    app = build_app(
        service="intake",
        title="Gongkai intake 申请受理",
        settings=settings,
        routers=[router, pages],
        projections=lambda rt: [ApplicationsProjection()],
        clock=clock,
    )
    app.state.settings = settings
    rates = {"applications": settings.rate_applications, "lookups": settings.rate_lookups}
    app.state.rate_limits = RateLimits(
        {kind: Rate.parse(rate) for kind, rate in rates.items()}, settings.trusted_proxies
    )
    return app
