"""Benchmark: the auditor's ``gongkai audit verify`` and ``audit export`` over a long log.

- the reader audit uses (gongkai_cli.logreader: batched direct gets, one batch buffered) vs a
  raw ordered-consumer replay (which buffers as far ahead as the server pushes);
- verify rate: the command's pass over the stream (gongkai_cli.commands.audit: sequence,
  chains, subjects, every event's Ed25519 signature against keys learnt from the log, Merkle
  root) vs a raw ordered-consumer replay of the same stream, measured in the same run;
- peak memory (VmHWM of the ``gongkai`` process) of ``audit export`` and ``audit verify``
  at a small and a large log: the goal is flat, memory independent of the log's length.

The large log has GONGKAI_BENCH_AUDIT_N events (default 100,000: about 2 minutes here; 1M would
take about 12 minutes), the small one a tenth of it, both over 1,000 cases. Each log is on a
nats-server of its own, configured as the embedded one except that it does not fsync every
write (the log is written pipelined by tests/bulk.py only to be read; reading is unaffected).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from gongkai_cli.commands.audit import verify_stream
from gongkai_cli.logreader import read_log
from gongkai_cli.verification import Verifier
from tests.bench.context import Context
from tests.bulk import BulkNatsServer, fill
from tests.servers import NatsServer

CASES = 1000


# ``gongkai ARGS`` in a fresh interpreter that reports its own peak resident memory (VmHWM) on
# its last line of stderr. (ru_maxrss of a child would not do: Linux carries the parent's peak
# over the fork and exec.)
PEAK = """
import sys
from gongkai_cli.main import main
code = main(sys.argv[1:])
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(peak.split()[1], file=sys.stderr)
sys.exit(code)
"""


def gongkai(server: NatsServer, *args: str) -> tuple[float, float]:
    """Run the ``gongkai`` command; (seconds, peak resident memory in MiB) of its process."""
    env = {**os.environ, **server.cli_env()}
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"gongkai {' '.join(args)}: exit {done.returncode}: {done.stderr}")
    return seconds, int(done.stderr.split()[-1]) / 1024  # KiB


async def one_log(ctx: Context, n: int, label: str) -> dict[str, float]:
    server = BulkNatsServer(ctx.tmp / f"audit-{label}").start()
    try:
        store = await server.writer("review")
        try:
            t = time.perf_counter()
            last = await fill(store, server.signer("review"), n, CASES)
            fill_rate = n / (time.perf_counter() - t)

            t, count = time.perf_counter(), 0
            async for _ in store.read_raw(1):
                count += 1
            replay = count / (time.perf_counter() - t)

            t, count = time.perf_counter(), 0
            async for _ in read_log(store):
                count += 1
            batched = count / (time.perf_counter() - t)

            t = time.perf_counter()
            report = await verify_stream(store, Verifier(root_vkey=server.root_vkey))
            verify = report.events / (time.perf_counter() - t)
            assert report.ok and report.events == last == count, report.problems[:3]
        finally:
            await store.nc.close()
        export_s, export_mib = gongkai(server, "audit", "export", str(ctx.tmp / f"audit-{label}.jsonl"))
        verify_s, verify_mib = gongkai(server, "audit", "verify")
        (ctx.tmp / f"audit-{label}.jsonl").unlink()
    finally:
        server.stop()
    rates = {"events": last, "fill": fill_rate, "replay": replay, "batched": batched, "verify": verify}
    return {
        **rates,
        "export_s": export_s,
        "export_mib": export_mib,
        "verify_s": verify_s,
        "verify_mib": verify_mib,
    }


async def bench(ctx: Context) -> None:
    large_n = int(os.environ.get("GONGKAI_BENCH_AUDIT_N", "100000"))
    small_n = max(large_n // 10, 1000)
    small = await one_log(ctx, small_n, "small")
    large = await one_log(ctx, large_n, "large")

    r, topic = ctx.report, "audit"
    note = f"{large['events']:.0f} events over {CASES} cases; the log written at {large['fill']:.0f} ev/s"
    r.add(topic, "raw ordered-consumer replay", large["replay"], "ev/s", note=note)
    r.add(topic, "batched direct-get replay (what audit reads with)", large["batched"], "ev/s",
          baseline="raw replay", baseline_value=large["replay"])  # fmt: skip
    r.add(topic, "audit verify (chains, signatures, Merkle root)", large["verify"], "ev/s",
          baseline="raw replay", baseline_value=large["replay"], goal="a good fraction")  # fmt: skip
    for what in ("export", "verify"):
        r.add(topic, f"audit {what} peak memory, {small['events']:.0f} events", small[f"{what}_mib"], "MiB",
              note=f"{small[f'{what}_s']:.1f} s, the whole process")  # fmt: skip
        r.add(topic, f"audit {what} peak memory, {large['events']:.0f} events", large[f"{what}_mib"], "MiB",
              baseline=f"{small['events']:.0f} events", baseline_value=small[f"{what}_mib"],
              goal="flat (ratio 1.0)", note=f"{large[f'{what}_s']:.1f} s")  # fmt: skip
