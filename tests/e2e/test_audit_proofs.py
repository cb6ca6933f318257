"""Auditors check the log with standard tools (issue 11): signed checkpoints published on a
schedule, inclusion and consistency proofs by the CLI and over HTTP that an RFC 9162 verifier
written apart from the product accepts, checkpoint keys rotated with their validity, and
``audit verify`` naming the first broken position of a tampered export, including the removal
of the last events that only a checkpoint the auditor holds can reveal."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gongkai_cli.verification import Record, write_export
from gongkai_shared.checkpoint import Signer
from gongkai_shared.merkle import merkle_root
from tests.e2e.test_audit import gongkai, lines, write
from tests.flow import DISCLOSE, answer, apply, publish_on_request, register_document, wait_for_event
from tests.harness import System
from tests.servers import NatsServer
from tests.unit.test_tlog_proofs import independent_consistency, independent_inclusion


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def note_of(text: str) -> tuple[int, bytes]:
    """(size, root) read from a C2SP checkpoint note, by hand."""
    origin, size, root = text.split("\n")[:3]
    assert origin == "gongkai/FOI"
    return int(size), b64(root)


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str):
    system = await System(nats_server, database_url, notify={"tick_seconds": 0.1}).start()
    plan = await register_document(system, "2025年义务教育学校划片方案")
    case = await apply(system)
    await answer(system, case["case_id"], {**DISCLOSE, "documents": [plan]})
    await publish_on_request(system, case["case_id"], [plan])  # Art. 44: the office decides
    await wait_for_event(system, "foi.publishing.*.published", "published")
    await apply(system)
    await system.settle()
    ok(gongkai(nats_server, "audit", "register-key"))  # the office's checkpoint key, by the root key
    yield system, case["case_id"]
    await system.stop()


async def stored(system: System, seq: int) -> bytes:
    return (await system.runtime("intake").store.get(seq)).data


async def test_proofs_by_the_cli_and_over_http_verify_independently(system, nats_server: NatsServer) -> None:
    system, case_id = system
    published = ok(gongkai(nats_server, "audit", "checkpoint", "--publish"))
    size, root = note_of(published)
    assert size == await system.runtime("intake").store.last_seq()

    proof = json.loads(ok(gongkai(nats_server, "audit", "proof", "inclusion", "--seq", "3")))
    assert (proof["seq"], proof["leaf_index"], proof["tree_size"]) == (3, 2, size)  # the latest checkpoint
    leaf = await stored(system, 3)  # the leaf is the event's exact stored bytes
    assert b64(proof["leaf_hash"]) == hashlib.sha256(b"\x00" + leaf).digest()
    assert b64(proof["root_hash"]) == root and note_of(proof["checkpoint"]) == (size, root)
    assert independent_inclusion(2, size, leaf, [b64(h) for h in proof["hashes"]], root)
    assert not independent_inclusion(2, size, leaf + b" ", [b64(h) for h in proof["hashes"]], root)

    await apply(system)  # the log grows; a newer checkpoint must extend the older one
    await system.settle()
    newer = ok(gongkai(nats_server, "audit", "checkpoint", "--publish"))
    size2, root2 = note_of(newer)
    assert size2 > size
    consistency = json.loads(ok(gongkai(nats_server, "audit", "proof", "consistency", "--from", str(size))))
    assert (consistency["first"], consistency["second"]) == (size, size2)
    assert note_of(consistency["first_checkpoint"]) == (size, root)
    assert note_of(consistency["second_checkpoint"]) == (size2, root2)
    path = [b64(h) for h in consistency["hashes"]]
    assert independent_consistency(size, size2, root, root2, path)
    assert not independent_consistency(size, size2, hashlib.sha256(b"forged").digest(), root2, path)

    review = system.clients["review"]
    auditor = System.token("auditor")
    latest = await review.get("/api/v1/audit/checkpoints/latest", headers=auditor)
    assert latest.status_code == 200 and latest.text == newer
    served = await review.get(
        "/api/v1/audit/proofs/inclusion", params={"seq": 3, "size": size}, headers=auditor
    )
    assert served.status_code == 200, served.text
    assert {k: v for k, v in proof.items() if k != "origin"} == served.json()
    served = await review.get("/api/v1/audit/proofs/consistency", params={"first": size}, headers=auditor)
    assert served.status_code == 200, served.text
    assert served.json()["hashes"] == consistency["hashes"]
    keys = (await review.get("/api/v1/audit/keys", headers=auditor)).json()["keys"]
    assert [k["active"] for k in keys] == [True]
    assert keys[0]["vkey"] == ok(gongkai(nats_server, "audit", "key")).strip()

    registrar = await review.get("/api/v1/audit/checkpoints/latest", headers=System.token("registrar"))
    assert registrar.status_code == 403  # auditors only
    bad = await review.get("/api/v1/audit/proofs/inclusion", params={"seq": 0}, headers=auditor)
    assert bad.status_code == 422 and "seq" in bad.text
    beyond = await review.get("/api/v1/audit/proofs/inclusion", params={"seq": 10**6}, headers=auditor)
    assert beyond.status_code == 404
    cli_beyond = gongkai(nats_server, "audit", "proof", "inclusion", "--seq", str(10**6))
    assert cli_beyond.returncode == 2 and "Traceback" not in cli_beyond.stderr

    ok(gongkai(nats_server, "audit", "verify", "--checkpoint", "latest"))  # the live log, as held


async def test_a_rotated_checkpoint_key_verifies_only_within_its_validity(
    system, nats_server: NatsServer, tmp_path: Path
) -> None:
    system, _ = system
    old_note = tmp_path / "old.txt"
    ok(gongkai(nats_server, "audit", "checkpoint", "--publish", "--out", str(old_note)))
    old_skey = (nats_server.install.data_dir / "checkpoint_key").read_text()
    old = Signer.from_skey(old_skey)

    rotated = ok(gongkai(nats_server, "audit", "rotate-key"))
    new_vkey = ok(gongkai(nats_server, "audit", "key")).strip()
    assert new_vkey != old.vkey() and new_vkey in rotated
    listed = ok(gongkai(nats_server, "audit", "keys"))
    assert f"{old.vkey()}  valid for tree sizes" in listed and "(retired)" in listed and "(active)" in listed
    keys = {k["vkey"]: k for k in (await system.clients["review"].get(
        "/api/v1/audit/keys", headers=System.token("auditor"))).json()["keys"]}  # fmt: skip
    retired_at = keys[old.vkey()]["retired_at_seq"]
    assert retired_at and keys[new_vkey]["retired_at_seq"] is None

    # a checkpoint the old key signed while it was valid still verifies, found by its key hash
    ok(gongkai(nats_server, "audit", "verify", "--checkpoint", str(old_note)))
    # the old key signing the log as it is now (past its retirement) does not
    store = system.runtime("intake").store
    last = await store.last_seq()
    leaves = [(await store.get(s)).data for s in range(1, last + 1)]
    forged = tmp_path / "forged.txt"
    forged.write_text(old.sign("gongkai/FOI", last, merkle_root(leaves)))
    refused = gongkai(nats_server, "audit", "verify", "--checkpoint", str(forged))
    assert refused.returncode == 2
    assert (
        f"is valid for tree sizes {keys[old.vkey()]['registered_at_seq']} before {retired_at}"
        in refused.stderr
    )
    ok(gongkai(nats_server, "audit", "checkpoint", "--publish"))  # the new key publishes

    # a key whose end date the operator gave has passed publishes nothing: it must be rotated
    expired = Signer.generate("gongkai/FOI")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    ok(gongkai(nats_server, "audit", "register-key", "--vkey", expired.vkey(), "--valid-until", yesterday))
    env = {**os.environ, **nats_server.cli_env(), "GONGKAI_CHECKPOINT_KEY": expired.skey()}
    argv = [sys.executable, "-m", "gongkai_cli", "audit", "checkpoint", "--publish"]
    late = await asyncio.to_thread(subprocess.run, argv, env=env, capture_output=True, text=True, timeout=60)
    assert late.returncode == 2 and "outside its dates; rotate it" in late.stderr, late.stderr


# --- tamper detection on an export ---------------------------------------------------------------


@pytest.fixture
async def held(system, nats_server: NatsServer, tmp_path: Path):
    """An export and the signed checkpoint of the same size the auditor keeps."""
    system, case_id = system
    note = tmp_path / "checkpoint.txt"
    ok(gongkai(nats_server, "audit", "checkpoint", "--publish", "--out", str(note)))
    export = tmp_path / "foi.jsonl"
    ok(gongkai(nats_server, "audit", "export", str(export)))
    rows = lines(export)[:-1]
    assert len(rows) == note_of(note.read_text())[0]
    return export, rows, note, case_id


def verify_export(nats_server: NatsServer, path: Path, note: Path | None) -> tuple[int, str]:
    held = ("--checkpoint", str(note)) if note else ()
    result = gongkai(nats_server, "audit", "verify", "--from", str(path), *held)
    return result.returncode, result.stdout + result.stderr


def first_broken(out: str) -> int:
    [line] = [x for x in out.splitlines() if x.startswith("FIRST BROKEN POSITION")]
    return int(line.rsplit(" ", 1)[1])


def records(rows: list[dict]) -> list[Record]:
    return [Record(r["seq"], r["subject"], r["headers"], b64(r["data"])) for r in rows]


def case_of(row: dict) -> str:
    return row["subject"].split(".")[2]


async def test_every_tampering_is_detected_and_located(held, nats_server: NatsServer, tmp_path: Path) -> None:
    export, rows, note, case_id = held
    assert verify_export(nats_server, export, note)[0] == 0  # untouched: verifies
    path = tmp_path / "tampered.jsonl"
    mine = [i for i, r in enumerate(rows) if case_of(r) == case_id]

    # one changed byte: the event itself fails its signature, the next of its case its chain
    changed = [dict(r) for r in rows]
    data = bytearray(b64(changed[mine[1]]["data"]))
    data[data.index(b'"time"') + 10] ^= 1
    changed[mine[1]]["data"] = base64.b64encode(bytes(data)).decode()
    write(path, changed)
    code, out = verify_export(nats_server, path, note)
    assert code == 1 and first_broken(out) == rows[mine[1]]["seq"], out

    # one removed event
    write(path, rows[: mine[1]] + rows[mine[1] + 1 :])
    code, out = verify_export(nats_server, path, note)
    assert code == 1 and first_broken(out) == rows[mine[1]]["seq"], out

    # one inserted event (a forged copy, the later events renumbered and the export's root redone)
    forged = json.loads(b64(rows[mine[1]]["data"]))
    forged["data"]["note"] = "伪造"
    inserted = records(rows[: mine[1]])
    inserted.append(Record(rows[mine[1]]["seq"], rows[mine[1]]["subject"], rows[mine[1]]["headers"],
                           json.dumps(forged).encode()))  # fmt: skip
    inserted += [Record(r.seq + 1, r.subject, r.headers, r.data) for r in records(rows[mine[1] :])]
    write_export(path, inserted)
    code, out = verify_export(nats_server, path, note)
    assert code == 1 and first_broken(out) == rows[mine[1]]["seq"], out
    assert "the log was rewritten" in out

    # two events of a case swapped
    swapped = [dict(r) for r in rows]
    a, b = mine[0], mine[1]
    for key in ("data", "subject", "headers"):
        swapped[a][key], swapped[b][key] = swapped[b][key], swapped[a][key]
    write(path, swapped)
    code, out = verify_export(nats_server, path, note)
    assert code == 1 and first_broken(out) == rows[a]["seq"], out

    # the last event of a case, where the log goes on: the sequence shows the gap
    last_of_case = mine[-1]
    assert last_of_case < len(rows) - 1
    write(path, rows[:last_of_case] + rows[last_of_case + 1 :])
    code, out = verify_export(nats_server, path, note)
    assert code == 1 and first_broken(out) == rows[last_of_case]["seq"], out


async def test_removed_last_events_need_the_checkpoint_the_auditor_holds(
    held, nats_server: NatsServer, tmp_path: Path
) -> None:
    """No chain covers a case's newest event and nothing follows the stream's newest: cut off,
    with the export's own root recomputed, the export is self-consistent. The checkpoint the
    auditor holds says how many events there were, and so where the log was cut."""
    export, rows, note, _ = held
    size = len(rows)
    path = tmp_path / "cut.jsonl"

    last = rows[-1]  # the stream's newest event is its case's newest (no later one of that case)
    assert all(case_of(r) != case_of(last) for r in rows[rows.index(last) + 1 :])
    write_export(path, records(rows[:-1]))
    assert verify_export(nats_server, path, None)[0] == 0  # alone, the cut does not show
    code, out = verify_export(nats_server, path, note)
    assert code == 1 and "events were removed" in out and first_broken(out) == size, out

    write_export(path, records(rows[:-10]))  # the stream's last ten events
    assert verify_export(nats_server, path, None)[0] == 0
    code, out = verify_export(nats_server, path, note)
    assert code == 1 and first_broken(out) == size - 9, out

    # the live stream against a checkpoint of a longer log (as after a restore from an old
    # backup): the events after its last sequence are named missing
    signer = Signer.from_skey((nats_server.install.data_dir / "checkpoint_key").read_text())
    longer = tmp_path / "longer.txt"
    live_size = size + 1_000  # more events than the stream holds now
    longer.write_text(signer.sign("gongkai/FOI", live_size, hashlib.sha256(b"x").hexdigest()))
    live = gongkai(nats_server, "audit", "verify", "--checkpoint", str(longer))
    assert live.returncode == 1 and "events were removed" in live.stdout, live.stdout + live.stderr
    ends = int(live.stdout.split("the log ends at seq ")[1].split(")")[0])
    assert ends >= size and first_broken(live.stdout) == ends + 1
