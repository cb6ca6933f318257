"""Child processes of the local runtime: free ports, logs, readiness, orderly stop."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def venv_bin(name: str) -> str:
    """A console script of this environment: next to ``sys.executable`` first, then PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    import shutil

    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found next to {sys.executable} nor on PATH")
    return found


def _die_with_parent() -> None:
    """Run in the child before exec: if the supervisor is killed (even SIGKILL), terminate too."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Child:
    """One supervised process whose stdout and stderr go to ``log``."""

    name: str
    argv: Sequence[str]
    log: Path
    env: Mapping[str, str] = field(default_factory=dict)
    # In its own session, a signal to the terminal's process group (Ctrl-C) does not reach it:
    # only the supervisor stops it, in order. PDEATHSIG still covers a killed supervisor.
    own_session: bool = False
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            started = time.strftime("%Y-%m-%d %H:%M:%S")
            out.write(f"\n=== {started} {' '.join(self.argv)}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                list(self.argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
                start_new_session=self.own_session,
            )

    @property
    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.to_thread(self.proc.wait, grace)
        except subprocess.TimeoutExpired:
            print(f"gongkai-up: {self.name} did not stop in {grace:.0f}s, killing it", flush=True)
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait)


class StartupError(RuntimeError):
    pass


async def wait_http(child: Child, urls: Sequence[str], within: float = 60.0) -> str:
    """Poll ``urls`` until one answers 200; fail early (with the log's tail) if the child exits."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            if child.exited is not None:
                raise StartupError(
                    f"{child.name} exited with code {child.exited} while starting; "
                    f"last lines of {child.log}:\n{tail(child.log)}"
                )
            for url in urls:
                try:
                    if (await client.get(url)).status_code == 200:
                        return url
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                raise StartupError(
                    f"{child.name} not ready after {within:.0f}s ({', '.join(urls)}); "
                    f"last lines of {child.log}:\n{tail(child.log)}"
                )
            await asyncio.sleep(0.3)


async def run_once(name: str, argv: Sequence[str], log: Path, env: Mapping[str, str]) -> None:
    """Run a command to completion (a migration); raise with the log's tail if it fails."""
    child = Child(name, argv, log, env)
    child.start()
    assert child.proc is not None
    try:
        await asyncio.to_thread(child.proc.wait)
    finally:
        await child.stop()
    if child.proc.returncode != 0:
        raise StartupError(
            f"{name} failed with code {child.proc.returncode}; last lines of {log}:\n{tail(log)}"
        )
