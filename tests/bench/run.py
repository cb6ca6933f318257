"""``make bench``: every benchmark module, one table, each figure next to its raw baseline.

Modules run in order on loopback servers started once for the run and stopped at the end
(``GONGKAI_BENCH_ONLY=backbone,notify`` runs some of them; ``GONGKAI_BENCH_N`` scales counts).
The rows are also written as JSON to ``GONGKAI_BENCH_OUT`` (default ``bench-results.json``).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import tempfile
from pathlib import Path

from tests.bench.context import Context
from tests.bench.report import Report
from tests.servers import NatsServer, postgres

MODULES = ["backbone", "intake", "notify", "audit", "history", "rebuild", "catalogue", "proofs"]


async def run_all(ctx: Context, modules: list[str]) -> None:
    for name in modules:
        module = importlib.import_module(f"tests.bench.{name}")
        await module.bench(ctx)


def main() -> None:
    only = [m for m in os.environ.get("GONGKAI_BENCH_ONLY", "").split(",") if m]
    modules = [m for m in MODULES if not only or m in only]
    report = Report()
    n = int(os.environ.get("GONGKAI_BENCH_N", "2000"))
    print("2 cores, one process per benchmark, loopback servers; ratio = figure / baseline", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        nats_server = NatsServer(Path(tmp) / "nats").start()
        try:
            with postgres(Path(tmp) / "pg") as dsn:
                ctx = Context(nats_server, dsn, Path(tmp), report, n)
                asyncio.run(run_all(ctx, modules))
        finally:
            nats_server.stop()
    out = Path(os.environ.get("GONGKAI_BENCH_OUT", "bench-results.json"))
    report.write(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
