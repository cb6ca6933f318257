"""API documentation pages with local assets: no CDN, and no inline script.

FastAPI's own ``/docs`` loads Swagger UI from a CDN (blank on an intranet) and starts it with an
inline ``<script>``, which the edge's Content-Security-Policy (``script-src 'self'``) refuses.
Here ``/docs`` is a small page whose stylesheet and scripts are files of the service itself:
Swagger UI from the ``fastapi-offline`` wheel under ``/docs/assets/``, and ``/docs/init.js``.
Every URL in the page is relative, so the page works at ``/docs`` on the service's own port and
at ``/<service>/docs`` behind Caddy or the Ingress (which strip the prefix).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"

_INIT_JS = """\
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,  // never ask validator.swagger.io about our schema
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
"""


def docs_page(title: str) -> str:
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} - API</title>
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
<link rel="icon" href="docs/assets/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI), ``/docs/init.js`` and ``/docs/assets/``; build the app with
    ``docs_url=None, redoc_url=None`` so FastAPI's CDN pages are not registered."""
    page = docs_page(app.title)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/docs/init.js", include_in_schema=False)
    async def docs_init() -> Response:
        return Response(_INIT_JS, media_type="text/javascript")

    app.mount("/docs/assets", StaticFiles(directory=ASSETS), name="docs-assets")
