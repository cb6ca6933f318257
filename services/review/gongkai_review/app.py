"""Review's composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from gongkai_shared.app import build_app
from gongkai_shared.calendar_store import CalendarCache
from gongkai_shared.clock import Clock
from gongkai_shared.reactions import run_reactions
from gongkai_shared.runtime import Runtime
from gongkai_shared.tlog import TileCache

from .api import router
from .appeals_api import router as appeals_router
from .audit_api import router as audit_router
from .files_api import router as files_router
from .letters_api import router as letters_router
from .oidc import pages as oidc_pages
from .projection import CasesProjection
from .proofs_api import router as proofs_router
from .refusals_api import router as refusals_router
from .reports_api import router as reports_router
from .settings import ReviewSettings
from .staff_api import pages as staff_pages
from .staff_api import router as staff_router
from .subscribers import withdrawals


def create_app(settings: ReviewSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or ReviewSettings()
    clock = clock or Clock()
    calendar = CalendarCache()  # the loaded years, as review's projection keeps them

    async def start_reactions(rt: Runtime, app: FastAPI) -> None:
        rt.supervise("reactions", lambda: run_reactions(rt, [withdrawals(rt, clock, calendar)]))

    app = build_app(
        service="review",
        title="Gongkai review 依申请公开办理",
        settings=settings,
        routers=[
            router,
            letters_router,
            files_router,
            appeals_router,
            reports_router,
            refusals_router,
            staff_router,
            staff_pages,
            oidc_pages,
            audit_router,
            proofs_router,
        ],
        projections=lambda rt: [CasesProjection()],
        clock=clock,
        migrations=Path(__file__).parent / "migrations",
        on_start=start_reactions,
    )
    app.state.settings = settings
    app.state.calendars = calendar
    app.state.proof_tiles = TileCache()  # the log's tile hashes, for auditors' proofs (proofs_api)
    return app
