"""What every benchmark module gets: loopback servers started for the run, and the report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.bench.report import Report
from tests.servers import NatsServer


@dataclass
class Context:
    nats_server: NatsServer
    dsn: str  # a PostgreSQL superuser DSN on the run's own server
    tmp: Path  # a scratch folder removed after the run
    report: Report
    n: int  # the size knob (GONGKAI_BENCH_N); each module scales its own counts from it
