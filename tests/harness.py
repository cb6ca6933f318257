"""The four services in the test process, on a real nats-server and PostgreSQL.

Each service is its own FastAPI app with its own runtime (connection, pool, projections),
started and stopped through its lifespan, so a test can restart one service mid-flow.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from gongkai_shared.auth import Role, TokenKind, issue_token
from gongkai_shared.clock import Clock
from gongkai_shared.envelope import Actor
from gongkai_shared.events import make_event
from gongkai_shared.eventstore import EventStore
from gongkai_shared.runtime import Runtime, run_migrations
from gongkai_shared.staff import StaffRoleGranted, StaffUserAdded, aggregate_of
from tests.servers import NatsServer, service_dsn

SECRET = "test-secret-" + "x" * 40
TRACKING_SECRET = "test-tracking-" + "y" * 40
FILES_KEY = "dGVzdC1maWxlcy1rZXktMzItYnl0ZXMtbG9uZy4uLi4="  # 32 bytes, base64
HANDLERS_DEPARTMENT = "办公室"  # the department of a handler a test names
STAFF_TOKENS: dict[str, tuple[str, Role]] = {}  # token -> (the staff member's name, the role asked)


async def ensure_staff(
    request: httpx.Request, nats: NatsServer, known: dict[str, set[Role]], apps: Any
) -> None:
    """Before a request: the staff member its token names exists and holds the role the test
    asked for, and every running app's staff projection has applied that (an httpx hook)."""
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    if token not in STAFF_TOKENS:
        return
    name, role = STAFF_TOKENS[token]
    if role in known.get(name, set()):
        return
    store = await nats.writer("review")
    try:
        await add_staff(store, name, {role}, known=name in known)
        known.setdefault(name, set()).add(role)
        last = await store.last_seq()
    finally:
        await store.nc.close()
    # one replica of a service applies its projections (the others stand by on the same tables)
    runners: dict[str, list[Any]] = {}
    for app in apps:
        rt = app.state.runtime
        runners.setdefault(rt.service, []).append(rt.runners[f"{rt.service}.staff"])
    for replicas in runners.values():
        async with asyncio.timeout(10):
            while max(r.position for r in replicas) < last:  # noqa: ASYNC110 — bounded
                await asyncio.sleep(0.01)


def staff_id(name: str) -> str:
    """A staff member's user id in tests: stable per name, so ``token(role, "甲")`` is one person."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"gongkai-test-staff:{name}"))


async def add_staff(store: EventStore, name: str, roles: set[Role], *, known: bool) -> None:
    """Add the account (or grant it more roles) as an administrator would, through the log."""
    user_id, admin = staff_id(name), Actor(id="operator", role="admin")
    aggregate = aggregate_of(user_id)
    department = HANDLERS_DEPARTMENT if Role.handler in roles else None
    added = StaffUserAdded(
        user_id=user_id, login=name, display_name=name, roles=sorted(roles), department=department
    )
    bodies = [added] if not known else [StaffRoleGranted(user_id=user_id, role=r) for r in sorted(roles)]
    for body in bodies:
        last = await store.last_event(aggregate)
        await store.append(
            make_event(body, aggregate_id=aggregate, actor=admin), "review", last.seq if last else 0
        )


def _service(name: str) -> tuple[Any, Any]:
    """(settings class, app factory) of a service, imported when first needed."""
    import importlib

    settings_mod = importlib.import_module(f"gongkai_{name}.settings")
    app_mod = importlib.import_module(f"gongkai_{name}.app")
    return getattr(settings_mod, f"{name.capitalize()}Settings"), app_mod.create_app


def migrations_of(service: str):  # noqa: ANN201
    import importlib
    from pathlib import Path

    mod = importlib.import_module(f"gongkai_{service}")
    return Path(mod.__file__).parent / "migrations"


class System:
    def __init__(self, nats: NatsServer, database_url: str, clock: Clock | None = None, **extra: Any):
        self.nats, self.nats_url, self.database_url = nats, nats.url, database_url
        self.clock = clock or Clock()
        self.extra = extra
        self.apps: dict[str, Any] = {}
        self.clients: dict[str, httpx.AsyncClient] = {}
        self._stacks: dict[str, AsyncExitStack] = {}
        self._staff: dict[str, set[Role]] = {}  # the staff accounts this system's log holds

    def settings(self, service: str, **overrides: Any) -> Any:
        cls, _ = _service(service)
        values = {
            **self.nats.service_settings(service),
            "database_url": service_dsn(self.database_url, service),  # its own role, not the superuser
            "auth_secret": SECRET,
            **({"tracking_secret": TRACKING_SECRET} if service == "intake" else {}),
            **({"files_key": FILES_KEY} if service in ("intake", "review") else {}),
            **({"reconsideration_body": "某市人民政府"} if service == "review" else {}),
        }
        return cls(**{**values, **self.extra.get(service, {}), **overrides})

    async def start(self, *services: str) -> System:
        for name in services or ("intake", "review", "publishing", "notify"):
            settings = self.settings(name)
            await run_migrations(settings, name, migrations_of(name))
            _, factory = _service(name)
            app = factory(settings, clock=self.clock)
            stack = AsyncExitStack()
            await stack.enter_async_context(LifespanManager(app, startup_timeout=30, shutdown_timeout=30))
            client = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app),
                    base_url="http://test",
                    event_hooks={"request": [self._ensure_staff]},
                )
            )
            self.apps[name], self.clients[name], self._stacks[name] = app, client, stack
        return self

    async def stop(self, *services: str) -> None:
        for name in services or list(self._stacks):
            stack = self._stacks.pop(name)
            await stack.aclose()
            self.apps.pop(name), self.clients.pop(name)

    async def restart(self, *services: str) -> None:
        await self.stop(*services)
        await self.start(*services)

    async def serve_http(self, service: str) -> str:
        """Serve a running service on a loopback port (for a real HTTP client such as the
        ``gongkai`` command line); stopped with the service. Its URL."""
        import uvicorn

        from tests.servers import free_port

        port = free_port()
        config = uvicorn.Config(
            self.apps[service], host="127.0.0.1", port=port, lifespan="off", log_level="warning"
        )
        server = uvicorn.Server(config)
        task = asyncio.ensure_future(server.serve())

        async def stop() -> None:
            server.should_exit = True
            await task

        self._stacks[service].push_async_callback(stop)
        while not server.started:
            assert not task.done(), "the HTTP server did not start"
            await asyncio.sleep(0.02)
        return f"http://127.0.0.1:{port}"

    def runtime(self, service: str) -> Runtime:
        return self.apps[service].state.runtime

    async def settle(self, timeout: float = 15.0) -> None:
        """Wait until every running service's projections reached the stream's last event."""
        any_rt = next(iter(self.apps.values())).state.runtime
        last = await any_rt.store.last_seq()
        for name in self.apps:
            await self.runtime(name).wait_for(last, timeout)  # raises naming the projection behind

    @staticmethod
    def token(role: Role | str, name: str | None = None) -> dict[str, str]:
        """A token for the staff member called ``name`` (default: the role's name) holding
        ``role``. Tests name people; the account is added (or granted the role) through the
        log before the request that carries the token is sent (see ``_ensure_staff``)."""
        role = Role(role)
        name = name or role.value
        token = issue_token(SECRET, staff_id(name), TokenKind.api, timedelta(hours=2))
        STAFF_TOKENS[token] = (name, role)
        return {"Authorization": f"Bearer {token}"}

    async def _ensure_staff(self, request: httpx.Request) -> None:
        await ensure_staff(request, self.nats, self._staff, self.apps.values())
