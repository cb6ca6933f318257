"""The one local URL: a small reverse proxy in front of the four services.

``/api/v1/<resource>`` goes to the service that owns the resource; ``/<svc>/...`` goes to that
service with the prefix stripped (its ``/docs``, ``/readyz``, ``/metrics``). Bodies stream both
ways; status codes and headers pass through. A backend that is down gives a JSON 502.
"""

from __future__ import annotations

import asyncio
from html import escape
from urllib.parse import urlsplit

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

SERVICES = ("intake", "review", "publishing", "notify")

# Resource prefixes and the service that owns each (prefix kept when forwarding).
API_ROUTES: tuple[tuple[str, str], ...] = (
    ("/api/v1/applications", "intake"),
    ("/api/v1/cases", "review"),
    ("/api/v1/catalog", "publishing"),
    ("/api/v1/deadlines", "notify"),
    ("/api/v1/calendar", "notify"),
    ("/api/v1/notices", "notify"),
    ("/apply", "intake"),
    ("/track", "intake"),
    ("/static", "intake"),
)

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
}

SERVICE_TITLES = {
    "intake": "受理 Intake：申请登记",
    "review": "审查 Review：办理与答复",
    "publishing": "公开 Publishing：主动公开目录",
    "notify": "提醒 Notify：期限与工作日历",
}


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def route(path: str, referer: str | None = None) -> tuple[str, str, str] | None:
    """(service, path to forward, prefix stripped) for a request path, or None."""
    for prefix, svc in API_ROUTES:
        if _under(path, prefix):
            return svc, path, ""
    for svc in SERVICES:
        prefix = f"/{svc}"
        if _under(path, prefix):
            return svc, path[len(prefix) :] or "/", prefix
    # A service's Swagger page at /<svc>/docs fetches /openapi.json from the root.
    if path == "/openapi.json" and referer:
        ref_path = urlsplit(referer).path
        for svc in SERVICES:
            if _under(ref_path, f"/{svc}"):
                return svc, path, f"/{svc}"
    return None


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"status": status, "message": message}, status_code=status)


class Gateway:
    """ASGI app. ``backends`` maps a service name to its base URL (``http://127.0.0.1:port``)."""

    def __init__(self, backends: dict[str, str]) -> None:
        self.backends = backends
        self.client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.client = httpx.AsyncClient(
                    timeout=httpx.Timeout(120.0, connect=5.0), follow_redirects=False
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.client is not None:
                    await self.client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        if path == "/":
            return HTMLResponse(landing_page())
        if path == "/healthz":
            return JSONResponse({"status": "ok"})
        if path == "/readyz":
            return await self.readyz()
        target = route(path, request.headers.get("referer"))
        if target is None:
            return error(404, f"no service serves {path}")
        svc, forward_path, prefix = target
        base = self.backends.get(svc)
        if base is None:
            return error(502, f"service {svc} is not running")
        return await self.forward(request, svc, base, forward_path, prefix)

    async def forward(self, request: Request, svc: str, base: str, path: str, prefix: str) -> Response:
        assert self.client is not None
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        client_host = request.client.host if request.client else ""
        headers += [
            ("x-forwarded-for", client_host),
            ("x-forwarded-proto", request.url.scheme),
            ("x-forwarded-host", request.headers.get("host", "")),
        ]
        if prefix:
            headers.append(("x-forwarded-prefix", prefix))
        has_body = request.method not in ("GET", "HEAD", "OPTIONS", "DELETE") or (
            "content-length" in request.headers or "transfer-encoding" in request.headers
        )
        upstream = self.client.build_request(
            request.method,
            base + path + (f"?{request.url.query}" if request.url.query else ""),
            headers=headers,
            content=request.stream() if has_body else None,
        )
        try:
            response = await self.client.send(upstream, stream=True)
        except httpx.TimeoutException:
            return error(504, f"service {svc} did not answer in time")
        except httpx.HTTPError as exc:
            return error(502, f"service {svc} is unavailable ({type(exc).__name__})")
        proxied = StreamingResponse(
            response.aiter_raw(),
            status_code=response.status_code,
            background=BackgroundTask(response.aclose),
        )
        # Keep repeated headers (Set-Cookie); rewrite redirects that point at the backend.
        proxied.raw_headers = [
            (name, self._location(value, base, prefix) if name == b"location" else value)
            for name, value in ((k.lower(), v) for k, v in response.headers.raw)
            if name.decode("latin-1") not in HOP_BY_HOP
        ]
        return proxied

    @staticmethod
    def _location(value: bytes, base: str, prefix: str) -> bytes:
        location = value.decode("latin-1")
        if location.startswith(base):
            location = location[len(base) :] or "/"
            if prefix and not location.startswith("/api/"):
                location = prefix + location
        return location.encode("latin-1")

    async def readyz(self) -> JSONResponse:
        assert self.client is not None
        client = self.client

        async def check(svc: str) -> tuple[str, bool]:
            base = self.backends.get(svc)
            if base is None:
                return svc, False
            try:
                return svc, (await client.get(base + "/readyz", timeout=3.0)).status_code == 200
            except httpx.HTTPError:
                return svc, False

        results = dict(await asyncio.gather(*(check(s) for s in SERVICES)))
        ok = all(results.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "services": results},
            status_code=200 if ok else 503,
        )


def landing_page() -> str:
    items = "\n".join(
        f'      <li><a href="/{svc}/docs">{escape(title)}</a> · <a href="/{svc}/readyz">状态</a></li>'
        for svc, title in SERVICE_TITLES.items()
    )
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>政府信息公开 Gongkai</title>
  <style>
    body {{ font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif;
           max-width: 42rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.6; color: #222; }}
    h1 {{ color: #b71c1c; }}
    a {{ color: #0d47a1; }}
  </style>
</head>
<body>
  <h1>政府信息公开 Gongkai</h1>
  <p>依申请公开与主动公开的办理系统（本地运行）。</p>
  <h2>申请人</h2>
  <p><a href="/apply">提交政府信息公开申请</a> · <a href="/track">查询办理进度</a></p>
  <h2>公开目录</h2>
  <p><a href="/api/v1/catalog">政府信息公开目录 /api/v1/catalog</a></p>
  <h2>服务接口文档</h2>
  <ul>
{items}
  </ul>
  <p><a href="/readyz">整体就绪状态</a></p>
</body>
</html>
"""
