"""``gongkai-up``: the embedded local runtime (本地运行).

Starts nats-server and PostgreSQL from wheels under ``GONGKAI_DATA_DIR`` (default ``./var``),
migrates and starts the four services as separate processes, and serves them behind one URL
with Caddy (``http://127.0.0.1:$GONGKAI_PORT``, default 8000; the operator endpoints on
``http://127.0.0.1:$GONGKAI_OPS_PORT``, default the next port). Ctrl-C or SIGTERM stops
everything it started, in reverse order. Starting again on the same folder keeps all data.

While it runs it supervises every child (the services, nats-server, Caddy and the PostgreSQL
postmaster): one that exits is started again the same way (same port, same configuration, same
data) after a backoff, 0.5 s doubling to 30 s, reset once it stayed up a minute, while the others
keep running. The current process ids are in ``<data>/pids.json``.

``gongkai-up --print-ingress`` prints the Kubernetes Ingress generated from the same route table
(deploy/k8s/ingress.yaml); ``--print-caddyfile`` prints a Caddyfile with example ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gongkai_cli.credentials import checkpoint_signer
from gongkai_cli.installation import Installation
from gongkai_cli.operator import admin_store, setup
from gongkai_cli.settings import CliSettings
from gongkai_shared.access import ADMIN
from gongkai_shared.trust import EventSigner

from .caddy import Edge, start_caddy
from .nats import Nats, start_nats
from .pgwatch import alive
from .postgres import Postgres, bootstrap, start_postgres, start_watchdog, stop_postgres
from .procs import Child, free_port, run_once, venv_bin, wait_http
from .routes import SERVICES, caddyfile, human_size, ingress, max_body_from_env


def say(message: str) -> None:
    print(f"gongkai-up: {message}", flush=True)


def auth_secret(install: Installation) -> str:
    """``GONGKAI_AUTH_SECRET`` if set, else ``<data>/secrets/auth.secret`` (created once, 0600)."""
    return os.environ.get("GONGKAI_AUTH_SECRET") or install.auth_secret()


def service_argv(svc: str, command: str) -> list[str]:
    """``gongkai-<svc> <command>``; ``GONGKAI_LOCAL_SERVICE_CMD`` replaces the program for tests
    (``{svc}`` in it is replaced by the service name)."""
    override = os.environ.get("GONGKAI_LOCAL_SERVICE_CMD")
    if override:
        return [*shlex.split(override.replace("{svc}", svc)), command]
    return [venv_bin(f"gongkai-{svc}"), command]


RECONSIDERATION_BODY = os.environ.get("GONGKAI_REVIEW_RECONSIDERATION_BODY") or "本级人民政府（本地运行默认）"


def service_env(svc: str, nats: Nats, pg: Postgres, install: Installation, port: int) -> dict[str, str]:
    p = f"GONGKAI_{svc.upper()}_"
    return {
        f"{p}NATS_URL": nats.url,
        f"{p}NATS_PASSWORD": install.nats_password(svc),
        f"{p}SIGNING_KEY": install.signing_key(svc),
        "GONGKAI_ROOT_KEY": install.root().vkey(),
        f"{p}DATABASE_URL": pg.dsn(f"gongkai_{svc}"),
        f"{p}HTTP_HOST": "127.0.0.1",
        f"{p}HTTP_PORT": str(port),
        f"{p}LOG_LEVEL": "info",
        "GONGKAI_AUTH_SECRET": auth_secret(install),
        "GONGKAI_TRACKING_SECRET": os.environ.get("GONGKAI_TRACKING_SECRET") or install.tracking_secret(),
        "GONGKAI_FILES_KEY": os.environ.get("GONGKAI_FILES_KEY") or install.files_key(),
        # the body the answer letters name for reconsideration (行政复议法 Art. 24): a deployment
        # names its own; the local runtime has a default so that `make up` runs as it is
        **({"GONGKAI_REVIEW_RECONSIDERATION_BODY": RECONSIDERATION_BODY} if svc == "review" else {}),
    }


@contextlib.contextmanager
def exclusive(data_dir: Path) -> Iterator[None]:
    """One supervisor per data folder."""
    with open(data_dir / "gongkai-up.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"gongkai-up: another gongkai-up is running on {data_dir}") from None
        yield


async def provision(url: str, install: Installation) -> list[str]:
    """What the operator does before the services start: the stream, the services' signing keys
    (registered with the root key) and the agencies' consumers; the administrator credential is
    used here and never handed to a service."""
    store = await admin_store(url, install.nats_password(ADMIN), root=install.root())
    try:
        vkeys = {s: EventSigner.from_skey(s, install.signing_key(s)).vkey for s in SERVICES}
        checkpoint = checkpoint_signer(CliSettings(data_dir=str(install.data_dir))).vkey()
        return await setup(store, install.root().vkey(), vkeys, install.agencies(), 1, checkpoint)
    finally:
        await store.nc.close()


RESTART_FIRST = 0.5  # seconds before the first restart; doubled each time, up to RESTART_MAX
RESTART_MAX = 30.0
STAYED_UP = 60.0  # a child that ran this long starts the backoff again from RESTART_FIRST


@dataclass
class Watched:
    """One supervised process: ``exited()`` gives its exit code once it is gone, ``restart()``
    starts it again."""

    name: str
    exited: Callable[[], int | None]
    restart: Callable[[], Awaitable[None]]
    started: float = 0.0
    delay: float = 0.0
    restarts: int = 0
    due: float | None = None

    def backoff(self, now: float) -> float:
        if self.due is None and now - self.started >= STAYED_UP:
            self.delay = RESTART_FIRST
        else:
            self.delay = min(max(self.delay * 2, RESTART_FIRST), RESTART_MAX)
        self.restarts += 1
        return self.delay


def child_exit(child: Child) -> Callable[[], int | None]:
    return lambda: child.exited


def restart_child(child: Child) -> Callable[[], Awaitable[None]]:
    async def restart() -> None:
        child.start()  # same argv, environment (a service's port) and configuration file

    return restart


def postmaster_pid(pgdata: Path) -> int | None:
    """The first line of ``<pgdata>/postmaster.pid``."""
    try:
        return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def exit_code(pid: int) -> int | None:
    """None while ``pid`` runs; else its exit code (negative: the signal) if it was our child
    (the postmaster is, through PR_SET_CHILD_SUBREAPER, once pg_ctl has exited), or -1."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        done, status = 0, 0
    if done == pid:
        return os.waitstatus_to_exitcode(status)
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        state = ""
    return -1 if state in ("Z", "X") or not alive(pid) else None


def become_subreaper() -> None:
    """Orphans of our children (the postmaster, once pg_ctl exits) become ours: we see them exit
    and reap them, whatever process 1 of the machine or container does."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER


class Supervisor:
    def __init__(self, data_dir: Path, port: int, ops_port: int, max_body: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.ops_port = ops_port
        self.max_body = max_body
        self.logs = data_dir / "logs"
        self.nats: Nats | None = None
        self.pg: Postgres | None = None
        self.services: dict[str, Child] = {}
        self.backends: dict[str, str] = {}
        self.edge: Edge | None = None
        self.pg_watchdog: subprocess.Popen[bytes] | None = None
        self.pg_pid: int | None = None
        self.pg_restarting: asyncio.Future[None] | None = None
        # signed checkpoints on a schedule (issue 11): the first once everything is up
        self.checkpoint_every = float(os.environ.get("GONGKAI_CHECKPOINT_INTERVAL") or 3600)
        self.checkpoint_due = 0.0
        self.checkpoint_job: Child | None = None

    async def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        install = Installation(self.data_dir)
        nats_port = int(os.environ.get("GONGKAI_NATS_PORT") or 0) or None
        self.nats = await start_nats(self.data_dir, nats_port, self.logs, install.credentials())
        monitor = f"http://127.0.0.1:{self.nats.monitor_port}"
        say(f"nats-server ready on {self.nats.url} (monitoring {monitor}; every client authenticates)")
        # the gongkai CLI (audit, users, keys) finds this instance's NATS and URL here
        (self.data_dir / "nats_url").write_text(self.nats.url + "\n")
        (self.data_dir / "url").write_text(f"http://127.0.0.1:{self.port}\n")
        (self.data_dir / "ops_url").write_text(f"http://127.0.0.1:{self.ops_port}\n")
        added = await provision(self.nats.url, install)
        say(f"stream FOI ready; services' signing keys registered ({len(added)} new)")
        self.pg_watchdog = start_watchdog(self.data_dir / "pg")
        self.pg = start_postgres(self.data_dir)
        self.pg_pid = postmaster_pid(self.pg.pgdata)
        await bootstrap(self.pg, list(SERVICES))
        say(f"PostgreSQL ready (socket in {self.pg.socket_dir}, database gongkai)")
        ports = {svc: free_port() for svc in SERVICES}
        envs = {s: service_env(s, self.nats, self.pg, install, ports[s]) for s in SERVICES}
        for svc in SERVICES:
            await run_once(
                f"gongkai-{svc} migrate",
                service_argv(svc, "migrate"),
                self.logs / f"{svc}.log",
                envs[svc],
            )
        say("migrations done")
        for svc in SERVICES:
            child = Child(svc, service_argv(svc, "serve"), self.logs / f"{svc}.log", envs[svc])
            child.start()
            self.services[svc] = child
        for svc, child in self.services.items():
            base = f"http://127.0.0.1:{ports[svc]}"
            await wait_http(child, [f"{base}/readyz", f"{base}/healthz"], within=60.0)
            self.backends[svc] = base
            say(f"{svc} ready on {base}")
        upstreams = {svc: base.removeprefix("http://") for svc, base in self.backends.items()}
        self.edge = await start_caddy(
            self.data_dir, self.port, self.ops_port, upstreams, self.logs, self.max_body
        )
        say(f"caddy ready (configuration {self.edge.config}, log {self.edge.child.log})")
        self.write_pids()

    def pids(self) -> dict[str, int]:
        """What runs now: every supervised process by name, the supervisor and the watchdog."""
        pids = {"gongkai-up": os.getpid()}
        for child in self.children():
            if child.proc is not None:
                pids[child.name] = child.proc.pid
        if self.pg_pid is not None:
            pids["postgres"] = self.pg_pid
        if self.pg_watchdog is not None:
            pids["pgwatch"] = self.pg_watchdog.pid
        return pids

    def write_pids(self) -> None:
        path = self.data_dir / "pids.json"
        tmp = path.with_name(path.name + ".new")
        tmp.write_text(json.dumps(self.pids(), indent=2) + "\n")
        os.replace(tmp, path)

    def children(self) -> list[Child]:
        return [
            *self.services.values(),
            *([self.nats.child] if self.nats else []),
            *([self.edge.child] if self.edge else []),
        ]

    def supervised(self) -> list[Watched]:
        """Every process kept running, with how to tell it exited and how to start it again."""
        watched = [Watched(child.name, child_exit(child), restart_child(child)) for child in self.children()]
        if self.pg is not None:
            watched.append(Watched("postgres", self.postgres_exit, self.restart_postgres))
        return watched

    def postgres_exit(self) -> int | None:
        return None if self.pg_pid is None else exit_code(self.pg_pid)

    async def restart_postgres(self) -> None:
        """Through the same start function: PostgreSQL removes the stale postmaster.pid itself."""
        # In a thread, shielded: a stop meanwhile waits for it (stop()) instead of racing it.
        self.pg_restarting = asyncio.ensure_future(asyncio.to_thread(self._start_postgres_again))
        try:
            await asyncio.shield(self.pg_restarting)
        finally:
            if self.pg_restarting.done():
                self.pg_restarting = None

    def _start_postgres_again(self) -> None:
        old = self.pg
        if old is not None:
            with contextlib.suppress(Exception):
                old.server.cleanup()  # forget the dead one's handle, so a new one is started
        self.pg = start_postgres(self.data_dir)
        self.pg_pid = postmaster_pid(self.pg.pgdata)
        if old is not None and old.socket_dir != self.pg.socket_dir:
            say(f"warning: PostgreSQL's socket moved to {self.pg.socket_dir}; restart gongkai-up")

    async def watch(self) -> None:
        """Keep every child running until cancelled (Ctrl-C, SIGTERM): one that exited is started
        again after a backoff, the others untouched."""
        watched = self.supervised()
        while True:
            now = time.monotonic()
            for w in watched:
                if w.due is None:
                    code = w.exited()
                    if code is None:
                        continue
                    delay = w.backoff(now)
                    say(f"{w.name} exited with code {code}; restarting in {delay:g} s (restart {w.restarts})")
                    w.due = now + delay
                if now < w.due:
                    continue
                try:
                    await w.restart()
                except Exception as exc:  # e.g. PostgreSQL not startable yet: try again later
                    delay = w.backoff(time.monotonic())
                    again = f"retrying in {delay:g} s (restart {w.restarts})"
                    say(f"{w.name} did not start again ({exc}); {again}")
                    w.due = time.monotonic() + delay
                    continue
                w.due = None
                w.started = time.monotonic()
                self.write_pids()
                say(f"{w.name} restarted ({self.pids().get(w.name)})")
            self.tick_checkpoint(now)
            await asyncio.sleep(0.25)

    def tick_checkpoint(self, now: float) -> None:
        """Every GONGKAI_CHECKPOINT_INTERVAL seconds (0: never) ``gongkai audit checkpoint
        --publish``: the log verified, signed and published for auditors (logs/checkpoint.log).
        One at a time; a failure is said here and tried again at the next interval."""
        job = self.checkpoint_job
        if job is not None:
            code = job.exited
            if code is None:
                return
            if code != 0:
                say(f"checkpoint failed with code {code}; see {job.log}")
            self.checkpoint_job = None
        if self.checkpoint_every <= 0 or now < self.checkpoint_due:
            return
        self.checkpoint_due = now + self.checkpoint_every
        argv = [venv_bin("gongkai"), "audit", "checkpoint", "--publish"]
        self.checkpoint_job = Child("checkpoint", argv, self.logs / "checkpoint.log",
                                    {"GONGKAI_DATA_DIR": str(self.data_dir)})  # fmt: skip
        self.checkpoint_job.start()

    async def stop(self) -> None:
        if self.checkpoint_job is not None:
            await self.checkpoint_job.stop(grace=10)
        if self.edge is not None:  # first: no new request reaches a stopping service
            await self.edge.child.stop(grace=10)
        await asyncio.gather(*(child.stop(grace=15) for child in self.services.values()))
        if self.nats is not None:
            await self.nats.child.stop(grace=15)
        if self.pg_restarting is not None:  # a restart under way finishes first, then is stopped
            with contextlib.suppress(Exception):
                await self.pg_restarting
        stop_postgres(self.data_dir / "pg", self.pg)
        if self.pg_watchdog is not None:
            self.pg_watchdog.kill()
            self.pg_watchdog.wait()
        (self.data_dir / "pids.json").unlink(missing_ok=True)
        say("stopped")


async def run(data_dir: Path, port: int, ops_port: int, max_body: int) -> int:
    supervisor = Supervisor(data_dir, port, ops_port, max_body)
    main = asyncio.current_task()
    assert main is not None
    stopping = False

    def on_signal(sig: signal.Signals) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            say(f"{sig.name} received, stopping")
            main.cancel()

    become_subreaper()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, on_signal, sig)
    code = 0
    try:
        await supervisor.start()
        url = f"http://127.0.0.1:{port}"
        say(f"Gongkai is up: {url}  (政府信息公开)")
        say(f"  catalogue: {url}/api/v1/catalog   docs: {url}/intake/docs, /review/docs, ...")
        say(f"  applicants: {url}/apply, {url}/track   (request bodies up to {human_size(max_body)})")
        ops = f"http://127.0.0.1:{ops_port}"
        say(f"  operators (loopback only): {ops}/<service>/metrics, /readyz, /api/v1/status")
        say(f"  logs: {supervisor.logs}/  (nats.log, postgres.log, caddy.log, <service>.log)")
        cli = venv_bin("gongkai")
        say(f"  administrator token: GONGKAI_DATA_DIR={data_dir} {cli} users add NAME --role admin")
        say(f"  other agencies: GONGKAI_DATA_DIR={data_dir} {cli} agencies add NAME; public events"
            f" {url}/api/v1/events/asyncapi.json (docs/agencies.md, examples/agency_subscriber)")  # fmt: skip
        say("  Ctrl-C stops everything; a child that exits is started again.")
        await supervisor.watch()
    except asyncio.CancelledError:
        code = 0
    except Exception as exc:  # any failure: report it plainly, then stop what did start
        say(f"failed: {exc}")
        code = 1
    finally:
        # Shield the shutdown from a second signal: it must finish so nothing is left running.
        await asyncio.shield(supervisor.stop())
    return code


def main() -> None:
    args = sys.argv[1:]
    try:
        max_body = max_body_from_env()
    except ValueError as e:
        raise SystemExit(f"gongkai-up: GONGKAI_MAX_BODY: {e}") from None
    if args == ["--print-ingress"]:
        sys.stdout.write(ingress(max_body=max_body))
        return
    if args == ["--print-caddyfile"]:
        example = {svc: f"127.0.0.1:{8101 + i}" for i, svc in enumerate(SERVICES)}
        text = caddyfile(
            port=8000, ops_port=8001, backends=example, site_dir=Path("var/edge"), max_body=max_body
        )
        sys.stdout.write(text)
        return
    if args:
        raise SystemExit("usage: gongkai-up [--print-ingress | --print-caddyfile]")
    data_dir = Path(os.environ.get("GONGKAI_DATA_DIR", "./var")).resolve()
    port = int(os.environ.get("GONGKAI_PORT", "8000"))
    ops_port = int(os.environ.get("GONGKAI_OPS_PORT") or port + 1)
    if ops_port == port:
        raise SystemExit("gongkai-up: GONGKAI_OPS_PORT must differ from GONGKAI_PORT")
    data_dir.mkdir(parents=True, exist_ok=True)
    with exclusive(data_dir):
        code = asyncio.run(run(data_dir, port, ops_port, max_body))
    sys.exit(code)


if __name__ == "__main__":
    main()
