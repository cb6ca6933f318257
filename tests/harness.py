"""The four services in the test process, on a real nats-server and PostgreSQL.

Each service is its own FastAPI app with its own runtime (connection, pool, projections),
started and stopped through its lifespan, so a test can restart one service mid-flow.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from gongkai_shared.auth import Role, issue_token
from gongkai_shared.clock import Clock
from gongkai_shared.runtime import Runtime, run_migrations
from tests.servers import NatsServer, service_dsn

SECRET = "test-secret-" + "x" * 40
TRACKING_SECRET = "test-tracking-" + "y" * 40


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

    def settings(self, service: str, **overrides: Any) -> Any:
        cls, _ = _service(service)
        values = {
            **self.nats.service_settings(service),
            "database_url": service_dsn(self.database_url, service),  # its own role, not the superuser
            "auth_secret": SECRET,
            **({"tracking_secret": TRACKING_SECRET} if service == "intake" else {}),
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
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
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

    def runtime(self, service: str) -> Runtime:
        return self.apps[service].state.runtime

    async def settle(self, timeout: float = 15.0) -> None:
        """Wait until every running service's projections reached the stream's last event."""
        any_rt = next(iter(self.apps.values())).state.runtime
        last = await any_rt.store.last_seq()
        for name in self.apps:
            assert await self.runtime(name).wait_for(last, timeout), f"{name} did not reach {last}"

    @staticmethod
    def token(role: Role | str, name: str | None = None) -> dict[str, str]:
        role = Role(role)
        return {"Authorization": f"Bearer {issue_token(SECRET, name or role.value, role)}"}
