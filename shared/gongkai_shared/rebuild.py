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
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import structlog

from .db import PROJECTION_TABLE, check_ident, create_pool, migrate
from .eventstore import EventStore
from .positions import ProjectionBehind
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

    def to_json(self) -> dict[str, Any]:
        """The row's key and, for a changed row, each differing column with both values; for a
        row on one side only, that row."""
        kind = "only_rebuilt" if self.live is None else "only_live" if self.rebuilt is None else "changed"
        out: dict[str, Any] = {"table": self.table, "key": self.key, "kind": kind}
        if kind == "changed":
            assert self.live is not None and self.rebuilt is not None
            out["columns"] = [
                {"column": c, "live": self.live.get(c), "rebuilt": self.rebuilt.get(c)} for c in self.columns
            ]
        else:
            out["live"], out["rebuilt"] = self.live, self.rebuilt
        return out


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

    @property
    def total(self) -> int:
        """Rows that differ, in every table (complete even where the listing is cut)."""
        return sum(self.counts.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "equal": self.equal,
            "live_schema": self.live_schema,
            "positions": {n: {"live": a, "rebuilt": b} for n, (a, b) in sorted(self.positions.items())},
            "differing_rows": self.total,
            "tables": {
                t: {
                    "rows": n,
                    "differing": self.counts.get(t, 0),
                    "shown": len(self.differences.get(t, [])),
                    "ignored_columns": self.ignored.get(t, []),
                    "differences": [d.to_json() for d in self.differences.get(t, [])],
                }
                for t, n in sorted(self.rows.items())
            },
        }

    def report(self) -> str:
        lines = []
        for name, (live, rebuilt) in sorted(self.positions.items()):
            mark = "" if live == rebuilt else "  <- differs"
            lines.append(f"{name}: live at {live}, rebuilt at {rebuilt}{mark}")
        for table, n in sorted(self.rows.items()):
            lines.append(f"{table}: {n} rows, {self.counts.get(table, 0)} differ")
            shown = self.differences.get(table, [])
            lines += [f"  {d.describe()}" for d in shown]
            if self.counts.get(table, 0) > len(shown):
                lines.append(f"  ... and {self.counts[table] - len(shown)} more")
        return "\n".join(lines)


async def _prepare(database_url: str, schema: str, migrations: Path, live_schema: str) -> dict[str, int]:
    """A fresh ``schema`` with the service's tables and the operator's parkings; the positions
    the live projections have stored."""
    await migrate(database_url, schema, migrations)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"SET search_path = {schema}")
        await conn.execute(PROJECTION_TABLE)
        await conn.execute(STAFF_TABLE)
        live = await _positions(conn, live_schema)
        await _copy_parkings(conn, live_schema, schema)
    finally:
        await conn.close()
    return live


async def _positions(conn: asyncpg.Connection | asyncpg.Pool, schema: str) -> dict[str, int]:
    rows = await conn.fetch(f"SELECT name, position FROM {check_ident(schema)}.projection_position")
    return {r["name"]: r["position"] for r in rows}


async def _copy_parkings(conn: asyncpg.Connection, live_schema: str, schema: str) -> None:
    """What an operator passed over is passed over again (the runner parks the rest itself)."""
    await conn.execute(
        f"INSERT INTO {schema}.parked_events SELECT * FROM {check_ident(live_schema)}.parked_events"
        " WHERE parked_by <> 'system' ON CONFLICT DO NOTHING"
    )


async def _run_to(
    pool: asyncpg.Pool,
    store: EventStore,
    projection: Projection,
    schema: str,
    target: int,
    *,
    batch_max: int,
    timeout: float,
) -> int:
    """Run ``projection`` in ``schema`` (from its stored position) until it has applied
    ``target``; its position. Raises TimeoutError when it does not get there in ``timeout``."""
    runner = ProjectionRunner(pool, store, projection, batch_max=batch_max)
    runner.stop_at = target
    runner.lock_name = f"{schema}:{projection.name}"  # the live runner holds its own
    async with pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT position FROM projection_position WHERE name = $1", projection.name
        )
    if target <= (stored or 0):
        return int(stored or 0)
    task = asyncio.ensure_future(runner.run())
    try:
        try:
            await runner.wait_for(target, timeout)
        except ProjectionBehind as e:
            raise TimeoutError(
                f"{projection.name}: rebuilt only up to {runner.position} of {target} in {timeout}s "
                f"({runner.state}: {runner.last_error or 'no error'})"
            ) from e
    finally:
        runner.stop()
        while not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=0.5)
    return runner.position


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
    positions reached. Raises TimeoutError when a projection does not get there in ``timeout``
    (the fresh schema is then dropped)."""
    schema = check_ident(schema or f"{live_schema}_rebuild_{uuid.uuid4().hex[:8]}")
    try:
        live = await _prepare(database_url, schema, migrations, live_schema)
        last = await store.last_seq()
        pool = await create_pool(database_url, schema)
        reached: dict[str, int] = {}
        try:
            for projection in projections:
                target = live.get(projection.name, last)
                reached[projection.name] = await _run_to(
                    pool, store, projection, schema, target, batch_max=batch_max, timeout=timeout
                )
                log.info(
                    "projection_rebuilt",
                    projection=projection.name,
                    schema=schema,
                    position=reached[projection.name],
                )
        finally:
            await pool.close()
    except BaseException:
        await _drop(database_url, schema)
        raise
    return schema, reached


async def _drop(database_url: str, schema: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {check_ident(schema)} CASCADE")
    finally:
        await conn.close()


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
    carry: Sequence[str] = (),
    keep: bool = False,
    batch_max: int = 2000,
    timeout: float = 600.0,
) -> Comparison:
    """Rebuild ``projections`` into a fresh schema and compare it with ``live_schema``.

    ``carry`` (statements with ``{old}`` and ``{new}`` for the two schemas) brings over the
    state the log does not hold, as a swap would (:func:`rebuild_and_swap`), so that the check
    compares what a rebuild would put in place. The live projections may go on meanwhile: the
    rebuild stops at the positions they had stored when it started, and a live position that
    moved on since is reported as a difference of positions, never hidden. The fresh schema is
    dropped unless ``keep``."""
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
        try:
            if carry:
                async with conn.transaction():
                    await _carry(conn, carry, live_schema, schema)
            live = await _positions(conn, live_schema)
            comparison = Comparison(
                live_schema, schema, {name: (live.get(name, 0), pos) for name, pos in reached.items()}
            )
            await compare_tables(conn, live_schema, schema, comparison)
        finally:
            if not keep:
                await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()
    return comparison


async def _carry(conn: asyncpg.Connection, carry: Sequence[str], old: str, new: str) -> None:
    for statement in carry:
        await conn.execute(statement.format(old=check_ident(old), new=check_ident(new)))


OLD = "_old_"  # <schema>_old_<UTC timestamp>: the tables a rebuild replaced, kept for a rollback


@dataclass
class Swap:
    """A rebuild swapped in: the live schema's name now holds the rebuilt tables."""

    schema: str
    old_schema: str | None  # the replaced tables, kept for a rollback (None: dropped)
    positions: dict[str, int]
    seconds: float  # the whole rebuild, from sequence 1 to the swap
    held_seconds: float  # how long the live projections waited for the swap (the lock)
    rounds: int  # catch-up rounds before the lock
    dropped: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "old_schema": self.old_schema,
            "positions": self.positions,
            "seconds": round(self.seconds, 3),
            "held_seconds": round(self.held_seconds, 3),
            "rounds": self.rounds,
            "dropped": self.dropped,
        }


async def _old_name(conn: asyncpg.Connection, live_schema: str) -> str:
    base = f"{live_schema}{OLD}{datetime.now(UTC):%Y%m%d%H%M%S}"
    name, n = base, 1
    while await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", name):
        n += 1
        name = f"{base}_{n}"
    return check_ident(name)


async def old_schemas(conn: asyncpg.Connection, live_schema: str) -> list[str]:
    """The schemas earlier rebuilds replaced, oldest first."""
    rows = await conn.fetch(
        "SELECT nspname FROM pg_namespace WHERE nspname ~ $1 ORDER BY nspname",
        f"^{check_ident(live_schema)}{OLD}[0-9]{{14}}(_[0-9]+)?$",
    )
    return [r["nspname"] for r in rows]


async def drop_old(database_url: str, live_schema: str, keep: Sequence[str] = ()) -> list[str]:
    """Drop the schemas earlier rebuilds replaced (no rollback to them afterwards)."""
    conn = await asyncpg.connect(database_url)
    try:
        dropped = [s for s in await old_schemas(conn, live_schema) if s not in keep]
        for name in dropped:
            await conn.execute(f"DROP SCHEMA {check_ident(name)} CASCADE")
            log.info("old_projection_schema_dropped", schema=name)
    finally:
        await conn.close()
    return dropped


async def rebuild_and_swap(
    database_url: str,
    store: EventStore,
    projections: Sequence[Projection],
    migrations: Path,
    *,
    live_schema: str,
    carry: Sequence[str] = (),
    drop_old_schemas: bool = False,
    batch_max: int = 2000,
    timeout: float = 600.0,
    close_gap: int | None = None,
    max_rounds: int = 10,
) -> Swap:
    """Rebuild ``projections`` from sequence 1 into a fresh schema while the live ones go on,
    then put it in the live schema's place without stopping anything.

    1. The rebuild runs up to the live positions, then again up to the new live positions,
       until it is at most ``close_gap`` events behind (default 50: what it replays under the lock).
    2. One transaction locks the live ``projection_position`` table (EXCLUSIVE: reads go on,
       the live runner's next batch waits at its ``SELECT ... FOR UPDATE``; a batch in flight
       commits first), reads the live positions, brings the rebuild to exactly them, copies the
       operator's latest parkings and the ``carry`` state, renames the live schema to
       ``<schema>_old_<timestamp>`` and the rebuild to ``<schema>``, and commits.
    3. The waiting batch, and every statement after it, resolves its tables again (PostgreSQL
       replans a prepared statement whose schema changed): the live runner finds the position
       it holds in memory in the new table and goes on from there, nothing applied twice or
       lost. Readers see the old tables until the commit, the new ones after it.

    The old schema is kept for a rollback unless ``drop_old_schemas`` (which also drops the
    ones earlier rebuilds left)."""
    began = time.monotonic()
    schema, reached = await rebuild(
        database_url,
        store,
        projections,
        migrations,
        live_schema=live_schema,
        batch_max=batch_max,
        timeout=timeout,
    )
    gap = 50 if close_gap is None else close_gap
    rounds = 0
    try:
        pool = await create_pool(database_url, schema)
        try:

            async def catch_up(live: dict[str, int]) -> None:
                """Every projection to its live position, side by side."""
                done = await asyncio.gather(
                    *(
                        _run_to(
                            pool, store, p, schema, live.get(p.name, 0), batch_max=batch_max, timeout=timeout
                        )
                        for p in projections
                    )
                )
                reached.update({p.name: pos for p, pos in zip(projections, done, strict=True)})

            while rounds < max_rounds:
                live = await _positions(pool, live_schema)
                if sum(max(live.get(n, 0) - pos, 0) for n, pos in reached.items()) <= gap:
                    break
                rounds += 1
                await catch_up(live)
            conn = await asyncpg.connect(database_url)
            try:
                async with conn.transaction():
                    await conn.execute(f"LOCK TABLE {live_schema}.projection_position IN EXCLUSIVE MODE")
                    held = time.monotonic()
                    live = await _positions(conn, live_schema)
                    await catch_up(live)
                    wrong = {n: (live.get(n, 0), pos) for n, pos in reached.items() if live.get(n, 0) != pos}
                    if wrong:
                        raise RuntimeError(
                            f"the rebuild does not stand where the live projections do: {wrong}"
                        )
                    await _copy_parkings(conn, live_schema, schema)
                    await _carry(conn, carry, live_schema, schema)
                    old = await _old_name(conn, live_schema)
                    await conn.execute(f"ALTER SCHEMA {live_schema} RENAME TO {old}")
                    await conn.execute(f"ALTER SCHEMA {schema} RENAME TO {live_schema}")
                held_seconds = time.monotonic() - held
            finally:
                await conn.close()
        finally:
            await pool.close()
    except BaseException:
        await _drop(database_url, schema)
        raise
    log.info("projections_swapped", schema=live_schema, old_schema=old, positions=reached,
             held_seconds=held_seconds)  # fmt: skip
    swap = Swap(live_schema, old, dict(reached), time.monotonic() - began, held_seconds, rounds)
    if drop_old_schemas:
        swap.dropped = await drop_old(database_url, live_schema)
        swap.old_schema = None
    return swap
