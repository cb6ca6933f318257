"""The benchmark table: each figure next to the raw baseline measured in the same run.

A benchmark module (``tests/bench/<topic>.py``) exposes ``async def bench(ctx: Context) -> None``
and records rows with :meth:`Report.add`. ``make bench`` runs every module listed in
``tests/bench/run.py``, prints one table and writes the rows as JSON (``bench-results.json``,
or ``GONGKAI_BENCH_OUT``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Row:
    topic: str
    name: str
    value: float
    unit: str
    baseline: str | None = None  # the raw operation measured in the same run
    baseline_value: float | None = None
    goal: str | None = None  # what the issue asks, in words ("ratio >= 0.5", "flat")
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline_value in (None, 0):
            return None
        return self.value / self.baseline_value  # type: ignore[operator]


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)

    def add(self, topic: str, name: str, value: float, unit: str, **kw: object) -> Row:
        row = Row(topic, name, float(value), unit, **kw)  # type: ignore[arg-type]
        self.rows.append(row)
        print(self.format(row), flush=True)
        return row

    @staticmethod
    def format(row: Row) -> str:
        text = f"{row.topic:<12}{row.name:<58}{row.value:>12.1f} {row.unit:<8}"
        if row.baseline is not None and row.baseline_value is not None:
            text += f" vs {row.baseline} {row.baseline_value:.1f}"
            if row.ratio is not None:
                text += f"  ratio {row.ratio:.2f}"
        if row.goal:
            text += f"  (goal: {row.goal})"
        if row.note:
            text += f"  [{row.note}]"
        return text

    def write(self, path: Path) -> None:
        data = [{**asdict(r), "ratio": r.ratio} for r in self.rows]
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
