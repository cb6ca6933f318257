"""A service's runtime: its NATS connection, event store, database pool and background tasks.

Nothing connects at import time: ``start()`` is called from the app's lifespan, ``stop()`` on
shutdown. ``service_main`` gives every service the same command line: ``serve`` and ``migrate``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import structlog
from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError

from .db import PROJECTION_TABLE, create_pool, migrate
from .eventstore import EventStore, StreamMisconfigured, connect, stream_problems
from .logging import configure_logging
from .projection import Projection, ProjectionRunner
from .settings import ServiceSettings, weak_secret
from .staff import STAFF_TABLE
from .trust import EventSigner, KeyRing

log = structlog.get_logger(__name__)


class Runtime:
    def __init__(self, settings: ServiceSettings, service: str) -> None:
        self.settings = settings
        self.service = service
        self.schema = settings.db_schema or service
        self.store: EventStore
        self.pool: asyncpg.Pool
        self.runners: dict[str, ProjectionRunner] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self._starters: list[Callable[[], Awaitable[Any]]] = []
        self.nats_ok = False
        self.keyring: KeyRing
        # the durable consumers this service's reactions need, with the config to recreate them
        self.durables: dict[str, ConsumerConfig] = {}
        self.stream_problem: str | None = None
        self.consumer_problems: dict[str, str] = {}
        self.watch_seconds = 2.0
        # more readiness checks a service adds: each returns (name, ok, detail)
        self.extra_checks: list[Callable[[], tuple[str, bool, str]]] = []

    def signer(self) -> EventSigner:
        env = f"GONGKAI_{self.service.upper()}_SIGNING_KEY"
        if not self.settings.signing_key:
            raise StartupRefused(f"{env} is not set: this service cannot sign its events")
        try:
            return EventSigner.from_skey(self.service, self.settings.signing_key)
        except ValueError as e:
            raise StartupRefused(f"{env}: {e}") from None

    async def start(self) -> None:
        """Connect, then refuse to run against a weak stream or with an unregistered key."""
        signer = self.signer()
        for name, value in self.settings.secrets_to_check().items():
            if problem := weak_secret(value):
                raise StartupRefused(f"{name} {problem}: generate one (docs/security.md)")
        if not self.settings.root_key:
            raise StartupRefused("GONGKAI_ROOT_KEY (the operator's root verifier key) is not set")
        try:
            self.keyring = KeyRing(self.settings.root_key)
        except ValueError as e:  # a placeholder left in the ConfigMap: say so, no traceback
            raise StartupRefused(f"GONGKAI_ROOT_KEY: {e}") from None
        user = self.settings.nats_user or self.service
        nc = await connect(
            self.settings.nats_url, f"gongkai-{self.service}", user=user, password=self.settings.nats_password
        )
        self.store = EventStore(nc, self.settings.stream, signer)
        self.store.keyring = self.keyring
        try:
            await self.store.check_stream()
        except StreamMisconfigured as e:
            await nc.close()
            raise StartupRefused(str(e)) from None
        await self.keyring.ensure(self.store, await self.store.last_seq() + 1)
        if not any(k.ref == signer.ref for k in self.keyring.active(self.service)):
            await nc.close()
            raise StartupRefused(
                f"{self.service}'s signing key {signer.ref} is not registered in the log; "
                f"the operator registers it: gongkai keys register {self.service} '{signer.vkey}'"
            )
        self.pool = await create_pool(self.settings.database_url, self.schema)
        self.nats_ok = True
        self.spawn(self._watch(), "watch-stream")
        log.info("service_started", service=self.service, signing_key=signer.ref)

    def project(self, projection: Projection) -> ProjectionRunner:
        runner = ProjectionRunner(
            self.pool,
            self.store,
            projection,
            batch_max=self.settings.projection_batch_max,
        )
        self.runners[projection.name] = runner
        self.spawn(runner.run(), f"projection:{projection.name}")
        return runner

    def spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.append(task)
        return task

    async def stop(self) -> None:
        for runner in self.runners.values():
            runner.stop()
        for task in self._tasks:
            # cancel until done: a cancellation can be lost inside nats-py's next_msg
            # (Python 3.11's asyncio.wait_for race), so one cancel() is not enough
            while not task.done():
                task.cancel()
                await asyncio.wait([task], timeout=0.5)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if hasattr(self, "pool"):
            await self.pool.close()
        if hasattr(self, "store"):
            try:
                await self.store.nc.drain()
            except Exception as e:  # noqa: BLE001 — NATS already gone: nothing left to flush
                log.warning("nats_drain_failed", error=f"{type(e).__name__}: {e}")
                await self.store.nc.close()
        log.info("service_stopped", service=self.service)

    async def wait_for(self, seq: int | None, timeout: float = 10.0) -> bool:
        """Read-your-writes: wait until every projection of this service has applied ``seq``.

        A sequence the stream does not hold yet is not waited for (False at once): anyone may
        send ``min_seq``, and a number from the future must not hold a request for ``timeout``
        seconds per projection. The projections are waited for together, within ``timeout``."""
        if not seq:
            return True
        runners = list(self.runners.values())
        if all(r.position >= seq for r in runners):
            return True
        if seq > await self.store.last_seq():
            return False
        return all(await asyncio.gather(*(r.wait_for(seq, timeout) for r in runners)))

    # --- watching the stream and the consumers this service needs ----------------------------

    async def _watch(self) -> None:
        while True:
            try:
                await self.watch_once()
            except Exception as e:  # noqa: BLE001 — NATS unreachable: the nats check reports it
                self.stream_problem = f"cannot check the stream: {type(e).__name__}: {e}"
            await asyncio.sleep(self.watch_seconds)

    async def watch_once(self) -> None:
        """Stream gone, sealed, weakened or shorter than what was applied: not ready. A durable
        consumer that disappeared: not ready, and recreated from its recorded configuration."""
        js, stream = self.store.js, self.settings.stream
        try:
            info = await js.stream_info(stream)
        except NotFoundError:
            self.stream_problem = f"stream {stream} is gone"
            return
        problems = stream_problems(info.config, bool(info.config.sealed))
        applied = max((r.position for r in self.runners.values()), default=0)
        if info.state.last_seq < applied:
            ends = info.state.last_seq
            problems.append(f"history is missing: the stream ends at {ends}, {applied} were applied")
        self.stream_problem = f"stream {stream}: " + "; ".join(problems) if problems else None
        for durable, config in self.durables.items():
            try:
                await js.consumer_info(stream, durable)
                self.consumer_problems.pop(durable, None)
            except NotFoundError:
                self.consumer_problems[durable] = f"durable consumer {durable} is gone; recreating it"
                log.error("consumer_missing", durable=durable)
                await js.add_consumer(stream, config)

    def checks(self) -> Iterable[tuple[str, bool, str]]:
        yield "nats", self.nats_ok and self.store.nc.is_connected, ""
        yield "stream", self.stream_problem is None, self.stream_problem or ""
        for durable in self.durables:
            problem = self.consumer_problems.get(durable)
            yield f"consumer:{durable}", problem is None, problem or ""
        for name, r in self.runners.items():
            yield f"projection:{name}", r.healthy, f"{r.state} at {r.position} {r.last_error or ''}"
            if r.rejected:
                # an alert, not an outage: the forged events were parked and the projection runs on
                yield f"signatures:{name}", True, f"{r.rejected} event(s) refused, last: {r.last_rejected}"
        for task in self._tasks:  # a background loop that died is an outage, never silent
            if task.done() and not task.cancelled() and task.exception() is not None:
                yield f"task:{task.get_name()}", False, f"stopped: {task.exception()!r}"
        for check in self.extra_checks:
            yield check()

    def status(self) -> dict[str, Any]:
        return {
            name: {
                "state": r.state,
                "position": r.position,
                "failures": r.failures,
                "last_error": r.last_error,
                "stuck_at": r.failed_seq if not r.healthy else None,
            }
            for name, r in self.runners.items()
        }


class StartupRefused(Exception):
    """The service must not run as configured; the message says exactly why."""


async def run_migrations(settings: ServiceSettings, service: str, directory: Path) -> list[str]:
    schema = settings.db_schema or service
    applied = await migrate(settings.database_url, schema, directory)
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f"SET search_path = {schema}")
        await conn.execute(PROJECTION_TABLE)
        await conn.execute(STAFF_TABLE)  # every service knows the staff (staff.py)
    finally:
        await conn.close()
    return applied


async def _preflight(settings: ServiceSettings, service: str) -> None:
    runtime = Runtime(settings, service)
    try:
        await runtime.start()
    finally:
        await runtime.stop()


S = TypeVar("S", bound=ServiceSettings)


def service_main(
    service: str,
    settings_factory: Callable[[], S],
    app_factory: Callable[[S], Any],
    migrations: Path,
) -> None:
    parser = argparse.ArgumentParser(prog=f"gongkai-{service}")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the HTTP API and the projections")
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")
    sub.add_parser("migrate", help="apply this service's database migrations and exit")
    args = parser.parse_args()
    settings = settings_factory()
    configure_logging(settings.log_level)
    command = args.command or "serve"
    try:
        if command == "migrate" or getattr(args, "migrate", False):
            applied = asyncio.run(run_migrations(settings, service, migrations))
            log.info("migrations_done", service=service, applied=applied)
            if command == "migrate":
                return
    except (OSError, asyncpg.PostgresError) as e:
        print(f"gongkai-{service}: cannot migrate the database: {e}", file=sys.stderr)
        sys.exit(2)
    try:  # say plainly why it must not run, before serving anything
        asyncio.run(_preflight(settings, service))
    except (StartupRefused, ConnectionError, OSError, asyncpg.PostgresError) as e:
        print(f"gongkai-{service}: refusing to start: {e}", file=sys.stderr)
        sys.exit(2)
    import uvicorn

    uvicorn.run(
        app_factory(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
    )
