"""Publishing's composition root and table of contents (主动公开: the public catalogue).

Where things are: the rules (what an approval publishes, the refusal register's match, the
索引号 format) in ``domain.py``, pure; the reaction to ``review-approved`` in ``subscribers.py``;
the catalogue and the refusal register in ``projection.py`` (tables ``catalog_items``,
``refusal_register``, ``index_counters``, ``index_allocations``), read by ``queries.py``; the
public routes in ``api.py`` (JSON), ``pages.py`` (the column 政府信息公开) and
``feed.py`` (Atom). Publishing takes no commands: it reacts.
"""

from __future__ import annotations

from fastapi import FastAPI

from gongkai_shared.app import build_app
from gongkai_shared.clock import Clock
from gongkai_shared.contents import OnEvent, Route
from gongkai_shared.reactions import run_reactions
from gongkai_shared.runtime import Runtime

from . import api, domain, feed, pages, subscribers
from .api import router
from .projection import CatalogProjection
from .settings import PublishingSettings
from .subscribers import approvals

REACTIONS = (
    OnEvent(
        "foi.review.*.review-approved",
        subscribers.DURABLE,
        subscribers.on_review_approved,
        (domain.should_publish, domain.refused_by, domain.publish, domain.refuse),
        ("published", "publication-refused"),
    ),
)
ROUTES = (
    Route("GET", "/api/v1/catalog", api.list_catalog, "public"),
    Route("GET", "/api/v1/catalog/{index_number:path}", api.get_catalog_item, "public"),
    Route("GET", "/gongkai", pages.column, "public"),
    Route("GET", "/gongkai/search", pages.search, "public"),
    Route("GET", "/gongkai/item/{index_number:path}", pages.item, "public"),
    Route("GET", "/gongkai/feed.atom", feed.atom_feed, "public"),
)


def create_app(settings: PublishingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or PublishingSettings()
    clock = clock or Clock()

    async def start_reactions(rt: Runtime, app: FastAPI) -> None:
        rt.supervise("reactions", lambda: run_reactions(rt, [approvals(rt, settings, clock)]))

    app = build_app(
        service="publishing",
        title="Gongkai publishing 主动公开与公开目录",
        settings=settings,
        routers=[router, pages.router, feed.router],
        projections=lambda rt: [CatalogProjection()],
        clock=clock,
        on_start=start_reactions,
    )
    app.state.settings = settings  # the guide's contacts, the feed's address (pages, feed)
    return app
