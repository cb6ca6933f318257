"""``gongkai-up`` heals: kill -9 a service, nats-server or the PostgreSQL postmaster and the
supervisor starts it again (same port, same data) within seconds, while the rest keeps answering
and no accepted application is lost; SIGTERM still stops everything it started.

Runs the real ``gongkai-up`` as a subprocess on a temporary data folder and free ports.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from gongkai_local.pgwatch import alive
from gongkai_local.procs import free_port
from tests.flow import application

UP = str(Path(sys.executable).parent / "gongkai-up")
HEAL_WITHIN = 10.0


def wait_until(what: str, check: Callable[[], bool], within: float, up: subprocess.Popen, log: Path) -> float:
    """Poll ``check`` until true; return the seconds it took."""
    start = time.monotonic()
    while not check():
        assert up.poll() is None, f"gongkai-up exited ({up.returncode}):\n{log.read_text()}"
        if time.monotonic() - start > within:
            pytest.fail(f"{what}: not within {within:.0f} s; gongkai-up said:\n{log.read_text()}")
        time.sleep(0.2)
    return time.monotonic() - start


def answers(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def pids(data: Path) -> dict[str, int]:
    try:
        return json.loads((data / "pids.json").read_text())
    except (OSError, ValueError):
        return {}


def test_killed_children_come_back_and_nothing_is_lost(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "gongkai-up.out"
    port, ops_port, nats_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "GONGKAI_DATA_DIR": str(data),
        "GONGKAI_PORT": str(port),
        "GONGKAI_OPS_PORT": str(ops_port),
        "GONGKAI_NATS_PORT": str(nats_port),
    }
    public, ops = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{ops_port}"
    seen: dict[str, int] = {}
    with open(log, "wb") as out:
        up = subprocess.Popen([UP], env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    client = httpx.Client(timeout=5)
    try:
        wait_until("the public URL", lambda: answers(client, f"{public}/api/v1/catalog"), 120, up, log)
        wait_until("pids.json", lambda: "caddy" in pids(data), 10, up, log)
        seen.update(pids(data))
        assert {"intake", "review", "publishing", "notify", "nats-server", "caddy", "postgres"} <= set(seen)

        # Issue 11: once everything is up, the log is verified, signed and published for auditors
        # (then every GONGKAI_CHECKPOINT_INTERVAL), with the data folder's key registered
        checkpoints = data / "logs" / "checkpoint.log"
        wait_until(
            "the first checkpoint",
            lambda: checkpoints.exists() and "published checkpoint of size" in checkpoints.read_text(),
            60,
            up,
            log,
        )
        gongkai = str(Path(sys.executable).parent / "gongkai")
        held = subprocess.run(
            [gongkai, "audit", "verify", "--checkpoint", "latest"], env=env, capture_output=True, text=True
        )
        assert held.returncode == 0, held.stdout + held.stderr

        accepted: list[str] = []

        def apply() -> None:
            r = client.post(f"{public}/api/v1/applications", json=application())
            assert r.status_code == 201, r.text
            accepted.append(r.json()["tracking_code"])

        def killed(name: str, ready: str) -> None:
            """kill -9 ``name``; a new pid and ``ready`` answering again within HEAL_WITHIN."""
            old = pids(data)[name]
            os.kill(old, signal.SIGKILL)
            took = wait_until(
                f"{name} restarted",
                lambda: pids(data).get(name, old) != old and answers(client, ready),
                HEAL_WITHIN,
                up,
                log,
            )
            seen[name] = pids(data)[name]
            print(f"{name}: back in {took:.1f} s")

        apply()

        # A service: the others keep answering; intake accepts applications while notify is down.
        old_notify = pids(data)["notify"]
        os.kill(old_notify, signal.SIGKILL)
        wait_until("notify gone", lambda: not answers(client, f"{ops}/notify/healthz"), 5, up, log)
        apply()
        assert answers(client, f"{public}/api/v1/catalog")
        took = wait_until(
            "notify restarted",
            lambda: (
                pids(data).get("notify", old_notify) != old_notify and answers(client, f"{ops}/notify/readyz")
            ),
            HEAL_WITHIN,
            up,
            log,
        )
        print(f"notify: back in {took:.1f} s")
        seen["notify"] = pids(data)["notify"]
        apply()

        killed("nats-server", f"{ops}/intake/readyz")
        wait_until(
            "the catalogue again", lambda: answers(client, f"{public}/api/v1/catalog"), HEAL_WITHIN, up, log
        )
        apply()

        killed("postgres", f"{ops}/intake/readyz")
        wait_until(
            "the catalogue again", lambda: answers(client, f"{public}/api/v1/catalog"), HEAL_WITHIN, up, log
        )
        apply()

        output = log.read_text()
        for name in ("notify", "nats-server", "postgres"):
            assert f"gongkai-up: {name} exited with code" in output
            assert f"gongkai-up: {name} restarted" in output

        # Every accepted application is trackable (its projection may need a moment).
        for code in accepted:
            wait_until(
                f"application {code} trackable",
                lambda code=code: answers(client, f"{public}/api/v1/applications/{code}"),
                HEAL_WITHIN,
                up,
                log,
            )
        assert len(accepted) == 5
    finally:
        client.close()
        seen.update(pids(data))
        if up.poll() is None:
            up.send_signal(signal.SIGTERM)
        try:
            code = up.wait(90)
        except subprocess.TimeoutExpired:
            up.kill()
            raise
    assert code == 0, log.read_text()
    time.sleep(1)  # the pgwatch watchdog notices its parent gone within 0.5 s
    left = {
        name: pid for name, pid in seen.items() if name != "gongkai-up" and alive(pid) and not zombie(pid)
    }
    assert not left, f"left running: {left}\n{log.read_text()}"


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False
