"""Publishing's composition root and table of contents (主动公开: the public catalogue).

Where things are: the rules (what an approval publishes, the refusal register's match, the
索引号 format) in ``domain.py``, pure; the reaction to ``review-approved`` in ``subscribers.py``;
the catalogue and the refusal register in ``projection.py`` (tables ``catalog_items``,
``refusal_register``, ``index_counters``, ``index_allocations``), read by ``queries.py``; the
public routes in ``api.py``. Publishing takes no commands: it reacts.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from gongkai_shared.app import build_app
from gongkai_shared.clock import Clock
from gongkai_shared.contents import OnEvent, Route
from gongkai_shared.reactions import run_reactions
from gongkai_shared.runtime import Runtime

from . import api, domain, events_api, subscribers
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
# What a rebuild must not lose (rebuild.py, carry): an index number allocated but whose
# ``published`` event is not in the log yet lives only here; a retried reaction finds it again,
# and the counter never hands out a number already allocated (locked while copied).
CARRIED = (
    "LOCK TABLE {old}.index_counters, {old}.index_allocations IN EXCLUSIVE MODE",
    "INSERT INTO {new}.index_allocations SELECT * FROM {old}.index_allocations ON CONFLICT DO NOTHING",
    "INSERT INTO {new}.index_counters AS c SELECT * FROM {old}.index_counters"
    " ON CONFLICT (agency_code, year) DO UPDATE SET last_seq = GREATEST(c.last_seq, EXCLUDED.last_seq)",
)
ROUTES = (
    Route("GET", "/api/v1/catalog", api.list_catalog, "public"),
    Route("GET", "/api/v1/catalog/{index_number:path}", api.get_catalog_item, "public"),
    # the public events' contract for other agencies (gongkai_shared.public_events)
    Route("GET", "/api/v1/events/asyncapi.json", events_api.get_asyncapi, "public"),
    Route("GET", "/api/v1/events/schemas", events_api.list_schemas, "public"),
    Route("GET", "/api/v1/events/schemas/{name}.json", events_api.get_schema, "public"),
    Route("GET", "/api/v1/events/keys", events_api.list_keys, "public"),
)


def create_app(settings: PublishingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or PublishingSettings()
    clock = clock or Clock()

    async def start_reactions(rt: Runtime, app: FastAPI) -> None:
        rt.supervise("reactions", lambda: run_reactions(rt, [approvals(rt, settings, clock)]))

    return build_app(
        service="publishing",
        title="Gongkai publishing 主动公开与公开目录",
        settings=settings,
        routers=[router, events_api.router],
        projections=lambda rt: [CatalogProjection()],
        clock=clock,
        migrations=Path(__file__).parent / "migrations",
        carry=CARRIED,
        on_start=start_reactions,
    )
