"""PostgreSQL access: one schema per service, migrations from the service's own SQL files.

A migration file ``NNNN_name.sql`` runs once, in a transaction, under an advisory lock so that
replicas starting together do not race. The applied versions are kept in
``<schema>.schema_migrations``.
"""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg
import structlog

log = structlog.get_logger(__name__)

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def check_ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


async def create_pool(dsn: str, schema: str, *, min_size: int = 1, max_size: int = 8) -> asyncpg.Pool:
    check_ident(schema)
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings={
            "search_path": f"{schema},public",
            "application_name": f"gongkai-{schema}",
        },
    )


async def migrate(dsn: str, schema: str, directory: Path) -> list[str]:
    """Apply the not yet applied ``*.sql`` files of ``directory`` to ``schema``. Returns them."""
    check_ident(schema)
    conn = await asyncpg.connect(dsn)
    applied: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock(hashtext('gongkai-migrate-' || $1))", schema)
        try:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            await conn.execute(f"SET search_path = {schema}, public")
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            for path in sorted(directory.glob("*.sql")):
                if path.stem in done:
                    continue
                async with conn.transaction():
                    await conn.execute(path.read_text())
                    await conn.execute("INSERT INTO schema_migrations(version) VALUES ($1)", path.stem)
                applied.append(path.stem)
                log.info("migration_applied", schema=schema, version=path.stem)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext('gongkai-migrate-' || $1))", schema)
    finally:
        await conn.close()
    return applied


PROJECTION_TABLE = """
CREATE TABLE IF NOT EXISTS projection_position (
    name text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- events a projection passed over: automatically when they can never be applied (their error),
-- or by an operator, with the reason; never silently
CREATE TABLE IF NOT EXISTS parked_events (
    projection text NOT NULL,
    seq bigint NOT NULL,
    subject text NOT NULL,
    error text NOT NULL,
    reason text NOT NULL,
    parked_by text NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, seq)
);
-- the active runner's health, stored so that every replica knows it (positions.py)
ALTER TABLE projection_position
    ADD COLUMN IF NOT EXISTS state text NOT NULL DEFAULT 'running',
    ADD COLUMN IF NOT EXISTS failures integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS failed_seq bigint,
    ADD COLUMN IF NOT EXISTS last_error text;
-- every change of a projection's row is announced to every replica (LISTEN gongkai_projection),
-- in the transaction that makes it: a batch that moves the position past a failure also clears
-- the failure, so the runner's batch code needs to know nothing of this
CREATE OR REPLACE FUNCTION projection_position_changed() RETURNS trigger AS $$
BEGIN
    IF NEW.position > OLD.position THEN
        NEW.state := 'running';
        NEW.failures := 0;
        NEW.failed_seq := NULL;
        NEW.last_error := NULL;
    END IF;
    PERFORM pg_notify('gongkai_projection', json_build_object(
        'schema', TG_TABLE_SCHEMA, 'name', NEW.name, 'position', NEW.position, 'state', NEW.state,
        'failures', NEW.failures,
        'failed_seq', NEW.failed_seq, 'last_error', left(NEW.last_error, 2000))::text);
    RETURN NEW;
END $$ LANGUAGE plpgsql;
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'projection_position_changed'
                   AND tgrelid = 'projection_position'::regclass) THEN
        -- not on INSERT: a BEFORE INSERT trigger fires even when ON CONFLICT DO NOTHING skips it
        CREATE TRIGGER projection_position_changed BEFORE UPDATE ON projection_position
            FOR EACH ROW EXECUTE FUNCTION projection_position_changed();
    END IF;
END $$;
"""
