"""A service's runtime: its NATS connection, event store, database pool and background tasks.

Nothing connects at import time: ``start()`` is called from the app's lifespan, ``stop()`` on
shutdown. ``service_main`` gives every service the same command line: ``serve`` and ``migrate``.

Every background task runs under the runtime's supervisor (``supervise``): a task that raises
is counted (``gongkai_task_failures_total``), its error shown in ``/readyz``'s detail and the
status page, and it is started again after a growing delay. Readiness (``checks``) says whether
the pod can serve: NATS, the database, the stream. The health of projections, reactions and
tasks (``health``) is reported beside it and never takes the pod out of the Service.
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
from prometheus_client import Counter, Gauge

from .db import PROJECTION_TABLE, create_pool, migrate
from .eventstore import EventStore, StreamMisconfigured, connect, stream_problems
from .logging import configure_logging
from .positions import BeyondLog, PositionBoard, ProjectionBehind, ProjectionStopped
from .projection import Projection, ProjectionRunner
from .settings import ServiceSettings, weak_secret
from .staff import STAFF_TABLE
from .trust import EventSigner, KeyRing

log = structlog.get_logger(__name__)

TASK_FAILURES = Counter("gongkai_task_failures_total", "Background task failures (restarted)", ["task"])
LAG = Gauge(
    "gongkai_projection_lag", "Events in the stream not yet applied by the projection", ["projection"]
)


class Supervised:
    """A background task the runtime restarts with backoff when it raises."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failures = 0
        self.last_error: str | None = None
        self.failed_at: float | None = None  # monotonic
        self.state = "running"

    @property
    def healthy(self) -> bool:
        return self.state == "running"

    def detail(self) -> str:
        if self.last_error is None:
            return self.state
        return f"{self.state}, {self.failures} failure(s), last: {self.last_error}"


class Runtime:
    def __init__(self, settings: ServiceSettings, service: str) -> None:
        self.settings = settings
        self.service = service
        self.schema = settings.db_schema or service
        self.store: EventStore
        self.pool: asyncpg.Pool
        self.runners: dict[str, ProjectionRunner] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self.supervised: dict[str, Supervised] = {}
        self._stopping = False
        self.db_problem: str | None = None
        self.last_seq = 0  # the stream's last sequence when last watched (for the lag)
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
        if problem := missing_setting(self.settings):
            raise StartupRefused(problem)
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
        self.board = PositionBoard(self.pool, self.schema, self.runners)
        self.nats_ok = True
        self.supervise("watch-stream", self._watch)
        self.supervise("positions", self.board.run)
        log.info("service_started", service=self.service, signing_key=signer.ref)

    def project(self, projection: Projection) -> ProjectionRunner:
        runner = ProjectionRunner(
            self.pool,
            self.store,
            projection,
            batch_max=self.settings.projection_batch_max,
        )
        self.runners[projection.name] = runner
        self.supervise(f"projection:{projection.name}", runner.run)
        return runner

    def spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        """A task stopped with the runtime; background loops use ``supervise``."""
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.append(task)
        return task

    def supervise(
        self,
        name: str,
        start: Callable[[], Awaitable[Any]],
        *,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> Supervised:
        """Run ``start()`` until the runtime stops; when it raises (or returns), count it, keep
        its error, and start it again after a delay that doubles up to ``max_backoff`` (back to
        ``backoff`` once it ran for ``max_backoff`` seconds without failing)."""
        entry = self.supervised[name] = Supervised(name)

        async def loop() -> None:
            delay = backoff
            while True:
                began = asyncio.get_running_loop().time()
                try:
                    await start()
                    problem = "returned"  # a background loop never ends by itself
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # noqa: BLE001 — counted, shown, restarted: never swallowed
                    problem = f"{type(e).__name__}: {e}"
                if self._stopping:
                    return
                now = asyncio.get_running_loop().time()
                delay = backoff if now - began > max_backoff else min(delay * 2, max_backoff)
                entry.failures += 1
                entry.last_error, entry.failed_at, entry.state = problem, now, "restarting"
                TASK_FAILURES.labels(name).inc()
                log.error("task_failed", task=name, error=problem, failures=entry.failures, restart_in=delay)
                await asyncio.sleep(delay)
                entry.state = "running"

        self.spawn(loop(), name)
        return entry

    async def stop(self) -> None:
        self._stopping = True
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

    async def wait_for(self, seq: int | None, timeout: float | None = None) -> bool:
        """Read-your-writes: wait until every projection of this service has applied ``seq``,
        as PostgreSQL has it (on a standby replica too), within ``timeout`` (default: the
        service's ``wait_seconds``). Raises ``ProjectionStopped`` at once when a projection
        behind is stopped on an event, ``ProjectionBehind`` naming those behind on timeout, and
        ``BeyondLog`` for a sequence the stream does not hold (anyone may send ``min_seq``: a
        number from the future must not hold a request). True once applied (never False)."""
        if not seq:
            return True
        runners = list(self.runners.values())
        if all(r.position >= seq for r in runners):
            return True
        await self.board.refresh()  # a notification may be on its way: read the rows now
        behind = [r for r in runners if r.position < seq]
        if not behind:
            return True
        if any(r.stopped for r in behind):
            raise ProjectionStopped(seq, [r.lag() for r in behind])
        if seq > (last := await self.store.last_seq()):
            raise BeyondLog(seq, last)
        wait = self.settings.wait_seconds if timeout is None else timeout
        results = await asyncio.gather(*(r.wait_for(seq, wait) for r in behind), return_exceptions=True)
        failed = [e for e in results if isinstance(e, BaseException)]
        if not failed:
            return True
        for e in failed:
            if not isinstance(e, ProjectionBehind):
                raise e
        lags = [r.lag() for r in behind if r.position < seq]
        cls = ProjectionStopped if any(isinstance(e, ProjectionStopped) for e in failed) else ProjectionBehind
        raise cls(seq, lags)

    # --- watching the stream and the consumers this service needs ----------------------------

    async def _watch(self) -> None:
        while True:
            try:
                await self.watch_once()
            except Exception as e:  # noqa: BLE001 — NATS unreachable: readiness says so (stream)
                self.stream_problem = f"cannot check the stream: {type(e).__name__}: {e}"
            try:
                await self.pool.fetchval("SELECT 1", timeout=self.watch_seconds)
                self.db_problem = None
            except Exception as e:  # noqa: BLE001 — database unreachable: readiness says so
                self.db_problem = f"cannot reach the database: {type(e).__name__}: {e}"
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
        self.last_seq = info.state.last_seq
        for name, r in self.runners.items():
            LAG.labels(name).set(max(self.last_seq - r.position, 0))
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
        """Readiness: can this pod serve? (NATS, the database, the stream)."""
        yield "nats", self.nats_ok and self.store.nc.is_connected, ""
        yield "database", self.db_problem is None, self.db_problem or ""
        yield "stream", self.stream_problem is None, self.stream_problem or ""

    def health(self) -> Iterable[tuple[str, bool, str]]:
        """Reported beside readiness, never part of it: a stopped projection or a failing
        reaction needs an operator, and the pod still serves everything else."""
        for durable in self.durables:
            problem = self.consumer_problems.get(durable)
            yield f"consumer:{durable}", problem is None, problem or ""
        for name, r in self.runners.items():
            yield (
                f"projection:{name}",
                not r.stopped,
                f"{self.projection_state(r)} at {r.position} {r.error or ''}",
            )
            if r.rejected:
                # an alert, not an outage: the forged events were parked and the projection runs on
                yield f"signatures:{name}", True, f"{r.rejected} event(s) refused, last: {r.last_rejected}"
        for name, task in self.supervised.items():
            yield f"task:{name}", task.healthy, task.detail()
        for check in self.extra_checks:
            yield check()

    @staticmethod
    def projection_state(r: ProjectionRunner) -> str:
        """This replica's runner state, or the active replica's (stored) for a standby."""
        if r.state in ("standby", "starting") and r.stored is not None:
            return f"{r.state} ({r.stored.state})"
        return "stopped" if r.stopped else r.state  # stopped by the replica that took its turn

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, r in self.runners.items():
            stored = r.stored
            failed = r.failed_seq if not r.healthy else (stored.failed_seq if stored and r.stopped else None)
            out[name] = {
                "state": self.projection_state(r),
                "stopped": r.stopped,
                "position": r.position,
                "lag": max(self.last_seq - r.position, 0),
                "failures": r.failures or (stored.failures if stored else 0),
                "last_error": r.error,
                "stuck_at": failed,
            }
        return out

    def task_status(self) -> dict[str, Any]:
        return {
            name: {"state": t.state, "failures": t.failures, "last_error": t.last_error}
            for name, t in self.supervised.items()
        }


class StartupRefused(Exception):
    """The service must not run as configured; the message says exactly why."""


def missing_setting(settings: ServiceSettings) -> str | None:
    """Why the service must not start for want of a setting it requires (empty or still the
    placeholder), or None. The embedded runtime (gongkai-up) sets its own defaults."""
    for name, value in settings.required_settings().items():
        if not value.strip() or "change-me" in value.lower():
            return f"{name} is not set: name it for this deployment"
    return None


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
