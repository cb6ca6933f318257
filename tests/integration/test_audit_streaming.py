"""Auditing a long log: export and verify stream it, in memory that does not grow with its length.

The rule (issue 12): no work proportional to the whole stream is held in memory; ``audit
export`` writes each event as it reads it and ``audit verify`` keeps per case only its last
hash. Measured in-process with tracemalloc, running the command line's own ``main``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import tracemalloc
from pathlib import Path

import pytest

from gongkai_cli.logreader import read_log
from gongkai_cli.main import main
from tests.bulk import BulkNatsServer, fill
from tests.servers import NatsServer

pytestmark = pytest.mark.integration

CASES = 100


def log_of(server: NatsServer, n: int) -> int:
    async def write() -> int:
        store = await server.writer("review")
        try:
            return await fill(store, server.signer("review"), n, CASES)
        finally:
            await store.nc.close()

    return asyncio.run(write())


def peak_of(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, int]:
    """(exit status, stdout, peak bytes allocated by Python) of ``gongkai ARGS``, in-process."""
    tracemalloc.start()
    try:
        code = main(args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return code, capsys.readouterr().out, peak


def audit(server: NatsServer, tmp: Path, capsys: pytest.CaptureFixture[str],
          monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:  # fmt: skip
    """Export the log, verify the export and the live stream; the peak memory of each."""
    for name, value in server.cli_env().items():
        monkeypatch.setenv(name, value)
    export = tmp / "foi.jsonl"
    code, out, export_peak = peak_of(["audit", "export", str(export)], capsys)
    assert code == 0, out
    rows = export.read_text().splitlines()
    assert json.loads(rows[-1])["checkpoint"]["size"] == len(rows) - 1
    assert not (tmp / "foi.jsonl.partial").exists()
    code, out, file_peak = peak_of(["audit", "verify", "--from", str(export)], capsys)
    assert code == 0 and f"OK {export}: {len(rows) - 1} events" in out, out
    code, out, live_peak = peak_of(["audit", "verify"], capsys)
    assert code == 0 and f"{len(rows) - 1} events, " in out, out
    return {"export": export_peak, "verify --from": file_peak, "verify": live_peak}


def test_export_and_verify_do_not_grow_with_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log ten times longer (10,000 events, ten reader batches) takes no more memory to export
    or verify: each event is about 1 KB, so holding the log would add about 10 MB."""
    peaks = {}
    for n in (1_000, 10_000):
        server = BulkNatsServer(tmp_path / f"nats-{n}").start()
        try:
            log_of(server, n)
            (tmp_path / str(n)).mkdir()
            peaks[n] = audit(server, tmp_path / str(n), capsys, monkeypatch)
        finally:
            server.stop()
    for command, small in peaks[1_000].items():
        assert peaks[10_000][command] < small + 1_000_000, (command, small, peaks[10_000][command])


async def test_the_batched_reader_returns_the_log_exactly_as_stored(nats_server: NatsServer) -> None:
    """What audit reads (batched direct gets) equals what an ordered consumer delivers: every
    sequence in order, subject, headers as stored and the exact bytes, across batch boundaries
    and up to a given end."""
    store = await nats_server.writer("review")
    try:
        last = await fill(store, nats_server.signer("review"), 40, cases=3)
        ordered = [(e.seq, e.subject, e.headers, e.data) async for e in store.read_raw(1)]
        batched = [(e.seq, e.subject, e.headers, e.data) async for e in read_log(store, batch=7)]
        assert batched == ordered and len(batched) == last
        assert [e.seq async for e in read_log(store, 5, 19, batch=4)] == list(range(5, 20))
        assert [e async for e in read_log(store, last + 1)] == []
    finally:
        await store.nc.close()


def test_a_changed_event_in_a_long_export_is_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streaming changes nothing of what verification finds: in a 3,000-event export (three
    batches) one changed byte breaks its case's chain at the next event of that case."""
    server = BulkNatsServer(tmp_path / "nats").start()
    try:
        log_of(server, 3_000)
        for name, value in server.cli_env().items():
            monkeypatch.setenv(name, value)
        export = tmp_path / "foi.jsonl"
        assert main(["audit", "export", str(export)]) == 0
    finally:
        server.stop()
    rows = [json.loads(line) for line in export.read_text().splitlines()]
    target = 2_000  # a row far past the first batch
    case = rows[target]["subject"].split(".")[2]
    data = base64.b64decode(rows[target]["data"]).replace(b"withhold", b"disclose")
    rows[target]["data"] = base64.b64encode(data).decode()
    export.write_text("".join(json.dumps(r) + "\n" for r in rows))
    capsys.readouterr()
    assert main(["audit", "verify", "--from", str(export)]) == 1
    out = capsys.readouterr().out
    following = next(r["seq"] for r in rows[target + 1 : -1] if r["subject"].split(".")[2] == case)
    assert f"seq {following}, case {case}: hash chain broken" in out
    assert "Merkle root differs" in out
    assert f"seq {rows[target]['seq']}, case {case}: writer not proven" in out  # the signature too
