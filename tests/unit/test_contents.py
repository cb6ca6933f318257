"""A service's table of contents (``app.py``) is the truth about what it serves: every route the
app serves that is not operations or documentation is a row, served by the row's endpoint, and
every row is served; a command row names an input model and a pure rule of its domain.py."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from fastapi.routing import APIRoute

from gongkai_shared.contents import OnEvent

SERVICES = ["intake", "publishing"]


def own_routes(service: str) -> dict[tuple[str, str], object]:
    """(method, path) -> endpoint of the service's own routes (not the shared ops and docs)."""
    app = importlib.import_module(f"gongkai_{service}.app").create_app()
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI's flattened view of included routers
    except ImportError:  # older FastAPI: included routes are copied into app.routes
        routes: list[Any] = [r for r in app.routes if isinstance(r, APIRoute)]
    else:
        routes = list(iter_route_contexts(app.routes))
    out = {}
    for route in routes:
        endpoint = getattr(route, "endpoint", None)
        if endpoint is not None and endpoint.__module__.startswith(f"gongkai_{service}."):
            for method in set(route.methods or ()) - {"HEAD"}:
                out[(method, route.path)] = endpoint
    return out


@pytest.mark.parametrize("service", SERVICES)
def test_the_table_of_contents_lists_exactly_the_routes_served(service: str) -> None:
    table = importlib.import_module(f"gongkai_{service}.app").ROUTES
    served = own_routes(service)
    rows = {(r.method, r.path): r.endpoint for r in table}
    assert len(rows) == len(table), "a route is listed twice"
    assert rows == served


@pytest.mark.parametrize("service", SERVICES)
def test_every_rule_in_the_table_is_a_function_of_the_domain(service: str) -> None:
    app = importlib.import_module(f"gongkai_{service}.app")
    rules = [r.rule for r in app.ROUTES if r.rule is not None]
    rules += [rule for reaction in getattr(app, "REACTIONS", ()) for rule in reaction.rules]
    assert rules or service == "publishing"
    for rule in rules:
        assert rule.__module__ == f"gongkai_{service}.domain", rule
    for r in app.ROUTES:
        assert (r.method == "POST") == (r.rule is not None and r.input is not None), r


def test_publishings_reaction_rows_are_the_ones_it_runs() -> None:
    from gongkai_publishing import app, subscribers
    from gongkai_publishing.settings import PublishingSettings
    from gongkai_shared.clock import Clock
    from gongkai_shared.events import REGISTRY

    running = subscribers.reactions(None, PublishingSettings(), Clock())  # type: ignore[arg-type]
    assert [(r.subject, r.durable) for r in app.REACTIONS] == [(r.subject, r.durable) for r in running]
    written = {cls.name for cls in REGISTRY.values() if cls.context == "publishing"}
    for row in app.REACTIONS:
        assert isinstance(row, OnEvent)
        assert set(row.appends) <= written


def test_art_44_no_publication_at_sign_off() -> None:
    """Art. 44: publishing no longer reacts to review's sign-off (``review-approved``)."""
    from gongkai_publishing import app

    assert not any("review-approved" in r.subject for r in app.REACTIONS)
