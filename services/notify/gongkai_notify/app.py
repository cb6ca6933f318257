"""Notify's composition root: the deadlines projection and the dispatcher (the clock)."""

from __future__ import annotations

from fastapi import FastAPI
from gongkai_shared.app import build_app
from gongkai_shared.calendar import WorkingCalendar
from gongkai_shared.clock import Clock
from gongkai_shared.runtime import Runtime

from .api import router
from .dispatcher import run_dispatcher
from .domain import PROFILES
from .projection import DeadlinesProjection
from .settings import NotifySettings


def create_app(settings: NotifySettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    clock = clock or Clock()
    calendar = WorkingCalendar()
    profile = PROFILES[settings.profile]

    async def start_clock(rt: Runtime, app: FastAPI) -> None:
        rt.spawn(run_dispatcher(rt, clock, settings.tick_seconds), "dispatcher")

    app = build_app(
        service="notify",
        title="Gongkai notify 期限与通知",
        settings=settings,
        routers=[router],
        projections=lambda rt: [DeadlinesProjection(profile, calendar)],
        clock=clock,
        on_start=start_clock,
    )
    app.state.calendar = calendar
    return app
