"""Intake's composition root and table of contents (受理: applications in, tracking out).

Where things are: the rules (what an application is, its receipt date, the key a submission
derives its case and tracking code from, withdrawal) in ``domain.py``, pure; the JSON routes in
``api.py``, the applicant's downloads by tracking code (letters as PDF, the answer's documents) in
``downloads.py``, the applicant's pages in ``pages.py``; the applicant-safe view of each case in
``projection.py`` (tables ``applications``, ``application_history``), read by ``queries.py``;
per-client limits in ``ratelimit.py``. Intake has no reactions: it only appends
``request-received`` and ``withdrawal-requested``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from gongkai_shared.app import build_app
from gongkai_shared.clock import Clock
from gongkai_shared.contents import Route

from . import api, domain, downloads, pages
from .projection import ApplicationsProjection
from .ratelimit import Rate, RateLimits
from .settings import IntakeSettings

APPLICATIONS = "/api/v1/applications"
ROUTES = (
    # commands: input model -> rule (domain.py) -> one event
    Route("POST", APPLICATIONS, api.apply, "public (rate-limited)", domain.Apply, domain.receive),
    Route("POST", f"{APPLICATIONS}/registered", api.register, "registrar (staff)",
          domain.Registration, domain.receive),
    Route("POST", f"{APPLICATIONS}/{{tracking_code}}/withdrawal", api.withdraw,
          "whoever holds the tracking code (rate-limited)", api.Withdrawal, domain.request_withdrawal),
    Route("POST", "/api/v1/identity-proofs", api.upload_identity_proof,
          "public (rate-limited): an identity proof, stored encrypted (Art. 29)", domain.FileRef,
          domain.check_identity_proof),
    Route("POST", "/apply", pages.submit_form, "public (rate-limited)", domain.Apply, domain.receive),
    # reads
    Route("GET", f"{APPLICATIONS}/{{tracking_code}}", api.track, "whoever holds the tracking code"),
    # the applicant's letters (PDF, text) and the answer's disclosed documents (downloads.py)
    Route("GET", f"{APPLICATIONS}/{{tracking_code}}/letters", downloads.list_downloads,
          "whoever holds the tracking code (rate-limited)"),
    Route("GET", f"{APPLICATIONS}/{{tracking_code}}/letters/{{filename}}", downloads.get_letter,
          "whoever holds the tracking code (rate-limited)"),
    Route("GET", f"{APPLICATIONS}/{{tracking_code}}/documents/{{filename}}", downloads.get_document,
          "whoever holds the tracking code (rate-limited): only this case's answer documents"),
    Route("GET", "/apply", pages.application_form, "public"),
    Route("GET", "/track", pages.track_form, "public"),
    Route("GET", "/track/{code}", pages.track_page, "whoever holds the tracking code"),
)  # fmt: skip


def create_app(settings: IntakeSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    app = build_app(
        service="intake",
        title="Gongkai intake 申请受理",
        settings=settings,
        routers=[api.router, downloads.router, api.uploads, pages.router],
        projections=lambda rt: [ApplicationsProjection()],
        clock=clock,
        migrations=Path(__file__).parent / "migrations",
    )
    app.state.settings = settings
    rates = {"applications": settings.rate_applications, "lookups": settings.rate_lookups}
    app.state.rate_limits = RateLimits(
        {kind: Rate.parse(rate) for kind, rate in rates.items()}, settings.trusted_proxies
    )
    return app
