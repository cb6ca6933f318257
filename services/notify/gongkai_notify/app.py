"""Notify's composition root: the clock projection, its three background loops and the routes.

Nothing connects at import time. The loops are plain ``async def`` functions that raise on
failure; ``Runtime.spawn`` runs them, and a loop that stopped shows in readiness.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from gongkai_shared.app import build_app
from gongkai_shared.calendar_store import CalendarCache
from gongkai_shared.clock import Clock
from gongkai_shared.profiles import profile
from gongkai_shared.runtime import Runtime

from . import api, calendar_api
from .delivery import run_delivery
from .dispatcher import run_dispatcher
from .projection import ClockProjection
from .recompute import run_recompute
from .settings import NotifySettings

# What a rebuild must not lose (rebuild.py, carry): the notices a replay does not write again
# (older than notice_max_age_hours) with their deliveries, the leases of deliveries being sent,
# and the deadline events the dispatcher appended that the projection has not applied yet.
CARRIED = (
    "LOCK TABLE {old}.notices, {old}.deliveries, {old}.deadlines IN EXCLUSIVE MODE",
    "INSERT INTO {new}.notices SELECT * FROM {old}.notices ON CONFLICT DO NOTHING",
    "INSERT INTO {new}.deliveries SELECT * FROM {old}.deliveries ON CONFLICT DO NOTHING",
    "UPDATE {new}.deliveries n SET lease_until = o.lease_until, lease_owner = o.lease_owner"
    " FROM {old}.deliveries o WHERE n.delivery_id = o.delivery_id AND o.lease_until IS NOT NULL",
    "UPDATE {new}.deadlines n SET pending_event_id = o.pending_event_id FROM {old}.deadlines o"
    " WHERE n.deadline_id = o.deadline_id AND n.pending_event_id IS NULL AND o.pending_event_id IS NOT NULL",
)


def create_app(settings: NotifySettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    clock = clock or Clock()
    profile(settings.profile)  # an unknown profile fails at start, not at the first case
    calendars = CalendarCache()

    async def start_loops(rt: Runtime, app: FastAPI) -> None:
        dispatcher_calendars = CalendarCache()
        rt.supervise(
            "dispatcher",
            lambda: run_dispatcher(
                rt, clock, settings.tick_seconds, warn_days=settings.warn_days, calendars=dispatcher_calendars
            ),
        )
        rt.supervise("delivery", lambda: run_delivery(rt.pool, rt.store, settings, clock))
        rt.supervise("recompute", lambda: run_recompute(rt.pool, settings))

    app = build_app(
        service="notify",
        title="Gongkai notify 期限与通知",
        settings=settings,
        routers=[api.router, calendar_api.router],
        projections=lambda rt: [ClockProjection(settings, clock, CalendarCache())],
        clock=clock,
        migrations=Path(__file__).parent / "migrations",
        carry=CARRIED,
        on_start=start_loops,
    )
    app.state.calendars = calendars
    app.state.settings = settings
    return app
