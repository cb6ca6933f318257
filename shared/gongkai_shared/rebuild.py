"""A rebuild equals the live projection: replay the log from sequence 1 into a fresh schema and
compare its tables with the live schema's, row by row.

The rebuild runs the service's migrations into a new schema, copies the operator's parkings
(an event an operator passed over is passed over again; the runner parks the events that can
never be applied by itself), then runs each projection with the ordinary
:class:`~gongkai_shared.projection.ProjectionRunner` up to the position the live projection has
stored, and stops there. The comparison reads every table the migrations create, each row as
JSON, pairs rows by primary key and names the columns that differ. Columns filled by the
database's clock (``DEFAULT now()``) are left out: they tell when a row was written, not what
the log says. The bookkeeping tables (``projection_position``, ``parked_events``,
``schema_migrations``) are compared apart: the positions must be equal.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import structlog

from .db import PROJECTION_TABLE, check_ident, create_pool, migrate
from .eventstore import EventStore
from .projection import Projection, ProjectionRunner
from .staff import STAFF_TABLE

log = structlog.get_logger(__name__)

BOOKKEEPING = frozenset({"schema_migrations", "projection_position", "parked_events"})
SHOWN = 20  # differences listed per table; the count is always complete


@dataclass
class Difference:
    table: str
    key: dict[str, Any]
    live: dict[str, Any] | None  # None: the row is missing from the live table
    rebuilt: dict[str, Any] | None  # None: the rebuild has no such row

    @property
    def columns(self) -> list[str]:
        if self.live is None or self.rebuilt is None:
            return []
        return sorted(
            c for c in self.live.keys() | self.rebuilt.keys() if self.live.get(c) != self.rebuilt.get(c)
        )

    def describe(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in self.key.items())
        if self.live is None:
            return f"{self.table} ({key}): only in the rebuild"
        if self.rebuilt is None:
            return f"{self.table} ({key}): only in the live table"
        cols = "; ".join(
            f"{c}: live {self.live.get(c)!r}, rebuilt {self.rebuilt.get(c)!r}" for c in self.columns
        )
        return f"{self.table} ({key}): {cols}"


@dataclass
class Comparison:
    live_schema: str
    rebuilt_schema: str
    positions: dict[str, tuple[int, int]]  # projection -> (live, rebuilt)
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows compared (live)
    differences: dict[str, list[Difference]] = field(default_factory=dict)  # shown, per table
    counts: dict[str, int] = field(default_factory=dict)  # table -> number of differing rows
    ignored: dict[str, list[str]] = field(default_factory=dict)  # table -> clock columns left out

    @property
    def equal(self) -> bool:
        return not self.counts and all(a == b for a, b in self.positions.values())

    def report(self) -> str:
        lines = []
        for name, (live, rebuilt) in sorted(self.positions.items()):
            mark = "" if live == rebuilt else "  <- differs"
            lines.append(f"{name}: live at {live}, rebuilt at {rebuilt}{mark}")
        for table, n in sorted(self.rows.items()):
            lines.append(f"{table}: {n} rows, {self.counts.get(table, 0)} differ")
            lines += [f"  {d.describe()}" for d in self.differences.get(table, [])]
        return "\n".join(lines)


async def rebuild(
    database_url: str,
    store: EventStore,
    projections: Sequence[Projection],
    migrations: Path,
    *,
    live_schema: str,
    schema: str | None = None,
    batch_max: int = 2000,
    timeout: float = 600.0,
) -> tuple[str, dict[str, int]]:
    """Run ``projections`` from sequence 1 into a fresh ``schema`` (default: a new name after
    ``live_schema``) up to the positions the live projections stored; returns the schema and the
    positions reached. Raises TimeoutError when a projection does not get there in ``timeout``."""
    schema = check_ident(schema or f"{live_schema}_rebuild_{uuid.uuid4().hex[:8]}")
    await migrate(database_url, schema, migrations)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"SET search_path = {schema}")
        await conn.execute(PROJECTION_TABLE)
        await conn.execute(STAFF_TABLE)
        live = {
            r["name"]: r["position"]
            for r in await conn.fetch(
                f"SELECT name, position FROM {check_ident(live_schema)}.projection_position"
            )
        }
        # what an operator passed over is passed over again (the runner parks the rest itself)
        await conn.execute(
            f"INSERT INTO parked_events SELECT * FROM {live_schema}.parked_events WHERE parked_by <> 'system'"
        )
    finally:
        await conn.close()
    last = await store.last_seq()
    pool = await create_pool(database_url, schema)
    reached: dict[str, int] = {}
    try:
        for projection in projections:
            target = live.get(projection.name, last)
            runner = ProjectionRunner(pool, store, projection, batch_max=batch_max)
            runner.stop_at = target
            runner.lock_name = f"{schema}:{projection.name}"  # the live runner holds its own
            if target > 0:
                task = asyncio.ensure_future(runner.run())
                try:
                    if not await runner.wait_for(target, timeout):
                        raise TimeoutError(
                            f"{projection.name}: rebuilt only up to {runner.position} of {target}"
                            f" in {timeout}s "
                            f"({runner.state}: {runner.last_error or 'no error'})"
                        )
                finally:
                    runner.stop()
                    while not task.done():
                        task.cancel()
                        await asyncio.wait([task], timeout=0.5)
            reached[projection.name] = runner.position
            log.info(
                "projection_rebuilt", projection=projection.name, schema=schema, position=runner.position
            )
    finally:
        await pool.close()
    return schema, reached


async def _tables(conn: asyncpg.Connection, schema: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", schema
    )
    return [r["tablename"] for r in rows if r["tablename"] not in BOOKKEEPING]


async def _clock_columns(conn: asyncpg.Connection, schema: str, table: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2"
        " AND column_default ILIKE '%now()%' ORDER BY column_name",
        schema, table,
    )  # fmt: skip
    return [r["column_name"] for r in rows]


async def _key(conn: asyncpg.Connection, schema: str, table: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
        " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = ($1 || '.' || $2)::regclass AND i.indisprimary"
        " ORDER BY array_position(i.indkey, a.attnum)",
        schema, table,
    )  # fmt: skip
    return [r["attname"] for r in rows]


def _keyed(rows: list[asyncpg.Record], key: list[str]) -> dict[str, dict[str, Any]]:
    """Rows by their primary key's values (by position for a table without one)."""
    out = {}
    for i, r in enumerate(rows):
        value = json.loads(r["r"])
        out[json.dumps([value.get(c) for c in key]) if key else str(i)] = value
    return out


async def compare_tables(
    conn: asyncpg.Connection, live_schema: str, rebuilt_schema: str, comparison: Comparison
) -> None:
    """Fill ``comparison`` with the rows that differ between the two schemas' tables."""
    for table in await _tables(conn, rebuilt_schema):
        ignored = await _clock_columns(conn, rebuilt_schema, table)
        key = await _key(conn, rebuilt_schema, table)
        if ignored:
            comparison.ignored[table] = ignored
        drop = "".join(f" - '{c}'" for c in ignored)
        row = f"to_jsonb(t){drop}"
        live_t, rebuilt_t = f"{check_ident(live_schema)}.{check_ident(table)}", f"{rebuilt_schema}.{table}"
        comparison.rows[table] = await conn.fetchval(f"SELECT count(*) FROM {live_t}")
        only_live = await conn.fetch(
            f"SELECT {row} AS r FROM {live_t} t EXCEPT ALL SELECT {row} FROM {rebuilt_t} t"
        )
        only_rebuilt = await conn.fetch(
            f"SELECT {row} AS r FROM {rebuilt_t} t EXCEPT ALL SELECT {row} FROM {live_t} t"
        )
        if not only_live and not only_rebuilt:
            continue

        a, b = _keyed(only_live, key), _keyed(only_rebuilt, key)
        diffs = [
            Difference(table, {c: (a.get(k) or b.get(k) or {}).get(c) for c in key}, a.get(k), b.get(k))
            for k in sorted(a.keys() | b.keys())
        ]
        comparison.counts[table] = len(diffs)
        comparison.differences[table] = diffs[:SHOWN]


async def rebuild_and_compare(
    database_url: str,
    store: EventStore,
    projections: Sequence[Projection],
    migrations: Path,
    *,
    live_schema: str,
    keep: bool = False,
    batch_max: int = 2000,
    timeout: float = 600.0,
) -> Comparison:
    """Rebuild ``projections`` into a fresh schema and compare it with ``live_schema``.

    The live projections should be quiet meanwhile (no events appended): the rebuild stops at
    the positions they had stored when it started, and the positions are compared at the end.
    The fresh schema is dropped unless ``keep``."""
    schema, reached = await rebuild(
        database_url,
        store,
        projections,
        migrations,
        live_schema=live_schema,
        batch_max=batch_max,
        timeout=timeout,
    )
    conn = await asyncpg.connect(database_url)
    try:
        live = {
            r["name"]: r["position"]
            for r in await conn.fetch(f"SELECT name, position FROM {live_schema}.projection_position")
        }
        comparison = Comparison(
            live_schema, schema, {name: (live.get(name, 0), pos) for name, pos in reached.items()}
        )
        await compare_tables(conn, live_schema, schema, comparison)
        if not keep:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()
    return comparison
