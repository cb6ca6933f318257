"""The NATS accounts of the Helm values work on a real nats-server, configured as the chart does.

The official chart merges ``config.merge`` into its configuration, writes it as JSON and turns
each ``"<< X >>"`` into a raw ``X`` (its ``nats.formatConfig``); nats-server then reads every
``$NATS_PASSWORD_<USER>`` from its environment, which ``container.env`` fills from the Secret.
This runs that configuration: each user signs in with the password from "its Secret key" and
keeps the permissions of ``gongkai_shared.access``; anonymous clients are refused.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
import yaml

from gongkai_shared.access import PUBLIC_SUBJECTS, helm_values
from tests.servers import NatsServer, free_port, nats_server_binary, wait_port

pytestmark = pytest.mark.integration


def chart_config(values: dict[str, Any], port: int, store: Path) -> str:
    """nats.conf as the chart renders it: its own settings, config.merge, raw ``<< >>`` values."""
    config = {
        "server_name": "helm-test",
        "listen": f"127.0.0.1:{port}",
        "jetstream": {"store_dir": str(store), "sync_interval": "always"},
        **values["config"]["merge"],
    }
    return re.sub(r'"<<\s+(.*)\s+>>"', r"\1", json.dumps(config, indent=2))


def secret_env(values: dict[str, Any], passwords: dict[str, str]) -> dict[str, str]:
    """The container's environment, each variable from its key of Secret gongkai-nats."""
    env = values["container"]["env"]
    return {var: passwords[spec["valueFrom"]["secretKeyRef"]["key"]] for var, spec in env.items()}


def new_password() -> str:
    """As docs/security.md says: letters and digits, starting with a letter."""
    return "n" + secrets.token_hex(32)


def start(conf: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with open(conf.with_suffix(".log"), "ab") as log:  # a file: a full pipe would stall the server
        return subprocess.Popen(
            [nats_server_binary(), "-c", str(conf)], env={**os.environ, **env}, stdout=log, stderr=log
        )


@pytest.fixture
def helm_nats(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    values = yaml.safe_load(helm_values(["city-a"]))
    users = [spec["valueFrom"]["secretKeyRef"]["key"] for spec in values["container"]["env"].values()]
    passwords = {u: new_password() for u in users}
    port = free_port()
    conf = tmp_path / "nats.conf"
    conf.write_text(chart_config(values, port, tmp_path / "js"))
    proc = start(conf, secret_env(values, passwords))
    try:
        wait_port(port)
        yield f"nats://127.0.0.1:{port}", passwords
    finally:
        proc.terminate()
        proc.wait(10)


async def connect(url: str, user: str | None, password: str | None, **options: Any) -> Any:
    return await nats.connect(url, user=user, password=password, allow_reconnect=False,
                              max_reconnect_attempts=0, connect_timeout=2, **options)  # fmt: skip


async def test_each_user_signs_in_with_its_secret_key_and_no_one_without(
    helm_nats: tuple[str, dict[str, str]],
) -> None:
    url, passwords = helm_nats
    for user, password in passwords.items():
        nc = await connect(url, user, password)
        await nc.close()
    with pytest.raises(Exception, match="Authorization Violation"):
        await connect(url, None, None)
    with pytest.raises(Exception, match="Authorization Violation"):
        await connect(url, "intake", passwords["review"])


async def test_the_permissions_are_those_of_the_embedded_runtime(
    helm_nats: tuple[str, dict[str, str]],
) -> None:
    """A service publishes only into its own context; an agency publishes nothing."""
    url, passwords = helm_nats
    for user, subject in (("intake", "foi.review.c1.review-approved"), ("agency-city-a", "foi.x")):
        seen: list[str] = []

        async def errors(e: Exception, seen: list[str] = seen) -> None:
            seen.append(str(e).lower())

        nc = await connect(url, user, passwords[user], error_cb=errors)
        try:
            await nc.publish(subject, b"{}")
            await nc.flush()
            async with asyncio.timeout(3):
                while not any("permissions violation" in s for s in seen):  # noqa: ASYNC110 — bounded
                    await asyncio.sleep(0.02)
        finally:
            await nc.close()


@pytest.mark.parametrize("password", ["-starts-with-a-dash", "1234567890", "two words"])
def test_a_password_nats_server_would_read_as_something_else_stops_it(tmp_path: Path, password: str) -> None:
    """Why docs/security.md asks for letters and digits starting with a letter: nats-server parses
    an environment variable's value as configuration, and refuses to start on these."""
    values = yaml.safe_load(helm_values())
    conf = tmp_path / "nats.conf"
    conf.write_text(chart_config(values, free_port(), tmp_path / "js"))
    passwords = {
        spec["valueFrom"]["secretKeyRef"]["key"]: new_password()
        for spec in values["container"]["env"].values()
    }
    proc = start(conf, secret_env(values, {**passwords, "intake": password}))
    try:
        assert proc.wait(10) != 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_agencies_add_outside_the_embedded_runtime_creates_the_consumer_and_says_where_the_password_is(
    nats_server: NatsServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On Kubernetes the broker's accounts come from the Helm values: no password is generated
    here (it would be one the broker does not know); the Secret's key is named instead."""
    from gongkai_cli.main import main

    monkeypatch.setenv("GONGKAI_DATA_DIR", str(tmp_path / "operator"))  # no nats-server.conf
    monkeypatch.setenv("GONGKAI_NATS_URL", nats_server.url)
    monkeypatch.setenv("GONGKAI_NATS_USER", "admin")
    monkeypatch.setenv("GONGKAI_NATS_PASSWORD", nats_server.install.nats_password("admin"))
    assert main(["agencies", "add", "city-a"]) == 0
    out = capsys.readouterr().out
    assert "key agency-city-a of Secret gongkai-nats" in out and ", password " not in out
    assert not (tmp_path / "operator").exists()

    async def consumer() -> Any:
        store = await nats_server.admin()
        try:
            return await store.js.consumer_info("FOI", "agency-city-a")
        finally:
            await store.nc.close()

    assert asyncio.run(consumer()).config.filter_subjects == list(PUBLIC_SUBJECTS)
