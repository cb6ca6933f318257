"""Publishing's composition root and table of contents (政府信息与主动公开: documents, the catalogue).

Where things are: the rules (documents' registration, 保密审查, 签发, amendment, repeal; what a
signature releases; Art. 44 decisions; the refusal register's bar; the 索引号) in ``domain.py``,
pure; the staff commands in ``documents_api.py`` (``/api/v1/information``, ``/api/v1/publications``)
with their reads in ``records.py``; the reactions that publish in ``subscribers.py`` (index
numbers taken in the log); the projection in ``projection.py`` (documents, catalogue, register);
the public catalogue in ``api.py`` read by ``queries.py`` (with the files of published items,
from the object store); the public pages in
``pages.py`` (the column 政府信息公开) and ``feed.py`` (Atom), read by ``queries.py`` too.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from gongkai_shared.app import build_app
from gongkai_shared.clock import Clock
from gongkai_shared.contents import OnEvent, Route
from gongkai_shared.reactions import run_reactions
from gongkai_shared.runtime import Runtime

from . import api, documents_api, domain, events_api, feed, pages, subscribers
from .api import router
from .documents_api import information, publications
from .projection import CatalogProjection
from .settings import PublishingSettings

REACTIONS = (
    OnEvent(
        "foi.publishing.*.document-signed",
        subscribers.ON_SIGNED,
        subscribers.on_document_signed,
        (domain.release_group, domain.needs_release, domain.standing_blocks, domain.next_index_seq,
         domain.catalogue_item, domain.refusal_body),
        ("index-number-assigned", "published", "amended", "publication-refused"),
    ),
    OnEvent(
        "foi.publishing.*.publication-decided",
        subscribers.ON_DECIDED,
        subscribers.on_publication_decided,
        (domain.standing_blocks, domain.next_index_seq, domain.catalogue_item, domain.refusal_body),
        ("index-number-assigned", "published", "publication-refused"),
    ),
)  # fmt: skip
# What a rebuild carries over (rebuild.py, carry): the index tables are filled from the log
# (``index-number-assigned``); they are copied with the counter never lowered, as a safety net.
CARRIED = (
    "LOCK TABLE {old}.index_counters, {old}.index_allocations IN EXCLUSIVE MODE",
    "INSERT INTO {new}.index_allocations SELECT * FROM {old}.index_allocations ON CONFLICT DO NOTHING",
    "INSERT INTO {new}.index_counters AS c SELECT * FROM {old}.index_counters"
    " ON CONFLICT (agency_code, year) DO UPDATE SET last_seq = GREATEST(c.last_seq, EXCLUDED.last_seq)",
)
D = documents_api
ROUTES = (
    Route("GET", "/api/v1/catalog", api.list_catalog, "public"),
    Route("GET", "/api/v1/catalog/{index_number:path}", api.get_catalog_item, "public"),
    Route("GET", "/api/v1/catalog/{index_number:path}/files/{filename}", api.get_item_file,
          "public: only a file of a version published under that index number"),
    # the public events' contract for other agencies (gongkai_shared.public_events)
    Route("GET", "/api/v1/events/asyncapi.json", events_api.get_asyncapi, "public"),
    Route("GET", "/api/v1/events/schemas", events_api.list_schemas, "public"),
    Route("GET", "/api/v1/events/schemas/{name}.json", events_api.get_schema, "public"),
    Route("GET", "/api/v1/events/keys", events_api.list_keys, "public"),
    # a document's files: uploaded first (public, unencrypted), then named in metadata.files,
    # which registration and amendment check against the store
    Route("POST", "/api/v1/information/files", D.upload_file, "handler", domain.FileRef,
          domain.check_files),
    Route("POST", "/api/v1/information/documents", D.register_document, "handler",
          domain.RegisterDocument, domain.register_document),
    Route("GET", "/api/v1/information/documents/{document_id}", D.get_document, "staff"),
    Route("POST", "/api/v1/information/documents/{document_id}/review", D.review_document, "reviewer",
          domain.ReviewDocument, domain.review_document),
    Route("POST", "/api/v1/information/documents/{document_id}/sign", D.sign_document, "approver",
          domain.SignDocument, domain.sign_document),
    Route("POST", "/api/v1/information/documents/{document_id}/amendment", D.amend_document, "handler",
          domain.AmendDocument, domain.amend_document),
    Route("POST", "/api/v1/information/documents/{document_id}/repeal", D.repeal_document,
          "handler, approver", domain.RepealDocument, domain.repeal_document),
    Route("POST", "/api/v1/publications", D.decide_publication, "reviewer, approver",
          domain.DecidePublication, domain.decide_publication),
    Route("GET", "/gongkai", pages.column, "public"),
    Route("GET", "/gongkai/search", pages.search, "public"),
    Route("GET", "/gongkai/item/{index_number:path}", pages.item, "public"),
    Route("GET", "/gongkai/feed.atom", feed.atom_feed, "public"),
)  # fmt: skip


def create_app(settings: PublishingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or PublishingSettings()
    clock = clock or Clock()

    async def start_reactions(rt: Runtime, app: FastAPI) -> None:
        rt.supervise("reactions", lambda: run_reactions(rt, subscribers.reactions(rt, settings, clock)))

    app = build_app(
        service="publishing",
        title="Gongkai publishing 主动公开与公开目录",
        settings=settings,
        routers=[router, information, publications, events_api.router, pages.router, feed.router],
        projections=lambda rt: [CatalogProjection()],
        clock=clock,
        migrations=Path(__file__).parent / "migrations",
        carry=CARRIED,
        on_start=start_reactions,
    )
    app.state.settings = settings  # the guide's contacts, the feed's address (pages, feed)
    return app
