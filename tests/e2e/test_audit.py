"""Auditors: the CLI reads the history from the stream and detects any tampering with an export."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gongkai_cli.verification import Record, write_export
from tests.flow import (
    DISCLOSE,
    answer,
    apply,
    decide,
    publish_on_request,
    register_document,
    wait_for_event,
)
from tests.harness import SECRET, System
from tests.servers import NatsServer


def gongkai(nats_server: NatsServer, *args: str, url: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **nats_server.cli_env(), "GONGKAI_AUTH_SECRET": SECRET, "GONGKAI_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "gongkai_cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.fixture
async def log_with_cases(nats_server: NatsServer, database_url: str):
    """A log with three cases: one disclosed, answered and published (Art. 44), one refused, one
    open."""
    system = await System(nats_server, database_url, notify={"tick_seconds": 0.1}).start()
    plan = await register_document(system, "2025年义务教育学校划片方案")
    ledger = await register_document(system, "本局涉密档案管理台账")
    disclosed, refused, _open = await apply(system), await apply(system), await apply(system)
    await answer(system, disclosed["case_id"], {**DISCLOSE, "documents": [plan]})
    secret = {"document_id": ledger, "reason": "state_secret", "explanation": "已定密为秘密级"}
    withhold = {"outcome": "withhold", "reasons": ["state_secret"], "reason_text": "该文件已定密为秘密级",
                "withheld_documents": [secret]}  # fmt: skip
    await decide(system, refused["case_id"], withhold)
    await publish_on_request(system, disclosed["case_id"], [plan])
    await wait_for_event(system, "foi.publishing.*.published", "published")
    for case in (disclosed, refused, _open):
        await wait_for_event(system, f"foi.notify.{case['case_id']}.>", "deadline-set")
    await system.settle()
    yield system, disclosed, refused
    await system.stop()


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


async def test_history_export_and_verify(log_with_cases, nats_server: NatsServer, tmp_path: Path) -> None:
    system, disclosed, _ = log_with_cases
    history = gongkai(nats_server, "audit", "history", disclosed["case_id"])
    assert history.returncode == 0, history.stderr
    names = [line.split()[2].rsplit(".", 1)[1] for line in history.stdout.splitlines()]
    assert names[0] == "request-received" and "review-approved" in names and "deadline-set" in names

    live = gongkai(nats_server, "audit", "verify")
    assert live.returncode == 0, live.stdout + live.stderr
    export = tmp_path / "foi.jsonl"
    assert gongkai(nats_server, "audit", "export", str(export)).returncode == 0
    rows = lines(export)
    assert rows[-1]["checkpoint"]["size"] == len(rows) - 1 == await system.runtime("intake").store.last_seq()
    verified = gongkai(nats_server, "audit", "verify", "--from", str(export))
    assert verified.returncode == 0, verified.stdout


@pytest.fixture
async def export(log_with_cases, nats_server: NatsServer, tmp_path: Path):
    system, disclosed, refused = log_with_cases
    path = tmp_path / "foi.jsonl"
    assert gongkai(nats_server, "audit", "export", str(path)).returncode == 0
    return path, disclosed["case_id"], refused["case_id"]


def case_rows(rows: list[dict], case_id: str) -> list[int]:
    return [i for i, r in enumerate(rows) if "seq" in r and r["subject"].split(".")[2] == case_id]


def verify_fails(nats_server: NatsServer, path: Path) -> str:
    result = gongkai(nats_server, "audit", "verify", "--from", str(path))
    assert result.returncode != 0, result.stdout
    return result.stdout


async def test_changed_bytes_are_detected_and_located(export, nats_server: NatsServer) -> None:
    path, case_id, _ = export
    rows = lines(path)
    first = case_rows(rows, case_id)[0]  # request-received: later events of the case chain to it
    event = json.loads(base64.b64decode(rows[first]["data"]))
    event["data"]["description"] = "篡改后的内容"
    rows[first]["data"] = base64.b64encode(json.dumps(event).encode()).decode()
    write(path, rows)
    out = verify_fails(nats_server, path)
    next_seq = rows[case_rows(rows, case_id)[1]]["seq"]
    assert f"seq {next_seq}, case {case_id}: hash chain broken" in out


async def test_changed_last_event_is_caught_by_the_checkpoint(export, nats_server: NatsServer) -> None:
    path, case_id, _ = export
    rows = lines(path)
    last = case_rows(rows, case_id)[-1]
    rows[last]["data"] = base64.b64encode(
        base64.b64decode(rows[last]["data"]).replace(b'"', b'"', 1) + b" "
    ).decode()
    write(path, rows)
    assert "Merkle root differs" in verify_fails(nats_server, path)


async def test_removed_event_is_detected_and_located(export, nats_server: NatsServer) -> None:
    path, case_id, _ = export
    rows = lines(path)
    removed = rows.pop(case_rows(rows, case_id)[1])
    write(path, rows)
    out = verify_fails(nats_server, path)
    assert f"expected sequence {removed['seq']}" in out
    assert f"case {case_id}: hash chain broken" in out


async def test_swapped_events_of_a_case_are_detected(export, nats_server: NatsServer) -> None:
    path, _, case_id = export
    rows = lines(path)
    a, b = case_rows(rows, case_id)[:2]
    rows[a]["data"], rows[b]["data"] = rows[b]["data"], rows[a]["data"]
    rows[a]["subject"], rows[b]["subject"] = rows[b]["subject"], rows[a]["subject"]
    write(path, rows)
    out = verify_fails(nats_server, path)
    assert f"case {case_id}: hash chain broken" in out


async def test_verify_of_a_missing_file_says_so(nats_server: NatsServer, tmp_path: Path) -> None:
    result = gongkai(nats_server, "audit", "verify", "--from", str(tmp_path / "nope.jsonl"))
    assert result.returncode == 2 and "no such file" in result.stderr
    assert "Traceback" not in result.stderr


async def test_staff_tokens_and_roles(log_with_cases, nats_server: NatsServer) -> None:
    system, _, _ = log_with_cases
    url = await system.serve_http("review")  # the command line adds accounts through review's API
    made = await asyncio.to_thread(
        gongkai, nats_server, "users", "add", "王五", "--role", "registrar", url=url
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    cases = system.clients["review"]
    assert (await cases.get("/api/v1/cases")).status_code == 401
    assert (await cases.get("/api/v1/cases", headers={"Authorization": "Bearer forged"})).status_code == 401
    assert (await cases.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    r = await cases.post(
        f"/api/v1/cases/{'x'}/decision", json=DISCLOSE, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 403  # a registrar does not decide
    bad = gongkai(nats_server, "users", "add", "x", "--role", "emperor", url=url)
    assert bad.returncode != 0 and "unknown role" in bad.stderr


async def test_a_signed_checkpoint_proves_the_log_neither_rewritten_nor_cut(
    log_with_cases, nats_server: NatsServer, tmp_path: Path
) -> None:
    system, _, _ = log_with_cases
    note = tmp_path / "checkpoint.txt"
    signed = gongkai(nats_server, "audit", "checkpoint", "--out", str(note))
    assert signed.returncode == 0, signed.stderr
    size = int(note.read_text().splitlines()[1])
    assert size == await system.runtime("intake").store.last_seq()
    vkey = gongkai(nats_server, "audit", "key").stdout.strip()
    key_file = nats_server.install.data_dir / "checkpoint_key"
    assert key_file.stat().st_mode & 0o077 == 0  # the private key is private

    await apply(system)  # the log grows after the checkpoint: still consistent with it
    check = ("--checkpoint", str(note), "--key", vkey)
    live = gongkai(nats_server, "audit", "verify", *check)
    assert live.returncode == 0, live.stdout + live.stderr
    export = tmp_path / "foi.jsonl"
    assert gongkai(nats_server, "audit", "export", str(export)).returncode == 0
    assert gongkai(nats_server, "audit", "verify", "--from", str(export), *check).returncode == 0

    rows = lines(export)
    cut = tmp_path / "cut.jsonl"  # the newest covered events removed, checkpoint line recomputed
    kept = [
        Record(r["seq"], r["subject"], r["headers"], base64.b64decode(r["data"])) for r in rows[: size - 2]
    ]
    write_export(cut, kept)
    assert "events were removed" in verify_fails_with(nats_server, cut, check)

    forged = tmp_path / "forged.jsonl"  # one covered event changed, and the export's own root redone
    event = json.loads(base64.b64decode(rows[size - 1]["data"]))
    event["data"]["note"] = "篡改"
    changed = [
        *kept,
        *[
            Record(r["seq"], r["subject"], r["headers"], base64.b64decode(r["data"]))
            for r in rows[size - 2 : size - 1]
        ],
    ]
    changed.append(
        Record(
            rows[size - 1]["seq"],
            rows[size - 1]["subject"],
            rows[size - 1]["headers"],
            json.dumps(event).encode(),
        )
    )
    write_export(forged, changed)
    assert "the log was rewritten" in verify_fails_with(nats_server, forged, check)

    edited = tmp_path / "edited.txt"
    edited.write_text(note.read_text().replace(f"\n{size}\n", f"\n{size - 1}\n"))
    bad = gongkai(nats_server, "audit", "verify", "--checkpoint", str(edited), "--key", vkey)
    assert bad.returncode == 2 and "signature does not verify" in bad.stderr


def verify_fails_with(nats_server: NatsServer, path: Path, check: tuple[str, ...]) -> str:
    result = gongkai(nats_server, "audit", "verify", "--from", str(path), *check)
    assert result.returncode == 1, result.stdout
    return result.stdout
